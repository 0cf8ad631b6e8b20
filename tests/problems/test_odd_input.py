"""Odd input on the problem, known-error and article pages: a clear answer, never a 5xx, and
nothing changed."""

import pytest
from django.urls import reverse

from problems import services
from problems.choices import KnowledgeStatus
from problems.models import KnownError, Problem, ProblemEntry, Why

pytestmark = pytest.mark.django_db

NUL = "\x00"
HUGE = str(2**70)


@pytest.fixture
def known_error(agent, problem_manager):
    record = services.known_error_create(by=agent, title="Relay refuses mail",
                                         symptoms="Bounces", workaround="Restart the relay")
    return services.knowledge_set_status(record=record, by=problem_manager,
                                         status=KnowledgeStatus.PUBLISHED)


def snapshot(problem) -> tuple:
    problem.refresh_from_db()
    return (problem.version, problem.state, ProblemEntry.objects.filter(problem=problem).count(),
            Why.objects.filter(problem=problem).count())


@pytest.mark.parametrize(("action", "data"), [
    ("whys", {"question": ["Why?"] * 500, "answer": ["Because"] * 500}),
    ("whys", {"question": ["x" * 5000], "answer": [""]}),
    ("whys", {"version": HUGE, "question": ["Why?"]}),
    ("whys", {"version": "-1", "question": ["Why?"]}),
    ("edit", {"title": f"Mail{NUL}", "impact": "high", "urgency": "high"}),
    ("edit", {"title": "Mail", "impact": "enormous", "urgency": "high"}),
    ("edit", {"title": "Mail", "impact": "high", "urgency": "high", "owner": HUGE}),
    ("edit", {"title": "Mail", "impact": "high", "urgency": "high", "assignment_team": "x"}),
    ("analysis", {"change_reference": "C" * 500}),
    ("link", {"incidents": "INC99999999999999"}),
    ("link", {"incidents": "nothing here"}),
    ("link", {"incidents": "INC0999999"}),
    ("unlink", {"incident": "../../etc"}),
    ("mark_duplicate", {"duplicate_of": "PRB0000001"}),
    ("mark_duplicate", {"duplicate_of": "PRB" + "9" * 19}),
    ("mark_duplicate", {"duplicate_of": f"PRB{NUL}"}),
    ("cancel", {"note": ""}),
    ("cancel", {"note": "n" * 3000}),
    ("note", {"body": ""}),
    ("resolve_incidents", {"notes": "fixed"}),
    ("start_fix", {}),
])
def test_bad_input_on_the_problem_page_is_a_4xx_that_changes_nothing(
        as_user, problem_manager, problem, action, data):
    before = snapshot(problem)
    response = as_user(problem_manager).post(
        reverse("problems:act", args=[problem.number, action]), data, HTTP_HX_REQUEST="true")
    assert response.status_code in (400, 403, 409), (action, response.status_code)
    assert b"Traceback" not in response.content
    assert snapshot(problem) == before


@pytest.mark.parametrize("path", [
    "/problems/?q=a%00b", "/problems/?page=" + HUGE, "/problems/?state=new&state=<x>",
    "/problems/?ordering=-password", "/problems/?view=" + "x" * 3000,
    "/problems/new/?incident=INC%00", "/problems/new/?incident=" + "INC1" * 500,
    "/problems/new/?suggestion=" + HUGE, "/problems/suggest/?title=%00",
    "/problems/suggest/?incident=INC0000001%27", "/problems/suggest/?service=" + HUGE,
    "/known-errors/?q=" + "&".join(["x"] * 50), "/known-errors/?q=KE" + "9" * 40,
    "/known-errors/?status=%00", "/articles/?q=:*&|!()", "/articles/?page=-1",
    "/problems/PRB00000019999999999/", "/known-errors/KE99999999/", "/articles/KB0000001/edit/",
])
def test_odd_addresses_never_fail(as_user, problem_manager, problem, known_error, path):
    response = as_user(problem_manager).get(path)
    assert response.status_code in (200, 204, 400, 404), (path, response.status_code)
    assert b"Traceback" not in response.content


def test_an_unknown_action_is_a_404(as_user, agent, problem):
    assert as_user(agent).post(f"/problems/{problem.number}/drop_table/").status_code == 404


@pytest.mark.parametrize("data", [
    {"title": "", "symptoms": "x", "workaround": "y"},
    {"title": "t" * 500, "symptoms": "x", "workaround": "y"},
    {"title": f"a{NUL}", "symptoms": "x", "workaround": "y"},
    {"title": "t", "symptoms": "x", "workaround": "y", "services": [HUGE]},
    {"title": "t", "symptoms": "x", "workaround": "y", "categories": ["abc"]},
])
def test_a_bad_known_error_form_is_a_400_and_saves_nothing(as_user, agent, data):
    response = as_user(agent).post(reverse("problems:known-error-new"), data)
    assert response.status_code == 400
    assert not KnownError.objects.exists()


@pytest.mark.parametrize("data", [{"incident": ""}, {"incident": "INC<script>"},
                                  {"incident": "INC9999999"}])
def test_applying_to_a_missing_incident_is_a_404(as_user, agent, known_error, data):
    response = as_user(agent).post(reverse("problems:apply", args=[known_error.number]), data)
    assert response.status_code == 404


@pytest.mark.parametrize("data", [{"status": "deleted"}, {"status": "published",
                                                          "version": HUGE}])
def test_a_bad_status_change_changes_nothing(as_user, problem_manager, known_error, data):
    as_user(problem_manager).post(reverse("problems:known-error-status",
                                          args=[known_error.number]), data)
    known_error.refresh_from_db()
    assert known_error.status == KnowledgeStatus.PUBLISHED


def test_a_new_problem_with_an_unknown_suggestion_is_still_a_form(as_user, agent):
    response = as_user(agent).get("/problems/new/?suggestion=999999")
    assert response.status_code == 200
    assert not Problem.objects.exists()
