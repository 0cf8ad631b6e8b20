"""Two people, or two workers, on the same problem data at the same moment, on real
connections: nobody's work is lost and no race ends in an error page."""

import pytest

from problems import services
from problems.models import ProblemLink, SuggestedProblem, SuggestionMember
from problems.recurrence import detect_recurrence
from tests.factories import CategoryFactory, ServiceFactory, make_incident
from tests.incidents.test_concurrency import race

# serialized_rollback: see tests/incidents/test_concurrency.py.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_one_incident_linked_to_two_problems_at_once_ends_linked_once(agent, team, incident):
    first = services.problem_create(by=agent, title="Relay certificate", assignment_team=team)
    second = services.problem_create(by=agent, title="Relay disk full", assignment_team=team)

    results = race(
        lambda: services.problem_link_incidents(problem=first, by=agent, incidents=[incident]),
        lambda: services.problem_link_incidents(problem=second, by=agent, incidents=[incident]))

    assert all(isinstance(r, list) for r in results), results  # neither failed
    link = ProblemLink.objects.get(incident=incident)  # the later one moved it: one link
    assert link.problem in (first, second)


def test_two_workers_detecting_at_once_suggest_a_cluster_once(agent, team, requester):
    service, category = ServiceFactory(name="E-mail"), CategoryFactory(name="Hardware")
    incidents = [make_incident(by=agent, caller=requester, assignment_team=team,
                               title=title, service=service, category=category)
                 for title in ("Laptop will not boot", "Monitor flickers", "Dock is dead")]

    results = race(detect_recurrence, detect_recurrence)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert SuggestedProblem.objects.count() == 1
    assert set(SuggestionMember.objects.values_list("incident", flat=True)) == {
        i.pk for i in incidents}


def test_a_stale_edit_of_a_problem_loses_nothing(agent, team, incident):
    problem = services.problem_create(by=agent, incidents=[incident], assignment_team=team)
    seen = problem.version

    results = race(
        lambda: services.problem_update(problem=problem, by=agent, version=seen,
                                        root_cause="Certificate expired"),
        lambda: services.problem_update(problem=problem, by=agent, version=seen,
                                        workaround="Restart the relay"))

    problem.refresh_from_db()
    saved = [r for r in results if not isinstance(r, Exception)]
    assert len(saved) == 1  # the other was refused as stale, not silently overwritten
    assert bool(problem.root_cause) != bool(problem.workaround)
