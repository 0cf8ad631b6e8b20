from celery import shared_task

from incidents.services import incidents_auto_close


@shared_task(acks_late=True)
def auto_close_resolved() -> int:
    """Close incidents resolved longer ago than INCIDENT_AUTO_CLOSE_DAYS (idempotent sweep)."""
    return incidents_auto_close()
