"""A request's history as its requester reads it: messages and plain-worded milestones.

Built from the public timeline only, and from an allow-list of what to say: assignments,
escalations, manager alerts, field edits other than the title, and any kind added later say
nothing here, so no team, tier, priority or internal note can show through.
"""

from dataclasses import dataclass
from datetime import datetime

from incidents.choices import EntryKind, HoldReason, State
from portal.status import HOLD_LINES, hold_note, hold_reason_in


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str  # "message" (someone wrote) or "event" (something happened)
    text: str = ""  # what happened, for an event
    body: str = ""  # what was written (a comment, the resolution notes, the question)
    who: str = ""  # the writer of a message: "You" or their name
    mine: bool = False
    initials: str = ""  # the writer's, for the avatar ("AN" for Alice Ng, also for "You")
    tone: str = ""  # an event's dot: received, working, waiting, solved, closed
    attachment_list: tuple = ()  # the files posted with a message


def initials(user) -> str:
    if user is None:
        return "SD"
    name = user.get_full_name() or user.username
    parts = [p for p in name.split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def _message(entry_at, body, user, viewer, files=()) -> Line:
    return Line(entry_at, "message", body=body, who=person(user, viewer),
                mine=user is not None and user.pk == getattr(viewer, "pk", None),
                initials=initials(user), attachment_list=tuple(files))


def person(user, viewer) -> str:
    if user is None:
        return "Service desk"
    if viewer is not None and user.pk == viewer.pk:
        return "You"
    return user.get_full_name() or user.username


def opening(incident, *, viewer) -> Line:
    """The first line: the description, as whoever logged the request wrote it."""
    by = incident.reported_by
    if incident.description.strip():
        return _message(incident.opened_at, incident.description, by, viewer)
    text = f"{person(by, viewer)} logged this request"
    if by.pk != incident.caller_id:
        caller = person(incident.caller, viewer)
        text += f" for {'you' if caller == 'You' else caller}"
    return Line(incident.opened_at, "event", text, tone="received")


def conversation(entries, *, incident, viewer) -> list[Line]:
    """The lines of a request's conversation, oldest first: what was logged, then the public
    timeline entries in plain words."""
    reasons = hold_reasons(entries, incident=incident)
    lines = [opening(incident, viewer=viewer)]
    for entry in entries:
        line = line_for(entry, incident=incident, viewer=viewer, reason=reasons.get(entry.pk, ""))
        if line is not None:
            lines.append(line)
    return lines


def hold_reasons(entries, *, incident) -> dict[int, str]:
    """Each hold entry's reason, by entry id, as far as it can be told.

    A hold's entry names its reason when it has no note ("Awaiting vendor"); with a note it
    holds the note alone. Then the current hold's reason is the incident's, and an earlier
    hold that the caller answered (their comment before the next state change) was waiting
    for them.
    """
    reasons: dict[int, str] = {}
    open_hold = None
    for entry in entries:
        if entry.kind == EntryKind.TRANSITION:
            open_hold = None
            if entry.to_state == State.ON_HOLD:
                reasons[entry.pk] = hold_reason_in(entry.body)
                open_hold = entry if not reasons[entry.pk] else None
        elif (entry.kind == EntryKind.COMMENT and open_hold is not None
              and entry.actor_id == incident.caller_id):
            reasons[open_hold.pk] = HoldReason.AWAITING_CALLER
            open_hold = None
    if open_hold is not None and incident.state == State.ON_HOLD:
        reasons[open_hold.pk] = incident.hold_reason
    return reasons


def line_for(entry, *, incident, viewer, reason: str = "") -> Line | None:
    """One timeline entry in plain words, or None when it is nothing the requester needs.

    `reason` is a hold entry's reason (`hold_reasons`)."""
    if entry.kind == EntryKind.COMMENT:
        return _message(entry.at, entry.body, entry.actor, viewer,
                        getattr(entry, "attachment_list", ()))
    if entry.kind == EntryKind.FIELD_CHANGE and entry.field == "title" and entry.new_value:
        return Line(entry.at, "event", f"The title is now “{entry.new_value}”")
    if entry.kind == EntryKind.TRANSITION:
        return _transition(entry, incident=incident, viewer=viewer, reason=reason)
    return None


def _transition(entry, *, incident, viewer, reason: str) -> Line | None:
    at, to, came_from = entry.at, entry.to_state, entry.from_state
    by_caller = entry.actor_id is not None and entry.actor_id == incident.caller_id
    if to == State.IN_PROGRESS:
        if came_from == State.RESOLVED:
            if by_caller:
                return Line(at, "event", f"{person(entry.actor, viewer)} told us it's still "
                                         "broken", body=entry.body, tone="working")
            return Line(at, "event", "We reopened it to take another look", tone="working")
        if came_from == State.ON_HOLD:
            return Line(at, "event", "We're working on it again", tone="working")
        return Line(at, "event", "We started working on it", tone="working")
    if to == State.ON_HOLD:
        # The hold's note is written for the caller (the agents' form says they see it); the
        # bare reason label is not, and `hold_note` drops it.
        note = hold_note(entry.body)
        if reason == HoldReason.AWAITING_CALLER:
            return Line(at, "event", "We're waiting for your reply", body=note,
                        tone="waiting")
        return Line(at, "event", HOLD_LINES.get(reason, "We paused it for a moment").rstrip("."),
                    body=note, tone="working")
    if to == State.RESOLVED:
        return Line(at, "event", "We marked this solved", body=entry.body, tone="solved")
    if to == State.CLOSED:
        if by_caller:
            return Line(at, "event", "Closed — thanks for confirming it's fixed", tone="closed")
        # The system's note says why ("Closed automatically 3 days after …"); an agent's may not
        # be meant for the caller.
        return Line(at, "event", "Closed", body=entry.body if entry.actor_id is None else "",
                    tone="closed")
    if to == State.CANCELED:
        return Line(at, "event", "Canceled", body=entry.body, tone="closed")
    return None


def waiting_question(entries, *, incident) -> str:
    """What the desk asked the caller: the note of the latest hold, else the latest comment
    from someone else that the caller has not answered yet ("" when there is neither)."""
    for entry in reversed(entries):
        if entry.kind == EntryKind.TRANSITION and entry.to_state == State.ON_HOLD:
            note = hold_note(entry.body)
            if note:
                return note
            break
    return unanswered_comment(entries, caller_id=incident.caller_id)


def unanswered_comment(entries, *, caller_id) -> str:
    """The latest comment by someone other than the caller, unless the caller wrote since."""
    for entry in reversed(entries):
        if entry.kind != EntryKind.COMMENT:
            continue
        return "" if entry.actor_id == caller_id else entry.body
    return ""
