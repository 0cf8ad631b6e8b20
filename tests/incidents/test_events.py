"""The incident event seam: one typed event per change, in the transaction, with codes on the
timeline; subscribers are added without touching the services; the clock can be moved."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from incidents import events, services
from incidents.choices import EntryKind, HoldReason, ResolutionCode, State
from incidents.models import TimelineEntry
from itsm import clock
from itsm.events import publish, subscribed
from tests.factories import make_incident
from tests.incidents.helpers import fresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    """Every incident event published while the test runs, in order."""
    seen = []
    with subscribed(events.IncidentEvent, seen.append):
        yield seen


def test_each_write_publishes_one_typed_event(published, team_incident, agent, l2_team):
    incident = team_incident("new")
    incident = services.incident_acknowledge(incident=incident, by=agent)
    services.incident_update(incident=incident, by=agent, title="VPN drops", impact="high")
    services.incident_comment(incident=incident, by=agent, body="Looking", internal=True)
    services.incident_escalate(incident=incident, by=agent, reason="Needs network")

    assert [type(e).__name__ for e in published] == [
        "Created", "Transitioned", "Assigned",  # acknowledging an unowned incident takes it
        "FieldChanged", "FieldChanged", "PriorityChanged", "Commented", "Escalated"]
    ack = published[1]
    assert (ack.transition, ack.from_state, ack.to_state, ack.by) == (
        "acknowledge", State.NEW, State.IN_PROGRESS, agent)
    assert all(e.incident.number == incident.number for e in published)


def test_events_are_published_inside_the_transaction(team_incident, agent):
    incident = team_incident("new")
    seen_in_transaction = []

    def check(event):
        seen_in_transaction.append(transaction.get_connection().in_atomic_block)

    with subscribed(events.Transitioned, check):
        services.incident_acknowledge(incident=incident, by=agent)
    assert seen_in_transaction == [True]


def test_publishing_outside_a_transaction_is_refused(team_incident, monkeypatch):
    incident = team_incident("new")
    # Each test runs inside a transaction; pretend this call is outside one.
    monkeypatch.setattr(transaction.get_connection(), "in_atomic_block", False)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        publish(events.Commented(incident=incident, at=clock.now(), body="x"))


def test_a_failing_subscriber_rolls_the_whole_change_back(team_incident, agent):
    incident = team_incident("new")

    def broken(event):
        raise RuntimeError("metrics store down")

    with subscribed(events.Transitioned, broken), pytest.raises(RuntimeError):
        services.incident_acknowledge(incident=incident, by=agent)
    row = fresh(incident)
    assert (row.state, row.version, row.timeline.count()) == (State.NEW, 1, 1)


def test_a_new_subscriber_needs_no_change_to_the_services(team_incident, agent):
    """The note's example: counting transitions per target state is one handler."""
    per_state = Counter()

    def count(event: events.Transitioned) -> None:
        per_state[event.to_state] += 1

    with subscribed(events.Transitioned, count):
        make_incident(by=agent, state="closed")
        make_incident(by=agent, state="canceled")
    assert per_state == {State.IN_PROGRESS: 1, State.RESOLVED: 1, State.CLOSED: 1,
                         State.CANCELED: 1}


def test_subscribers_run_in_the_order_they_were_registered(team_incident, agent):
    incident, order = team_incident("new"), []
    with (subscribed(events.Transitioned, lambda e: order.append("first")),
          subscribed(events.IncidentEvent, lambda e: order.append("second"))):
        services.incident_acknowledge(incident=incident, by=agent)
    assert order == ["first", "second", "second"]  # the transition, then the assignment


# --- codes on the timeline -------------------------------------------------------------------

def test_transitions_keep_their_state_codes(team_incident, agent):
    incident = team_incident("new")
    for step, params in [("acknowledge", {}), ("hold", {"reason": HoldReason.AWAITING_VENDOR}),
                         ("resume", {}), ("resolve", {"code": ResolutionCode.FIXED,
                                                      "notes": "Swapped the switch."})]:
        incident = getattr(services, f"incident_{step}")(incident=incident, by=agent, **params)

    rows = fresh(incident).timeline.filter(kind=EntryKind.TRANSITION)
    assert [(e.from_state, e.to_state, e.new_value) for e in rows] == [
        ("new", "in_progress", "In progress"), ("in_progress", "on_hold", "On hold"),
        ("on_hold", "in_progress", "In progress"), ("in_progress", "resolved", "Resolved")]
    assert all(e.event_id for e in rows)


def test_field_changes_keep_raw_values_beside_the_labels(team_incident, agent, manager):
    incident = team_incident("in_progress")
    services.incident_update(incident=incident, by=agent, impact="high")
    services.incident_override_priority(incident=incident, by=manager, priority=1,
                                        reason="CEO affected")

    rows = fresh(incident).timeline.filter(kind=EntryKind.FIELD_CHANGE)
    assert [(e.field, e.old_code, e.new_code, e.new_value) for e in rows] == [
        ("impact", "medium", "high", "High"),
        ("priority", 3, 2, "P2 – High"),
        ("priority", 2, 1, "P1 – Critical"),
    ]


def test_creation_and_assignment_keep_ids(team_incident, team, agent):
    incident = team_incident("new")
    services.incident_assign_to_me(incident=incident, by=agent)

    created, assigned = fresh(incident).timeline.all()[:2]
    assert (created.to_state, created.new_code) == (
        "new", {"state": "new", "priority": 3, "team": team.pk, "assignee": None})
    assert (assigned.old_code, assigned.new_code) == (
        {"team": team.pk, "assignee": None}, {"team": team.pk, "assignee": agent.pk})


def test_time_to_acknowledge_and_resolve_can_be_computed_from_the_timeline(agent, team):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        incident = make_incident(by=agent, assignment_team=team)
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        incident = services.incident_acknowledge(incident=incident, by=agent)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        services.incident_resolve(incident=incident, by=agent, code=ResolutionCode.FIXED,
                                  notes="Done.")

    rows = TimelineEntry.objects.filter(incident=incident)
    opened = rows.get(kind=EntryKind.CREATED).at
    acked = rows.get(to_state=State.IN_PROGRESS, from_state=State.NEW).at
    resolved = rows.get(to_state=State.RESOLVED).at
    assert (acked - opened, resolved - opened) == (timedelta(minutes=7), timedelta(hours=2))


# --- the clock -------------------------------------------------------------------------------

def test_services_take_the_time_from_the_clock(agent, team):
    past = datetime(2025, 11, 3, 14, 30, tzinfo=UTC)
    with clock.frozen_at(past):
        incident = make_incident(by=agent, assignment_team=team, state="resolved")
    row = fresh(incident)
    assert row.opened_at == row.acknowledged_at == row.resolved_at == row.updated_at == past
    assert set(row.timeline.values_list("at", flat=True)) == {past}


def test_the_frozen_clock_needs_an_aware_instant():
    with pytest.raises(ValueError, match="aware"), clock.frozen_at(datetime(2026, 1, 1)):
        pass


def test_the_api_timeline_carries_the_codes(api, team_incident, agent):
    incident = services.incident_acknowledge(incident=team_incident("new"), by=agent)
    entries = api(agent).get(f"/api/v1/incidents/{incident.number}/timeline/").json()
    transition = next(e for e in entries if e["kind"] == "transition")
    assert (transition["from_state"], transition["to_state"], transition["new_value"]) == (
        "new", "in_progress", "In progress")
    assignment = next(e for e in entries if e["kind"] == "assignment")
    assert assignment["new_code"] == {"team": incident.assignment_team_id, "assignee": agent.pk}
