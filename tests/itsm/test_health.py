"""/healthz: web and database for load balancers; ?full=1 adds worker and beat liveness."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from itsm.models import Heartbeat
from itsm.tasks import heartbeat

pytestmark = pytest.mark.django_db


def beat_ran(at):
    PeriodicTask.objects.filter(task="itsm.tasks.heartbeat").update(last_run_at=at)


def test_health_answers_anonymous_callers_with_the_database_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert "worker" not in body
    assert "no-cache" in response["Cache-Control"]


def test_health_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


def test_full_health_reports_worker_and_beat_down_before_they_ran(client):
    body = client.get("/healthz?full=1").json()
    assert body["worker"] == {"alive": False, "last_seen": None}
    assert body["beat"] == {"alive": False, "last_seen": None}


def test_full_health_reports_worker_and_beat_alive_after_a_heartbeat(client):
    heartbeat()  # what a worker runs when beat sends it
    beat_ran(timezone.now())

    response = client.get("/healthz?full=1")

    assert response.status_code == 200
    body = response.json()
    assert body["worker"]["alive"] is True
    assert body["beat"]["alive"] is True
    assert body["worker"]["last_seen"] == Heartbeat.objects.get(name="worker").seen_at.isoformat()


def test_the_heartbeat_task_runs_through_celery(client):
    heartbeat.delay()  # eager in tests
    assert client.get("/healthz?full=1").json()["worker"]["alive"] is True


def test_a_stale_heartbeat_reports_the_process_down(client):
    long_ago = timezone.now() - timedelta(minutes=10)
    Heartbeat.objects.create(name="worker", seen_at=long_ago)
    beat_ran(long_ago)

    body = client.get("/healthz?full=1").json()

    assert body["worker"] == {"alive": False, "last_seen": long_ago.isoformat()}
    assert body["beat"]["alive"] is False


def test_running_the_heartbeat_twice_keeps_one_row():
    heartbeat()
    heartbeat()
    assert Heartbeat.objects.count() == 1


def test_beat_is_alive_between_its_schedule_syncs(client):
    # DatabaseScheduler stores last_run_at only every 3 minutes, so a healthy beat that sends
    # the heartbeat each minute can show a run 4 minutes old.
    heartbeat()
    beat_ran(timezone.now() - timedelta(minutes=4))
    assert client.get("/healthz?full=1").json()["beat"]["alive"] is True


@pytest.fixture
def broken_database(monkeypatch):
    """The health probe's query fails as a real outage does, naming host and user."""
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    real_execute = CursorWrapper.execute

    def execute(self, sql, params=None):
        if sql == "SELECT 1":
            raise OperationalError('connection to server at "db.internal" (10.1.2.3), port '
                                   '5432 failed: FATAL: password authentication failed for '
                                   'user "desk"')
        return real_execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", execute)


def test_a_database_failure_is_a_503_without_its_error_text_for_anonymous_callers(
        client, broken_database):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}
    assert "db.internal" not in response.text and "desk" not in response.text


def test_staff_see_why_the_database_failed(client, broken_database):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="ops", is_staff=True))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert "password authentication failed" in response.json()["detail"]


def test_an_agent_who_is_not_staff_sees_no_error_text(client, agent, broken_database):
    client.force_login(agent)
    assert "detail" not in client.get("/healthz").json()
