"""Demo and benchmark data: the `seed_demo` and `seed_scale` management commands' work."""

from datetime import timedelta
from random import Random

from django.db import transaction
from django.db.models import Max

from attachments.demo import seed_attachments
from incidents.models import TimelineEntry
from incidents.sla.services import clocks_sweep
from itsm import clock
from itsm.demo import catalog
from itsm.demo.history import seed_history
from itsm.demo.oncall import seed_oncall
from itsm.demo.problems import seed_problems
from itsm.demo.reference import (
    add_new_users,
    demo_loaded,
    give_addresses,
    load_cast,
    seed_reference,
)


def seed_demo(*, incidents: int = 300, seed: int = 1) -> bool:
    """Load the demo organisation and its incidents unless loaded; False when it already was.

    One transaction: either everything is there (and the marker team with it) or nothing.
    """
    if demo_loaded():
        with transaction.atomic():  # a demo loaded before on-call or problems gets them
            add_new_users()
            cast = load_cast()
            seed_oncall(cast)
            seed_problems(cast)
            seed_attachments()
        return False
    with transaction.atomic():
        cast = seed_reference()
        seed_history(cast=cast, count=incidents, rng=Random(seed))
        # Problems are history too: worked before the sweep settles the clocks (so incidents
        # held for a problem were paused when it ran) and before anyone has an address.
        seed_problems(cast)
        seed_attachments()
        last = _settle_clocks()
        give_addresses()
        seed_oncall(cast, pages_at=last)
    return True


def _settle_clocks():
    """Mark the warnings and breaches the backdated history crossed, as the beat sweep would
    have, at the history's last instant (no mail: nobody has an address yet); returns it."""
    last = TimelineEntry.objects.aggregate(last=Max("at"))["last"]
    if last is not None:
        with clock.frozen_at(last):
            clocks_sweep(budget=timedelta(minutes=5))
    return last


def logins_text() -> str:
    """The demo logins, one a line, as `make run` and `seed_demo` print them."""
    width = max(len(role.label) for _, _, role in catalog.LOGINS)
    lines = [f"  {role.label:<{width}} {login:<10} password: {password}"
             for login, password, role in catalog.LOGINS]
    lines.append(f"  (every other demo user, e.g. priya.nair or emma.johnson: "
                 f"password {catalog.DEMO_PASSWORD!r})")
    return "\n".join(lines)
