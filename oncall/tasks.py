from celery import shared_task

from oncall.services import page_run_step, pages_tick


@shared_task(acks_late=True)
def run_page_step(page_id: int, token: str) -> bool:
    """Run a page's next step at its time; a no-op if the page moved on (see `pages_tick`)."""
    return page_run_step(page_id=page_id, token=token)


@shared_task
def tick_pages() -> dict:
    """The paging watchdog: every due step runs, whatever happened to its task."""
    result = pages_tick()
    return {"fired": result.fired, "batches": result.batches}


@shared_task
def tick_matrix() -> dict:
    """The escalation matrix: tell managers and remind status updates when they are due."""
    from oncall.matrix import matrix_tick

    result = matrix_tick()
    return {"told": result.told, "reminded": result.reminded}
