"""The problem API: create, read, edit, the lifecycle, 5 Whys, links and who may use it."""

import re

import pytest

from incidents import services as incident_services
from incidents.choices import HoldReason, State
from incidents.models import Incident
from problems import services
from problems.choices import ProblemEntryKind, ProblemState
from problems.models import Problem, ProblemEntry
from tests.factories import CategoryFactory, make_incident
from tests.problems.api import (
    ARTICLES,
    HUGE,
    KNOWN_ERRORS,
    NUL,
    PROBLEMS,
    SLUGS,
    SUGGESTIONS,
    error,
    fresh,
    known_error,
    reloaded,
    url,
)


@pytest.fixture
def walk(problem_manager):
    """`walk(problem, state)` → the problem moved there through the services."""
    steps = {
        ProblemState.NEW: [],
        ProblemState.ASSESSED: ["assess"],
        ProblemState.ROOT_CAUSE_ANALYSIS: ["assess", "analyze"],
        ProblemState.FIX_IN_PROGRESS: ["assess", "analyze", "start_fix"],
        ProblemState.RESOLVED: ["assess", "analyze", "start_fix", "resolve"],
    }

    def go(problem, state):
        if steps[state]:  # what starting the fix and resolving need
            problem = services.problem_update(problem=problem, by=problem_manager,
                                              root_cause="The relay's disk fills up.",
                                              permanent_fix="Log rotation on the relay.")
        for name in steps[state]:
            problem = services.problem_transition(problem=problem, by=problem_manager,
                                                  name=name)
        return problem

    return go


# --- create ----------------------------------------------------------------------------------

def test_an_agent_raises_a_problem_from_incidents(api, agent, team, incident, requester):
    second = make_incident(by=agent, caller=requester, title="Mail slow on floor 3")
    response = api(agent).post(PROBLEMS, {"incidents": [incident.number, second.number.lower(),
                                                        incident.number],
                                          "assignment_team": team.pk, "impact": "high"},
                               format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"PRB\d{7}", body["number"])
    assert response["Location"].endswith(f"{PROBLEMS}{body['number']}/")
    assert type(response["Location"]) is str
    assert body["title"] == incident.title  # from the first incident
    assert body["incidents"] == [incident.number, second.number]
    assert (body["state"], body["state_display"], body["version"]) == ("new", "New", 1)
    assert (body["assignment_team"], body["assignment_team_name"]) == (team.pk, "Service Desk")
    assert body["whys"] == [] and body["known_errors"] == [] and body["duplicate_of"] is None
    assert body["available_transitions"] == []  # assessing is for problem managers
    problem = Problem.objects.get(number=body["number"])
    assert problem.created_by == agent and problem.impact == "high"
    kinds = list(problem.timeline.values_list("kind", flat=True))
    assert kinds == [ProblemEntryKind.CREATED, ProblemEntryKind.LINKED]


def test_a_problem_manager_sees_what_they_may_do(api, problem_manager):
    body = api(problem_manager).post(PROBLEMS, {"title": "Disk full every Monday"},
                                     format="json").json()
    assert body["incidents"] == []
    assert body["available_transitions"] == ["assess", "cancel", "mark_duplicate"]


def test_unknown_incident_numbers_are_named_and_nothing_is_created(api, agent, incident):
    response = api(agent).post(PROBLEMS, {"incidents": [incident.number, "INC9999999", "junk",
                                                        7, None, ["INC0000001"]]},
                               format="json")
    body = error(response, 400)
    [message] = body["field_errors"]["incidents"]
    for named in ("INC9999999", "junk", "7", "None", "['INC0000001']"):
        assert named in message
    assert not Problem.objects.exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": ["Disk full"]}, "title"),
    ({"title": f"Disk{NUL}full"}, "title"),
    ({"title": "Slow", "impact": "huge"}, "impact"),
    ({"title": "Slow", "service": 999999}, "service"),
    ({"title": "Slow", "service": HUGE}, "service"),
    ({"title": "Slow", "service": "mail"}, "service"),
    ({"title": "Slow", "service": 1.5}, "service"),
    ({"title": "Slow", "category": True}, "category"),
    ({"title": "Slow", "assignment_team": [1]}, "assignment_team"),
    ({"title": "Slow", "incidents": "INC0000001"}, "incidents"),
    ({"title": "Slow", "incidents": {"number": "INC0000001"}}, "incidents"),
    ({"title": "Slow", "incidents": ["INC0000001"] * 201}, "incidents"),
])
def test_bad_input_is_400_naming_the_field(api, agent, payload, field):
    body = error(api(agent).post(PROBLEMS, payload, format="json"), 400)
    assert field in body["field_errors"]
    assert all(isinstance(m, str) for m in body["field_errors"][field])
    assert not Problem.objects.exists()


