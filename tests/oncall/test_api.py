"""The on-call REST API: schedules and who is on call, shifts, overrides, escalation policies
and pages, tried by every member of the cast."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.models import User
from oncall import services
from oncall.choices import PageState, TargetKind, TurnKind
from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    Override,
    Page,
    Restriction,
    Schedule,
)
from tests.factories import AgentFactory, ServiceFactory, TeamFactory, make_incident

BERLIN = ZoneInfo("Europe/Berlin")
WEEK_1 = datetime(2026, 12, 1, 12, 0, tzinfo=BERLIN)  # agent's turn (from Mon 30 Nov 09:00)
WEEK_2 = datetime(2026, 12, 8, 12, 0, tzinfo=BERLIN)  # other_agent's turn
BEFORE = datetime(2026, 11, 29, 12, 0, tzinfo=BERLIN)  # before the first hand-off
HUGE = str(2**70)

SCHEDULES = "/api/v1/schedules/"
OVERRIDES = "/api/v1/overrides/"
POLICIES = "/api/v1/escalation-policies/"
PAGES = "/api/v1/pages/"


def frozen(at):
    return time_machine.travel(at, tick=False)


@pytest.fixture(autouse=True)
def in_the_first_week():
    """The dates below are fixed: every test runs on Tuesday of the roster's first week."""
    with frozen(WEEK_1):
        yield


def error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"message", "field_errors"} and body["message"]
    return body


