"""Paging as a subscriber: incidents start and stop pages; pages write the incident timeline.

Registered at start-up like every app's subscribers (`ItsmConfig.ready`).
"""

import uuid

from incidents import events as incident_events
from incidents.choices import EntryKind, State
from incidents.models import TimelineEntry
from itsm.bulk import copy_in
from itsm.events import subscribe
from oncall import events
from oncall.choices import PageState
from oncall.escalation import pages_for, policy_for, team_to_page
from oncall.services import page_start, pages_end_for

ENDED = {State.RESOLVED, State.CLOSED, State.CANCELED}


def _page_if_due(incident, by, reason: str) -> None:
    team = team_to_page(incident.assignment_team, incident.service)
    if pages_for(policy_for(team, incident.service), incident.priority):
        page_start(incident=incident, by=by, reason=reason)


@subscribe(incident_events.Created)
def page_on_created(event: incident_events.Created) -> None:
    incident = event.incident
    _page_if_due(incident, event.by, f"New {incident.get_priority_display()} incident")


@subscribe(incident_events.PriorityChanged)
def page_on_priority_raised(event: incident_events.PriorityChanged) -> None:
    if event.incident.is_open and (event.old is None or event.new < event.old):
        _page_if_due(event.incident, event.by,
                     f"Priority raised to {event.incident.get_priority_display()}")


@subscribe(incident_events.Escalated)
def page_on_escalated(event: incident_events.Escalated) -> None:
    """The team it was handed to is paged if its policy pages for this priority."""
    pages_end_for(event.incident, by=event.by, acknowledged=False,
                  note=f"Handed to {event.incident.assignment_team}")
    _page_if_due(event.incident, event.by,
                 f"Escalated to {event.incident.assignment_team}: {event.note}")


@subscribe(incident_events.Transitioned)
def stop_page_on_progress(event: incident_events.Transitioned) -> None:
    if event.transition == "acknowledge":
        pages_end_for(event.incident, by=event.by, acknowledged=True,
                      note="The incident was acknowledged.")
    elif event.to_state in ENDED:
        pages_end_for(event.incident, by=event.by, acknowledged=False,
                      note=f"The incident was {State(event.to_state).label.lower()}.")


# --- the incident's timeline -----------------------------------------------------------------

def _entry(event, page, body: str, code: dict, event_id=None) -> TimelineEntry:
    return TimelineEntry(incident_id=page.incident_id, actor=event.by, kind=EntryKind.PAGE,
                         at=event.at, event_id=event_id or event.id, body=body,
                         new_code={"page": page.pk, **code})


@subscribe(events.PageStarted)
def log_page_started(event: events.PageStarted) -> None:
    page = event.page
    _entry(event, page, f"Paging {page.team} with {page.snapshot['name']}: {page.reason}",
           {"state": PageState.ACTIVE, "policy": page.snapshot["policy"]}).save()


@subscribe(events.PageStepsFired)
def log_page_steps(event: events.PageStepsFired) -> None:
    rows = []
    for fired in event.fired:
        page = fired.page
        who = ", ".join(str(user) for user in fired.notified) or f"nobody ({fired.note})"
        repeat = f", repeat {page.repetition}" if page.repetition else ""
        # One event, one line per page: each line gets an id of its own.
        rows.append(_entry(event, page, f"Step {page.step + 1}{repeat}: notified {who}",
                           {"step": page.step, "repetition": page.repetition,
                            "users": [user.pk for user in fired.notified]},
                           event_id=uuid.uuid5(event.id, str(page.pk))))
    copy_in(TimelineEntry, rows)


@subscribe(events.PageEnded)
def log_page_ended(event: events.PageEnded) -> None:
    page = event.page
    said = {PageState.ACKNOWLEDGED: f"Page acknowledged by {event.by}",
            PageState.RESOLVED: "Page ended", PageState.EXHAUSTED: "Page exhausted"}
    _entry(event, page, said[page.state] + (f": {event.note}" if event.note else ""),
           {"state": page.state}).save()