def test_a_subcategory_or_a_requester_as_owner_is_refused(api, agent, requester):
    network = CategoryFactory(name="Network")
    wifi = CategoryFactory(name="Wi-Fi", parent=network)
    client = api(agent)
    error(client.post(PROBLEMS, {"title": "No Wi-Fi", "category": wifi.pk}, format="json"),
          400)
    body = error(client.post(PROBLEMS, {"title": "No Wi-Fi", "owner": requester.pk},
                             format="json"), 400)
    assert "owner" in body["field_errors"]
    assert not Problem.objects.exists()


# --- read ------------------------------------------------------------------------------------

def test_an_agent_reads_a_problem_by_number(api, agent, problem, incident):
    body = api(agent).get(url(problem)).json()
    assert body["number"] == problem.number
    assert body["url"].endswith(url(problem))
    assert body["incidents"] == [incident.number]
    assert body["priority"] == problem.priority and body["priority_display"]
    assert body["available_transitions"] == []  # new: only problem managers assess or cancel
    assert api(agent).get(f"{PROBLEMS}{problem.number.lower()}/").status_code == 200


@pytest.mark.parametrize("number", ["PRB9999999", "junk", "PRB" + "9" * 40, HUGE,
                                    "INC0000001", "KE0000001", "PRB-1", "%20"])
def test_an_unknown_problem_is_a_json_404(api, agent, problem, number):
    error(api(agent).get(f"{PROBLEMS}{number}/"), 404)
    error(api(agent).post(f"{PROBLEMS}{number}/assess/", {}, format="json"), 404)


def test_an_unknown_transition_is_a_404(api, problem_manager, problem):
    error(api(problem_manager).post(url(problem, "explode"), {}, format="json"), 404)
    error(api(problem_manager).post(url(problem, "start_fix"), {}, format="json"), 404)
    assert reloaded(problem).version == problem.version


def test_the_list_filters_like_the_queue(api, agent, problem_manager, team, other_team,
                                         problem, walk):
    other = services.problem_create(by=agent, title="Backups fail at night", impact="high",
                                    urgency="high", assignment_team=other_team, owner=agent)
    walk(other, ProblemState.ASSESSED)
    client = api(agent)

    def numbers(**query):
        response = client.get(PROBLEMS, query)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    assert numbers() == [other.number, problem.number]  # most urgent first
    assert numbers(state="assessed") == [other.number]
    assert numbers(state=["new", "assessed"]) == [other.number, problem.number]
    assert numbers(priority=str(problem.priority)) == [problem.number]
    assert numbers(team=team.pk) == [problem.number]
    assert numbers(owner=agent.pk) == [other.number]
    assert numbers(q=other.number) == [other.number]
    assert numbers(q=other.number.lower().replace("prb000", "prb")) == [other.number]
    assert numbers(q="night backups") == [other.number]
    assert numbers(q="finance mail") == [problem.number]
    assert numbers(q="printer") == []
    assert numbers(ordering="-number") == [other.number, problem.number]
    assert numbers(ordering="opened") == [problem.number, other.number]
    assert numbers(ordering="state") == [problem.number, other.number]  # lifecycle order
    assert numbers(ordering="-state,number") == [other.number, problem.number]


