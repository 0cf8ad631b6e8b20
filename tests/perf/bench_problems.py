"""Suggestions, and the problem and knowledge pages, on the current (large) database.

Prints the median time and query count of `problems.search.suggest` for typed descriptions,
then the median server time, query count and size of every problem, known-error and article
page and endpoint. `--seed N` first adds N published known errors and N articles (plus 500
problems with linked incidents) made of the demo's vocabulary, committed, so that a
`seed_scale` database has a knowledge base to search. As a script:

    EMBEDDED_PGDATA=/work/bench-pg EMBEDDED_PG_CLEANUP=keep DEBUG=0 SECRET_KEY=bench \\
        SECURE_SSL_REDIRECT=0 .venv/bin/python tests/perf/bench_problems.py --seed 5000

Each measurement runs once to warm up, then `--repeat` times in-process.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from incidents.models import Incident  # noqa: E402
from itsm import clock  # noqa: E402
from itsm.models import User  # noqa: E402
from problems import search  # noqa: E402
from problems.models import Article, KnownError, Problem, ProblemLink  # noqa: E402

TYPED = [
    ("VPN keeps disconnecting", "The tunnel drops every few minutes since the client update"),
    ("Outlook cannot send mail", "Large attachments bounce back with a size error"),
    ("Account locked every morning", "After the password change the account locks at 8:00"),
    ("Printer on floor 3 not printing", "Jobs stay in the queue"),
    ("SAP slow", ""),
    ("cannot log in", "MFA prompt never arrives on the new phone"),
]
VOCABULARY = """vpn tunnel client update outlook mail attachment size bounce account password lock
mfa token phone printer queue spooler floor sap report timeout database replication disk full
backup job wifi guest network switch port dhcp lease dns certificate expired teams meeting audio
camera laptop docking station monitor keyboard badge door sharepoint permission folder onedrive
sync conflict browser cache proxy firewall rule server slow error login crash freeze install
license driver screen battery reboot restart service agent portal page blank missing access
denied share drive mapped group policy profile roaming signature calendar invite room booking
excel macro word template pdf scanner email spam phishing quarantine antivirus patch windows
linux mac ios android mobile app sso saml ldap directory sync user disabled expired contract
invoice payroll hr ticket erp crm warehouse scanner label shipping api gateway latency packet
loss bandwidth router vlan ip address conflict ntp time skew kerberos ticket cluster node pod
container kubernetes deploy pipeline build artifact storage quota bucket snapshot restore
replica failover load balancer health check alert cpu memory leak high usage"""
COMMON = VOCABULARY.split()
# A long tail of rare words (hosts, products, error codes), as real knowledge bases have.
RARE = ([f"srv{n:03d}" for n in range(400)] + [f"app{n}" for n in range(300)]
        + [f"0x{n:04x}" for n in range(300)] + [f"site{n}" for n in range(100)])
STOP_WORDS = "the a to is when it does not after then and of on for with from this that can"
FILLER = STOP_WORDS.split()


def _text(rng: Random, n: int, topic: list[str]) -> str:
    """n words about the record's topic: its topic words, filler (stop words the search
    drops) and now and then a rare word, as a knowledge record reads."""
    pool = topic * 3 + FILLER * 2 + [rng.choice(RARE)]
    return " ".join(rng.choice(pool) for _ in range(n))


def _record(rng: Random) -> dict:
    topic = rng.sample(COMMON, 3)
    return {"title": _text(rng, 6, topic).capitalize(), "symptoms": _text(rng, 25, topic),
            "topic": topic}


def seed(count: int) -> None:
    rng = Random(10)
    author = User.objects.get(username="agent")
    now = clock.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (KnownError, Article, Problem):  # the bench's own knowledge base
            model.objects.all().delete()
        cursor.execute("SELECT nextval('known_error_number_seq') FROM generate_series(1, %s)",
                       [count])
        numbers = [f"KE{v:07d}" for (v,) in cursor.fetchall()]
        records = [_record(rng) for _ in numbers]
        KnownError.objects.bulk_create(
            KnownError(number=n, title=r["title"], symptoms=r["symptoms"],
                       root_cause=_text(rng, 12, r["topic"]),
                       workaround=_text(rng, 30, r["topic"]), status="published",
                       created_by=author, created_at=now, updated_at=now)
            for n, r in zip(numbers, records, strict=True))
        cursor.execute("SELECT nextval('article_number_seq') FROM generate_series(1, %s)",
                       [count])
        numbers = [f"KB{v:07d}" for (v,) in cursor.fetchall()]
        records = [_record(rng) for _ in numbers]
        Article.objects.bulk_create(
            Article(number=n, title=r["title"], symptoms=r["symptoms"],
                    body="\n\n".join(_text(rng, 40, r["topic"]) for _ in range(5)),
                    steps=_text(rng, 20, r["topic"]), status="published", created_by=author,
                    created_at=now, updated_at=now)
            for n, r in zip(numbers, records, strict=True))
        cursor.execute("SELECT nextval('problem_number_seq') FROM generate_series(1, 500)")
        problems = Problem.objects.bulk_create(
            Problem(number=f"PRB{v:07d}", title=_record(rng)["title"], created_by=author,
                    opened_at=now, updated_at=now) for (v,) in cursor.fetchall())
        linked = Incident.objects.filter(problem_link__isnull=True).order_by("-id") \
            .values_list("id", flat=True)[:5000]
        ProblemLink.objects.bulk_create(
            ProblemLink(problem=problems[i % len(problems)], incident_id=pk, linked_by=author,
                        linked_at=now) for i, pk in enumerate(linked))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE problems_knownerror; ANALYZE problems_article; "
                       "ANALYZE problems_problem; ANALYZE problems_problemlink")
    print(f"seeded {count:,} known errors, {count:,} articles, 500 problems")


def timed(function, repeat: int) -> tuple[float, int]:
    function()
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            function()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if args.seed:
        seed(args.seed)
    print(f"{Incident.objects.count():,} incidents, {KnownError.objects.count():,} known "
          f"errors, {Article.objects.count():,} articles, {Problem.objects.count():,} problems")
    print(f"\n{'suggestions for':<60} {'median ms':>9} {'queries':>7}")
    medians = []
    for title, text in TYPED:
        ms, queries = timed(lambda t=title, d=text: search.suggest(title=t, text=d), args.repeat)
        medians.append(ms)
        print(f"{(title + ' / ' + text)[:60]:<60} {ms:>9.1f} {queries:>7}")
    print(f"{'median of all':<60} {statistics.median(medians):>9.1f}")

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(User.objects.filter(groups__name="Problem Manager").first()
                       or User.objects.get(username="admin"))
    problem = Problem.objects.order_by("-pk").first()
    known_error = KnownError.objects.order_by("-pk").first()
    article = Article.objects.order_by("-pk").first()
    incident = Incident.objects.filter(state="in_progress").order_by("-pk").first()
    urls = ["/problems/", "/problems/?view=all&page=3", "/problems/?q=vpn",
            "/problems/?view=suggested",
            f"/problems/{problem.number}/", "/problems/new/",
            f"/problems/suggest/?incident={incident.number}",
            "/problems/suggest/?title=VPN+keeps+disconnecting",
            "/known-errors/", "/known-errors/?q=vpn+tunnel", "/known-errors/?page=20",
            f"/known-errors/{known_error.number}/", "/articles/", "/articles/?q=printer",
            f"/articles/{article.number}/", f"/incidents/{incident.number}/", "/incidents/new/",
            "/api/v1/problems/", f"/api/v1/problems/{problem.number}/", "/api/v1/known-errors/",
            "/api/v1/articles/", "/api/v1/suggestions/?title=vpn+drops"]
    print(f"\n{'url':<60} {'median ms':>9} {'queries':>7} {'bytes':>8} status")
    for url in urls:
        responses: list = []
        ms, queries = timed(lambda u=url, r=responses: r.append(client.get(u)), args.repeat)
        response = responses[-1]
        print(f"{url[:60]:<60} {ms:>9.1f} {queries:>7} {len(response.content):>8} "
              f"{response.status_code}")


if __name__ == "__main__":
    main()
