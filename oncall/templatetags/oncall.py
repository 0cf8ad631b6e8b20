from django import template

from incidents import rules
from itsm.models import Team
from oncall import selectors

register = template.Library()


@register.inclusion_tag("oncall/paging/_incident_banner.html", takes_context=True)
def incident_page_banner(context, incident):
    """On a phone the card sits below the timeline: the running page's button goes on top."""
    user = context["request"].user
    page = selectors.active_page(incident) if rules.is_agent(user) else None
    return {"active": page, "csrf_token": context.get("csrf_token"),
            "request": context["request"]}


@register.inclusion_tag("oncall/paging/_incident_card.html", takes_context=True)
def incident_paging(context, incident):
    """The incident page's paging card: its pages, acknowledge, page a team (agents only)."""
    user = context["request"].user
    agent = rules.is_agent(user)
    pages = selectors.pages_of(incident) if agent else []
    return {"incident": incident, "agent": agent, "pages": pages,
            "active": next((p for p in pages if p.is_active), None),
            "teams": Team.objects.filter(active=True, escalation_policies__active=True)
            .distinct().order_by("name") if agent and incident.is_open else [],
            "csrf_token": context.get("csrf_token"), "request": context["request"]}
