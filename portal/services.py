"""What a requester does to their own request, composed from the incidents services.

The rules stay in `incidents.services` and `incidents.guards`; these add the portal's
behaviour (a reply resumes a request waiting for it) and say refusals in plain words.
"""

from django.db import transaction

from attachments.services import comment_with_files
from incidents import rules
from incidents.choices import HoldReason, State
from incidents.models import Incident, TimelineEntry
from incidents.services import (
    incident_close,
    incident_comment,
    incident_create,
    incident_reopen,
    incident_resume,
)
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import User

CONFIRMED_NOTE = "Confirmed by the caller"


def _own(incident: Incident, by: User) -> None:
    if not rules.is_party(incident, by):
        raise Forbidden("This isn't one of your requests.")


def _plain_conflict(incident: Incident) -> Conflict:
    """Why a confirm or reopen could not be done, said from the request's state now."""
    state = Incident.objects.filter(pk=incident.pk).values_list("state", flat=True).first()
    message = {
        State.CLOSED: "This request is already closed — nothing more to do.",
        State.CANCELED: "This request was canceled.",
        State.IN_PROGRESS: "This request was reopened, so we're working on it again.",
        State.ON_HOLD: "This request is open again; see the latest below.",
    }.get(state, "This request changed while you were looking at it — here's the latest.")
    return Conflict(message)


@transaction.atomic
def request_create(*, by: User, files=(), **fields) -> Incident:
    """Log a request for oneself, with the files that show the problem: a bad file refuses the
    whole request, so nothing half-logged is left behind."""
    incident = incident_create(by=by, caller=by, **fields)
    if files:
        comment_with_files(incident=incident, by=by, body="", files=files, internal=False)
    return incident


@transaction.atomic
def request_reply(*, incident: Incident, by: User, body: str, files=()) -> TimelineEntry:
    """Add the requester's public reply; a request waiting for it goes back to the team.

    The row is locked first, so a reply and an agent's change of the hold never cross: the
    hold is resumed only if it is still waiting for the caller when the reply lands. The
    resume is the system's (by=None): requesters may not run agents' transitions themselves.
    """
    locked = Incident.objects.select_for_update(of=("self",)).get(pk=incident.pk)
    _own(locked, by)
    if locked.state == State.RESOLVED:
        raise Conflict("We've marked this solved: tell us below whether it's fixed.")
    if not locked.is_open:
        raise Conflict("This request is closed, so it can't take replies. Still a problem? "
                       "Log a new request.")
    if files:  # the screenshot or log that shows it: checked before anything is written
        entry = comment_with_files(incident=locked, by=by, body=body, files=files,
                                   internal=False)
    else:
        entry = incident_comment(incident=locked, by=by, body=body)
    if locked.state == State.ON_HOLD and locked.hold_reason == HoldReason.AWAITING_CALLER:
        incident_resume(incident=locked, by=None)
    return entry


@transaction.atomic
def request_confirm(*, incident: Incident, by: User, version: int | None = None) -> Incident:
    """The requester confirms the fix: the solved request is closed, by them."""
    _own(incident, by)
    try:
        return incident_close(incident=incident, by=by, version=version, note=CONFIRMED_NOTE)
    except Conflict as exc:
        raise _plain_conflict(incident) from exc


@transaction.atomic
def request_reopen(*, incident: Incident, by: User, note: str,
                   version: int | None = None) -> Incident:
    """The requester says it is still broken: the solved request goes back to the team."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput.field("note", "Tell us briefly what's still wrong.")
    _own(incident, by)
    try:
        return incident_reopen(incident=incident, by=by, reason=note, version=version)
    except Conflict as exc:
        raise _plain_conflict(incident) from exc