def test_the_browsable_api_renders(api, agent, problem):
    client = api(agent)
    for path in (PROBLEMS, url(problem), url(problem, "timeline"), KNOWN_ERRORS, ARTICLES,
                 SUGGESTIONS, "/api/v1/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
    assert b"/api/v1/problems/" in client.get("/api/v1/").content


@pytest.mark.parametrize("query", [
    {"state": "exploded"}, {"priority": "9"}, {"team": "abc"}, {"team": HUGE},
    {"owner": "-1"}, {"service": "1.5"}, {"category": "0"}, {"ordering": "title"},
    {"limit": "-1"}, {"offset": HUGE}, {"q": "x" * 201},
])
def test_bad_list_filters_are_400(api, agent, problem, query):
    error(api(agent).get(PROBLEMS, query), 400)


def test_a_nul_in_the_address_is_a_400(api, agent, problem):
    error(api(agent).get(f"{PROBLEMS}?q=a{NUL}b"), 400)
    error(api(agent).get(f"{PROBLEMS}{problem.number}{NUL}/"), 400)


def test_the_list_costs_the_same_for_two_rows_or_twelve(api, agent, team, problem,
                                                        django_assert_max_num_queries,
                                                        team_incidents):
    services.problem_save_whys(problem=problem, by=agent, whys=[("Why down?", "Disk full.")])

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert api(fresh(agent)).get(PROBLEMS).status_code == 200
        return len(queries)

    few = count()
    for index, incident in enumerate(team_incidents(10)):
        created = services.problem_create(by=agent, title=f"Problem {index}",
                                          incidents=[incident], assignment_team=team)
        services.problem_save_whys(problem=created, by=agent, whys=[("Why?", "Because.")])
        known_error(agent, problem=created)
    assert count() == few
    with django_assert_max_num_queries(6):
        api(fresh(agent)).get(PROBLEMS)


# --- edit ------------------------------------------------------------------------------------

def test_the_owner_team_edits_the_analysis_with_its_version(api, agent, problem):
    response = api(agent).patch(url(problem), {"root_cause": "Relay disk full.",
                                               "impact": "high", "version": problem.version},
                                format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["root_cause"], body["impact"]) == ("Relay disk full.", "high")
    assert body["version"] == problem.version + 1
    fields = set(ProblemEntry.objects.filter(problem=problem, kind="field_change")
                 .values_list("field", flat=True))
    assert {"root_cause", "impact"} <= fields


def test_a_stale_version_is_a_409_and_changes_nothing(api, agent, problem):
    client = api(agent)
    client.patch(url(problem), {"title": "Mail relay down"}, format="json")
    error(client.patch(url(problem), {"title": "Mine", "version": problem.version},
                       format="json"), 409)
    error(client.patch(url(problem), {"title": "Mine"}, format="json",
                       HTTP_IF_MATCH=f'"{problem.version}"'), 409)
    assert reloaded(problem).title == "Mail relay down"
    ok = client.patch(url(problem), {"title": "Mine"}, format="json",
                      HTTP_IF_MATCH=str(problem.version + 1))
    assert ok.status_code == 200 and ok.json()["title"] == "Mine"


@pytest.mark.parametrize(("payload", "if_match", "field"), [
    ({"version": "abc"}, None, "version"),
    ({"version": HUGE}, None, "version"),
    ({"version": 0}, None, "version"),
    ({"title": "Ok"}, "W/\"x\"", "version"),
    ({"title": "Ok"}, HUGE, "version"),
    ({"impact": ["high"]}, None, "impact"),
    ({"change_reference": "C" * 61}, None, "change_reference"),
    ({"owner": "alice"}, None, "owner"),
    ({"root_cause": {"text": "disk"}}, None, "root_cause"),
    ({"description": f"a{NUL}b"}, None, "description"),
])
def test_bad_edits_are_400(api, agent, problem, payload, if_match, field):
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}
    body = error(api(agent).patch(url(problem), payload, format="json", **headers), 400)
    assert field in body["field_errors"]
    assert reloaded(problem).version == problem.version


def test_put_replaces_the_editable_fields(api, agent, problem):
    error(api(agent).put(url(problem), {"root_cause": "Disk"}, format="json"), 400)
    response = api(agent).put(url(problem), {"title": "Relay disk", "root_cause": "Disk"},
                              format="json")
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["root_cause"]) == ("Relay disk", "Disk")


def test_an_agent_of_another_team_cannot_edit(api, other_agent, other_team, problem):
    error(api(other_agent).patch(url(problem), {"title": "Mine"}, format="json"), 403)


def test_state_and_number_are_not_editable(api, agent, problem):
    response = api(agent).patch(url(problem), {"state": "closed", "number": "PRB1234567",
                                               "priority": 1}, format="json")
    assert response.status_code == 200
    row = reloaded(problem)
    assert (row.state, row.number, row.version) == ("new", problem.number, problem.version)


