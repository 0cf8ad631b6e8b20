"""The incident events' standard subscribers: the timeline first, the notifications, the clocks.

Found and registered once, in order, when the project starts (`ItsmConfig.ready` imports
every app's `subscribers` module). Adding a subscriber (SLA clocks, paging, metrics) means a
function in a module like this one, never an edit of `incidents.services`.
"""

import logging

from django.conf import settings
from django.db import models, transaction

from incidents import events
from incidents.choices import EntryKind, State
from incidents.models import Incident, TimelineEntry
from incidents.sla.services import calendar_rederive, clocks_on_event, open_clocks_on
from itsm.calendars import CalendarChanged
from itsm.events import subscribe
from itsm.notifications import notification_queue

log = logging.getLogger(__name__)
CALENDAR_REDERIVE_INLINE = 300  # open clocks recomputed during the admin's save


def _code(value):
    """The raw, JSON-friendly value: a primary key for a record, else the value itself."""
    return value.pk if isinstance(value, models.Model) else value


def _shown(field: str, value) -> str:
    """What people read for a field's value: a choice's label, a record's name, or the text."""
    if value is None or value == "":
        return ""
    choices = dict(Incident._meta.get_field(field).flatchoices)
    return str(choices.get(value, value))


def _owner(team, assignee) -> tuple[str, dict]:
    return (f"{team or '—'} / {assignee or '—'}",
            {"team": _code(team), "assignee": _code(assignee)})


def _entry(event: events.IncidentEvent, kind: EntryKind, **fields) -> TimelineEntry:
    return TimelineEntry.objects.create(incident=event.incident, actor=event.by, kind=kind,
                                        at=event.at, event_id=event.id, **fields)


# --- the timeline ----------------------------------------------------------------------------

@subscribe(events.Created)
def log_created(event: events.Created) -> None:
    incident = event.incident
    team, assignee = incident.assignment_team, incident.assignee
    if event.chosen_team:  # chosen at intake: the first owner belongs on the record
        owner = f", assigned to {team}" + (f" / {assignee}" if assignee else "")
    else:
        owner = f", routed to {team}" if team else ""
    _entry(event, EntryKind.CREATED, to_state=State.NEW,
           new_value=incident.get_priority_display(),
           new_code={"state": State.NEW, "priority": incident.priority, "team": _code(team),
                     "assignee": _code(assignee)},
           body=f"Logged via {incident.get_channel_display()}{owner}")


@subscribe(events.FieldChanged)
def log_field_change(event: events.FieldChanged) -> None:
    override = getattr(event, "override", "")
    _entry(event, EntryKind.FIELD_CHANGE, field=event.field,
           old_value=_shown(event.field, event.old), new_value=_shown(event.field, event.new),
           old_code=_code(event.old), new_code=_code(event.new),
           body=f"Override: {override}" if override else event.note)


@subscribe(events.Transitioned)
def log_transition(event: events.Transitioned) -> None:
    _entry(event, EntryKind.TRANSITION, field="state",
           old_value=State(event.from_state).label, new_value=State(event.to_state).label,
           from_state=event.from_state, to_state=event.to_state,
           old_code=event.from_state, new_code=event.to_state, body=event.note)


@subscribe(events.Assigned)
def log_assignment(event: events.Assigned) -> None:
    incident = event.incident
    old_value, old_code = _owner(event.old_team, event.old_assignee)
    new_value, new_code = _owner(incident.assignment_team, incident.assignee)
    kind = EntryKind.ESCALATION if isinstance(event, events.Escalated) else EntryKind.ASSIGNMENT
    _entry(event, kind, field="assignment", old_value=old_value, new_value=new_value,
           old_code=old_code, new_code=new_code, body=event.note)


@subscribe(events.ManagerNotified)
def log_manager_notified(event: events.ManagerNotified) -> None:
    _entry(event, EntryKind.NOTIFICATION, new_value=str(event.manager),
           new_code=_code(event.manager), body=event.reason)


@subscribe(events.Commented)
def log_comment(event: events.Commented) -> TimelineEntry:
    return _entry(event, EntryKind.WORK_NOTE if event.internal else EntryKind.COMMENT,
                  body=event.body)


@subscribe(events.FollowUpDue)
def log_follow_up(event: events.FollowUpDue) -> None:
    _entry(event, EntryKind.REMINDER, new_code={"due": event.due.isoformat()},
           body=f"Follow-up due: on hold ({event.incident.get_hold_reason_display().lower()}) "
                "since it was set aside; check whether it can move on.")


# --- notifications (through the outbox) ------------------------------------------------------

