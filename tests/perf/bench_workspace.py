"""Server time, queries and size of the pages the workspace issue added or changed, other than
the queue and the incident page (`bench_queue.py` has those): the requester portal, the admin
(index, the beat jobs, the routing tester), the profile, the login page and an error page.

    EMBEDDED_PGDATA=/work/bench-pg EMBEDDED_PG_CLEANUP=keep DEBUG=0 SECRET_KEY=bench \\
        .venv/bin/python tests/perf/bench_workspace.py --repeat 20

The portal is measured as the requester with the most incidents (on the scale data a caller
has a few dozen), so "My requests" pages through a real list.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.bench_queue import describe_database, report, setup_django, time_urls  # noqa: E402


def busiest_requester():
    from django.db.models import Count

    from incidents.models import Incident
    from itsm.models import User

    row = (Incident.objects.filter(caller__groups__name="Requester").values("caller")
           .annotate(n=Count("id")).order_by("-n").first())
    return User.objects.get(pk=row["caller"]) if row else User.objects.get(username="requester")


def pages_for(role: str, user) -> list[tuple[str, dict, bool]]:
    from incidents.models import Incident

    if role == "requester":
        mine = Incident.objects.filter(caller=user).order_by("-updated_at")
        number = mine.values_list("number", flat=True).first()
        return [("/requests/", {}, True), ("/requests/?tab=all", {}, True),
                ("/requests/?tab=solved", {}, True), (f"/requests/{number}/", {}, True),
                (f"/requests/{number}/", {"HTTP_HX_REQUEST": "true"}, True),
                ("/requests/new/", {}, True), ("/me/", {}, True)]
    return [("/admin/", {}, True), ("/admin/django_celery_beat/periodictask/", {}, True),
            ("/admin/incidents/routingrule/", {}, True),
            ("/admin/incidents/routingrule/test/", {}, True),
            ("/admin/incidents/routingrule/test/?category=1", {}, True),
            ("/admin/itsm/desksettings/", {}, True), ("/me/", {}, True)]


def run(repeat: int) -> None:
    from django.test import Client

    from itsm.models import User

    print(describe_database())
    for role, user in (("requester", busiest_requester()),
                       ("admin", User.objects.get(username="admin"))):
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        print(f"\n{role}: {user.username}")
        report(time_urls(client, pages_for(role, user), repeat), "page", repeat, 0)
    anonymous = Client(HTTP_HOST="localhost")
    print("\nanonymous")
    report(time_urls(anonymous, [("/login/", {}, True)], repeat), "page", repeat, 0)
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username="agent"))
    results = []
    for url in ("/incidents/INC9999999/", "/no-such-page/"):  # the branded 404
        response = client.get(url)
        assert response.status_code == 404, url
        results.append((url, len(response.content)))
    print("\nbranded 404 pages: " + ", ".join(f"{u} {n / 1024:.1f} KB" for u, n in results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    run(args.repeat)
