"""The managers' SLA dashboard: its figures on a hand-computed desk, who may see it, what bad
input answers, its CSV export and its constant number of queries.

The desk (`desk` fixture), UTC, "now" Wednesday 11 March 2026 12:00. P1: 15 min / 4 h, P2:
30 min / 8 h on 24×7; an OLA for `team`: 15 min / 2 h on 24×7.

    inc prio team  opened           what happened                    SLA response  resolution
    h   P1   team  Fri 27 Feb 10:00 ack 10:05, resolved 11:00        met           met (before)
    a   P1   team  Mon  2 Mar 09:00 ack 09:05, resolved 10:00        met 09:05     met 10:00
    b   P1   team  Tue  3 Mar 09:00 ack 09:30, resolved 14:00        br. 09:15     br. 13:00
    f   P1   team  Mon  9 Mar 09:00 canceled 09:05                   canceled      canceled
    c   P2   team  Mon  9 Mar 10:00 ack 10:10, hold 11–12, res. 15   met 10:10     met 15:00
    g   P3→1 team  Mon  9 Mar 13:00 P1 at 13:10, ack 13:12, open     met 13:12     br. 17:00
    d   P1   other Tue 10 Mar 08:00 never acknowledged, open         br. 08:15     br. 12:00
    e   P2   team  Wed 11 Mar 11:45 new, open                        due 12:15     running

Period 2–11 March: response 3 met (a c g) / 2 breached (b d) = 60 %; resolution 2 met (a c) /
3 breached (b d g) = 40 %. OLA of team: response a c g met, b (due 09:15) and e (due 12:00)
breached = 60 %; resolution a met, b (11:00), c (12:00 + 1 h on hold = 13:00) and g (15:00)
breached = 25 %. MTTA P1 (5 + 30 + 12) / 3 = 15 min 40 s, P2 10 min; MTTR P1 (1 + 5) / 2 =
3 h, P2 5 h. Breached and open: g, d (P1, oldest first); at risk: e.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from incidents.choices import ClockStage, SlaKind
from incidents.models import Incident, SlaClock, SlaPolicy
from incidents.sla import dashboard
from incidents.sla.policies import policy_save
from incidents.sla.services import clocks_sweep
from incidents.sla.views import _cell
from itsm.calendars import ALWAYS_OPEN
from itsm.choices import Role
from itsm.models import BusinessCalendar
from tests.factories import ServiceFactory, UserFactory, make_incident

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
URL = "/dashboard/sla/"
CSV_URL = "/dashboard/sla/export.csv"
PERIOD = "from=2026-03-02&to=2026-03-11"


def t(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ola(db, team):
    calendar = BusinessCalendar.objects.get(name=ALWAYS_OPEN)
    return policy_save(SlaPolicy(name="Desk OLA", kind=SlaKind.OLA, team=team,
                                 response_minutes=15, response_calendar=calendar,
                                 resolution_minutes=120, resolution_calendar=calendar),
                       at=datetime(2026, 1, 1, tzinfo=UTC))


def _p1(agent, team, **fields):
    return make_incident(by=agent, impact="high", urgency="high", assignment_team=team, **fields)


@pytest.fixture
def desk(travel, ola, agent, team, other_team):
    """The incidents of the module docstring, walked through the services at their instants."""
    mail = ServiceFactory(name="=HYPERLINK(\"http://evil\")")  # a formula, for the CSV
    at = travel.move_to
    made = {}

    def ack(name, when):
        at(when)
        made[name] = services.incident_acknowledge(incident=made[name], by=agent)

    def resolve(name, when):
        at(when)
        made[name] = services.incident_resolve(incident=made[name], by=agent, code="fixed",
                                               notes="Done.")

    at(t(27, 10, month=2))
    made["h"] = _p1(agent, team, title="h")
    ack("h", t(27, 10, 5, month=2))
    resolve("h", t(27, 11, month=2))
    at(t(2, 9))
    made["a"] = _p1(agent, team, title="a", service=mail)
    ack("a", t(2, 9, 5))
    resolve("a", t(2, 10))
    at(t(3, 9))
    made["b"] = _p1(agent, team, title="b")
    ack("b", t(3, 9, 30))
    resolve("b", t(3, 14))
    at(t(9, 9))
    made["f"] = _p1(agent, team, title="f")
    at(t(9, 9, 5))
    services.incident_cancel(incident=made["f"], by=agent, reason="Logged twice.")
    at(t(9, 10))
    made["c"] = make_incident(by=agent, impact="high", urgency="medium", assignment_team=team,
                              title="c")
    ack("c", t(9, 10, 10))
    at(t(9, 11))
    made["c"] = services.incident_hold(incident=made["c"], by=agent, reason="awaiting_vendor")
    at(t(9, 12))
    made["c"] = services.incident_resume(incident=made["c"], by=agent)
    at(t(9, 13))
    made["g"] = make_incident(by=agent, assignment_team=team, title="g")  # P3
    at(t(9, 13, 10))
    made["g"] = services.incident_update(incident=made["g"], by=agent, impact="high",
                                         urgency="high")
    ack("g", t(9, 13, 12))
    resolve("c", t(9, 15))
    at(t(10, 8))
    made["d"] = _p1(agent, other_team, title="d")
    at(t(10, 8, 20))
    clocks_sweep()  # d's response (due 08:15) and g's resolution (due 9 Mar 17:00) breach
    at(t(11, 11, 45))
    made["e"] = make_incident(by=agent, impact="high", urgency="medium", assignment_team=team,
                              title="e")
    at(NOW)
    clocks_sweep()  # d's resolution (due 10 Mar 12:00) and e's OLA response (due 12:00)
    return {name: Incident.objects.get(pk=incident.pk) for name, incident in made.items()}


def _get(client, query=""):
    return client.get(f"{URL}?{query}" if query else URL)


# --- the figures -----------------------------------------------------------------------------

def test_the_data_set_is_what_the_docstring_says(desk):
    assert desk["g"].priority == 1 and desk["c"].priority == 2 and desk["e"].priority == 2
    b_response = SlaClock.objects.get(incident=desk["b"], kind="sla", target="response")
    assert (b_response.stage, b_response.breached_at, b_response.stopped_at) == (
        ClockStage.BREACHED, t(3, 9, 15), t(3, 9, 30))
    # The P3 SLA clocks were replaced; the OLA (any priority) was not.
    assert SlaClock.objects.filter(incident=desk["g"], stage=ClockStage.CANCELED).count() == 2
    assert desk["d"].sla_breached_at == t(10, 8, 15)
    assert desk["e"].sla_due_at == t(11, 12, 15) and desk["e"].sla_breached_at is None


def test_compliance_counts_clocks_decided_in_the_period(desk, as_user, manager):
    response = _get(as_user(manager), PERIOD)
    assert response.status_code == 200
    clocks = response.context["figures"].clocks
    assert clocks.response == dashboard.Compliance(met=3, breached=2)
    assert clocks.resolution == dashboard.Compliance(met=2, breached=3)
    assert (clocks.response.label, clocks.resolution.label) == ("60 %", "40 %")
    html = response.content.decode()
    assert "3 met · 2 breached" in html and "2 met · 3 breached" in html


def test_ola_compliance_is_per_team_of_the_clock(desk, as_user, manager):
    response = _get(as_user(manager), PERIOD)
    assert response.context["ola"] == [("Service Desk", dashboard.Compliance(3, 2),
                                        dashboard.Compliance(1, 3))]
    assert "25 %" in response.content.decode()


def test_weekly_buckets_start_on_monday_and_cover_at_least_eight_weeks(desk, as_user, manager):
    weeks = _get(as_user(manager), PERIOD).context["figures"].clocks.weeks
    assert [w.start for w in weeks] == [date(2026, 1, 19) + timedelta(weeks=i) for i in range(8)]
    by_start = {w.start: w for w in weeks}
    feb23, mar2, mar9 = by_start[date(2026, 2, 23)], by_start[date(2026, 3, 2)], by_start[
        date(2026, 3, 9)]
    assert (feb23.response, feb23.resolution) == (dashboard.Compliance(1, 0),
                                                  dashboard.Compliance(1, 0))
    assert (mar2.response, mar2.resolution) == (dashboard.Compliance(1, 1),
                                                dashboard.Compliance(1, 1))
    assert (mar9.response, mar9.resolution) == (dashboard.Compliance(2, 1),
                                                dashboard.Compliance(1, 2))
    assert [w.current for w in weeks] == [False] * 7 + [True]
    assert all(w.response.decided == 0 for w in weeks[:5])


def test_the_period_excludes_what_was_decided_before_it(desk, as_user, manager):
    clocks = _get(as_user(manager), "from=2026-02-23&to=2026-03-01").context["figures"].clocks
    assert (clocks.response, clocks.resolution) == (dashboard.Compliance(1, 0),
                                                    dashboard.Compliance(1, 0))


def test_mtta_and_mttr_per_priority(desk, as_user, manager):
    figures = _get(as_user(manager), PERIOD).context["figures"]
    p1, p2 = figures.times[0], figures.times[1]
    assert p1.acknowledge == dashboard.Times(3, timedelta(minutes=15, seconds=40),
                                             timedelta(minutes=12))
    assert p1.resolve == dashboard.Times(2, timedelta(hours=3), timedelta(hours=3))
    assert p2.acknowledge == dashboard.Times(1, timedelta(minutes=10), timedelta(minutes=10))
    assert p2.resolve == dashboard.Times(1, timedelta(hours=5), timedelta(hours=5))
    assert figures.times[2].acknowledge == dashboard.Times()  # no P3 acknowledged
    assert figures.mtta == dashboard.Times(4, timedelta(minutes=14, seconds=15))
    assert figures.mttr == dashboard.Times(3, timedelta(hours=3, minutes=40))
    assert (figures.mtta.mean_label, figures.mttr.mean_label) == ("14 min", "3 h 40 min")
    assert p1.acknowledge.mean_label == "16 min" and p1.resolve.median_label == "3 h"


def test_breached_and_at_risk_lists_are_now_and_ordered_by_priority_then_age(
        desk, as_user, manager):
    response = _get(as_user(manager), "period=this_week")
    figures = response.context["figures"]
    assert [i.number for i in figures.breached.rows] == [desk["g"].number, desk["d"].number]
    assert figures.breached.count == 2
    assert [i.number for i in figures.at_risk.rows] == [desk["e"].number]
    html = response.content.decode()
    for name in "gde":
        assert f'href="/incidents/{desk[name].number}/"' in html
    # "Now" does not depend on the period.
    old = _get(as_user(manager), "from=2025-01-01&to=2025-01-31").context["figures"]
    assert old.breached.count == 2 and old.at_risk.count == 1


def test_filters_narrow_every_figure(desk, as_user, manager, team, other_team):
    client = as_user(manager)
    mine = _get(client, f"{PERIOD}&team={team.pk}").context["figures"]
    assert mine.clocks.response == dashboard.Compliance(3, 1)  # without d
    assert [i.number for i in mine.breached.rows] == [desk["g"].number]
    theirs = _get(client, f"{PERIOD}&team={other_team.pk}").context
    assert theirs["figures"].clocks.response == dashboard.Compliance(0, 1)
    assert theirs["ola"] == []  # their team has no OLA; team's OLA clocks are not theirs
    p2 = _get(client, f"{PERIOD}&priority=2").context["figures"]
    assert p2.clocks.resolution == dashboard.Compliance(1, 0)
    assert [row.priority for row in p2.times] == [2]
    assert [i.number for i in p2.at_risk.rows] == [desk["e"].number] and not p2.breached.rows
    service = desk["a"].service
    by_service = _get(client, f"{PERIOD}&service={service.pk}").context["figures"]
    assert by_service.clocks.response == dashboard.Compliance(1, 0)
    assert by_service.breached.count == 0


def test_weeks_follow_the_viewers_time_zone(travel, agent, team):
    # Sunday 20:05 UTC is Monday 09:05 in Auckland (UTC+13 in March).
    travel.move_to(t(8, 20))
    incident = _p1(agent, team)
    travel.move_to(t(8, 20, 5))
    services.incident_acknowledge(incident=incident, by=agent)
    travel.move_to(NOW)
    for zone, monday in ((UTC, date(2026, 3, 2)), (ZoneInfo("Pacific/Auckland"),
                                                   date(2026, 3, 9))):
        period = dashboard.period_preset("last_28", now=NOW, zone=zone)
        figures = dashboard.clock_figures(dashboard.Filters(period=period, zone=zone), now=NOW)
        week = next(w for w in figures.weeks if w.response.decided)
        assert week.start == monday


def test_presets_count_local_days(travel):
    zone = ZoneInfo("Europe/Paris")
    week = dashboard.period_preset("this_week", now=NOW, zone=zone)
    assert week.start == datetime(2026, 3, 9, tzinfo=zone) and week.end == NOW
    assert dashboard.period_preset("last_7", now=NOW, zone=zone).first == date(2026, 3, 5)
    assert dashboard.period_preset("last_28", now=NOW, zone=zone).days == 28
    assert dashboard.period_preset("this_year", now=NOW, zone=zone).first == date(2026, 1, 1)
    custom = dashboard.period_custom(date(2026, 3, 1), date(2026, 3, 31), zone=zone)
    # DST starts on 29 March in Paris: the end is midnight CEST, 22:00 UTC.
    assert custom.end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)


def test_the_page_shows_the_figures_and_the_definitions(desk, as_user, manager):
    html = _get(as_user(manager), PERIOD).content.decode()
    assert "How these are counted" in html
    assert "2 Mar – 11 Mar 2026" in html
    assert "<svg" in html and "This week" in html
    assert "Week of 9 Mar 2026: resolution 33.3 % (1 met, 2 breached)" in html
    assert "target 95 %" in html


def test_the_chart_needs_nothing_the_content_security_policy_refuses(desk, as_user, manager):
    response = _get(as_user(manager), PERIOD)
    html = response.content.decode()
    assert " style=" not in html and "<script>" not in html
    svg = html[html.index('<svg class="desk-chart'):]
    svg = svg[:svg.index("</svg>")]
    assert "http://www.w3.org/2000/svg" in svg and "href" not in svg
    assert "Content-Security-Policy" in response.headers


def test_nothing_decided_shows_a_dash(travel, as_user, manager):
    response = _get(as_user(manager))
    assert response.status_code == 200
    clocks = response.context["figures"].clocks
    assert clocks.response.label == "—" and clocks.resolution.label == "—"
    assert response.context["figures"].mtta.mean_label == "—"


# --- who may see it --------------------------------------------------------------------------

@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", [URL, CSV_URL])
@pytest.mark.parametrize("who", ["requester", "agent"])
def test_requesters_and_agents_are_refused(request, as_user, url, who):
    assert as_user(request.getfixturevalue(who)).get(url).status_code == 403


@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_managers_and_admins_may_see_it(db, as_user, manager, url):
    admin = UserFactory(username="root", role=Role.ADMIN, is_staff=True)
    superuser = UserFactory(username="super", is_superuser=True)
    for user in (manager, admin, superuser):
        assert as_user(user).get(url).status_code == 200


def test_the_nav_links_the_dashboard_for_managers_only(as_user, manager, agent):
    assert 'href="/dashboard/sla/"' in as_user(manager).get("/incidents/").content.decode()
    assert 'href="/dashboard/sla/"' not in as_user(agent).get("/incidents/").content.decode()


# --- bad input -------------------------------------------------------------------------------

BAD = [
    ("from=2026-03-10&to=2026-03-01", "before it starts"),
    ("from=2026-13-45&to=2026-03-01", "Enter a date as YYYY-MM-DD"),
    ("period=custom&to=2026-03-01", "Give the first day"),
    ("team=abc", "There is no team abc"),
    ("team=999999", "There is no team 999999"),
    ("service=1.5", "There is no service 1.5"),
    ("priority=9", "Priority must be 1, 2, 3 or 4, not 9"),
    ("period=forever", "Select a valid choice"),
    ("from=2016-01-01&to=2026-01-01", "at most 366 days; this one spans 3,654"),
    ("from=0001-01-01&to=9999-12-31", "Choose a day from 2000 to 2100"),
    ("from=2026-03-01&to=9999-12-31", "Choose a day from 2000 to 2100"),
]


@pytest.mark.parametrize(("query", "message"), BAD)
def test_bad_input_is_a_400_with_the_error_on_the_page(as_user, manager, query, message):
    response = _get(as_user(manager), query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "figures" not in response.context


@pytest.mark.parametrize(("query", "message"), BAD)
def test_bad_input_is_a_plain_400_for_the_export(as_user, manager, query, message):
    response = as_user(manager).get(f"{CSV_URL}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert message in response.content.decode()


@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_a_nul_byte_is_a_400(as_user, manager, url):
    assert as_user(manager).get(f"{url}?team=1%00").status_code == 400


def test_markup_in_the_input_comes_back_escaped(as_user, manager):
    response = _get(as_user(manager), "team=<script>alert(1)</script>")
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.content.decode()


def test_a_year_is_the_longest_period(travel, as_user, manager):
    assert _get(as_user(manager), "from=2025-03-12&to=2026-03-12").status_code == 200
    assert _get(as_user(manager), "from=2025-03-11&to=2026-03-12").status_code == 400


# --- CSV -------------------------------------------------------------------------------------

def _csv(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_has_one_row_per_clock_decided_in_the_period(desk, as_user, manager):
    response = as_user(manager).get(f"{CSV_URL}?{PERIOD}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="sla-clocks-2026-03-02-to-2026-03-11.csv"')
    header, *rows = _csv(response)
    assert header == list(dashboard.EXPORT_COLUMNS)
    numbers = {desk[name].number: name for name in desk}
    decided = sorted((numbers[r[0]], r[4], r[5], r[6]) for r in rows)
    assert decided == sorted([
        ("a", "sla", "response", "met"), ("a", "sla", "resolution", "met"),
        ("a", "ola", "response", "met"), ("a", "ola", "resolution", "met"),
        ("b", "sla", "response", "breached"), ("b", "sla", "resolution", "breached"),
        ("b", "ola", "response", "breached"), ("b", "ola", "resolution", "breached"),
        ("c", "sla", "response", "met"), ("c", "sla", "resolution", "met"),
        ("c", "ola", "response", "met"), ("c", "ola", "resolution", "breached"),
        ("d", "sla", "response", "breached"), ("d", "sla", "resolution", "breached"),
        ("e", "ola", "response", "breached"),
        ("g", "sla", "response", "met"), ("g", "sla", "resolution", "breached"),
        ("g", "ola", "response", "met"), ("g", "ola", "resolution", "breached"),
    ])
    decided_at = [r[9] if r[6] == "met" else r[10] for r in rows]
    assert decided_at == sorted(decided_at)  # in the order they were decided
    b = next(r for r in rows if r[0] == desk["b"].number and r[4:6] == ["sla", "response"])
    assert b == [desk["b"].number, "1", "Service Desk", "", "sla", "response", "breached",
                 "2026-03-03T09:00:00Z", "2026-03-03T09:15:00Z", "2026-03-03T09:30:00Z",
                 "2026-03-03T09:15:00Z", "P1 default", "1"]
    d = next(r for r in rows if r[0] == desk["d"].number and r[5] == "resolution")
    assert d[2] == "Database" and d[9] == "" and d[10] == "2026-03-10T12:00:00Z"


def test_the_export_keeps_the_filters_and_defuses_formulas(desk, as_user, manager, team):
    client = as_user(manager)
    rows = _csv(client.get(f"{CSV_URL}?{PERIOD}&priority=1&team={team.pk}"))[1:]
    assert {r[0] for r in rows} == {desk[name].number for name in "abg"}
    a = next(r for r in rows if r[0] == desk["a"].number)
    assert a[3] == "'=HYPERLINK(\"http://evil\")"
    page = client.get(f"{URL}?{PERIOD}&priority=1&team={team.pk}").content.decode()
    assert f'href="{CSV_URL}?from=2026-03-02&amp;to=2026-03-11&amp;priority=1&amp;team={team.pk}"' \
        in page


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("Mail", "Mail"), (3, 3), (None, ""),
    (datetime(2026, 3, 1, 13, 0, tzinfo=ZoneInfo("Europe/Paris")), "2026-03-01T12:00:00Z"),
])
def test_csv_cells_are_utc_and_never_formulas(value, cell):
    assert _cell(value) == cell


# --- speed -----------------------------------------------------------------------------------

def _queries(client, query) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert _get(client, query).status_code == 200
    return len(ctx.captured_queries)


def _desk_of(count, agent, team):
    states = ["new", "in_progress", "on_hold", "resolved", "closed", "canceled"]
    for i in range(count):
        make_incident(by=agent, assignment_team=team, state=states[i % len(states)],
                      impact="high", urgency="high" if i % 2 else "medium")


def test_the_query_count_depends_neither_on_the_period_nor_on_the_rows(
        travel, as_user, manager, agent, team):
    client = as_user(manager)
    travel.move_to(NOW - timedelta(days=3))
    _desk_of(5, agent, team)
    travel.move_to(NOW)
    clocks_sweep()
    week = _queries(client, "period=last_7")
    year = _queries(client, "from=2025-03-12&to=2026-03-11")
    filtered = _queries(client, f"from=2025-03-12&to=2026-03-11&team={team.pk}&priority=1")
    travel.move_to(NOW - timedelta(days=2))
    _desk_of(45, agent, team)
    travel.move_to(NOW)
    clocks_sweep()
    assert week == year == filtered == _queries(client, "period=last_7") == _queries(
        client, "from=2025-03-12&to=2026-03-11")
    assert week <= 16
