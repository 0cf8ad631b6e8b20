"""The incident action catalogue: every action once, with its label, guard and service.

The detail page's buttons and forms, its HTMX handler and the API's action endpoints are all
built from this list (tests check that nothing is offered that is not here, and the reverse).
A guard is the same function the service checks under its row lock, so hiding a button is
never the only protection.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from incidents import guards, services
from itsm.exceptions import ServiceError


@dataclass(frozen=True)
class Action:
    name: str
    label: str  # the button
    service: Callable  # called as service(incident=…, by=…, [version=…], **input)
    guard: Callable  # guard(incident, user) raises Forbidden or Conflict
    versioned: bool = True  # False: never refused as stale (conversation, manager alerts)
    transition: bool = False  # a lifecycle transition (also listed as such in the API)
    endpoint: bool = True  # has its own POST /api/v1/incidents/{number}/{slug}/

    @property
    def slug(self) -> str:
        return self.name.replace("_", "-")

    def allowed(self, incident, user) -> bool:
        try:
            self.guard(incident, user)
        except ServiceError:
            return False
        return True


def _transition(name: str, label: str, service: Callable) -> Action:
    return Action(name, label, service, guards.TRANSITIONS[name], transition=True)


CATALOGUE: dict[str, Action] = {a.name: a for a in [
    _transition("acknowledge", "Start work", services.incident_acknowledge),
    _transition("hold", "Put on hold", services.incident_hold),
    _transition("resume", "Resume work", services.incident_resume),
    _transition("resolve", "Resolve", services.incident_resolve),
    _transition("close", "Close", services.incident_close),
    _transition("reopen", "Reopen", services.incident_reopen),
    _transition("cancel", "Cancel incident", services.incident_cancel),
    Action("assign", "Reassign", services.incident_assign, guards.assign),
    Action("assign_to_me", "Assign to me", services.incident_assign_to_me, guards.assign_to_me),
    Action("escalate", "Escalate to next tier", services.incident_escalate, guards.escalate),
    Action("notify_manager", "Notify manager", services.incident_notify_manager,
           guards.notify_manager, versioned=False),
    # Served by PUT/PATCH on the incident and by POST …/comments/ in the API.
    Action("edit", "Save changes", services.incident_update, guards.edit, endpoint=False),
    Action("override_priority", "Override priority", services.incident_override_priority,
           guards.override_priority, endpoint=False),
    Action("comment", "Reply", partial(services.incident_comment, internal=False),
           guards.comment, versioned=False, endpoint=False),
    Action("work_note", "Add work note", partial(services.incident_comment, internal=True),
           guards.work_note, versioned=False, endpoint=False),
]}

TRANSITIONS: dict[str, Callable] = {a.name: a.service for a in CATALOGUE.values()
                                    if a.transition}


def available(incident, user) -> set[str]:
    """The names of the actions this user may take on the incident now."""
    return {name for name, action in CATALOGUE.items() if action.allowed(incident, user)}


def situation(incident, user) -> tuple:
    """Everything the guards read of an incident, as seen by `user`: two incidents in the same
    situation are offered the same actions, so a list asks the guards once per situation
    (a page of 50 incidents has a handful). A guard that reads anything else must add it here;
    tests/incidents/test_actions.py checks the two agree."""
    team = incident.assignment_team
    party = user.pk in (incident.caller_id, incident.reported_by_id)
    return (incident.state, incident.assignment_team_id, incident.assignee_id is None,
            incident.assignee_id == user.pk, party,
            team.next_tier_id if team else None, team.manager_id if team else None)
