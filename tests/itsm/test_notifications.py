"""The outbox: written with the event, enqueued on commit, retried with a bound, sent once."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from celery import Celery
from django.db import transaction
from kombu.exceptions import OperationalError

from incidents import services
from incidents.choices import ResolutionCode
from itsm import clock, notifications
from itsm.celery import app
from itsm.choices import DeliveryStatus
from itsm.models import Notification
from itsm.notifications import (
    MAX_ATTEMPTS,
    notification_deliver,
    notification_queue,
    notifications_retry,
    notifications_sweep,
)
from itsm.tasks import deliver_notification
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(requester):
    [row] = notification_queue(key="event-1", recipients=[requester],
                               subject="[INC0000001] Resolved", body="Your printer works again.")
    return row


def row(note) -> Notification:
    return Notification.objects.get(pk=note.pk)


@pytest.fixture
def mail_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", refuse)
    return monkeypatch


def test_a_queued_message_records_where_it_goes_and_waits(note, requester):
    saved = row(note)
    assert (saved.status, saved.address, saved.channel, saved.attempts) == (
        DeliveryStatus.PENDING, requester.email, "email", 0)
    assert saved.key == f"event-1:{requester.pk}:email"


def test_delivering_sends_one_email_and_marks_it_sent(note, mailoutbox, requester):
    assert notification_deliver(notification_id=note.pk) is True

    [mail] = mailoutbox
    assert (mail.to, mail.subject, mail.body) == (
        [requester.email], "[INC0000001] Resolved", "Your printer works again.")
    saved = row(note)
    assert (saved.status, saved.attempts, saved.claim) == (DeliveryStatus.SENT, 1, None)
    assert saved.sent_at is not None


def test_delivering_twice_sends_one_email(note, mailoutbox):
    assert notification_deliver(notification_id=note.pk) is True
    assert notification_deliver(notification_id=note.pk) is False
    assert notifications_sweep() == 0
    assert len(mailoutbox) == 1


def test_writing_the_same_key_twice_keeps_one_message(requester, mailoutbox):
    first = notification_queue(key="sla-warning-7", recipients=[requester], subject="S", body="B")
    again = notification_queue(key="sla-warning-7", recipients=[requester], subject="S", body="B")
    assert [r.pk for r in again] == [r.pk for r in first]
    assert Notification.objects.count() == 1


def test_delivery_is_enqueued_only_when_the_transaction_commits(
    requester, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_queue(key="e", recipients=[requester], subject="Hello", body="World")
    assert len(callbacks) == 1
    assert mailoutbox == []  # nothing leaves before the commit

    callbacks[0]()  # what the commit runs: the (eager) delivery task
    assert len(mailoutbox) == 1
    assert Notification.objects.get().status == DeliveryStatus.SENT


def test_a_rolled_back_event_sends_nothing(requester, mailoutbox,
                                           django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        notification_queue(key="e", recipients=[requester], subject="Hello", body="World")
        raise RuntimeError("the event failed")
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_recipients_are_deduplicated_and_those_without_an_address_skipped(requester):
    no_mail = UserFactory(username="nomail", email="")
    rows = notification_queue(key="e", recipients=[requester, requester, no_mail, None],
                              subject="Hi", body="There")
    assert [r.recipient for r in rows] == [requester]


def test_a_title_with_a_line_break_still_makes_a_deliverable_email(
    agent, team, requester, mailoutbox, django_capture_on_commit_callbacks
):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             state="in_progress", title="Printer jams\nevery morning")
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_resolve(incident=incident, by=agent, code=ResolutionCode.FIXED,
                                  notes="Cleaned the rollers.")
    [mail] = mailoutbox
    assert mail.subject == f"[{incident.number}] Resolved: Printer jams every morning"


def test_delivering_a_deleted_notification_does_nothing(note, mailoutbox):
    note.delete()
    assert notification_deliver(notification_id=note.pk) is False
    assert mailoutbox == []


# --- failures, retries and the bound --------------------------------------------------------

def test_a_failed_send_is_recorded_and_retried_after_a_backoff(note, mailoutbox, mail_down):
    assert notification_deliver(notification_id=note.pk) is False
    saved = row(note)
    assert (saved.status, saved.attempts, saved.last_error) == (
        DeliveryStatus.PENDING, 1, "mail server down")
    assert saved.due_at - clock.now() > timedelta(seconds=50)  # not hammered at once

    mail_down.undo()
    assert notifications_sweep() == 0  # not due yet
    with time_machine.travel(saved.due_at + timedelta(seconds=1)):
        assert notifications_sweep() == 1
    saved = row(note)
    assert (saved.status, saved.attempts, saved.last_error) == (DeliveryStatus.SENT, 2, "")
    assert len(mailoutbox) == 1


def test_after_the_last_attempt_a_message_is_failed_and_can_be_retried(note, mailoutbox,
                                                                       mail_down):
    for _ in range(MAX_ATTEMPTS):
        with time_machine.travel(row(note).due_at + timedelta(seconds=1)):
            notifications_sweep()
    saved = row(note)
    assert (saved.status, saved.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    with time_machine.travel(clock.now() + timedelta(days=1)):
        assert notifications_sweep() == 0  # given up: no more attempts

    mail_down.undo()
    assert notifications_retry(ids=[note.pk]) == 1
    assert notifications_sweep() == 1
    assert row(note).status == DeliveryStatus.SENT
    assert len(mailoutbox) == 1


def test_retrying_leaves_messages_that_did_not_fail_alone(note, mailoutbox):
    notification_deliver(notification_id=note.pk)
    assert notifications_retry(ids=[note.pk]) == 0
    assert notifications_sweep() == 0
    assert len(mailoutbox) == 1


# --- a killed worker, a stopped broker -------------------------------------------------------

def test_a_worker_killed_between_claim_and_send_is_covered_by_the_sweep_once(note, mailoutbox):
    # What a worker does before sending; it then dies, holding the claim.
    claim = notifications._claim(Notification.objects.filter(pk=note.pk), clock.now())
    assert claim is not None and row(note).status == DeliveryStatus.SENDING

    assert notification_deliver(notification_id=note.pk) is False  # a redelivered task
    with time_machine.travel(clock.now() + timedelta(seconds=30)):
        assert notifications_sweep() == 0  # the claim may still be alive
    with time_machine.travel(clock.now() + timedelta(seconds=60)):
        assert notifications_sweep() == 1
        assert notifications_sweep() == 0
    assert len(mailoutbox) == 1
    assert row(note).status == DeliveryStatus.SENT


def test_a_late_worker_cannot_mark_a_message_it_no_longer_holds(note, mailoutbox):
    stale = notifications._claim(Notification.objects.filter(pk=note.pk), clock.now())
    with time_machine.travel(clock.now() + timedelta(seconds=60)):
        assert notifications_sweep() == 1
    # The first worker wakes up and finishes: its mark finds no row with its claim.
    Notification.objects.filter(pk=note.pk).update(status=DeliveryStatus.SENDING,
                                                   claim=uuid.uuid4())
    notifications._send(note.pk, stale)
    assert row(note).claim != stale


@pytest.fixture
def broker_down():
    """Tasks are sent to a real broker address where nothing listens (a stopped Redis)."""
    dead = Celery("broker-down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    dead.conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    dead.set_current()
    yield dead
    app.set_current()


def test_the_stopped_broker_really_refuses(broker_down):
    with pytest.raises(OperationalError, match="refused"):
        deliver_notification.delay(1)


def test_an_action_succeeds_while_the_broker_is_down_and_the_sweep_delivers_once(
    agent, team, requester, mailoutbox, broker_down, django_capture_on_commit_callbacks
):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             state="in_progress")
    with django_capture_on_commit_callbacks(execute=True):
        resolved = services.incident_resolve(incident=incident, by=agent,
                                             code=ResolutionCode.FIXED, notes="New toner.")
    assert resolved.state == "resolved"
    assert mailoutbox == []
    assert Notification.objects.get().status == DeliveryStatus.PENDING

    with time_machine.travel(clock.now() + timedelta(seconds=15)):  # the next sweep
        assert notifications_sweep() == 1
        assert notifications_sweep() == 0
    [mail] = mailoutbox
    assert mail.to == [requester.email]


def test_a_message_whose_worker_dies_on_every_attempt_ends_failed(note, mailoutbox):
    start = clock.now()
    for attempt in range(MAX_ATTEMPTS):  # each attempt: claimed, then the worker is killed
        with time_machine.travel(start + timedelta(minutes=attempt)):
            due = Notification.objects.filter(notifications._claimable(clock.now()),
                                              pk=note.pk)
            assert notifications._claim(due, clock.now()) is not None
    with time_machine.travel(start + timedelta(minutes=MAX_ATTEMPTS + 1)):
        assert notifications_sweep() == 0
    saved = row(note)
    assert (saved.status, saved.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert "stopped" in saved.last_error
    assert mailoutbox == []
