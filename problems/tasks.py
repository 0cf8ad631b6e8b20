from celery import shared_task

from problems.recurrence import detect_recurrence as detect


@shared_task
def detect_recurrence() -> dict:
    """Suggest problems for clusters of recurring incidents (once per cluster)."""
    result = detect()
    return {"created": len(result.created), "grown": len(result.grown),
            "skipped": result.skipped}