# --- lifecycle -------------------------------------------------------------------------------

def test_a_problem_walks_its_lifecycle_through_the_api(api, agent, problem_manager, problem):
    manager, worker = api(problem_manager), api(agent)

    def step(client, slug, status=200, **body):
        response = client.post(url(problem, slug), body, format="json")
        assert response.status_code == status, (slug, response.content)
        return response.json()

    assert step(manager, "assess")["state"] == "assessed"
    assert step(worker, "analyze")["available_transitions"] == ["start_fix"]
    body = error(worker.post(url(problem, "start-fix"), {}, format="json"), 400)
    assert "root_cause" in body["field_errors"]
    worker.patch(url(problem), {"root_cause": "Disk full", "workaround": "Restart"},
                 format="json")
    assert step(worker, "start-fix")["state"] == "fix_in_progress"
    error(worker.post(url(problem, "resolve"), {}, format="json"), 400)
    worker.patch(url(problem), {"permanent_fix": "Rotate logs"}, format="json")
    body = step(worker, "resolve")
    assert body["state"] == "resolved" and body["resolved_at"]
    error(worker.post(url(problem, "close"), {}, format="json"), 403)  # problem managers
    body = step(manager, "close", note="Quiet for a month.", version=body["version"])
    assert (body["state"], body["closing_note"]) == ("closed", "Quiet for a month.")
    assert body["closed_at"] and body["available_transitions"] == []
    transitions = ProblemEntry.objects.filter(problem=problem, kind="transition").count()
    assert transitions == 5


ILLEGAL_FROM_NEW = ["analyze", "start_fix", "resolve", "close", "reanalyze", "accept_risk"]


@pytest.mark.parametrize("name", ILLEGAL_FROM_NEW)
def test_an_impossible_transition_is_a_409(api, problem_manager, problem, name):
    body = error(api(problem_manager).post(url(problem, SLUGS[name]), {"note": "Why not"},
                                           format="json"), 409)
    assert problem.number in body["message"]
    assert reloaded(problem).version == problem.version