def fresh(user) -> User:
    """The user without their cached permissions, so each request counts its own queries."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def outsider(db):
    """An agent of a team that has nothing to do with the roster."""
    user = AgentFactory(username="olga", first_name="Olga", last_name="Outsider")
    TeamFactory(name="Network", members=[user])
    return user


# --- schedules -------------------------------------------------------------------------------

def test_an_agent_lists_schedules_with_layers_and_who_is_on_call(api, agent, other_agent,
                                                                 team, roster):
    agent.phone = "+49 30 1234"
    agent.save()
    layer = roster.layers.get()
    Restriction.objects.create(layer=layer, weekday=None, start_minute=0, end_minute=1440)
    with frozen(WEEK_1):
        response = api(agent).get(SCHEDULES)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [{
        "id": roster.pk, "name": "Service desk on call",
        "team": {"id": team.pk, "name": "Service Desk"},
        "time_zone": "Europe/Berlin", "description": "",
        "layers": [{
            "id": layer.pk, "name": "Primary", "level": 1, "turn": "weekly", "length": 1,
            "starts_at": "2026-11-30T08:00:00Z", "ends_at": None,
            "participants": [{"id": agent.pk, "name": "Alice Agent"},
                             {"id": other_agent.pk, "name": "Oscar Other"}],
            "restrictions": [{"weekday": None, "start": "00:00", "end": "24:00"}],
        }],
        "on_call_now": {
            "user": {"id": agent.pk, "name": "Alice Agent", "phone": "+49 30 1234",
                     "email": agent.email},
            "start": "2026-11-30T08:00:00Z", "end": "2026-12-07T08:00:00Z",
            "why": body["results"][0]["on_call_now"]["why"],
        },
    }]
    assert "turn 1" in body["results"][0]["on_call_now"]["why"]
    assert "feed_token" not in response.text and roster.feed_token not in response.text


def test_the_second_week_is_the_second_participants(api, agent, other_agent, roster):
    with frozen(WEEK_2):
        body = api(agent).get(f"{SCHEDULES}{roster.pk}/").json()
    assert body["on_call_now"]["user"]["id"] == other_agent.pk
    assert (body["on_call_now"]["start"], body["on_call_now"]["end"]) == (
        "2026-12-07T08:00:00Z", "2026-12-14T08:00:00Z")
    assert roster.feed_token not in str(body)


def test_nobody_is_on_call_before_the_first_hand_off(api, agent, roster):
    with frozen(BEFORE):
        body = api(agent).get(f"{SCHEDULES}{roster.pk}/").json()
    assert body["on_call_now"] is None


def test_an_override_is_who_is_on_call_now(api, agent, other_agent, roster):
    with frozen(WEEK_1):
        services.override_create(schedule=roster, user=other_agent, by=agent, note="Dentist",
                                 starts_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
                                 ends_at=datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
        now = api(agent).get(f"{SCHEDULES}{roster.pk}/").json()["on_call_now"]
    assert now["user"]["id"] == other_agent.pk
    assert (now["start"], now["end"]) == ("2026-12-01T10:00:00Z", "2026-12-01T14:00:00Z")
    assert "Dentist" in now["why"]


@pytest.mark.parametrize("path", ["999999/", f"{HUGE}/", "abc/", "1.5/", "999999/shifts/",
                                  f"{HUGE}/shifts/"])
def test_an_unknown_schedule_is_a_json_404(api, agent, roster, path):
    error(api(agent).get(f"{SCHEDULES}{path}"), 404)


def test_schedules_filter_by_team(api, agent, roster, other_team):
    Schedule.objects.create(name="Database on call", team=other_team)
    client = api(agent)
    rows = client.get(SCHEDULES, {"team": other_team.pk}).json()["results"]
    assert [row["name"] for row in rows] == ["Database on call"]
    assert "team" in error(client.get(SCHEDULES, {"team": HUGE}), 400)["field_errors"]


def _schedules(count: int, team, people) -> None:
    """`count` schedules, each with two layers, members, a restriction and an override."""
    start = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    for n in range(count):
        schedule = Schedule.objects.create(name=f"{team} roster {n}", team=team,
                                           time_zone="Europe/Berlin")
        for level in (1, 2):
            layer = Layer.objects.create(schedule=schedule, name=f"L{level}", level=level,
                                         turn=TurnKind.DAILY, starts_at=start)
            for position, user in enumerate(people):
                LayerMember.objects.create(layer=layer, user=user, position=position)
        Restriction.objects.create(layer=layer, weekday=1, start_minute=540, end_minute=1020)
        Override.objects.create(schedule=schedule, user=people[n % len(people)],
                                starts_at=start, ends_at=start + timedelta(days=3))


def _queries(client, path: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries), response.json()


def test_the_schedule_list_runs_the_same_queries_for_one_or_five(
        api, agent, other_agent, team, django_assert_max_num_queries):
    people = [agent, other_agent, AgentFactory(username="zoe")]
    _schedules(1, team, people)
    with frozen(WEEK_1):
        one, body = _queries(api(fresh(agent)), SCHEDULES)
        assert len(body["results"]) == 1
        _schedules(5, TeamFactory(name="Other"), people[::-1])
        client = api(fresh(agent))
        with django_assert_max_num_queries(9):
            five, body = _queries(client, SCHEDULES)
    assert len(body["results"]) == 6
    assert all(row["on_call_now"] for row in body["results"])
    assert five == one


# --- shifts ----------------------------------------------------------------------------------

def shifts_of(client, schedule, **params):
    return client.get(f"{SCHEDULES}{schedule.pk}/shifts/", params)


def test_shifts_in_a_range_show_the_final_roster_and_its_gaps(api, agent, other_agent, roster,
                                                              django_assert_max_num_queries):
    override = services.override_create(
        schedule=roster, user=other_agent, by=agent, starts_at=datetime(2026, 12, 2, 8, 0,
                                                                        tzinfo=UTC),
        ends_at=datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    layer = roster.layers.get()
    client = api(fresh(agent))
    with django_assert_max_num_queries(8):
        response = shifts_of(client, roster, start="2026-11-29T00:00:00Z",
                             end="2026-12-10T00:00:00Z")
    assert response.status_code == 200
    body = response.json()
    assert (body["schedule"], body["start"], body["end"]) == (
        roster.pk, "2026-11-29T00:00:00Z", "2026-12-10T00:00:00Z")
    rows = [(s["user"]["name"], s["start"], s["end"], s["layer"], s["override"])
            for s in body["shifts"]]
    assert rows == [
        ("Alice Agent", "2026-11-30T08:00:00Z", "2026-12-02T08:00:00Z", layer.pk, None),
        ("Oscar Other", "2026-12-02T08:00:00Z", "2026-12-02T12:00:00Z", None, override.pk),
        ("Alice Agent", "2026-12-02T12:00:00Z", "2026-12-07T08:00:00Z", layer.pk, None),
        ("Oscar Other", "2026-12-07T08:00:00Z", "2026-12-10T00:00:00Z", layer.pk, None),
    ]
    assert all(s["why"] for s in body["shifts"])
    assert body["gaps"] == [{"start": "2026-11-29T00:00:00Z", "end": "2026-11-30T08:00:00Z"}]


def test_shifts_default_to_the_next_fourteen_days(api, agent, roster):
    with frozen(WEEK_1):
        body = shifts_of(api(agent), roster).json()
    assert (body["start"], body["end"]) == ("2026-12-01T11:00:00Z", "2026-12-15T11:00:00Z")
    assert [s["start"] for s in body["shifts"]] == ["2026-12-01T11:00:00Z",
                                                   "2026-12-07T08:00:00Z",
                                                   "2026-12-14T08:00:00Z"]
    assert body["gaps"] == []


def test_a_naive_datetime_is_read_in_the_sites_time_zone(api, agent, roster, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    body = shifts_of(api(agent), roster, start="2026-12-01T00:00:00",
                     end="2026-12-02T00:00:00").json()
    assert datetime.fromisoformat(body["start"]) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert datetime.fromisoformat(body["end"]) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(("params", "field"), [
    ({"start": "bogus"}, "start"),
    ({"end": "next tuesday"}, "end"),
    ({"start": "2026-13-01T00:00:00Z"}, "start"),
    ({"start": "2026-12-10T00:00:00Z", "end": "2026-12-01T00:00:00Z"}, "end"),
    ({"start": "2026-12-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"}, "end"),
    ({"start": "2026-12-01T00:00:00Z", "end": "2027-03-03T00:00:01Z"}, "end"),  # > 92 days
    ({"end": "2026-11-01T00:00:00Z"}, "end"),  # before the default start, now
    ({"start": "3500-01-01T00:00:00Z"}, "start"),
    ({"start": "9999-12-31T23:59:59-05:00"}, "start"),  # past year 9999 in UTC
    ({"start": "0001-01-01T00:00:00+01:00"}, "start"),  # before year 1 in UTC
    ({"start": HUGE}, "start"),
])
def test_a_bad_range_is_a_400_naming_the_field(api, agent, roster, params, field):
    with frozen(WEEK_1):
        body = error(shifts_of(api(agent), roster, **params), 400)
    assert field in body["field_errors"], body
    assert field in body["message"]


def test_a_naive_time_skipped_by_the_clock_change_is_a_400(api, agent, roster, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    body = error(shifts_of(api(agent), roster, start="2026-03-29T02:30:00"), 400)
    assert "start" in body["field_errors"]


def test_exactly_92_days_is_allowed(api, agent, roster):
    response = shifts_of(api(agent), roster, start="2026-12-01T00:00:00Z",
                         end="2027-03-03T00:00:00Z")
    assert response.status_code == 200


# --- overrides -------------------------------------------------------------------------------

def payload(on, who, **changes) -> dict:
    """A valid override of `on` (a schedule) by `who`, with `changes` over it."""
    return {"schedule": on.pk, "user": who.pk, "starts_at": "2026-12-02T08:00:00Z",
            "ends_at": "2026-12-02T12:00:00Z", "note": "Dentist", **changes}


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_the_team_and_its_manager_create_overrides(api, request, other_agent, roster, who):
    by = request.getfixturevalue(who)
    response = api(by).post(OVERRIDES, payload(roster, other_agent), format="json")
    assert response.status_code == 201, response.content
    override = Override.objects.get()
    assert response.json() == {
        "id": override.pk, "schedule": {"id": roster.pk, "name": "Service desk on call"},
        "user": {"id": other_agent.pk, "name": "Oscar Other"},
        "starts_at": "2026-12-02T08:00:00Z", "ends_at": "2026-12-02T12:00:00Z",
        "note": "Dentist", "replaces": None, "created_by": {"id": by.pk, "name": str(by)},
        "created_at": response.json()["created_at"],
    }
    assert (override.user, override.created_by) == (other_agent, by)
    assert override.starts_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_another_teams_agent_cannot_create_an_override(api, outsider, agent, roster):
    body = error(api(outsider).post(OVERRIDES, payload(roster, outsider), format="json"), 403)
    assert "roster" in body["message"]
    assert not Override.objects.exists()


def test_a_requester_cannot_create_an_override(api, requester, agent, roster):
    error(api(requester).post(OVERRIDES, payload(roster, agent), format="json"), 403)
    assert not Override.objects.exists()


@pytest.mark.parametrize(("changes", "field"), [
    ({"schedule": None}, "schedule"),
    ({"schedule": 999999}, "schedule"),
    ({"schedule": 2**70}, "schedule"),
    ({"schedule": "abc"}, "schedule"),
    ({"schedule": 1.5}, "schedule"),
    ({"schedule": True}, "schedule"),
    ({"user": 999999}, "user"),
    ({"user": None}, "user"),
    ({"user": [1]}, "user"),
    ({"starts_at": "bogus"}, "starts_at"),
    ({"starts_at": None}, "starts_at"),
    ({"starts_at": 1764662400}, "starts_at"),
    ({"ends_at": "2026-12-02T08:00:00Z"}, "ends_at"),  # ends as it starts
    ({"ends_at": "2026-12-01T08:00:00Z"}, "ends_at"),  # before it starts
    ({"ends_at": "2027-03-05T08:00:00Z"}, "ends_at"),  # longer than 92 days
    ({"ends_at": "9999-12-31T23:59:59-05:00"}, "ends_at"),
    ({"note": "x" * 201}, "note"),
    ({"note": "a\x00b"}, "note"),
    ({"note": None}, "note"),
])
def test_bad_override_input_is_a_400_naming_the_field_and_writes_nothing(
        api, agent, other_agent, roster, changes, field):
    body = error(api(agent).post(OVERRIDES, payload(roster, other_agent, **changes),
                                 format="json"), 400)
    assert field in body["field_errors"], body
    assert not Override.objects.exists()


@pytest.mark.parametrize("field", ["schedule", "user", "starts_at", "ends_at"])
def test_a_missing_field_is_a_400_naming_it(api, agent, other_agent, roster, field):
    data = payload(roster, other_agent)
    del data[field]
    body = error(api(agent).post(OVERRIDES, data, format="json"), 400)
    assert field in body["field_errors"]
    assert not Override.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api, agent, roster):
    error(api(agent).post(OVERRIDES, [1, 2], format="json"), 400)
    assert not Override.objects.exists()


@pytest.fixture
def overrides(agent, other_agent, roster):
    """Three overrides on the roster, 10:00-14:00 UTC on 3, 1 and 2 December, made in that
    order (so ids do not follow the start times)."""
    def make(user, day):
        start = datetime(2026, 12, day, 10, 0, tzinfo=UTC)
        return Override.objects.create(schedule=roster, user=user, starts_at=start,
                                       ends_at=start + timedelta(hours=4), created_by=agent)

    return make(agent, 3), make(other_agent, 1), make(agent, 2)


def test_overrides_list_earliest_first_and_filter(api, agent, other_agent, roster, overrides,
                                                  other_team):
    third, first, second = overrides
    elsewhere = Schedule.objects.create(name="Database on call", team=other_team)
    Override.objects.create(schedule=elsewhere, user=other_agent, starts_at=first.starts_at,
                            ends_at=first.ends_at)
    client = api(agent)

    def ids(**params):
        response = client.get(OVERRIDES, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(schedule=roster.pk) == [first.pk, second.pk, third.pk]
    assert ids(schedule=roster.pk, ordering="-starts_at") == [third.pk, second.pk, first.pk]
    assert ids(schedule=roster.pk, user=agent.pk) == [second.pk, third.pk]
    with frozen(datetime(2026, 12, 2, 12, 0, tzinfo=UTC)):  # during the second
        assert ids(schedule=roster.pk, active="true") == [second.pk, third.pk]
        assert ids(schedule=roster.pk, active="false") == [first.pk]


@pytest.mark.parametrize(("params", "field"), [
    ({"active": "maybe"}, "active"), ({"schedule": "abc"}, "schedule"),
    ({"schedule": HUGE}, "schedule"), ({"user": "1.5"}, "user"),
    ({"ordering": "bogus"}, "ordering"), ({"limit": "-1"}, "limit"),
])
def test_a_bad_override_filter_is_a_400_naming_it(api, agent, params, field):
    assert field in error(api(agent).get(OVERRIDES, params), 400)["field_errors"]


def test_an_override_is_read_by_id(api, agent, overrides):
    override = overrides[0]
    body = api(agent).get(f"{OVERRIDES}{override.pk}/").json()
    assert (body["id"], body["user"]["name"]) == (override.pk, "Alice Agent")
    error(api(agent).get(f"{OVERRIDES}999999/"), 404)
    error(api(agent).get(f"{OVERRIDES}{HUGE}/"), 404)


def test_overrides_are_not_edited_in_place(api, agent, overrides):
    url = f"{OVERRIDES}{overrides[0].pk}/"
    assert api(agent).patch(url, {"note": "x"}, format="json").status_code == 405
    assert api(agent).put(url, {"note": "x"}, format="json").status_code == 405


def test_the_team_deletes_an_override(api, agent, overrides):
    response = api(agent).delete(f"{OVERRIDES}{overrides[0].pk}/")
    assert response.status_code == 204
    assert not Override.objects.filter(pk=overrides[0].pk).exists()
    assert Override.objects.count() == 2


@pytest.mark.parametrize("who", ["outsider", "requester"])
def test_outsiders_cannot_delete_an_override(api, request, overrides, who):
    error(api(request.getfixturevalue(who)).delete(f"{OVERRIDES}{overrides[0].pk}/"), 403)
    assert Override.objects.count() == 3


def test_the_override_list_runs_the_same_queries_for_one_or_many(
        api, agent, other_agent, roster, django_assert_max_num_queries):
    Override.objects.create(schedule=roster, user=agent, starts_at=WEEK_1,
                            ends_at=WEEK_1 + timedelta(hours=1), created_by=agent)
    one, _ = _queries(api(fresh(agent)), OVERRIDES)
    for hours in range(2, 12):
        Override.objects.create(schedule=roster, user=other_agent, created_by=agent,
                                replaces=agent, starts_at=WEEK_1 + timedelta(hours=hours),
                                ends_at=WEEK_1 + timedelta(hours=hours + 1))
    client = api(fresh(agent))
    with django_assert_max_num_queries(3):
        many, body = _queries(client, OVERRIDES)
    assert len(body["results"]) == 11
    assert many == one


# --- escalation policies ---------------------------------------------------------------------

def test_an_agent_reads_the_escalation_policies(api, agent, manager, team, roster, policy):
    response = api(agent).get(POLICIES)
    assert response.status_code == 200
    assert response.json()["results"] == [{
        "id": policy.pk, "name": "Service desk paging",
        "team": {"id": team.pk, "name": "Service Desk"}, "services": [], "priorities": [1, 2],
        "repeat": 1, "active": True,
        "steps": [
            {"position": 0, "target": "schedule", "wait_minutes": 5, "users": [],
             "schedule": {"id": roster.pk, "name": "Service desk on call"}, "team": None},
            {"position": 1, "target": "users", "wait_minutes": 10,
             "users": [{"id": manager.pk, "name": "Maria Manager"}], "schedule": None,
             "team": None},
        ],
    }]
    assert api(agent).get(f"{POLICIES}{policy.pk}/").json()["name"] == "Service desk paging"
    assert api(agent).post(POLICIES, {"name": "Mine"}, format="json").status_code == 405
    error(api(agent).get(f"{POLICIES}999999/"), 404)


def test_the_policy_list_runs_the_same_queries_for_one_or_five(
        api, agent, manager, team, roster, policy, django_assert_max_num_queries):
    one, _ = _queries(api(fresh(agent)), POLICIES)
    for n in range(4):
        other = EscalationPolicy.objects.create(name=f"Policy {n}", team=TeamFactory())
        other.services.add(ServiceFactory())
        EscalationStep.objects.create(policy=other, target=TargetKind.TEAM, team=team)
        step = EscalationStep.objects.create(policy=other, position=1, schedule=roster)
        step.users.add(agent, manager)
    client = api(fresh(agent))
    with django_assert_max_num_queries(6):
        five, body = _queries(client, POLICIES)
    assert len(body["results"]) == 5
    assert five == one


# --- pages -----------------------------------------------------------------------------------

@pytest.fixture
def page(agent, team, policy):
    """A manual page of the team, started in agent's week: step 1 notified agent."""
    with frozen(WEEK_1):
        incident = make_incident(by=agent, assignment_team=team)
        return services.page_start(incident=incident, by=agent, reason="test", manual=True)


