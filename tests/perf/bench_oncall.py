"""On-call figures: "who is on call now" for many schedules, and one escalation tick.

1. `--schedules` schedules (default 100), each with 3 layers (weekly, daily with business-hours
   windows, every-12-hours) of 4 people and 3 overrides: the time to read them and compute who
   is on call now in all of them, cold (the first read, filling the roster cache) and warm.
2. `--pages` active pages (default 10,000) of which `--due` (default 500) are due: the time of
   one `pages_tick` (batches claimed with SKIP LOCKED) and its query count.

Everything is written in one transaction that is rolled back. As a script, on the database
`seed_scale` loaded (or any migrated database with a few users and incidents):

    EMBEDDED_PGDATA=/work/bench-pg EMBEDDED_PG_CLEANUP=keep DEBUG=0 SECRET_KEY=bench \\
      .venv/bin/python tests/perf/bench_oncall.py --repeat 5
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from incidents.models import Incident  # noqa: E402
from itsm import clock  # noqa: E402
from itsm.models import Team, User  # noqa: E402
from oncall import roster  # noqa: E402
from oncall.choices import PageState, TargetKind, TurnKind, Urgency  # noqa: E402
from oncall.escalation import snapshot  # noqa: E402
from oncall.models import (  # noqa: E402
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    Override,
    Page,
    Restriction,
    Schedule,
)
from oncall.selectors import roster_specs, teams_on_call  # noqa: E402
from oncall.services import pages_tick  # noqa: E402


class Rollback(Exception):
    pass


def make_schedules(count: int, people: list[int]) -> list[int]:
    now = clock.now()
    start = now - timedelta(days=400)
    ids = []
    for n in range(count):
        schedule = Schedule.objects.create(name=f"bench schedule {n}", time_zone="Europe/Berlin")
        ids.append(schedule.pk)
        for level, (turn, length) in enumerate(
                [(TurnKind.WEEKLY, 1), (TurnKind.DAILY, 1), (TurnKind.HOURS, 12)], start=1):
            layer = Layer.objects.create(schedule=schedule, name=f"L{level}", level=level,
                                         turn=turn, length=length, starts_at=start)
            LayerMember.objects.bulk_create(
                LayerMember(layer=layer, user_id=people[(n + i) % len(people)], position=i)
                for i in range(4))
            if level == 2:
                Restriction.objects.bulk_create(
                    Restriction(layer=layer, weekday=day, start_minute=540, end_minute=1020)
                    for day in range(5))
        Override.objects.bulk_create(
            Override(schedule=schedule, user_id=people[n % len(people)],
                     starts_at=now + timedelta(hours=6 * i - 3),
                     ends_at=now + timedelta(hours=6 * i - 1)) for i in range(3))
    return ids


def bench_on_call(ids: list[int], repeat: int) -> None:
    """The first read fills the process's roster cache; the next ones check versions only."""
    runs = []
    for _ in range(repeat + 1):
        now = clock.now()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            specs = list(roster_specs(ids, now, now).values())
        loaded = time.perf_counter()
        on_call = [roster.on_call(s, now) for s in specs]
        runs.append((loaded - started, time.perf_counter() - loaded, len(queries)))
    covered = sum(shift is not None for shift in on_call)
    (cold_load, cold_compute, cold_queries), warm = runs[0], runs[1:]
    print(f"on call now, {len(ids)} schedules x 3 layers + 3 overrides ({covered} covered): "
          f"cold {(cold_load + cold_compute) * 1000:.1f} ms ({cold_queries} queries); warm "
          f"{statistics.median(a + b for a, b, _ in warm) * 1000:.1f} ms median of {repeat} "
          f"(read {statistics.median(a for a, _, _ in warm) * 1000:.1f} ms, "
          f"{warm[-1][2]} query; compute {statistics.median(b for _, b, _ in warm) * 1000:.2f}"
          f" ms)")
    pages = []
    for _ in range(repeat):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            teams_on_call()
        pages.append(time.perf_counter() - started)
    print(f"the /oncall/ page's selector (model instances, every schedule in the database): "
          f"{statistics.median(pages) * 1000:.1f} ms, {len(queries)} queries")


def make_pages(total: int, due: int, schedule_id: int, people: list[int]) -> None:
    team = Team.objects.create(name="bench paging team")
    team.members.add(*people[:4])
    policy = EscalationPolicy.objects.create(name="bench policy", team=team, repeat=2)
    EscalationStep.objects.create(policy=policy, position=0, target=TargetKind.SCHEDULE,
                                  schedule_id=schedule_id, wait_minutes=5)
    EscalationStep.objects.create(policy=policy, position=1, target=TargetKind.TEAM,
                                  team=team, wait_minutes=5)
    frozen = snapshot(policy)
    now = clock.now()
    incidents = list(Incident.objects.order_by("-id").values_list("pk", flat=True)[:total])
    Page.objects.bulk_create(
        Page(incident_id=pk, policy=policy, team=team, snapshot=frozen, urgency=Urgency.HIGH,
             reason="bench", state=PageState.ACTIVE, started_at=now - timedelta(minutes=5),
             due_at=now - timedelta(seconds=30) if i < due else now + timedelta(hours=1))
        for i, pk in enumerate(incidents))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE oncall_page")


def bench_tick(due: int, repeat: int) -> None:
    timings = []
    for _ in range(repeat):
        sid = transaction.savepoint()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            result = pages_tick(batch=100)
        timings.append(time.perf_counter() - started)
        transaction.savepoint_rollback(sid)
    print(f"escalation tick, {due} of the active pages due: "
          f"{statistics.median(timings) * 1000:.0f} ms median of {repeat} "
          f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}); "
          f"{result.fired} steps fired in {result.batches} batches, {len(queries)} queries; "
          f"each run: {', '.join(f'{t * 1000:.0f}' for t in timings)} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    people = list(User.objects.filter(is_active=True).order_by("pk")
                  .values_list("pk", flat=True)[:40])
    try:
        with transaction.atomic():
            ids = make_schedules(args.schedules, people)
            bench_on_call(ids, args.repeat)
            make_pages(args.pages, args.due, ids[0], people)
            bench_tick(args.due, args.repeat)
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
