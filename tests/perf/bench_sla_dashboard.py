"""Server time, query count and size of the SLA dashboard (`/dashboard/sla/`) for each period
and filter, and the CSV export's time to its first row and to 10,000 rows, on the current
database.

It measures what is loaded (e.g. `seed_scale`, with its clocks), so it never creates a test
database and writes nothing. As a script:

    EMBEDDED_PGDATA=/work/bench-pg EMBEDDED_PG_CLEANUP=keep DEBUG=0 SECRET_KEY=bench \\
        SECURE_SSL_REDIRECT=0 .venv/bin/python tests/perf/bench_sla_dashboard.py --repeat 10

or through pytest (same output): `pytest tests/perf/bench_sla_dashboard.py -s`, with
BENCH_REPEAT and BENCH_EXPLAIN standing for the options.

Each URL is requested once to warm up, then `--repeat` times in-process with the Django test
client, logged in as `--user` (default: the demo `manager`).
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_MEDIAN_MS = 300
CSV_ROWS = 10_000


@dataclass
class Result:
    url: str
    times_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    queries: int = 0
    size: int = 0
    slowest: tuple[float, str, tuple] = (0.0, "", ())  # (median ms, sql, params), slowest query

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)


class QueryTimer:
    """A connection.execute_wrapper timing every query (for a streamed export: the cursor's)."""

    def __init__(self):
        self.queries: list[tuple[float, str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(((time.perf_counter() - started) * 1000, sql, params))


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")
    import django

    django.setup()


def page_urls() -> list[str]:
    from incidents.models import Incident
    from itsm.models import Team

    team = (Incident.objects.filter(assignment_team__isnull=False)
            .values_list("assignment_team", flat=True).first()
            or Team.objects.values_list("pk", flat=True).first())
    base = "/dashboard/sla/"
    return [
        base,  # last 28 days
        f"{base}?period=this_week",
        f"{base}?period=last_7",
        f"{base}?period=last_90",
        f"{base}?period=this_year",
        f"{base}?{_last_year()}",  # 366 days: the longest period allowed
        f"{base}?period=last_90&team={team}",
        f"{base}?period=last_90&priority=2",
        f"{base}?{_last_year()}&team={team}&priority=3",
    ]


def _last_year() -> str:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    return f"from={today - timedelta(days=365):%Y-%m-%d}&to={today:%Y-%m-%d}"


def measure_pages(client, repeat: int) -> list[Result]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for url in page_urls():
        result = Result(url)
        per_query: dict[int, tuple[list[float], str, tuple]] = {}
        for i in range(repeat + 1):  # the first run only warms caches
            connection.queries_log.clear()
            timer = QueryTimer()
            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            result.queries, result.size = len(ctx.captured_queries), len(response.content)
            if not i:
                continue
            result.times_ms.append(elapsed)
            result.sql_ms.append(sum(ms for ms, _, _ in timer.queries))
            for n, (ms, sql, params) in enumerate(timer.queries):
                per_query.setdefault(n, ([], sql, params))[0].append(ms)
        if per_query:
            times, sql, params = max(per_query.values(), key=lambda v: statistics.median(v[0]))
            result.slowest = (statistics.median(times), sql, params)
        results.append(result)
    return results


@dataclass
class Export:
    url: str
    first_row_ms: list[float] = field(default_factory=list)
    rows_ms: list[float] = field(default_factory=list)  # until CSV_ROWS rows (or the end)
    rows: int = 0


def measure_exports(client, repeat: int) -> list[Export]:
    """Time to the first row (after the header), and to CSV_ROWS rows, of the streamed export."""
    exports = []
    for query in ("", "period=last_7", f"{_last_year()}"):
        export = Export(f"/dashboard/sla/export.csv{'?' if query else ''}{query}")
        for i in range(repeat + 1):
            started = time.perf_counter()
            response = client.get(export.url)
            assert response.status_code == 200, (export.url, response.status_code)
            stream = iter(response.streaming_content)
            next(stream)  # the header line
            next(stream, None)  # the first row: the queries have run
            first = (time.perf_counter() - started) * 1000
            lines = 1
            for _ in stream:
                lines += 1
                if lines >= CSV_ROWS:
                    break
            done = (time.perf_counter() - started) * 1000
            response.close()  # ends the server-side cursor
            if i:
                export.first_row_ms.append(first)
                export.rows_ms.append(done)
                export.rows = lines
        exports.append(export)
    return exports


def describe_database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident")
        (incidents,) = cursor.fetchone()
        cursor.execute("SELECT stage, count(*) FROM incidents_slaclock GROUP BY 1 ORDER BY 2 DESC")
        stages = cursor.fetchall()
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        (buffers,) = cursor.fetchone()
    clocks = sum(n for _, n in stages)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{incidents:,} incidents, {clocks:,} clocks "
            f"({', '.join(f'{s} {n:,}' for s, n in stages)})\n"
            f"PostgreSQL {version}, shared_buffers {buffers}; {os.cpu_count()} CPUs, "
            f"load average {load}")


def explain(sql: str, params: tuple) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def report(results: list[Result], exports: list[Export], repeat: int, explain_count: int,
           out=print) -> bool:
    width = max(len(r.url) for r in [*results, *exports])
    out(f"\nSLA dashboard benchmark ({repeat} runs per URL after one warm-up)")
    out(f"{'url':<{width}}  {'median ms':>9}  {'max ms':>7}  {'queries':>7}  {'SQL ms':>7}  "
        f"{'KB':>6}  slowest query (median ms)")
    for r in results:
        flag = " *" if r.median > TARGET_MEDIAN_MS else ""
        out(f"{r.url:<{width}}  {r.median:9.1f}  {max(r.times_ms):7.1f}  {r.queries:7d}  "
            f"{statistics.median(r.sql_ms):7.1f}  {r.size / 1024:6.1f}  {r.slowest[0]:.1f}{flag}")
    out(f"\n{'export':<{width}}  {'first row ms':>13}  {f'{CSV_ROWS:,} rows ms':>14}  rows read")
    for e in exports:
        out(f"{e.url:<{width}}  {statistics.median(e.first_row_ms):13.1f}  "
            f"{statistics.median(e.rows_ms):14.1f}  {e.rows:,}")
    counts = {r.queries for r in results}
    slow = [r for r in results if r.median > TARGET_MEDIAN_MS]
    out(f"\nTargets: the same number of queries for every URL: "
        f"{'met' if len(counts) == 1 else 'MISSED'} ({', '.join(map(str, sorted(counts)))}); "
        f"median ≤ {TARGET_MEDIAN_MS} ms: {'met' if not slow else 'MISSED (marked *)'}")
    for r in sorted(results, key=lambda r: -r.slowest[0])[:explain_count]:
        if r.slowest[1]:
            out(f"\nSlowest query of {r.url} ({r.slowest[0]:.1f} ms):\n{r.slowest[1]}")
            out(f"\nEXPLAIN (ANALYZE, BUFFERS):\n{explain(r.slowest[1], r.slowest[2])}")
    return len(counts) == 1 and not slow


def run(*, username: str = "manager", repeat: int = 10, explain_count: int = 1,
        out=print) -> bool:
    from django.conf import settings
    from django.test import Client

    from itsm.models import User

    if not settings.DEBUG:
        out("(DEBUG is off: times include no debug overhead; query capture still works)")
    out(describe_database())
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username=username))
    results = measure_pages(client, repeat)
    exports = measure_exports(client, repeat)
    return report(results, exports, repeat, explain_count, out=out)


def test_sla_dashboard_benchmark(django_db_blocker):
    """pytest entry point: the real database (no test DB); prints the table (use -s)."""
    with django_db_blocker.unblock():
        run(repeat=int(os.environ.get("BENCH_REPEAT", "10")),
            explain_count=int(os.environ.get("BENCH_EXPLAIN", "1")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per URL (default 10)")
    parser.add_argument("--user", default="manager", help="who looks at the dashboard")
    parser.add_argument("--explain", type=int, default=1, metavar="N",
                        help="EXPLAIN ANALYZE the slowest query of the N slowest URLs")
    args = parser.parse_args()
    setup_django()
    ok = run(username=args.user, repeat=args.repeat, explain_count=args.explain)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
