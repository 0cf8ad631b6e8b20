"""Housekeeping for the default broker: kombu's SQLAlchemy transport on the desk's PostgreSQL.

That transport never deletes a message: a consumed one is only marked `visible = false`, so its
table grows by every task ever sent. The purge deletes those. Nothing durable lives in the
broker (the outbox and the sweeps keep their state in their own tables), so a lost message
costs latency, never an outcome.
"""

from django.conf import settings


def uses_database_broker() -> bool:
    return settings.CELERY_BROKER_URL.startswith("sqla+")


def broker_purge_consumed() -> int:
    """Delete the messages workers have already taken; returns how many went."""
    if not uses_database_broker():
        return 0
    from itsm.celery import app

    # Through kombu's own session and table model: right whichever database the broker is on.
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        message = channel.message_cls
        deleted = (channel.session.query(message).filter(message.visible.is_(False))
                   .delete(synchronize_session=False))
        channel.session.commit()
    return deleted
