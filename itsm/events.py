"""Domain events: every service that changes a record publishes one typed event, and the
subscribers (timeline, notifications; soon SLA clocks, paging, metrics, webhooks) react to it.

Deliberately boring: a list of (event type, handler) pairs, called in the order they were
registered, synchronously, inside the publishing service's transaction. Handlers live in each
app's `subscribers.py`, imported at start-up in INSTALLED_APPS order (`ItsmConfig.ready`).
A handler that raises rolls the whole change back, so a change and its consequences commit
together or not at all.
Anything that leaves the system goes through the outbox, never straight from a handler.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

Handler = Callable[[Any], Any]
_subscribers: list[tuple[type, Handler]] = []


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened, at `at`, done by `by` (None: the system)."""

    at: datetime
    by: Any = None
    # Unique per event: timeline rows and outbox idempotency keys refer to it.
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def subscribe(*event_types: type) -> Callable[[Handler], Handler]:
    """Decorator: call the handler for every published event of these types (or subtypes)."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            _subscribers.append((event_type, handler))
        return handler

    return register


def unsubscribe(handler: Handler) -> None:
    _subscribers[:] = [(t, h) for t, h in _subscribers if h is not handler]


@contextmanager
def subscribed(event_type: type, handler: Handler) -> Iterator[Handler]:
    """A subscription for the duration of a block (tests, one-off tools)."""
    subscribe(event_type)(handler)
    try:
        yield handler
    finally:
        unsubscribe(handler)


def publish(event: Event) -> list:
    """Hand the event to its subscribers, in registration order, in the current transaction.

    Returns what the handlers returned (most return nothing; the timeline its row).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{type(event).__name__} published outside a transaction")
    results = [handler(event) for event_type, handler in list(_subscribers)
               if isinstance(event, event_type)]
    return [result for result in results if result is not None]
