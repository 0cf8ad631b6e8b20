"""Notifications: written with the event, enqueued on commit, sent once."""

import pytest
from django.db import transaction

from incidents import services
from incidents.choices import ResolutionCode
from itsm import notifications
from itsm.models import Notification
from itsm.notifications import notification_deliver, notification_queue
from tests.factories import UserFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(requester):
    [row] = notification_queue(recipients=[requester], subject="[INC0000001] Resolved",
                               body="Your printer works again.")
    return row


def test_delivering_sends_one_email_and_marks_it_sent(note, mailoutbox, requester):
    assert notification_deliver(notification_id=note.pk) is True

    [mail] = mailoutbox
    assert (mail.to, mail.subject, mail.body) == (
        [requester.email], "[INC0000001] Resolved", "Your printer works again.")
    assert Notification.objects.get(pk=note.pk).sent_at is not None


def test_delivering_twice_sends_one_email(note, mailoutbox):
    assert notification_deliver(notification_id=note.pk) is True
    assert notification_deliver(notification_id=note.pk) is False
    assert len(mailoutbox) == 1


def test_delivery_is_enqueued_only_when_the_transaction_commits(
    requester, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_queue(recipients=[requester], subject="Hello", body="World")
    assert len(callbacks) == 1
    assert mailoutbox == []  # nothing leaves before the commit

    callbacks[0]()  # what the commit runs: the (eager) delivery task
    assert len(mailoutbox) == 1
    assert Notification.objects.get().sent_at is not None


def test_a_rolled_back_event_sends_nothing(requester, mailoutbox,
                                           django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        notification_queue(recipients=[requester], subject="Hello", body="World")
        raise RuntimeError("the event failed")
    assert callbacks == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_resolving_emails_the_caller_once_after_commit(
    agent, team, requester, mailoutbox, django_capture_on_commit_callbacks
):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             state="in_progress")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.incident_resolve(incident=incident, by=agent, code=ResolutionCode.FIXED,
                                  notes="Replaced the toner.")

    assert len(callbacks) == 1
    [mail] = mailoutbox
    assert mail.to == [requester.email]
    assert mail.subject == f"[{incident.number}] Resolved: {incident.title}"
    assert "Replaced the toner." in mail.body


def test_recipients_are_deduplicated_and_those_without_an_address_skipped(requester):
    no_mail = UserFactory(username="nomail", email="")
    rows = notification_queue(recipients=[requester, requester, no_mail, None],
                              subject="Hi", body="There")
    assert [r.recipient for r in rows] == [requester]


def test_a_failed_send_releases_the_claim_so_a_retry_sends_it(note, mailoutbox, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(notifications, "send_mail", broken)
    with pytest.raises(OSError):
        notification_deliver(notification_id=note.pk)
    row = Notification.objects.get(pk=note.pk)
    assert (row.sent_at, row.error) == (None, "mail server down")

    monkeypatch.undo()
    assert notification_deliver(notification_id=note.pk) is True
    assert len(mailoutbox) == 1
    assert Notification.objects.get(pk=note.pk).error == ""  # the old failure is not shown


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
