"""Server time, query count and size of every on-call page and endpoint, and of the incident
page with its paging card, on the current database.

It measures what is loaded. On a database without on-call data (a `seed_scale` database made
before on-call existed) pass `--seed` once to add the demo's rosters, policies and pages
(`itsm.demo.oncall.seed_oncall`, committed). As a script:

    EMBEDDED_PGDATA=/work/bench-pg EMBEDDED_PG_CLEANUP=keep DEBUG=0 SECRET_KEY=bench \\
        SECURE_SSL_REDIRECT=0 .venv/bin/python tests/perf/bench_oncall_pages.py --repeat 10

Each URL is requested once to warm up, then `--repeat` times in-process with the Django test
client, logged in as the demo `agent`.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from itsm.demo.oncall import seed_oncall  # noqa: E402
from itsm.demo.reference import load_cast  # noqa: E402
from itsm.models import User  # noqa: E402
from oncall.models import EscalationPolicy, Page, PageNotice, Schedule  # noqa: E402


def urls() -> list[str]:
    schedule = Schedule.objects.order_by("pk").first()
    policy = EscalationPolicy.objects.order_by("pk").first()
    page = Page.objects.select_related("incident").order_by("-pk").first()
    notice = PageNotice.objects.order_by("-pk").first()
    found = ["/oncall/", f"/oncall/schedules/{schedule.pk}/",
             f"/oncall/schedules/{schedule.pk}/?weeks=4", "/oncall/me/", "/oncall/policies/",
             f"/oncall/dry-run/?policy={policy.pk}&priority=1", "/oncall/matrix/",
             "/oncall/pages/", f"/oncall/schedules/{schedule.pk}/feed/{schedule.feed_token}.ics",
             "/api/v1/schedules/", f"/api/v1/schedules/{schedule.pk}/shifts/",
             "/api/v1/overrides/", "/api/v1/escalation-policies/", "/api/v1/pages/"]
    if page:
        found.append(f"/incidents/{page.incident.number}/")
    if notice:
        found.append(f"/oncall/ack/{notice.ack_token}/")
    return found


def measure(client: Client, url: str, repeat: int) -> tuple[float, int, int, int]:
    client.get(url)
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(queries), len(response.content), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", action="store_true", help="add the demo's on-call data")
    args = parser.parse_args()
    if args.seed:
        with transaction.atomic():
            print("seeded" if seed_oncall(load_cast()) else "on-call data already there")
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(User.objects.get(username="agent"))
    print(f"{'url':<72} {'median ms':>9} {'queries':>7} {'bytes':>8}")
    for url in urls():
        median, queries, size, status = measure(client, url, args.repeat)
        shown = url if len(url) < 70 else url[:67] + "…"
        print(f"{shown:<72} {median:>9.1f} {queries:>7} {size:>8}"
              + ("" if status == 200 else f"  (status {status})"))


if __name__ == "__main__":
    main()
