"""Incident badges (priority and state, coloured as everywhere in the desk) and the queue row."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from incidents.sla.engine import human
from itsm.templatetags.desk import time_html

register = template.Library()

STATE_STYLE = {
    "new": "text-bg-info",
    "in_progress": "text-bg-primary",
    "on_hold": "text-bg-warning",
    "resolved": "text-bg-success",
    "closed": "text-bg-secondary",
    "canceled": "text-bg-dark",
}


@register.simple_tag
def priority_badge(incident_or_priority, label=None):
    """P1–P4 as a coloured badge; the full label in the tooltip."""
    priority = getattr(incident_or_priority, "priority", incident_or_priority)
    if label is None and hasattr(incident_or_priority, "get_priority_display"):
        label = incident_or_priority.get_priority_display()
    return format_html('<span class="badge prio prio-{0}" title="{1}">P{0}</span>', priority,
                       label or f"P{priority}")


@register.simple_tag
def state_badge(incident):
    return format_html('<span class="badge {} state-badge" data-state="{}">{}</span>',
                       STATE_STYLE.get(incident.state, "text-bg-light"), incident.state,
                       incident.get_state_display())


SLA_STYLE = {
    "ok": "text-bg-light border",
    "warning": "text-bg-warning",
    "breached": "text-bg-danger",
    "paused": "text-bg-secondary",
    "met": "text-bg-success",
}


@register.filter
def business_duration(value):
    """A business duration as people say it: "4 h", "15 min", "16 h 30 min"."""
    return human(value) if value is not None else ""


@register.simple_tag
def sla_badge(reading):
    """A clock's reading as a badge: time left, paused, warning, breached (see sla.status)."""
    if reading is None:
        return ""
    return format_html('<span class="badge sla-badge {}" data-sla="{}" title="{}">{}</span>',
                       SLA_STYLE.get(reading.tone, "text-bg-light"), reading.tone,
                       reading.title, reading.label)


@register.simple_tag
def queue_row(incident, selectable=False):
    """One row of the queue, built in Python: fifty of them through the template engine were
    most of the queue page's time. `selectable` adds the checkbox of the bulk form (#bulk)."""
    category = incident.subcategory or incident.category
    assignee = (incident.assignee if incident.assignee
                else mark_safe('<span class="text-body-secondary">Unassigned</span>'))
    select = format_html(
        '<td><input class="form-check-input row-select" type="checkbox" name="incident" '
        'value="{0}" form="bulk" aria-label="Select {0}"></td>', incident.number,
    ) if selectable else ""
    return format_html(
        '<tr class="desk-row" data-number="{number}" data-href="{url}" data-version="{version}">'
        '{select}<td><a class="fw-semibold text-decoration-none" href="{url}">{number}</a></td>'
        "<td>{priority}</td>"
        '<td class="desk-title"><span class="text-truncate" title="{hover}">{title}</span></td>'
        "<td>{state}</td>"
        '<td class="small col-opt">{sla}</td>'
        '<td class="small col-opt">{service}</td>'
        '<td class="small col-opt">{team}</td>'
        '<td class="small col-assignee">{assignee}</td>'
        '<td class="small col-opt">{opened}</td>'
        '<td class="small col-updated">{updated}</td></tr>',
        number=incident.number, url=incident.get_absolute_url(), select=select,
        version=incident.version, priority=priority_badge(incident), title=incident.title,
        hover=f"{incident.title} · {category}" if category else incident.title,
        state=state_badge(incident), sla=sla_badge(getattr(incident, "sla", None)),
        service=incident.service or "—",
        team=incident.assignment_team or "—", assignee=assignee,
        opened=time_html(incident.opened_at), updated=time_html(incident.updated_at),
    )
