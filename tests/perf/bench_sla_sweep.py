"""How long one SLA sweep takes when 1,000 clocks cross a threshold, whatever else is open.

For each size it adds two running clocks (response, resolution) per "open incident" to the
database `seed_scale` loaded, makes `--due` of them due (1 % of 100,000 incidents; half a
warning, half a breach), runs `clocks_sweep` several times (re-arming the same clocks between
runs) and prints the median time and the query count. Everything happens in one transaction
that is rolled back, so the database is left as it was. As a script:

    EMBEDDED_PGDATA=/work/bench-pg EMBEDDED_PG_CLEANUP=keep DEBUG=0 SECRET_KEY=bench \\
      .venv/bin/python tests/perf/bench_sla_sweep.py --open 100000 1000000 --repeat 5
"""

import argparse
import cProfile
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from incidents.models import SlaPolicyVersion  # noqa: E402
from incidents.sla.services import clocks_sweep  # noqa: E402


class Rollback(Exception):
    pass


def add_running_clocks(cursor, open_incidents: int) -> None:
    """Two running P3 clocks per open incident, due in a week (nothing for the sweep)."""
    version = SlaPolicyVersion.objects.get(policy__name="P3 default", valid_until=None)
    calendar = version.terms["response_calendar_id"]
    cursor.execute("""
        INSERT INTO incidents_slaclock
          (incident_id, kind, target, policy_version_id, calendar_id, duration, started_at,
           stage, pauses, paused_for, due_at, warned, next_check_at)
        SELECT ids.id, 'sla', target, %(version)s, %(calendar)s, interval '4 hours', now(),
               'running', '[]', interval '0', now() + interval '7 days', 0,
               now() + interval '5 days'
        FROM (SELECT id FROM incidents_incident WHERE assignment_team_id IS NOT NULL
              ORDER BY id LIMIT %(n)s) ids,
             (VALUES ('response'), ('resolution')) targets(target)""",
                   {"version": version.pk, "calendar": calendar, "n": open_incidents})
    # The seeded clocks that came due since seed_scale ran are not part of the measurement.
    cursor.execute("UPDATE incidents_slaclock SET next_check_at = next_check_at + interval "
                   "'30 days' WHERE next_check_at < clock_timestamp() + interval '1 hour'")
    cursor.execute("ANALYZE incidents_slaclock")


def arm(cursor, clock_ids: list[int]) -> None:
    """Make these clocks due now: the first half past a warning, the second past due."""
    half = len(clock_ids) // 2
    cursor.execute("""
        UPDATE incidents_slaclock SET stage = 'running', warned = 0, breached_at = NULL,
          started_at = now() - interval '4 hours', next_check_at = now() - interval '1 second',
          due_at = CASE WHEN id = ANY(%(warn)s) THEN now() + interval '20 minutes'
                        ELSE now() - interval '1 minute' END
        WHERE id = ANY(%(all)s)""", {"warn": clock_ids[:half], "all": clock_ids})


def bench(open_incidents: int, due_count: int, repeat: int,
          profile: bool = False) -> tuple[float, int, int]:
    times, queries, crossed = [], 0, 0
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            add_running_clocks(cursor, open_incidents)
            cursor.execute("""SELECT id FROM incidents_slaclock WHERE target = 'resolution'
                              AND due_at > now() + interval '6 days'
                              ORDER BY random() LIMIT %s""", [due_count])
            due = [pk for (pk,) in cursor.fetchall()]
            for _ in range(repeat):
                arm(cursor, due)
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    if profile:
                        cProfile.runctx("clocks_sweep()", globals(), {}, sort="cumtime")
                    result = clocks_sweep()
                    times.append(time.perf_counter() - started)
                queries = len(captured.captured_queries)
                crossed = result.warned + result.breached
            raise Rollback
    except Rollback:
        pass
    return statistics.median(times), queries, crossed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one sweep first.")
    args = parser.parse_args()
    print(f"{'open incidents':>15} {'due clocks':>11} {'crossed':>8} {'median s':>9} "
          f"{'queries':>8}")
    for size in args.open:
        seconds, queries, crossed = bench(size, args.due, args.repeat, args.profile)
        print(f"{size:>15,} {args.due:>11,} {crossed:>8,} {seconds:>9.3f} {queries:>8}")


if __name__ == "__main__":
    main()
