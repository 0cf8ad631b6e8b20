"""Demo and benchmark data: the `seed_demo` and `seed_scale` management commands' work."""

from random import Random

from django.db import transaction

from itsm.demo import catalog
from itsm.demo.history import seed_history
from itsm.demo.reference import demo_loaded, give_addresses, seed_reference


def seed_demo(*, incidents: int = 300, seed: int = 1) -> bool:
    """Load the demo organisation and its incidents unless loaded; False when it already was.

    One transaction: either everything is there (and the marker team with it) or nothing.
    """
    if demo_loaded():
        return False
    with transaction.atomic():
        cast = seed_reference()
        seed_history(cast=cast, count=incidents, rng=Random(seed))
        give_addresses()
    return True


def logins_text() -> str:
    """The demo logins, one a line, as `make run` and `seed_demo` print them."""
    lines = [f"  {role.label:<10} {login:<10} password: {password}"
             for login, password, role in catalog.LOGINS]
    lines.append(f"  (every other demo user, e.g. priya.nair or emma.johnson: "
                 f"password {catalog.DEMO_PASSWORD!r})")
    return "\n".join(lines)
