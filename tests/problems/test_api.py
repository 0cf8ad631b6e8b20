"""The problems and knowledge REST API, tried by every member of the cast."""

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from incidents import services as incident_services
from incidents.choices import HoldReason, State
from incidents.models import Incident
from itsm.models import User
from problems import services
from problems.choices import Audience, KnowledgeStatus, ProblemEntryKind, ProblemState
from problems.models import Article, KnownError, Problem, ProblemEntry, WorkaroundApplication
from tests.factories import CategoryFactory, ServiceFactory, make_incident

PROBLEMS = "/api/v1/problems/"
KNOWN_ERRORS = "/api/v1/known-errors/"
ARTICLES = "/api/v1/articles/"
SUGGESTIONS = "/api/v1/suggestions/"
HUGE = str(2**70)
NUL = "\x00"
SLUGS = {"assess": "assess", "analyze": "analyze", "start_fix": "start-fix",
         "resolve": "resolve", "close": "close", "reanalyze": "reanalyze", "cancel": "cancel",
         "mark_duplicate": "mark-duplicate", "accept_risk": "accept-risk"}


def url(record, action=""):
    base = {"PRB": PROBLEMS, "KE0": KNOWN_ERRORS, "KB0": ARTICLES}[record.number[:3]]
    return f"{base}{record.number}/" + (f"{action}/" if action else "")


def error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "field_errors"} and body["message"]
    return body


def fresh(user) -> User:
    """The user without cached permissions and teams, so each request counts its own."""
    return User.objects.get(pk=user.pk)


def reloaded(problem) -> Problem:
    return Problem.objects.get(pk=problem.pk)


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


def known_error(by, *, title="Mail relay queue stuck", publish_by=None, **fields):
    fields.setdefault("symptoms", "Mail is down; messages wait in the outbox.")
    fields.setdefault("workaround", "Restart the relay's queue runner.")
    record = services.known_error_create(by=by, title=title, **fields)
    if publish_by is not None:
        record = services.knowledge_set_status(record=record, by=publish_by,
                                               status=KnowledgeStatus.PUBLISHED)
    return record


def article(by, *, title="Resetting your password", audience=Audience.EVERYONE,
            publish_by=None, **fields):
    fields.setdefault("body", "Open **Settings** and choose *Reset*.")
    record = services.article_create(by=by, title=title, audience=audience, **fields)
    if publish_by is not None:
        record = services.knowledge_set_status(record=record, by=publish_by,
                                               status=KnowledgeStatus.PUBLISHED)
    return record


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


# --- known errors ----------------------------------------------------------------------------

def test_an_agent_drafts_and_a_problem_manager_publishes_a_known_error(
        api, agent, problem_manager, problem):
    service = ServiceFactory(name="E-mail")
    response = api(agent).post(KNOWN_ERRORS, {
        "title": "Relay queue stuck", "symptoms": "Mail waits in the outbox.",
        "workaround": "Restart the queue runner.", "services": [service.pk],
        "problem": problem.number, "version": 99}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["services"], body["problem"]) == (
        "draft", [service.pk], problem.number)
    record = KnownError.objects.get(number=body["number"])
    error(api(agent).post(url(record, "publish"), {}, format="json"), 403)
    body = api(problem_manager).post(url(record, "publish"), {}, format="json").json()
    assert (body["status"], body["version"]) == ("published", 2) and body["published_at"]
    error(api(problem_manager).post(url(record, "publish"), {}, format="json"), 409)
    error(api(problem_manager).post(url(record, "retire"), {"version": 1}, format="json"), 409)
    assert api(problem_manager).post(url(record, "retire"), {},
                                     format="json").json()["status"] == "retired"
    assert api(problem_manager).post(url(record, "draft"), {},
                                     format="json").json()["status"] == "draft"


