"""The one place services and sweeps read the time from.

Tests move it with time-machine (it reads `timezone.now()`); the demo data runs the real
services at past instants with `frozen_at`, which holds for the current thread or task only.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)


def now() -> datetime:
    """The current instant (aware, UTC), or the instant `frozen_at` holds."""
    return _frozen.get() or timezone.now()


@contextmanager
def frozen_at(instant: datetime) -> Iterator[None]:
    """Make `now()` answer `instant` inside the block (demo data, replays)."""
    if timezone.is_naive(instant):
        raise ValueError("frozen_at needs an aware datetime")
    token = _frozen.set(instant)
    try:
        yield
    finally:
        _frozen.reset(token)
