"""Two people (or two workers) acting on one incident at the same moment, on real connections.

Each thread has its own database connection and transaction; a barrier releases them together,
so these tests fail if the services stop locking or checking the state under the lock.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from incidents import services
from incidents.choices import EntryKind, ResolutionCode, State
from incidents.models import Incident
from itsm.exceptions import Conflict
from tests.factories import AgentFactory, make_incident

# serialized_rollback: the flush after each test would otherwise drop the rows data migrations
# made (roles, the priority matrix) for the tests that run after these.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def race(*calls, timeout=30):
    """Run each call in its own thread, all released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing call hung (deadlock?)"
    return results


def winners_and_losers(results):
    winners = [r for r in results if isinstance(r, Incident)]
    losers = [r for r in results if not isinstance(r, Incident)]
    return winners, losers


@pytest.fixture
def colleague(team):
    bob = AgentFactory(username="bob", first_name="Bob", last_name="Builder")
    team.members.add(bob)
    return bob


def test_two_agents_resolving_at_once_one_wins_and_the_other_gets_a_conflict(
    team, agent, colleague, requester
):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             state="in_progress")
    seen = incident.version  # both looked at the same page

    results = race(
        lambda: services.incident_resolve(incident=incident, by=agent, version=seen,
                                          code=ResolutionCode.FIXED, notes="Alice's fix"),
        lambda: services.incident_resolve(incident=incident, by=colleague, version=seen,
                                          code=ResolutionCode.WORKAROUND, notes="Bob's fix"),
    )

    winners, losers = winners_and_losers(results)
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], Conflict), losers[0]
    row = Incident.objects.get(pk=incident.pk)
    assert row.state == State.RESOLVED
    assert row.version == seen + 1
    # The stored resolution is the winner's, whole: nothing mixed from the loser.
    assert (row.resolution_code, row.resolution_notes) == (
        winners[0].resolution_code, winners[0].resolution_notes)
    resolutions = row.timeline.filter(kind=EntryKind.TRANSITION, new_value="Resolved")
    assert resolutions.count() == 1
    assert resolutions.get().body == row.resolution_notes


def test_two_agents_acknowledging_at_once_one_wins_without_versions(
    team, agent, colleague, requester
):
    # No version passed: the row lock and the state check alone must stop the second one.
    incident = make_incident(by=agent, caller=requester, assignment_team=team)

    results = race(
        lambda: services.incident_acknowledge(incident=incident, by=agent),
        lambda: services.incident_acknowledge(incident=incident, by=colleague),
    )

    winners, losers = winners_and_losers(results)
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], Conflict), losers[0]
    row = Incident.objects.get(pk=incident.pk)
    assert row.state == State.IN_PROGRESS
    assert row.assignee == winners[0].assignee
    kinds = list(row.timeline.values_list("kind", flat=True))
    assert kinds == [EntryKind.CREATED, EntryKind.TRANSITION, EntryKind.ASSIGNMENT]


def test_an_edit_racing_a_resolution_is_not_lost(team, agent, colleague, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             state="in_progress")

    race(
        lambda: services.incident_update(incident=incident, by=agent,
                                         title="Mail down: root cause found"),
        lambda: services.incident_resolve(incident=incident, by=colleague,
                                          code=ResolutionCode.FIXED, notes="Fixed"),
    )

    row = Incident.objects.get(pk=incident.pk)
    # Whichever ran second re-read the row under the lock: either the edit landed before the
    # resolution (both kept) or it was refused as a conflict (resolved incidents are not edited).
    assert row.state == State.RESOLVED
    edits = row.timeline.filter(kind=EntryKind.FIELD_CHANGE, field="title")
    if edits.exists():
        assert row.title == "Mail down: root cause found"
    else:
        assert row.title == incident.title
    assert row.version == incident.version + 1 + edits.count()


def test_concurrent_creations_get_distinct_numbers(agent, requester):
    def log_five():
        return [services.incident_create(by=agent, caller=requester, title="Wi-Fi down").number
                for _ in range(5)]

    results = race(log_five, log_five, log_five)

    assert all(isinstance(r, list) for r in results), results
    numbers = [n for batch in results for n in batch]
    assert len(set(numbers)) == 15
    assert all(n.startswith("INC") and len(n) == 10 for n in numbers)
    assert Incident.objects.count() == 15


def test_two_auto_close_sweeps_at_once_close_each_incident_once(
    team, agent, requester, settings
):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3
    incidents = [make_incident(by=agent, caller=requester, assignment_team=team,
                               state="resolved") for _ in range(6)]
    Incident.objects.update(resolved_at=timezone.now() - timedelta(days=4))

    results = race(services.incidents_auto_close, services.incidents_auto_close)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    for incident in incidents:
        row = Incident.objects.get(pk=incident.pk)
        assert row.state == State.CLOSED
        assert row.timeline.filter(kind=EntryKind.TRANSITION, new_value="Closed").count() == 1


def test_two_outbox_sweeps_at_once_send_each_message_once(requester, mailoutbox):
    from itsm.models import Notification
    from itsm.notifications import notifications_sweep

    Notification.objects.bulk_create(
        Notification(key=f"e{n}:{requester.pk}:email", recipient=requester,
                     address=requester.email, subject=f"S{n}", body="B") for n in range(12))

    results = race(notifications_sweep, notifications_sweep)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 12
    assert sorted(m.subject for m in mailoutbox) == sorted(f"S{n}" for n in range(12))
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_two_sweeps_at_once_mark_and_announce_each_threshold_once(team, agent, manager):
    from incidents.models import SlaClock, SlaLedgerEntry
    from incidents.sla.services import clocks_sweep
    from itsm.models import Notification

    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as moment:
        for _ in range(40):
            make_incident(by=agent, assignment_team=team, assignee=agent, impact="high",
                          urgency="high")
        moment.shift(timedelta(hours=5))  # every clock passed both warnings and its due time
        first, second = race(lambda: clocks_sweep(batch=7), lambda: clocks_sweep(batch=7))
    assert first.breached + second.breached == 80  # 40 incidents × response and resolution
    assert first.warned + second.warned == 160
    assert SlaLedgerEntry.objects.filter(action="breached").count() == 80
    assert SlaClock.objects.filter(stage="breached").count() == 80
    assert Notification.objects.filter(recipient=manager, subject__contains="breached").count() \
        == 80
    assert Notification.objects.filter(subject__contains="%").count() == 160


def test_a_sweep_racing_an_acknowledgement_gives_one_outcome(team, agent):
    from incidents.models import SlaClock, SlaLedgerEntry
    from incidents.sla.services import clocks_sweep

    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as moment:
        incident = make_incident(by=agent, assignment_team=team, impact="high", urgency="high")
        moment.shift(timedelta(minutes=16))  # the response target is just past due
        race(clocks_sweep, lambda: services.incident_acknowledge(incident=incident, by=agent))
    response = SlaClock.objects.get(incident=incident, target="response")
    assert response.stage == "breached"  # acknowledged after the due time, whoever ran first
    assert SlaLedgerEntry.objects.filter(clock=response, action="breached").count() == 1