def test_a_published_known_error_is_edited_by_problem_managers_only(api, agent,
                                                                    problem_manager):
    record = known_error(agent, publish_by=problem_manager)
    error(api(agent).patch(url(record), {"workaround": "Reboot"}, format="json"), 403)
    error(api(problem_manager).patch(url(record), {"workaround": "Reboot", "version": 1},
                                     format="json"), 409)
    response = api(problem_manager).patch(url(record), {"workaround": "Reboot"},
                                          format="json", HTTP_IF_MATCH=str(record.version))
    assert response.status_code == 200, response.content
    assert response.json()["workaround"] == "Reboot"


@pytest.mark.parametrize(("payload", "field"), [
    ({"title": "Stuck", "symptoms": "Slow"}, "workaround"),
    ({"title": "", "symptoms": "Slow", "workaround": "Restart"}, "title"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "services": [999999]},
     "services"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "services": "1"}, "services"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "categories": [HUGE]},
     "categories"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "problem": "PRB9999999"},
     "problem"),
    ({"title": "Stuck", "symptoms": ["Slow"], "workaround": "Go"}, "symptoms"),
])
def test_bad_known_errors_are_400(api, agent, payload, field):
    body = error(api(agent).post(KNOWN_ERRORS, payload, format="json"), 400)
    assert field in body["field_errors"]
    assert not KnownError.objects.exists()


def test_a_subcategory_on_a_known_error_is_refused(api, agent):
    wifi = CategoryFactory(name="Wi-Fi", parent=CategoryFactory(name="Network"))
    body = error(api(agent).post(KNOWN_ERRORS, {"title": "No Wi-Fi", "symptoms": "Offline",
                                                "workaround": "Cable",
                                                "categories": [wifi.pk]}, format="json"), 400)
    assert "categories" in body["field_errors"]


def test_the_problem_of_a_known_error_is_set_once(api, agent, problem):
    record = known_error(agent)
    body = error(api(agent).patch(url(record), {"problem": problem.number}, format="json"), 400)
    assert "problem" in body["field_errors"]


def test_known_errors_filter_by_status_text_and_service(api, agent, problem_manager):
    mail = ServiceFactory(name="E-mail")
    published = known_error(agent, title="Relay queue stuck", publish_by=problem_manager,
                            services=[mail])
    draft = known_error(agent, title="VPN drops hourly", symptoms="Tunnel resets")
    client = api(agent)

    def numbers(**query):
        response = client.get(KNOWN_ERRORS, query)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    assert numbers() == [draft.number, published.number]
    assert numbers(status="published") == [published.number]
    assert numbers(q="tunnel") == [draft.number]
    assert numbers(q="outbox") == [published.number]
    assert numbers(q=published.number) == [published.number]
    assert numbers(service=mail.pk) == [published.number]
    assert numbers(ordering="number") == [published.number, draft.number]
    error(client.get(KNOWN_ERRORS, {"status": "gone"}), 400)
    error(client.get(KNOWN_ERRORS, {"service": "mail"}), 400)


def test_a_workaround_is_applied_to_an_open_incident_once(api, agent, problem_manager,
                                                           incident, requester):
    draft = known_error(agent)
    client = api(agent)
    error(client.post(url(draft, "apply"), {"incident": incident.number}, format="json"), 409)
    record = known_error(agent, title="Relay stuck", publish_by=problem_manager)
    response = client.post(url(record, "apply"), {"incident": incident.number},
                           format="json")
    assert response.status_code == 201, response.content
    assert response.json()["known_error"] == record.number
    assert response.json()["incident"] == incident.number
    assert response.json()["applied_by"] == agent.pk
    error(client.post(url(record, "apply"), {"incident": incident.number}, format="json"), 409)
    assert WorkaroundApplication.objects.count() == 1
    for value in ("INC9999999", "junk", None, [incident.number]):
        body = error(client.post(url(record, "apply"), {"incident": value}, format="json"),
                     400)
        assert "incident" in body["field_errors"]
    closed = make_incident(by=agent, caller=requester, state="closed")
    error(client.post(url(record, "apply"), {"incident": closed.number}, format="json"), 409)


@pytest.mark.parametrize("number", ["KE9999999", "junk", "PRB0000001", HUGE])
def test_an_unknown_known_error_is_a_404(api, agent, number):
    error(api(agent).get(f"{KNOWN_ERRORS}{number}/"), 404)
    error(api(agent).post(f"{KNOWN_ERRORS}{number}/publish/", {}, format="json"), 404)


