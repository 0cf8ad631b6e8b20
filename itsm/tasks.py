from celery import shared_task

from itsm.notifications import notification_deliver


@shared_task(acks_late=True, autoretry_for=(OSError,), max_retries=5, retry_backoff=True)
def deliver_notification(notification_id: int) -> bool:
    """Send one queued notification (idempotent: claimed by compare-and-set)."""
    return notification_deliver(notification_id=notification_id)


@shared_task
def heartbeat() -> None:
    """Sent by beat every minute and run by a worker: /healthz reports both as alive."""
    from django.utils import timezone

    from itsm.models import Heartbeat

    Heartbeat.objects.update_or_create(name="worker", defaults={"seen_at": timezone.now()})
