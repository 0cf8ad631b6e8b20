"""A real celery worker process on the default broker (kombu's SQLAlchemy transport on the test
PostgreSQL), sending through a real SMTP connection to a server run by the test.

Every other task test runs eagerly; these see a message through the broker and a worker, and
kill the worker while it is sending.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction

from itsm import clock
from itsm.broker import broker_purge_consumed
from itsm.celery import app
from itsm.choices import DeliveryStatus
from itsm.models import Notification
from itsm.notifications import notification_queue, notifications_sweep
from tests.smtp import SMTPServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def smtp_server(request):
    with SMTPServer(stalled=getattr(request, "param", False)) as server:
        yield server


@pytest.fixture
def worker(smtp_server):
    """`celery worker` in its own process group, on the test database and its SMTP server."""
    test_db = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings",
        "SECRET_KEY": "worker-test",
        "DEBUG": "",
        "DATABASE_URL": urlsplit(settings.DATABASE_URL)._replace(path=f"/{test_db}").geturl(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,  # the broker tasks are sent to here
        "CELERY_TASK_ALWAYS_EAGER": "",
        "EMAIL_URL": smtp_server.url,
        "EMAIL_TIMEOUT": "120",
        "CONN_MAX_AGE": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "itsm", "worker", "--pool=solo", "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


@pytest.fixture
def through_the_broker():
    """Send tasks to the broker instead of running them in-process (the test settings' mode)."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def queue_one(requester) -> Notification:
    with transaction.atomic():  # delivery is enqueued when this commits
        [note] = notification_queue(key="worker-test", recipients=[requester],
                                    subject="[INC0000001] Resolved", body="Fixed for real.")
    return note


def wait_for(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def status(note) -> str:
    return Notification.objects.get(pk=note.pk).status


def test_a_real_worker_delivers_a_notification_through_the_default_broker(
    requester, smtp_server, worker, through_the_broker
):
    note = queue_one(requester)

    assert wait_for(lambda: status(note) == DeliveryStatus.SENT), status(note)
    [message] = smtp_server.messages
    assert "Subject: [INC0000001] Resolved" in message
    assert "Fixed for real." in message
    assert worker.poll() is None  # still serving


def test_the_purge_deletes_the_messages_workers_have_consumed(
    requester, smtp_server, worker, through_the_broker
):
    note = queue_one(requester)
    assert wait_for(lambda: status(note) == DeliveryStatus.SENT)

    assert broker_purge_consumed() >= 1
    assert broker_purge_consumed() == 0


@pytest.mark.parametrize("smtp_server", [True], indirect=True)  # the mail server hangs
def test_a_worker_killed_while_sending_loses_nothing_and_the_sweep_sends_once(
    requester, smtp_server, worker, through_the_broker, mailoutbox
):
    note = queue_one(requester)
    assert wait_for(lambda: status(note) == DeliveryStatus.SENDING), status(note)

    os.killpg(worker.pid, signal.SIGKILL)  # mid-send, holding the claim
    worker.wait(30)
    assert status(note) == DeliveryStatus.SENDING

    with time_machine.travel(clock.now() + timedelta(seconds=60)):
        assert notifications_sweep() == 1
        assert notifications_sweep() == 0
    [mail] = mailoutbox  # the sweep, in this process, sends through the test mail backend
    assert mail.to == [requester.email]
    assert smtp_server.messages == []  # the dead worker never finished its send
    assert Notification.objects.get(pk=note.pk).attempts == 2