# --- articles --------------------------------------------------------------------------------

def test_an_agent_writes_an_article_or_runbook(api, agent, problem_manager):
    response = api(agent).post(ARTICLES, {
        "title": "Restart the mail relay", "kind": "runbook", "audience": "agents",
        "body": "# Steps\n\n1. Stop\n2. Start", "steps": "1. `systemctl restart relay`"},
        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"KB\d{7}", body["number"])
    assert (body["kind"], body["audience"], body["status"]) == ("runbook", "agents", "draft")
    assert body["body"] == "# Steps\n\n1. Stop\n2. Start"  # the Markdown source
    record = Article.objects.get(number=body["number"])
    response = api(agent).patch(url(record), {"audience": "everyone", "version": 1},
                                format="json")
    assert response.json()["audience"] == "everyone" and response.json()["version"] == 2
    error(api(agent).patch(url(record), {"title": "Old", "version": 1}, format="json"), 409)
    assert api(problem_manager).post(url(record, "publish"), {},
                                     format="json").json()["status"] == "published"


@pytest.mark.parametrize(("payload", "field"), [
    ({"title": "Reset"}, "body"),
    ({"title": "Reset", "body": "x", "kind": "novel"}, "kind"),
    ({"title": "Reset", "body": "x", "audience": "world"}, "audience"),
    ({"title": "Reset", "body": ["x"]}, "body"),
    ({"title": "x" * 201, "body": "x"}, "title"),
])
def test_bad_articles_are_400(api, agent, payload, field):
    body = error(api(agent).post(ARTICLES, payload, format="json"), 400)
    assert field in body["field_errors"]
    assert not Article.objects.exists()


def test_requesters_read_only_published_articles_for_everyone(api, agent, problem_manager,
                                                              requester):
    public = article(agent, title="Reset your password", publish_by=problem_manager)
    internal = article(agent, title="Relay runbook", audience=Audience.AGENTS,
                       publish_by=problem_manager)
    draft = article(agent, title="New VPN client")
    client = api(requester)
    rows = client.get(ARTICLES).json()["results"]
    assert [row["number"] for row in rows] == [public.number]
    assert client.get(url(public)).json()["title"] == "Reset your password"
    for hidden in (internal, draft):
        error(client.get(url(hidden)), 404)
    assert client.get(ARTICLES, {"status": "draft"}).json()["results"] == []
    error(client.post(ARTICLES, {"title": "Mine", "body": "x"}, format="json"), 403)
    error(client.patch(url(public), {"title": "Mine"}, format="json"), 403)
    error(client.post(url(public, "retire"), {}, format="json"), 403)
    assert Article.objects.get(pk=public.pk).title == "Reset your password"
    agent_rows = api(agent).get(ARTICLES).json()["results"]
    assert {row["number"] for row in agent_rows} == {public.number, internal.number,
                                                     draft.number}


def test_articles_filter_by_kind_and_audience(api, agent):
    runbook = article(agent, title="Relay runbook", kind="runbook", audience=Audience.AGENTS)
    article(agent, title="Password reset")
    client = api(agent)
    rows = client.get(ARTICLES, {"kind": "runbook"}).json()["results"]
    assert [row["number"] for row in rows] == [runbook.number]
    rows = client.get(ARTICLES, {"audience": "agents", "q": "relay"}).json()["results"]
    assert [row["number"] for row in rows] == [runbook.number]
    error(client.get(ARTICLES, {"kind": "novel"}), 400)


# --- suggestions -----------------------------------------------------------------------------