@pytest.mark.parametrize(("name", "start", "body", "end"), [
    ("assess", ProblemState.NEW, {}, ProblemState.ASSESSED),
    ("analyze", ProblemState.ASSESSED, {}, ProblemState.ROOT_CAUSE_ANALYSIS),
    ("start_fix", ProblemState.ROOT_CAUSE_ANALYSIS, {}, ProblemState.FIX_IN_PROGRESS),
    ("resolve", ProblemState.FIX_IN_PROGRESS, {}, ProblemState.RESOLVED),
    ("close", ProblemState.RESOLVED, {}, ProblemState.CLOSED),
    ("reanalyze", ProblemState.RESOLVED, {"note": "It came back."},
     ProblemState.ROOT_CAUSE_ANALYSIS),
    ("cancel", ProblemState.ASSESSED, {"note": "Not a problem."}, ProblemState.CANCELED),
    ("accept_risk", ProblemState.ROOT_CAUSE_ANALYSIS, {"note": "Retiring the relay; CIO."},
     ProblemState.RISK_ACCEPTED),
])
def test_every_transition_endpoint_moves_the_problem(api, problem_manager, problem, walk,
                                                     name, start, body, end):
    problem = walk(problem, start)
    response = api(problem_manager).post(url(problem, SLUGS[name]),
                                         {**body, "version": problem.version}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == end
    entry = ProblemEntry.objects.filter(problem=problem, kind="transition").last()
    assert entry.codes or entry.new_value


@pytest.mark.parametrize("name", ["reanalyze", "cancel", "accept_risk"])
def test_transitions_that_need_a_note_say_so(api, problem_manager, problem, walk, name):
    problem = walk(problem, ProblemState.RESOLVED if name == "reanalyze"
                   else ProblemState.ASSESSED)
    client = api(problem_manager)
    for body in ({}, {"note": "   "}, {"note": ["why"]}, {"note": "x" * 2001}):
        response = error(client.post(url(problem, SLUGS[name]), body, format="json"), 400)
        assert "note" in response["field_errors"]
    assert reloaded(problem).state == problem.state


def test_an_agent_cannot_assess_or_cancel(api, agent, problem):
    error(api(agent).post(url(problem, "assess"), {}, format="json"), 403)
    error(api(agent).post(url(problem, "cancel"), {"note": "No"}, format="json"), 403)
    assert reloaded(problem).state == ProblemState.NEW


def test_a_stale_transition_is_a_409(api, problem_manager, problem):
    client = api(problem_manager)
    error(client.post(url(problem, "assess"), {"version": problem.version + 1},
                      format="json"), 409)
    error(client.post(url(problem, "assess"), {}, format="json",
                      HTTP_IF_MATCH=str(problem.version + 5)), 409)
    assert reloaded(problem).state == ProblemState.NEW


def test_marking_a_duplicate_moves_its_incidents(api, agent, problem_manager, problem,
                                                 incident):
    original = services.problem_create(by=agent, title="Mail relay down")
    response = api(problem_manager).post(url(problem, "mark-duplicate"),
                                         {"duplicate_of": original.number.lower()},
                                         format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["duplicate_of"]) == ("duplicate", original.number)
    assert body["incidents"] == []
    assert api(agent).get(url(original)).json()["incidents"] == [incident.number]


@pytest.mark.parametrize("value", ["PRB9999999", "junk", 5, None, ["PRB0000001"],
                                   "PRB" + "1" * 60, f"PRB{NUL}"])
def test_an_unknown_duplicate_of_is_a_400(api, problem_manager, problem, value):
    body = error(api(problem_manager).post(url(problem, "mark-duplicate"),
                                           {"duplicate_of": value}, format="json"), 400)
    assert "duplicate_of" in body["field_errors"]
    assert reloaded(problem).state == ProblemState.NEW


def test_a_problem_cannot_duplicate_itself(api, problem_manager, problem):
    body = error(api(problem_manager).post(url(problem, "mark-duplicate"),
                                           {"duplicate_of": problem.number}, format="json"),
                 400)
    assert "duplicate_of" in body["field_errors"]


# --- 5 whys, links, resolving incidents ------------------------------------------------------

def test_the_whys_are_saved_in_order(api, agent, problem):
    chain = [{"question": "Why was mail down?", "answer": "The relay stopped."},
             {"question": "", "answer": ""},
             {"question": "Why did it stop?", "answer": "Its disk was full."},
             {"question": "Why was it full?"}]
    response = api(agent).post(url(problem, "whys"), {"whys": chain, "version": 1},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["whys"] == [
        {"question": "Why was mail down?", "answer": "The relay stopped."},
        {"question": "Why did it stop?", "answer": "Its disk was full."},
        {"question": "Why was it full?", "answer": ""}]
    assert response.json()["version"] == 2


@pytest.mark.parametrize("whys", [
    "Why?", {"question": "Why?"}, [["Why?", "Because"]], [{"question": ["Why?"]}],
    [{"question": "x" * 301}], [{"answer": "No question"}], [{"question": "Why?"}] * 11,
    [{"question": "Why?"}] * 101, [{"question": f"a{NUL}b"}], None,
])
def test_bad_whys_are_a_400_on_the_whys_field(api, agent, problem, whys):
    body = error(api(agent).post(url(problem, "whys"), {"whys": whys}, format="json"), 400)
    assert list(body["field_errors"]) == ["whys"]
    assert all(isinstance(m, str) for m in body["field_errors"]["whys"])
    assert reloaded(problem).version == problem.version


def test_any_agent_links_and_the_team_unlinks(api, agent, other_agent, problem, incident,
                                              requester):
    second = make_incident(by=agent, caller=requester, title="Mail bounces")
    response = api(other_agent).post(url(problem, "link"), {"incidents": [second.number]},
                                     format="json")
    assert response.status_code == 200, response.content
    assert response.json()["incidents"] == [incident.number, second.number]
    error(api(other_agent).post(url(problem, "unlink"), {"incident": second.number},
                                format="json"), 403)
    response = api(agent).post(url(problem, "unlink"), {"incident": second.number},
                               format="json")
    assert response.status_code == 200
    assert response.json()["incidents"] == [incident.number]
    kinds = list(problem.timeline.values_list("kind", flat=True))
    assert kinds[-2:] == [ProblemEntryKind.LINKED, ProblemEntryKind.UNLINKED]


@pytest.mark.parametrize(("action", "body", "field"), [
    ("link", {"incidents": []}, "incidents"),
    ("link", {"incidents": ["INC9999999", "INC9999998"]}, "incidents"),
    ("link", {"incidents": "INC9999999"}, "incidents"),
    ("link", {}, "incidents"),
    ("unlink", {"incident": "INC9999999"}, "incident"),
    ("unlink", {"incident": ["INC0000001"]}, "incident"),
    ("unlink", {"incident": 12}, "incident"),
])
def test_bad_links_are_a_400_naming_the_field(api, agent, problem, action, body, field):
    response = error(api(agent).post(url(problem, action), body, format="json"), 400)
    assert field in response["field_errors"]
    if isinstance(body.get("incidents"), list):
        assert all(number in response["message"] for number in body["incidents"])


def test_unlinking_an_incident_not_linked_is_a_400(api, agent, problem, requester):
    other = make_incident(by=agent, caller=requester)
    body = error(api(agent).post(url(problem, "unlink"), {"incident": other.number},
                                 format="json"), 400)
    assert other.number in body["message"]


def test_the_fix_resolves_the_incidents_awaiting_it(api, agent, team, requester, problem,
                                                    incident, walk):
    incident = incident_services.incident_acknowledge(incident=incident, by=agent)
    incident_services.incident_hold(incident=incident, by=agent,
                                    reason=HoldReason.AWAITING_PROBLEM)
    client = api(agent)
    error(client.post(url(problem, "resolve-incidents"), {}, format="json"), 409)  # no fix
    problem = walk(problem, ProblemState.FIX_IN_PROGRESS)
    response = client.post(url(problem, "resolve-incidents"), {"notes": "Relay fixed."},
                           format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"resolved": [incident.number], "refused": {}}
    row = Incident.objects.get(pk=incident.pk)
    assert (row.state, row.resolution_notes) == (State.RESOLVED, "Relay fixed.")
    error(client.post(url(problem, "resolve-incidents"), {}, format="json"), 409)  # none left


def test_a_known_error_is_recorded_from_the_problem(api, agent, problem):
    client = api(agent)
    body = error(client.post(url(problem, "known-error"), format="json"), 400)
    assert "workaround" in body["field_errors"]
    client.patch(url(problem), {"workaround": "Restart the queue runner.",
                                "root_cause": "Disk full."}, format="json")
    response = client.post(url(problem, "known-error"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"KE\d{7}", body["number"])
    assert response["Location"].endswith(f"{KNOWN_ERRORS}{body['number']}/")
    assert (body["status"], body["problem"]) == ("draft", problem.number)
    assert body["workaround"] == "Restart the queue runner."
    assert client.get(url(problem)).json()["known_errors"] == [body["number"]]


def test_the_timeline_lists_the_history_oldest_first(api, agent, problem):
    api(agent).patch(url(problem), {"root_cause": "Disk"}, format="json")
    response = api(agent).get(url(problem, "timeline"))
    assert response.status_code == 200
    rows = response.json()
    assert [r["kind"] for r in rows] == ["created", "linked", "field_change"]
    assert rows[0]["actor"] == agent.pk and rows[0]["actor_name"] == "Alice Agent"
    assert rows[2]["field"] == "root_cause" and rows[2]["new_value"] == "Disk"


# --- who may do what -------------------------------------------------------------------------

def test_requesters_are_refused_problems_and_known_errors(api, requester, agent, problem):
    record = known_error(agent)
    client = api(requester)
    for method, path in [("get", PROBLEMS), ("post", PROBLEMS), ("get", url(problem)),
                         ("patch", url(problem)), ("post", url(problem, "assess")),
                         ("get", url(problem, "timeline")), ("post", url(problem, "link")),
                         ("get", KNOWN_ERRORS), ("post", KNOWN_ERRORS), ("get", url(record)),
                         ("post", url(record, "apply")), ("post", f"{PROBLEMS}PRB9999999/")]:
        error(getattr(client, method)(path, {}, format="json"), 403)


def test_anonymous_callers_must_authenticate(api, problem):
    for path in (PROBLEMS, url(problem), KNOWN_ERRORS, ARTICLES, SUGGESTIONS):
        response = api().get(path)
        error(response, 401)
        assert response["WWW-Authenticate"]
