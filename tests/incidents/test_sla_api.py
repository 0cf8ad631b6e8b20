"""SLA clocks in the API: on incident responses, as filters, and the configuration behind them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents.sla.services import clocks_sweep
from tests.factories import make_incident

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def p1(agent, team):
    with time_machine.travel(MONDAY_9, tick=False):
        return make_incident(by=agent, assignment_team=team, impact="high", urgency="high")


def test_an_incident_carries_its_clocks(api, agent, p1):
    with time_machine.travel(MONDAY_9 + timedelta(minutes=5), tick=False):
        body = api(agent).get(f"/api/v1/incidents/{p1.number}/").json()
    response, resolution = body["clocks"]
    assert response == {
        "kind": "sla", "target": "response", "stage": "running", "team": None,
        "policy": "P1 default v1", "calendar": "24×7", "target_seconds": 900,
        "started_at": "2026-03-02T09:00:00Z", "due_at": "2026-03-02T09:15:00Z",
        "time_left_seconds": 600, "paused_seconds": 0, "breached_at": None,
        "stopped_at": None, "warnings_sent": 0}
    assert resolution["target"] == "resolution" and resolution["time_left_seconds"] == 14100
    assert body["sla_due_at"] == "2026-03-02T09:15:00Z"


def test_callers_see_no_clocks(api, requester, agent, team):
    incident = make_incident(by=requester)
    assert api(requester).get(f"/api/v1/incidents/{incident.number}/").json()["clocks"] == []


def test_the_list_reads_every_rows_clocks_in_one_query(api, agent, team,
                                                        django_assert_max_num_queries):
    for _ in range(30):
        make_incident(by=agent, assignment_team=team)
    client = api(agent)
    with django_assert_max_num_queries(8):
        rows = client.get("/api/v1/incidents/?limit=30").json()["results"]
    assert all(len(row["clocks"]) == 2 for row in rows)


def test_breached_and_breaching_within_filters(api, agent, team, p1):
    later = make_incident(by=agent, assignment_team=team, title="Printer jam")  # P3, now
    with time_machine.travel(MONDAY_9 + timedelta(minutes=20), tick=False):
        clocks_sweep()
        client = api(agent)
        breached = client.get("/api/v1/incidents/?breached=true").json()["results"]
        assert [row["number"] for row in breached] == [p1.number]
        not_breached = client.get("/api/v1/incidents/?breached=false").json()["results"]
        assert later.number in [row["number"] for row in not_breached]
        soon = client.get("/api/v1/incidents/?breaching_within=240").json()["results"]
        assert [row["number"] for row in soon] == [p1.number]  # its resolution, due 13:00


@pytest.mark.parametrize("query", ["breaching_within=-5", "breaching_within=abc",
                                   "breaching_within=1e999", "breaching_within=NaN",
                                   "breached=maybe"])
def test_bad_sla_filters_are_a_400_naming_the_field(api, agent, query):
    response = api(agent).get(f"/api/v1/incidents/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["field_errors"]


def test_agents_read_calendars_and_policies(api, agent):
    client = api(agent)
    calendars = client.get("/api/v1/calendars/").json()["results"]
    office = next(c for c in calendars if c["name"] == "Office hours")
    assert office["intervals"][0] == {"weekday": 0, "start": "08:30", "end": "12:30"}
    policies = client.get("/api/v1/sla-policies/?kind=sla").json()["results"]
    assert [p["name"] for p in policies] == ["P1 default", "P2 default", "P3 default",
                                             "P4 default"]
    assert policies[0]["response_minutes"] == 15
    assert client.get("/api/v1/sla-policies/?team=abc").status_code == 400


def test_requesters_may_not_read_the_sla_configuration(api, requester):
    client = api(requester)
    assert client.get("/api/v1/calendars/").status_code == 403
    assert client.get("/api/v1/sla-policies/").status_code == 403


@pytest.mark.parametrize("url, status", [
    ("/api/v1/calendars/99999999999999999999999/", 404), ("/api/v1/calendars/1.5/", 404),
    ("/api/v1/sla-policies/99999999999999999999999/", 404),
    ("/api/v1/sla-policies/?team=1.5", 400), ("/api/v1/sla-policies/?kind=bogus", 400),
    ("/api/v1/sla-policies/?priority=9", 400),
    ("/api/v1/incidents/?breaching_within=1180591620717411303424", 400),
])
def test_odd_input_on_the_sla_endpoints_is_a_clear_4xx(api, agent, url, status):
    assert api(agent).get(url).status_code == status


def test_the_explain_panel_is_for_agents_only(as_user, agent, requester, stranger):
    incident = make_incident(by=requester)
    for user in (requester, stranger):
        assert as_user(user).get(f"/incidents/{incident.number}/sla/").status_code == 404
    client = as_user(agent)
    assert client.get("/incidents/INC9999999/sla/").status_code == 404
    assert client.post(f"/incidents/{incident.number}/sla/").status_code == 405
    assert "P3 default v1" in client.get(f"/incidents/{incident.number}/sla/").text
