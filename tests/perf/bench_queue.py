"""Server time, query count and size of the queue page (`/incidents/`), an incident's detail
page (the demo incident with the longest timeline, and an open one of the user's team), every
API list and the people picker's search, on the current database.

It measures what `seed_scale` loaded, so it never creates a test database. As a script:

    EMBEDDED_PGDATA=/tmp/pg-bench EMBEDDED_PG_CLEANUP=keep DEBUG=1 \\
        .venv/bin/python tests/perf/bench_queue.py --repeat 20

or through pytest (same database, same output; tests/perf is outside the default run):

    EMBEDDED_PGDATA=/tmp/pg-bench EMBEDDED_PG_CLEANUP=keep DEBUG=1 .venv/bin/pytest tests/perf -s

Each URL is requested once to warm up, then `--repeat` times in-process with the Django test
client, logged in as `--user` (default: the demo `agent`). Until the queue view exists the
benchmark falls back to what it will run: IncidentFilter + incident_list + paginate
(`--mode fallback` forces that, to separate the query layer from the view and template).
Under pytest, BENCH_REPEAT, BENCH_EXPLAIN and BENCH_MODE stand for the options.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_QUERIES = 10
TARGET_MEDIAN_MS = 100


@dataclass
class Result:
    url: str
    times_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # time spent waiting for the database
    queries: int = 0
    size: int = 0  # bytes of the response body
    slowest: tuple[float, str] = (0.0, "")  # (median ms, sql) of its slowest query
    first_page: bool = True  # the targets are about the first pages of the usual views

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        if len(self.times_ms) < 2:
            return self.times_ms[0]
        return statistics.quantiles(self.times_ms, n=20, method="inclusive")[18]


class QueryTimer:
    """A connection.execute_wrapper that times every query (planning and execution)."""

    def __init__(self):
        self.durations: list[float] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.durations.append((time.perf_counter() - started) * 1000)


def urls(team_id: int, detail: str, open_detail: str) -> list[tuple[str, dict, bool]]:
    """(url, extra headers, counts toward the first-page target)."""
    views = [(f"/incidents/?view={v}", {}, True)
             for v in ("mine", "teams", "unassigned", "open", "breaching", "breached",
                       "resolved", "all")]
    return [
        *views,
        ("/incidents/?view=open", {"HTTP_HX_REQUEST": "true"}, True),  # the periodic refresh
        ("/incidents/?state=new&priority=1", {}, True),
        ("/incidents/?q=printer", {}, True),
        ("/incidents/?q=INC0000042", {}, True),
        (f"/incidents/?team={team_id}", {}, True),
        (f"/incidents/?view=open&team={team_id}&priority=2", {}, True),
        ("/incidents/?view=open&page=2", {}, False),
        ("/incidents/?view=all&page=5", {}, False),
        # The sort parameter names the column as the page does: `updated` is updated_at.
        ("/incidents/?view=open&ordering=-updated", {}, False),
        ("/incidents/?view=all&ordering=-updated", {}, False),
        ("/incidents/?view=open&ordering=-opened", {}, False),
        ("/incidents/?view=open&ordering=sla", {}, False),  # time to breach
        # Every other column header (the workspace issue): lifecycle state order, title, and
        # the joined names of service, team and assignee.
        *((f"/incidents/?view=open&ordering={column}", {}, False)
          for column in ("state", "-state", "title", "service", "team", "assignee")),
        (f"{open_detail}?edit=category", {"HTTP_HX_REQUEST": "true"}, False),  # a pencil
        (f"{open_detail}?panel=hold", {"HTTP_HX_REQUEST": "true"}, False),  # a dialog's form
        (detail, {}, True),
        (detail, {"HTTP_HX_REQUEST": "true"}, True),  # after an action: the incident partial
        (open_detail, {}, True),  # with every panel an agent of the team gets: edit, assign, …
        (f"{open_detail}sla/", {}, True),  # the SLA explain panel
        ("/notifications/", {}, True),
        ("/notifications/unread/", {}, True),
        *api_urls(team_id, detail.strip("/").rsplit("/", 1)[-1]),
        *people_urls(),
    ]


def people_urls() -> list[tuple[str, dict, bool]]:
    """The people picker's search: one letter, a word, two words, no match, agents only."""
    return [(f"/people/?{query}", {}, True) for query in (
        "q=m", "q=mar", "q=maria+gar", "q=example.com", "q=zzqx", "scope=agents&q=a",
    )]


