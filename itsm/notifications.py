"""Notifications: queued as rows inside the caller's transaction, delivered after commit."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from itsm.models import Notification, User

log = logging.getLogger(__name__)


def notification_queue(*, recipients: list[User], subject: str, body: str) -> list[Notification]:
    """Write one notification per recipient with an address and enqueue delivery on commit."""
    from itsm.tasks import deliver_notification

    # A line break in a header is refused by the mailer (BadHeaderError): titles may carry one.
    subject = " ".join(subject.split())[:200]
    rows = Notification.objects.bulk_create(
        Notification(recipient=user, subject=subject, body=body)
        for user in {u.pk: u for u in recipients if u and u.email}.values()
    )
    for row in rows:
        transaction.on_commit(lambda pk=row.pk: deliver_notification.delay(pk))
    return rows


def notification_deliver(*, notification_id: int) -> bool:
    """Send one notification unless someone already claimed it; True when this call sent it."""
    claimed = Notification.objects.filter(pk=notification_id, sent_at=None).update(
        sent_at=timezone.now(), error=""
    )
    if not claimed:
        return False
    note = Notification.objects.select_related("recipient").get(pk=notification_id)
    try:
        send_mail(note.subject, note.body, settings.DEFAULT_FROM_EMAIL, [note.recipient.email])
    except OSError as exc:
        # Release the claim so a retry can send it; the error stays visible in the admin.
        Notification.objects.filter(pk=notification_id).update(sent_at=None, error=str(exc))
        raise
    return True
