"""Thin celery wrappers around the core's services; every one is safe to run twice."""

from celery import shared_task

from itsm import clock
from itsm.broker import broker_purge_consumed
from itsm.notifications import notification_deliver, notifications_sweep


@shared_task(acks_late=True)
def deliver_notification(notification_id: int) -> bool:
    """Send one outbox message if still due (compare-and-set claim; retries live in the row)."""
    return notification_deliver(notification_id=notification_id)


@shared_task(acks_late=True)
def sweep_notifications() -> int:
    """Deliver every outbox message that is due and unclaimed, or whose claim went stale."""
    return notifications_sweep()


@shared_task
def purge_broker_messages() -> int:
    """Delete consumed messages of the database broker so its table does not grow forever."""
    return broker_purge_consumed()


@shared_task
def heartbeat() -> None:
    """Sent by beat every minute and run by a worker: /healthz reports both as alive."""
    from itsm.models import Heartbeat

    Heartbeat.objects.update_or_create(name="worker", defaults={"seen_at": clock.now()})