def api_urls(team_id: int, number: str) -> list[tuple[str, dict, bool]]:
    """Every list the API serves, with no filter, each filter alone and each sort."""
    lists = [
        "", "?view=open", "?view=mine", "?view=unassigned", "?view=resolved", "?state=closed",
        "?state=new", "?priority=1", f"?team={team_id}", "?q=printer", "?q=INC0000042",
        "?ordering=-updated", "?ordering=state", "?ordering=-number", "?ordering=priority",
        "?ordering=-resolved", "?offset=500", "?limit=200", "?breached=true",
        "?breaching_within=60", "?ordering=sla",
    ]
    return [
        *((f"/api/v1/incidents/{query}", {}, True) for query in lists),
        (f"/api/v1/incidents/{number}/", {}, True),
        (f"/api/v1/incidents/{number}/timeline/", {}, True),
        (f"/api/v1/incidents/{number}/comments/", {}, True),
        ("/api/v1/teams/", {}, True),
        ("/api/v1/services/", {}, True),
        ("/api/v1/categories/", {}, True),
        ("/api/v1/calendars/", {}, True),
        ("/api/v1/sla-policies/", {}, True),
    ]


def longest_history() -> str:
    """The detail page of the incident with the most timeline entries."""
    from django.db.models import Count

    from incidents.models import Incident

    number = (Incident.objects.annotate(n=Count("timeline")).order_by("-n")
              .values_list("number", flat=True).first())
    return f"/incidents/{number}/"


def open_in_team(team_id: int) -> str:
    """The detail page of the newest in-progress incident of the team."""
    from incidents.models import Incident

    number = (Incident.objects.filter(assignment_team_id=team_id, state="in_progress")
              .order_by("-id").values_list("number", flat=True).first())
    return f"/incidents/{number}/"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")
    import django

    django.setup()


def queue_page_exists(client) -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse("incidents:queue")
    except NoReverseMatch:
        return False
    return client.get(url).status_code == 200


def fallback_request(user, url: str, headers: dict):
    """What the queue view runs, without the view: the FilterSet, the selector, one page."""
    from django.test import RequestFactory

    from incidents.filters import IncidentFilter
    from incidents.selectors import incident_list
    from itsm.pagination import paginate

    request = RequestFactory().get(url, **headers)
    request.user = user
    data = request.GET.copy()
    data.setdefault("view", "teams" if user.teams.exists() else "open")  # as the page does
    filterset = IncidentFilter(data=data, queryset=incident_list(user), request=request)
    page = paginate(filterset.qs, page=int(request.GET.get("page", 1)))
    return page.rows, page.count


def measure(*, username: str, repeat: int, mode: str = "auto") -> tuple[list[Result], str]:
    from django.test import Client

    from itsm.models import Team, User

    user = User.objects.get(username=username)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    if mode == "auto":
        mode = "page" if queue_page_exists(client) else "fallback"
    team = user.teams.order_by("tier", "name").first() or Team.objects.order_by("pk").first()
    pages = urls(team.pk, longest_history(), open_in_team(team.pk))
    if mode == "page":
        return time_urls(client, pages, repeat), mode
    results = []
    for url, headers, first_page in pages:
        result = Result(url + (" [htmx]" if headers else ""), first_page=first_page)
        for i in range(repeat + 1):  # the first run only warms caches
            started = time.perf_counter()
            fallback_request(user, url, headers)
            if i:
                result.times_ms.append((time.perf_counter() - started) * 1000)
                result.sql_ms.append(0.0)
        results.append(result)
    return results, mode


