"""Incident badges: priority and state, coloured as everywhere in the desk."""

from django import template
from django.utils.html import format_html

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
