"""Problem badges and the incident page's problem card (linked problem, workarounds,
suggestions loaded after the page)."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import format_html

from incidents import rules as incident_rules
from problems.models import Problem, ProblemLink

register = template.Library()

STATE_STYLE = {
    "new": "text-bg-info", "assessed": "text-bg-info", "root_cause_analysis": "text-bg-primary",
    "fix_in_progress": "text-bg-warning", "resolved": "text-bg-success",
    "closed": "text-bg-secondary", "canceled": "text-bg-dark", "duplicate": "text-bg-dark",
    "risk_accepted": "text-bg-secondary",
}
STATUS_STYLE = {"draft": "text-bg-light border", "published": "text-bg-success",
                "retired": "text-bg-secondary"}


@register.simple_tag
def problem_state_badge(problem):
    return format_html('<span class="badge {} state-badge" data-state="{}">{}</span>',
                       STATE_STYLE.get(problem.state, "text-bg-light"), problem.state,
                       problem.get_state_display())


@register.simple_tag
def knowledge_status_badge(record):
    return format_html('<span class="badge {}" data-status="{}">{}</span>',
                       STATUS_STYLE.get(record.status, "text-bg-light"), record.status,
                       record.get_status_display())


@register.filter
def field_label(name: str) -> str:
    """A problem field's name as people read it ("root cause", "change reference")."""
    try:
        return Problem._meta.get_field(name).verbose_name
    except FieldDoesNotExist:
        return name.replace("_", " ")


@register.inclusion_tag("problems/_incident_card.html", takes_context=True)
def incident_problem_card(context, incident):
    """Agents only: the linked problem, the workarounds applied (with a resolve form while it
    is open) and, loaded after the page, the suggested known errors and articles."""
    request = context["request"]
    agent = incident_rules.is_agent(request.user)
    link = applied = None
    if agent:
        link = (ProblemLink.objects.filter(incident=incident).select_related("problem").first())
        applied = list(incident.workarounds_applied.select_related("known_error"))
    return {"agent": agent, "incident": incident, "link": link, "applied": applied or [],
            "can_resolve": incident.state in ("new", "in_progress"),
            "csrf_token": context.get("csrf_token"), "request": request}