def time_urls(client, pages, repeat: int) -> list[Result]:
    """Each (url, headers, first_page) requested once to warm up, then `repeat` times: time,
    queries, the time spent in SQL, size and the query slowest in the median."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = []
    for url, headers, first_page in pages:
        result = Result(url + (" [htmx]" if headers else ""), first_page=first_page)
        per_query: dict[int, tuple[list[float], str]] = {}  # position → (times, sql)
        for i in range(repeat + 1):  # the first run only warms caches
            connection.queries_log.clear()  # the log is capped: keep it from filling up
            timer = QueryTimer()
            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
                started = time.perf_counter()
                response = client.get(url, **headers)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code < 400, (url, response.status_code)
            result.size = len(response.content)
            result.queries = len(ctx.captured_queries)
            if not i:
                continue
            result.times_ms.append(elapsed)
            result.sql_ms.append(sum(timer.durations))
            # The log's times are rounded to the millisecond; the timer's are not.
            durations = (timer.durations if len(timer.durations) == result.queries
                         else [float(q["time"]) * 1000 for q in ctx.captured_queries])
            for n, (query, ms) in enumerate(zip(ctx.captured_queries, durations, strict=True)):
                per_query.setdefault(n, ([], query["sql"]))[0].append(ms)
        # The slowest query is the one slowest in the median, not one unlucky run.
        if per_query:
            times, sql = max(per_query.values(), key=lambda v: statistics.median(v[0]))
            result.slowest = (statistics.median(times), sql)
        results.append(result)
    return results


def describe_database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident")
        (count,) = cursor.fetchone()
        cursor.execute("SELECT state, count(*) FROM incidents_incident GROUP BY 1 ORDER BY 2 DESC")
        states = ", ".join(f"{s} {n:,}" for s, n in cursor.fetchall())
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        (buffers,) = cursor.fetchone()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{count:,} incidents ({states})\nPostgreSQL {version}, shared_buffers {buffers}; "
            f"{os.cpu_count()} CPUs, load average {load}")


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def report(results: list[Result], mode: str, repeat: int, explain_count: int = 1,
           out=print) -> bool:
    """Print the table, the targets and the slowest query's plan; True when targets are met."""
    width = max(len(r.url) for r in results)
    out(f"\nQueue benchmark ({mode} mode, {repeat} runs per URL after one warm-up)")
    out(f"{'url':<{width}}  {'median ms':>9}  {'p95 ms':>8}  {'queries':>7}  "
        f"{'SQL ms':>7}  {'KB':>6}  slowest query (median ms)")
    for r in results:
        flag = " *" if r.first_page and r.median > TARGET_MEDIAN_MS else ""
        out(f"{r.url:<{width}}  {r.median:9.1f}  {r.p95:8.1f}  {r.queries:7d}  "
            f"{statistics.median(r.sql_ms):7.1f}  {r.size / 1024:6.1f}  {r.slowest[0]:.1f}{flag}")
    max_queries = max(r.queries for r in results)
    slow = [r for r in results if r.first_page and r.median > TARGET_MEDIAN_MS]
    out(f"\nTargets: ≤ {TARGET_QUERIES} queries for every URL: "
        f"{'met' if max_queries <= TARGET_QUERIES else 'MISSED'} (max {max_queries}); "
        f"median ≤ {TARGET_MEDIAN_MS} ms on first pages: "
        f"{'met' if not slow else 'MISSED (marked *)'}")
    for r in sorted(results, key=lambda r: -r.slowest[0])[:explain_count]:
        if r.slowest[1]:
            out(f"\nSlowest query of {r.url} ({r.slowest[0]:.1f} ms):\n{r.slowest[1]}")
            out(f"\nEXPLAIN (ANALYZE, BUFFERS):\n{explain(r.slowest[1])}")
    return max_queries <= TARGET_QUERIES and not slow


def run(*, username: str = "agent", repeat: int = 10, explain_count: int = 1,
        mode: str = "auto", out=print) -> bool:
    from django.conf import settings

    if not settings.DEBUG:
        out("(DEBUG is off: times include no debug overhead; query capture still works)")
    out(describe_database())
    results, mode = measure(username=username, repeat=repeat, mode=mode)
    return report(results, mode, repeat, explain_count, out=out)


def test_queue_benchmark(django_db_blocker):
    """pytest entry point: the real database (no test DB); prints the table (use -s)."""
    with django_db_blocker.unblock():
        run(repeat=int(os.environ.get("BENCH_REPEAT", "10")),
            explain_count=int(os.environ.get("BENCH_EXPLAIN", "1")),
            mode=os.environ.get("BENCH_MODE", "auto"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per URL (default 10)")
    parser.add_argument("--user", default="agent", help="who looks at the queue")
    parser.add_argument("--explain", type=int, default=1, metavar="N",
                        help="EXPLAIN ANALYZE the slowest query of the N slowest URLs")
    parser.add_argument("--mode", choices=["auto", "page", "fallback"], default="auto",
                        help="page: GET /incidents/; fallback: only the filter, selector and "
                             "paginator (no view, no template); auto: page when it exists")
    args = parser.parse_args()
    setup_django()
    ok = run(username=args.user, repeat=args.repeat, explain_count=args.explain, mode=args.mode)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
