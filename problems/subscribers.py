"""Problem events' subscribers: the problem's timeline, the incidents' timelines (agents only)
and notifications. Registered at start-up like every app's `subscribers` module."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from incidents import events as incident_events
from incidents.choices import EntryKind, State
from incidents.models import TimelineEntry
from itsm.choices import DeliveryChannel
from itsm.events import subscribe
from itsm.models import User
from itsm.notifications import Message, notification_queue, notifications_queue_many
from problems import events
from problems.choices import ProblemEntryKind, ProblemState
from problems.models import Problem, ProblemEntry, ResolvedTitle
from problems.search import title_key

PROBLEM_MANAGERS = "Problem Manager"


def _shown(field: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, models.Model):
        return str(value)
    choices = dict(Problem._meta.get_field(field).flatchoices)
    return str(choices.get(value, value))


def _entry(event: events.ProblemEvent, kind: ProblemEntryKind, **fields) -> ProblemEntry:
    return ProblemEntry.objects.create(problem=event.problem, actor=event.by, at=event.at,
                                       kind=kind, event_id=event.id, **fields)


def _on_incidents(event, incidents, body: str, code: dict) -> None:
    """One agents-only line on each incident's timeline."""
    TimelineEntry.objects.bulk_create(
        TimelineEntry(incident=incident, actor=event.by, at=event.at, kind=EntryKind.PROBLEM,
                      body=body, new_code=code)
        for incident in incidents)


# --- the problem's timeline ------------------------------------------------------------------

@subscribe(events.ProblemCreated)
def log_created(event: events.ProblemCreated) -> None:
    problem = event.problem
    _entry(event, ProblemEntryKind.CREATED, new_value=problem.get_priority_display(),
           codes={"state": problem.state, "priority": problem.priority})


@subscribe(events.ProblemFieldChanged)
def log_field_change(event: events.ProblemFieldChanged) -> None:
    _entry(event, ProblemEntryKind.FIELD_CHANGE, field=event.field,
           old_value=_shown(event.field, event.old), new_value=_shown(event.field, event.new))


@subscribe(events.ProblemTransitioned)
def log_transition(event: events.ProblemTransitioned) -> None:
    _entry(event, ProblemEntryKind.TRANSITION, field="state",
           old_value=ProblemState(event.from_state).label,
           new_value=ProblemState(event.to_state).label, body=event.note,
           codes={"from": event.from_state, "to": event.to_state,
                  "transition": event.transition})


@subscribe(events.WhysChanged)
def log_whys(event: events.WhysChanged) -> None:
    body = "\n".join(f"{i}. Why? {q}" + (f" — {a}" if a else "")
                     for i, (q, a) in enumerate(event.new, start=1))
    _entry(event, ProblemEntryKind.WHYS, old_value=str(len(event.old)),
           new_value=str(len(event.new)), body=body or "Cleared the 5 Whys.")


@subscribe(events.IncidentsLinked)
def log_links(event: events.IncidentsLinked) -> None:
    problem = event.problem
    numbers = [i.number for i in event.incidents]
    kind = ProblemEntryKind.UNLINKED if event.unlinked else ProblemEntryKind.LINKED
    _entry(event, kind, new_value=", ".join(numbers), body=event.note,
           codes={"incidents": numbers})
    verb = "Unlinked from" if event.unlinked else "Linked to"
    _on_incidents(event, event.incidents, f"{verb} problem {problem.number}: {problem.title}",
                  {"problem": problem.number, "linked": not event.unlinked})


@subscribe(events.LinkedIncidentsResolved)
def log_resolved_incidents(event: events.LinkedIncidentsResolved) -> None:
    numbers = [i.number for i in event.incidents]
    refused = "\n".join(f"{number}: {why}" for number, why in event.refused.items())
    _entry(event, ProblemEntryKind.INCIDENTS_RESOLVED, new_value=", ".join(numbers),
           body=f"Not resolved:\n{refused}" if refused else "",
           codes={"resolved": numbers, "refused": event.refused})


@subscribe(events.ProblemNoted)
def log_note(event: events.ProblemNoted) -> None:
    _entry(event, ProblemEntryKind.NOTE, body=event.body)


@subscribe(events.KnownErrorRaised)
def log_known_error(event: events.KnownErrorRaised) -> None:
    known_error = event.known_error
    _entry(event, ProblemEntryKind.KNOWN_ERROR, new_value=known_error.number,
           body=known_error.workaround, codes={"known_error": known_error.number})


@subscribe(events.WorkaroundApplied)
def log_workaround(event: events.WorkaroundApplied) -> None:
    known_error = event.known_error
    _on_incidents(event, [event.incident],
                  f"Applied the workaround of known error {known_error.number} "
                  f"({known_error.title}):\n{known_error.workaround}",
                  {"known_error": known_error.number})


# --- similar resolved incidents (problems.search) -------------------------------------------

@subscribe(incident_events.Transitioned)
def file_resolved_title(event: incident_events.Transitioned) -> None:
    """A resolved incident becomes the latest example of its title."""
    if event.to_state != State.RESOLVED:
        return
    incident = event.incident
    ResolvedTitle.objects.bulk_create(
        [ResolvedTitle(key=title_key(incident.title), incident=incident, resolved_at=event.at)],
        update_conflicts=True, unique_fields=["key"], update_fields=["incident", "resolved_at"])


# --- notifications ---------------------------------------------------------------------------

@subscribe(events.ProblemFieldChanged)
def notify_owner(event: events.ProblemFieldChanged) -> None:
    problem = event.problem
    if event.field != "owner" or problem.owner is None or problem.owner == event.by:
        return
    notification_queue(key=event.id, recipients=[problem.owner],
                       subject=f"[{problem.number}] You own this problem: {problem.title}",
                       body=f"{event.by} made you the owner of {problem.number} "
                            f"({problem.get_priority_display()}).")


@subscribe(events.ProblemsSuggested)
def notify_suggestions(event: events.ProblemsSuggested) -> None:
    """Problem managers hear of each new suggested problem, once (keyed by the suggestion)."""
    managers = list(User.objects.filter(groups__name=PROBLEM_MANAGERS, is_active=True))
    messages = [
        Message(f"suggested-problem:{suggestion.pk}", managers,
                f"Suggested problem: {suggestion.title}",
                f"{suggestion.members.count()} recent incidents share a likely cause and have "
                f"no problem linked. Review them: {settings.SITE_URL}"
                f"{reverse('problems:queue')}?view=suggested", channel)
        for suggestion in event.suggestions
        for channel in (DeliveryChannel.IN_APP, DeliveryChannel.EMAIL)]
    if managers and messages:
        notifications_queue_many(messages)