def test_an_agent_lists_pages_with_who_was_notified(api, agent, team, page):
    with frozen(WEEK_1 + timedelta(minutes=1)):
        response = api(agent).get(PAGES)
    assert response.status_code == 200
    [row] = response.json()["results"]
    notice = page.notices.get()
    assert row == {
        "id": page.pk, "incident": page.incident.number,
        "team": {"id": team.pk, "name": "Service Desk"}, "policy": "Service desk paging",
        "urgency": "high", "state": "active", "step": 0, "repetition": 0,
        "due_at": "2026-12-01T11:05:00Z", "started_at": "2026-12-01T11:00:00Z",
        "acknowledged_at": None, "acknowledged_by": None, "ended_at": None, "reason": "test",
        "notices": [{"user": {"id": agent.pk, "name": "Alice Agent"}, "step": 0,
                     "repetition": 0, "why": notice.why, "at": "2026-12-01T11:00:00Z"}],
    }
    assert notice.ack_token not in response.text
    assert str(page.token) not in response.text
    assert "token" not in response.text


def test_pages_filter_by_state_incident_and_team(api, agent, team, other_team, page):
    client = api(agent)

    def ids(**params):
        response = client.get(PAGES, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(state="active") == [page.pk]
    assert ids(state="acknowledged") == []
    assert ids(incident=page.incident.number) == [page.pk]
    assert ids(incident=page.incident.number.lower()) == [page.pk]
    assert ids(incident="INC9999999") == []
    assert ids(team=team.pk) == [page.pk]
    assert ids(team=other_team.pk) == []


@pytest.mark.parametrize(("params", "field"), [
    ({"state": "asleep"}, "state"), ({"incident": "42; drop"}, "incident"),
    ({"incident": "INC" + "9" * 30}, "incident"), ({"team": HUGE}, "team"),
])
def test_a_bad_page_filter_is_a_400_naming_it(api, agent, params, field):
    assert field in error(api(agent).get(PAGES, params), 400)["field_errors"]


def test_an_agent_acknowledges_a_page_once(api, agent, other_agent, page):
    with frozen(WEEK_1 + timedelta(minutes=2)):
        response = api(agent).post(f"{PAGES}{page.pk}/acknowledge/", format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["acknowledged_by"] == {"id": agent.pk, "name": "Alice Agent"}
    assert body["acknowledged_at"] == "2026-12-01T11:02:00Z"
    page.refresh_from_db()
    assert (page.state, page.acknowledged_by) == (PageState.ACKNOWLEDGED, agent)

    again = error(api(other_agent).post(f"{PAGES}{page.pk}/acknowledge/", format="json"), 409)
    assert again["message"] == "Already acknowledged by Alice Agent."
    page.refresh_from_db()
    assert page.acknowledged_by == agent


def test_an_agent_resolves_a_page_by_hand(api, agent, page):
    with frozen(WEEK_1 + timedelta(minutes=2)):
        response = api(agent).post(f"{PAGES}{page.pk}/resolve/", {"note": "False alarm"},
                                   format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "resolved"
    assert response.json()["ended_at"] == "2026-12-01T11:02:00Z"
    assert Page.objects.get(pk=page.pk).state == PageState.RESOLVED
    error(api(agent).post(f"{PAGES}{page.pk}/resolve/", format="json"), 409)
    error(api(agent).post(f"{PAGES}{page.pk}/acknowledge/", format="json"), 409)


@pytest.mark.parametrize("body", [{"note": ["x"]}, {"note": "x" * 301}, {"note": "a\x00b"}])
def test_a_bad_resolve_note_is_a_400_and_the_page_keeps_paging(api, agent, page, body):
    assert "note" in error(api(agent).post(f"{PAGES}{page.pk}/resolve/", body, format="json"),
                           400)["field_errors"]
    assert Page.objects.get(pk=page.pk).state == PageState.ACTIVE


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_a_requester_cannot_end_a_page(api, requester, page, action):
    error(api(requester).post(f"{PAGES}{page.pk}/{action}/", format="json"), 403)
    assert Page.objects.get(pk=page.pk).state == PageState.ACTIVE


@pytest.mark.parametrize("path", ["999999/", f"{HUGE}/", "999999/acknowledge/",
                                  f"{HUGE}/resolve/"])
def test_an_unknown_page_is_a_json_404(api, agent, path):
    client = api(agent)
    response = client.post(f"{PAGES}{path}") if path.endswith("e/") else client.get(
        f"{PAGES}{path}")
    error(response, 404)


def test_the_page_list_runs_the_same_queries_for_one_or_five(
        api, agent, team, policy, page, django_assert_max_num_queries):
    one, _ = _queries(api(fresh(agent)), PAGES)
    with frozen(WEEK_1):
        for _ in range(4):
            incident = make_incident(by=agent, assignment_team=team)
            services.page_start(incident=incident, by=agent, reason="more", manual=True)
    client = api(fresh(agent))
    with django_assert_max_num_queries(4):
        five, body = _queries(client, PAGES)
    assert len(body["results"]) == 5
    assert all(row["notices"] for row in body["results"])
    assert five == one


# --- who may ---------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", SCHEDULES), ("get", f"{SCHEDULES}1/"), ("get", f"{SCHEDULES}1/shifts/"),
    ("get", OVERRIDES), ("post", OVERRIDES), ("get", f"{OVERRIDES}1/"),
    ("delete", f"{OVERRIDES}1/"), ("get", POLICIES), ("get", f"{POLICIES}1/"),
    ("get", PAGES), ("get", f"{PAGES}1/"), ("post", f"{PAGES}1/acknowledge/"),
    ("post", f"{PAGES}1/resolve/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_requesters_are_refused(api, requester, method, path):
    error(getattr(api(requester), method)(path, format="json"), 403)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_callers_must_authenticate(api, method, path):
    response = getattr(api(), method)(path, format="json")
    error(response, 401)
    assert response["WWW-Authenticate"]


# --- schema ----------------------------------------------------------------------------------

def test_the_schema_describes_the_on_call_endpoints(api, agent):
    response = api(agent).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in ["schedules/", "schedules/{id}/", "schedules/{id}/shifts/", "overrides/",
                 "overrides/{id}/", "escalation-policies/", "escalation-policies/{id}/",
                 "pages/", "pages/{id}/", "pages/{id}/acknowledge/", "pages/{id}/resolve/"]:
        assert f"/api/v1/{path}" in paths, path
    shifts = paths["/api/v1/schedules/{id}/shifts/"]["get"]
    assert {p["name"] for p in shifts["parameters"]} >= {"start", "end", "id"}
    assert "400" in shifts["responses"]
    assert "409" in paths["/api/v1/pages/{id}/acknowledge/"]["post"]["responses"]
    assert set(paths["/api/v1/overrides/{id}/"]) == {"get", "delete"}
    components = schema["components"]["schemas"]
    assert "feed_token" not in components["Schedule"]["properties"]
    assert "ack_token" not in components["PageNotice"]["properties"]
