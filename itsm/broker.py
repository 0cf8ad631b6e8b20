"""Housekeeping for the default broker: kombu's SQLAlchemy transport on the desk's PostgreSQL.

That transport never deletes a message: a consumed one is only marked `visible = false`. The
purge keeps its table small. Nothing durable lives in the broker (the outbox and the sweeps
keep their state in their own tables), so a purged or lost message costs no outcome.
"""

from django.conf import settings
from django.db import connection

MESSAGE_TABLE = "kombu_message"


def uses_database_broker() -> bool:
    return settings.CELERY_BROKER_URL.startswith("sqla+")


def broker_purge_consumed() -> int:
    """Delete the messages workers have already taken; returns how many went."""
    if not uses_database_broker():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MESSAGE_TABLE])
        if cursor.fetchone()[0] is None:  # created by kombu on first use
            return 0
        cursor.execute(f"DELETE FROM {MESSAGE_TABLE} WHERE visible = false")
        return cursor.rowcount
