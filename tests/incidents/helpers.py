"""What the service-layer tests share: transition inputs, the legal moves, and snapshots."""

from incidents import actions
from incidents.choices import HoldReason, ResolutionCode, State
from incidents.models import Incident
from itsm.models import Notification

PARAMS = {
    "acknowledge": {},
    "hold": {"reason": HoldReason.AWAITING_VENDOR},
    "resume": {},
    "resolve": {"code": ResolutionCode.WORKAROUND, "notes": "Used the backup relay."},
    "close": {},
    "reopen": {},
    "cancel": {"reason": "Duplicate of an incident already being worked."},
}
LEGAL = {
    (State.NEW, "acknowledge"): State.IN_PROGRESS,
    (State.IN_PROGRESS, "hold"): State.ON_HOLD,
    (State.ON_HOLD, "resume"): State.IN_PROGRESS,
    (State.IN_PROGRESS, "resolve"): State.RESOLVED,
    (State.RESOLVED, "close"): State.CLOSED,
    (State.RESOLVED, "reopen"): State.IN_PROGRESS,
    (State.NEW, "cancel"): State.CANCELED,
    (State.IN_PROGRESS, "cancel"): State.CANCELED,
    (State.ON_HOLD, "cancel"): State.CANCELED,
}
ILLEGAL = [(state, name) for state in State.values for name in actions.TRANSITIONS
           if (state, name) not in LEGAL]


def fresh(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def snapshot(incident: Incident) -> dict:
    """What a refused call must leave untouched."""
    row = fresh(incident)
    return {
        "state": row.state, "version": row.version, "timeline": row.timeline.count(),
        "priority": row.priority, "team": row.assignment_team_id, "assignee": row.assignee_id,
        "title": row.title, "impact": row.impact, "notifications": Notification.objects.count(),
    }