def _tell_assignee(event: events.IncidentEvent) -> None:
    incident = event.incident
    if incident.assignee is None or incident.assignee == event.by:
        return
    notification_queue(
        key=event.id, recipients=[incident.assignee],
        subject=f"[{incident.number}] Assigned to you: {incident.title}",
        body=f"{event.by or 'The service desk'} assigned {incident.number} "
             f"({incident.get_priority_display()}) to you.",
    )


@subscribe(events.FollowUpDue)
def notify_follow_up(event: events.FollowUpDue) -> None:
    incident = event.incident
    if incident.assignee is not None:
        notification_queue(
            key=event.id, recipients=[incident.assignee],
            subject=f"[{incident.number}] Follow-up due: {incident.title}",
            body=f"{incident.number} is on hold ({incident.get_hold_reason_display().lower()}) "
                 "and its follow-up time has come.")


@subscribe(events.Created)
def notify_created(event: events.Created) -> None:
    _tell_assignee(event)


@subscribe(events.Assigned)
def notify_assigned(event: events.Assigned) -> None:
    incident = event.incident
    if isinstance(event, events.Escalated):
        team = incident.assignment_team
        notification_queue(
            key=event.id, recipients=list(team.members.all()),
            subject=f"[{incident.number}] Escalated to {team}: {incident.title}",
            body=f"{event.by} escalated {incident.number} ({incident.get_priority_display()}) "
                 f"from {event.old_team} to {team}.\n\nReason: {event.note}",
        )
    elif incident.assignee_id != getattr(event.old_assignee, "pk", None):
        _tell_assignee(event)


@subscribe(events.ManagerNotified)
def notify_manager(event: events.ManagerNotified) -> None:
    incident = event.incident
    notification_queue(
        key=event.id, recipients=[event.manager],
        subject=f"[{incident.number}] Needs your attention: {incident.title}",
        body=f"{event.by or 'The escalation matrix'} raised {incident.number} "
             f"({incident.get_priority_display()}, "
             f"{incident.get_state_display()}) to you as manager of {incident.assignment_team}."
             f"\n\n{event.reason}",
    )


@subscribe(events.Transitioned)
def notify_resolved(event: events.Transitioned) -> None:
    incident = event.incident
    if event.to_state != State.RESOLVED or incident.caller == event.by:
        return
    notification_queue(
        key=event.id, recipients=[incident.caller],
        subject=f"[{incident.number}] Resolved: {incident.title}",
        body=f"Your incident was resolved ({incident.get_resolution_code_display()}):\n\n"
             f"{incident.resolution_notes}\n\nIf it is not fixed, reopen it; otherwise it "
             f"closes by itself after {settings.INCIDENT_AUTO_CLOSE_DAYS} days.",
    )


@subscribe(events.Commented)
def notify_comment(event: events.Commented) -> None:
    """A reply reaches the caller; the caller's own reply reaches whoever works it."""
    incident = event.incident
    if event.internal:
        return
    if event.by == incident.caller:
        if incident.assignee is not None and incident.assignee != event.by:
            notification_queue(key=event.id, recipients=[incident.assignee],
                               subject=f"[{incident.number}] The caller replied: "
                                       f"{incident.title}",
                               body=f"{event.by} wrote:\n\n{event.body}")
        return
    notification_queue(key=event.id, recipients=[incident.caller],
                       subject=f"[{incident.number}] New comment: {incident.title}",
                       body=f"{event.by} wrote:\n\n{event.body}")


# --- SLA clocks (incidents.sla) -------------------------------------------------------------

@subscribe(events.Created, events.Transitioned, events.FieldChanged, events.Assigned)
def keep_sla_clocks(event: events.IncidentEvent) -> None:
    clocks_on_event(event)


@subscribe(CalendarChanged)
def rederive_clocks_on_calendar(event: CalendarChanged) -> None:
    """Holidays or hours changed: recompute the open clocks on that calendar. A few hundred are
    done at once; more go to a worker, so an admin's save never waits for thousands."""
    from incidents.tasks import rederive_calendar

    reason = f"Calendar {event.calendar} changed"
    if open_clocks_on(event.calendar.pk) <= CALENDAR_REDERIVE_INLINE:
        calendar_rederive(calendar_id=event.calendar.pk, reason=reason)
        return

    def enqueue():
        try:
            rederive_calendar.delay(event.calendar.pk, reason)
        except Exception:  # noqa: BLE001 - the broker is down: say so, the change is saved
            log.error("Could not enqueue the SLA recompute of calendar %s: run "
                      "`manage.py check_slas --verify --repair`", event.calendar.pk)

    transaction.on_commit(enqueue)