def test_suggestions_put_the_matching_published_known_error_first(api, agent, requester,
                                                                  problem_manager):
    mail = ServiceFactory(name="E-mail")
    match = known_error(agent, title="Mail is down: relay queue stuck",
                        publish_by=problem_manager, services=[mail])
    known_error(agent, title="Printer offline", symptoms="Printer shows offline",
                workaround="Power cycle", publish_by=problem_manager)
    known_error(agent, title="Mail is down for the finance floor")  # a draft: never offered
    public = article(agent, title="When mail is down", body="Use webmail meanwhile.",
                     publish_by=problem_manager)
    article(agent, title="Mail relay runbook", audience=Audience.AGENTS, body="Mail is down",
            publish_by=problem_manager)
    resolved = make_incident(by=agent, caller=requester, state="resolved",
                             title="Mail is down for the finance floor")
    response = api(agent).get(SUGGESTIONS, {"title": "Mail is down for the finance floor",
                                            "text": "outbox full", "service": mail.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["known_errors"][0]["number"] == match.number
    assert body["known_errors"][0]["workaround"] == match.workaround
    assert body["known_errors"][0]["url"].endswith(url(match))
    assert all(row["number"] != "Printer offline" for row in body["known_errors"])
    assert KnownError.objects.filter(status="draft").get().number not in str(body)
    assert public.number in [row["number"] for row in body["articles"]]
    assert body["incidents"] == [{"number": resolved.number, "title": resolved.title,
                                  "resolution_code": "fixed",
                                  "resolution_notes": resolved.resolution_notes}]
    body = api(requester).get(SUGGESTIONS, {"title": "Mail is down"}).json()
    assert body["known_errors"] == [] and body["incidents"] == []
    assert [row["number"] for row in body["articles"]] == [public.number]


def test_suggestions_for_nothing_are_empty(api, agent):
    body = api(agent).get(SUGGESTIONS).json()
    assert body == {"known_errors": [], "articles": [], "incidents": []}
    assert api(agent).get(SUGGESTIONS, {"title": "!!! ??"}).json()["articles"] == []


@pytest.mark.parametrize("query", [
    {"title": "x" * 201}, {"text": "x" * 10001}, {"service": "mail"}, {"service": HUGE},
    {"category": "-1"}, {"category": "0"},
])
def test_bad_suggestion_queries_are_400(api, agent, query):
    error(api(agent).get(SUGGESTIONS, query), 400)


# --- schema ----------------------------------------------------------------------------------

def test_the_schema_describes_every_endpoint(api, agent):
    response = api(agent).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for slug in SLUGS.values():
        operation = paths[f"/api/v1/problems/{{number}}/{slug}/"]["post"]
        assert operation["tags"] == ["problems"]
        assert "requestBody" in operation and "409" in operation["responses"], slug
    summaries = {paths[f"/api/v1/problems/{{number}}/{slug}/"]["post"]["summary"]
                 for slug in SLUGS.values()}
    assert len(summaries) == len(SLUGS)  # each transition has its own
    for action in ("whys", "link", "unlink", "resolve-incidents", "known-error"):
        assert "post" in paths[f"/api/v1/problems/{{number}}/{action}/"], action
    assert "get" in paths["/api/v1/problems/{number}/timeline/"]
    assert set(paths["/api/v1/problems/{number}/"]) == {"get", "put", "patch"}
    assert set(paths["/api/v1/known-errors/{number}/"]) == {"get", "patch"}
    for base in ("known-errors", "articles"):
        for action in ("publish", "retire", "draft"):
            operation = paths[f"/api/v1/{base}/{{number}}/{action}/"]["post"]
            assert operation["tags"] == ["knowledge"]
    assert "post" in paths["/api/v1/known-errors/{number}/apply/"]
    suggestions = paths["/api/v1/suggestions/"]["get"]
    assert {p["name"] for p in suggestions["parameters"]} == {"title", "text", "service",
                                                              "category"}
    answer = suggestions["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/Suggestions"}
    listed = {p["name"] for p in paths["/api/v1/problems/"]["get"]["parameters"]}
    assert listed >= {"q", "state", "priority", "team", "owner", "service", "category",
                      "ordering", "limit", "offset"}
    components = schema["components"]["schemas"]
    assert "ProblemStateEnum" in components and "ArticleKindEnum" in components


def test_the_schema_generates_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = dict(GENERATOR_STATS._warn_cache)
    errors = dict(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    validate_schema(schema)
    assert not warnings and not errors, [*warnings, *errors]
