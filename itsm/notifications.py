"""The outbox: messages written in the caller's transaction, delivered after it commits.

After the commit a task is enqueued per message for speed; the beat sweep
(`notifications_sweep`, every 15 s) delivers whatever is due and unclaimed, so a broker that is
down, a lost task message or a killed worker delays a message (by at most a minute) but never
drops it. Each message is sent once: claims are compare-and-set or SKIP LOCKED, and only the
claim holder marks it sent. The one window left is a worker dying after the mail server
accepted a message and before the row was marked: the sweep then sends it again (SMTP has no
idempotency key to ask with).
"""

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q

from itsm import clock
from itsm.bulk import insert_many
from itsm.choices import DeliveryChannel, DeliveryStatus
from itsm.models import Notification, User

log = logging.getLogger(__name__)

# A claim older than this is stale: its worker died. Longer than EMAIL_TIMEOUT, so a slow but
# live send is never taken over; with the 15 s sweep a dead claim is retried within a minute.
LEASE = timedelta(seconds=45)
MAX_ATTEMPTS = 6  # then the row is failed and shown in the admin


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 1, 2, 4, 8, 16 minutes (about half an hour in all)."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


@dataclass(frozen=True)
class Channel:
    """How to address a person on a channel, and how to send one message through it."""

    address: Callable[[User], str]  # "" when the person has no address there
    send: Callable[[Notification], None]  # raises on failure


def _send_email(note: Notification) -> None:
    send_mail(note.subject, note.body, settings.DEFAULT_FROM_EMAIL, [note.address])


