"""Background jobs, called directly: the auto-close sweep and the beat schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from incidents.choices import EntryKind, State
from incidents.models import Incident
from incidents.tasks import auto_close_resolved
from itsm.schedule import BEAT_SCHEDULE, sync_beat_schedule
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def resolved_days_ago(days, *, by, **fields):
    incident = make_incident(by=by, state="resolved", **fields)
    Incident.objects.filter(pk=incident.pk).update(
        resolved_at=timezone.now() - timedelta(days=days))
    return incident


def state_of(incident):
    return Incident.objects.get(pk=incident.pk).state


@pytest.fixture
def three_days(settings):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 3


def test_auto_close_closes_only_incidents_resolved_long_enough_ago(three_days, agent, team,
                                                                    requester):
    old = resolved_days_ago(4, by=agent, caller=requester, assignment_team=team)
    recent = resolved_days_ago(2, by=agent, caller=requester, assignment_team=team)
    working = make_incident(by=agent, assignment_team=team, state="in_progress")
    canceled = make_incident(by=agent, assignment_team=team, state="canceled")

    assert auto_close_resolved() == 1

    assert state_of(old) == State.CLOSED
    assert state_of(recent) == State.RESOLVED
    assert state_of(working) == State.IN_PROGRESS
    assert state_of(canceled) == State.CANCELED


def test_auto_close_is_logged_as_the_system(three_days, agent, team):
    incident = resolved_days_ago(5, by=agent, assignment_team=team)
    before = Incident.objects.get(pk=incident.pk).version

    auto_close_resolved()

    row = Incident.objects.get(pk=incident.pk)
    assert row.closed_at is not None
    assert row.version == before + 1
    entry = row.timeline.last()
    assert (entry.kind, entry.actor, entry.old_value, entry.new_value) == (
        EntryKind.TRANSITION, None, "Resolved", "Closed")
    assert entry.body == "Closed automatically 3 days after resolution."


def test_running_auto_close_twice_closes_nothing_more(three_days, agent, team):
    incident = resolved_days_ago(4, by=agent, assignment_team=team)
    resolved_days_ago(1, by=agent, assignment_team=team)

    assert auto_close_resolved() == 1
    entries = Incident.objects.get(pk=incident.pk).timeline.count()
    assert auto_close_resolved() == 0

    assert Incident.objects.get(pk=incident.pk).timeline.count() == entries
    assert Incident.objects.filter(state=State.CLOSED).count() == 1


def test_the_auto_close_delay_follows_the_setting(settings, agent, team):
    settings.INCIDENT_AUTO_CLOSE_DAYS = 1
    recent = resolved_days_ago(2, by=agent, assignment_team=team)
    assert auto_close_resolved() == 1
    assert state_of(recent) == State.CLOSED


def test_a_reopened_incident_is_not_auto_closed(three_days, agent, team, requester):
    from incidents import services

    incident = resolved_days_ago(4, by=agent, caller=requester, assignment_team=team)
    services.incident_reopen(incident=incident, by=requester, reason="Still broken")

    assert auto_close_resolved() == 0
    assert state_of(incident) == State.IN_PROGRESS


def test_auto_close_runs_through_celery(three_days, agent, team):
    incident = resolved_days_ago(4, by=agent, assignment_team=team)
    assert auto_close_resolved.delay().get() == 1  # eager in tests: the real task path
    assert state_of(incident) == State.CLOSED


# --- the beat schedule -----------------------------------------------------------------------

def test_the_beat_schedule_is_installed_by_migrate():
    installed = dict(PeriodicTask.objects.filter(name__in=BEAT_SCHEDULE)
                     .values_list("name", "task"))
    assert installed == {name: entry["task"] for name, entry in BEAT_SCHEDULE.items()}


def test_syncing_the_beat_schedule_twice_leaves_one_task_per_name():
    sync_beat_schedule()
    first = dict(PeriodicTask.objects.values_list("name", "pk"))
    sync_beat_schedule()

    assert dict(PeriodicTask.objects.values_list("name", "pk")) == first  # updated, not recreated
    for name in BEAT_SCHEDULE:
        assert PeriodicTask.objects.filter(name=name).count() == 1
    assert IntervalSchedule.objects.filter(every=60, period=IntervalSchedule.SECONDS).count() == 1


def test_syncing_keeps_the_run_history():
    name = "incidents: auto-close resolved incidents"
    ran = timezone.now() - timedelta(minutes=5)
    PeriodicTask.objects.filter(name=name).update(last_run_at=ran, task="renamed.by.hand")

    sync_beat_schedule()

    task = PeriodicTask.objects.get(name=name)
    assert task.task == "incidents.tasks.auto_close_resolved"  # the code defines what runs
    assert task.last_run_at == ran


def test_syncing_keeps_an_admins_pause():
    name = "incidents: auto-close resolved incidents"
    PeriodicTask.objects.filter(name=name).update(enabled=False)
    sync_beat_schedule()
    assert PeriodicTask.objects.get(name=name).enabled is False


def test_beat_jobs_have_their_own_queue_so_a_backlog_never_delays_a_sweep():
    from itsm.celery import app

    routes = {entry["task"]: app.amqp.router.route({}, entry["task"])["queue"].name
              for entry in BEAT_SCHEDULE.values()}
    assert set(routes.values()) == {"periodic"}, routes
    assert app.amqp.router.route({}, "itsm.tasks.deliver_notification")["queue"].name == "celery"
    assert {q.name for q in app.amqp.queues.values()} >= {"celery", "periodic"}
