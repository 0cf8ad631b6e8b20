from celery import shared_task

from incidents.services import follow_ups_remind, incidents_auto_close
from incidents.sla.services import calendar_rederive, clocks_sweep


@shared_task(acks_late=True)
def auto_close_resolved() -> int:
    """Close incidents resolved longer ago than INCIDENT_AUTO_CLOSE_DAYS (idempotent sweep)."""
    return incidents_auto_close()


@shared_task(acks_late=True)
def remind_follow_ups() -> int:
    """Timeline reminders for on-hold incidents whose follow-up time passed (idempotent)."""
    return follow_ups_remind()


@shared_task
def check_slas() -> dict:
    """One SLA sweep (the same as `manage.py check_slas`): safe to overlap with another."""
    result = clocks_sweep()
    return {"checked": result.checked, "warned": result.warned, "breached": result.breached}


@shared_task
def rederive_calendar(calendar_id: int, reason: str) -> int:
    """Recompute the open clocks on a calendar that an admin changed."""
    return calendar_rederive(calendar_id=calendar_id, reason=reason)