def _send_apprise(note: Notification) -> None:
    """One Apprise URL (Slack, Teams, Telegram, SMS gateways, webhooks …); raises on failure."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(note.address):
        raise ValueError("Apprise does not recognise this URL.")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        if not sender.notify(title=note.subject, body=note.body):
            raise RuntimeError(captured.getvalue().strip() or "Apprise could not deliver it.")


def apprise_url_error(url: str) -> str:
    """Why an Apprise URL cannot be used ("" when it can): checked when a person saves it."""
    import apprise

    return "" if apprise.Apprise().add(url) else \
        "Apprise does not recognise this URL (see its wiki for the services and their forms)."


# A new channel (chat, SMS, webhook) is a DeliveryChannel choice and one entry here; each
# destination on it is data: the row's address, snapshotted when the message is written.
CHANNELS: dict[str, Channel] = {
    DeliveryChannel.EMAIL: Channel(address=lambda user: user.email, send=_send_email),
    # In-app messages are the rows themselves (the notification list): sending only marks them.
    DeliveryChannel.IN_APP: Channel(address=lambda user: user.username, send=lambda note: None),
    # Apprise URLs are per person (oncall.ContactMethod): always given with the message.
    DeliveryChannel.APPRISE: Channel(address=lambda user: "", send=_send_apprise),
}


# --- writing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """One message to write: `key` (usually an event id) makes writing it twice a no-op.

    `address` replaces the channel's own address of each recipient (a person's chosen contact
    method); `delay` holds it back (a later rung of an on-call ladder).
    """

    key: object
    recipients: Iterable[User | None]
    subject: str
    body: str
    channel: str = DeliveryChannel.EMAIL
    address: str | None = None
    delay: timedelta = timedelta(0)


def notification_queue(*, key, recipients: Iterable[User | None], subject: str, body: str,
                       channel: str = DeliveryChannel.EMAIL) -> list[Notification]:
    """Write one message per recipient with an address, once per `key` (usually an event id).

    Idempotent: writing the same key for the same recipient and channel again adds nothing.
    Delivery is enqueued when the surrounding transaction commits.
    """
    return notifications_queue_many([Message(key, recipients, subject, body, channel)])


def notifications_queue_many(messages: Iterable[Message]) -> list[Notification]:
    """`notification_queue` for many messages in one insert (the SLA sweep's warnings)."""
    now = clock.now()
    rows = []
    for message in messages:
        # A line break in a header is refused by the mailer (BadHeaderError): titles may
        # carry one.
        subject = " ".join(message.subject.split())[:200]
        address_of = CHANNELS[message.channel].address
        if message.address is not None:
            address_of = lambda user, address=message.address: address  # noqa: E731
        people = {u.pk: u for u in message.recipients if u is not None and address_of(u)}
        rows += [Notification(key=f"{message.key}:{user.pk}:{message.channel}",
                              channel=message.channel, recipient=user, address=address_of(user),
                              subject=subject, body=message.body, created_at=now,
                              due_at=now + message.delay)
                 for user in people.values()]
    if not rows:
        return []
    insert_many(Notification, rows, unique="key")
    transaction.on_commit(partial(_enqueue, [row.pk for row in rows]))
    return rows


def _enqueue(ids: list[int]) -> None:
    """Hand the messages to a worker now; if the broker can't take them, the sweep will."""
    from itsm.tasks import deliver_notification

    for pk in ids:
        try:
            deliver_notification.delay(pk)
        except Exception:  # noqa: BLE001 - any broker failure; the action has already committed
            log.warning("Broker unavailable: notifications %s wait for the sweep", ids)
            return


def notifications_cancel(*, key_prefix: str) -> int:
    """Withdraw the messages of one cause not yet sent (an acknowledged page's later rungs)."""
    return Notification.objects.filter(
        key__startswith=key_prefix, status=DeliveryStatus.PENDING,
    ).update(status=DeliveryStatus.CANCELED, claim=None)


@transaction.atomic
def notifications_retry(*, ids: Iterable[int]) -> int:
    """Give failed messages a fresh set of attempts, due now (the admin's action)."""
    rows = Notification.objects.filter(pk__in=list(ids), status=DeliveryStatus.FAILED)
    retried = list(rows.values_list("pk", flat=True))
    rows.update(status=DeliveryStatus.PENDING, attempts=0, due_at=clock.now(), claim=None)
    transaction.on_commit(partial(_enqueue, retried))
    return len(retried)


# --- delivering ------------------------------------------------------------------------------

def _claimable(now) -> Q:
    """Due and unclaimed, or claimed by a worker that has not finished within the lease."""
    return (Q(status=DeliveryStatus.PENDING, due_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - LEASE,
                attempts__lt=MAX_ATTEMPTS))


def _claim(queryset, now) -> uuid.UUID | None:
    claim = uuid.uuid4()
    claimed = queryset.update(status=DeliveryStatus.SENDING, claim=claim, claimed_at=now,
                              attempts=F("attempts") + 1)
    return claim if claimed else None


def notification_deliver(*, notification_id: int) -> bool:
    """Send one message if it is due and nobody holds it; True when this call sent it."""
    now = clock.now()
    claim = _claim(Notification.objects.filter(_claimable(now), pk=notification_id), now)
    return claim is not None and _send(notification_id, claim)


def _send(notification_id: int, claim: uuid.UUID) -> bool:
    """Send a claimed message (outside any transaction), then record what happened."""
    note = Notification.objects.get(pk=notification_id)
    mine = Notification.objects.filter(pk=notification_id, claim=claim)
    try:
        CHANNELS[note.channel].send(note)
    except Exception as exc:  # noqa: BLE001 - whatever the channel raised is recorded, retried
        now = clock.now()
        if note.attempts >= MAX_ATTEMPTS:
            mine.update(status=DeliveryStatus.FAILED, claim=None, last_error=str(exc)[:2000])
            log.error("Notification %s failed for good: %s", notification_id, exc)
        else:
            mine.update(status=DeliveryStatus.PENDING, claim=None, last_error=str(exc)[:2000],
                        due_at=now + backoff(note.attempts))
        return False
    if not mine.update(status=DeliveryStatus.SENT, sent_at=clock.now(), claim=None,
                       last_error=""):
        log.warning("Notification %s was sent after its claim went stale", notification_id)
    return True


def notifications_sweep(*, limit: int = 500, budget: timedelta = timedelta(seconds=40)) -> int:
    """Deliver every due message, oldest first, one claim at a time; returns how many were sent.

    Safe on several workers at once (SKIP LOCKED: each takes a different row). One claim at a
    time, so no claim waits behind other sends long enough to go stale. Stops after `budget`,
    before the next sweep is due.
    """
    started = time.monotonic()
    _give_up_dead_claims()
    sent = 0
    for _ in range(limit):
        if time.monotonic() - started > budget.total_seconds():
            break
        now = clock.now()
        with transaction.atomic():
            pk = (Notification.objects.select_for_update(skip_locked=True)
                  .filter(_claimable(now)).order_by("due_at")
                  .values_list("pk", flat=True).first())
            if pk is None:
                break
            claim = _claim(Notification.objects.filter(pk=pk), now)
        sent += _send(pk, claim)
    return sent


def _give_up_dead_claims() -> None:
    """A message whose every attempt ended with a dead worker is failed, not retried forever."""
    Notification.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=clock.now() - LEASE,
        attempts__gte=MAX_ATTEMPTS,
    ).update(status=DeliveryStatus.FAILED, claim=None,
             last_error="The worker sending it stopped on every attempt.")
