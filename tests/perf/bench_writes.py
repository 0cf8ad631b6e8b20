"""Server time and query count of the incident writes (create, acknowledge, comment, resolve).

Each operation runs through `incidents.services` as the demo `agent`, committed for real (the
on-commit hooks that enqueue deliveries included), on the current database. As a script:

    EMBEDDED_PGDATA=/tmp/pg-bench EMBEDDED_PG_CLEANUP=keep DEBUG=1 \\
        .venv/bin/python tests/perf/bench_writes.py --repeat 100

or through pytest (BENCH_REPEAT stands for --repeat): `.venv/bin/pytest tests/perf -s -k writes`.
The incidents it logs stay in the database, titled "bench write …".
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ("create", "acknowledge", "comment", "resolve")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")
    import django

    django.setup()


def measure(*, username: str, repeat: int) -> dict[str, tuple[list[float], list[int]]]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from incidents import services
    from incidents.choices import ResolutionCode
    from itsm.models import User

    user = User.objects.get(username=username)
    team = user.teams.order_by("tier", "name").first()
    results = {name: ([], []) for name in OPERATIONS}

    def timed(name, call, record):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            with transaction.atomic():  # the commit and its hooks are part of the write
                value = call()
            elapsed = (time.perf_counter() - started) * 1000
        if record:
            results[name][0].append(elapsed)
            results[name][1].append(len(ctx.captured_queries))
        return value

    for i in range(repeat + 1):  # the first round only warms caches
        record = i > 0
        incident = timed("create", lambda i=i: services.incident_create(
            by=user, caller=user, title=f"bench write {i}", assignment_team=team), record)
        incident = timed("acknowledge", lambda inc=incident: services.incident_acknowledge(
            incident=inc, by=user), record)
        timed("comment", lambda inc=incident: services.incident_comment(
            incident=inc, by=user, body="Looking into it."), record)
        timed("resolve", lambda inc=incident: services.incident_resolve(
            incident=inc, by=user, code=ResolutionCode.FIXED, notes="Fixed."), record)
    return results


def report(results, repeat: int, out=print) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident")
        (count,) = cursor.fetchone()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out(f"\nWrite benchmark: {repeat} rounds after one warm-up; {count:,} incidents in the "
        f"database; {os.cpu_count()} CPUs, load average {load}")
    out(f"{'operation':<12}  {'median ms':>9}  {'p95 ms':>8}  {'queries':>7}")
    for name, (times, queries) in results.items():
        p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 \
            else times[0]
        out(f"{name:<12}  {statistics.median(times):9.2f}  {p95:8.2f}  "
            f"{statistics.median(queries):7.0f}")


def run(*, username: str = "agent", repeat: int = 50, out=print) -> None:
    report(measure(username=username, repeat=repeat), repeat, out=out)


def test_writes_benchmark(django_db_blocker):
    """pytest entry point: the real database (no test DB); prints the table (use -s)."""
    with django_db_blocker.unblock():
        run(repeat=int(os.environ.get("BENCH_REPEAT", "50")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="rounds (default 50)")
    parser.add_argument("--user", default="agent", help="who writes")
    args = parser.parse_args()
    setup_django()
    run(username=args.user, repeat=args.repeat)


if __name__ == "__main__":
    main()
