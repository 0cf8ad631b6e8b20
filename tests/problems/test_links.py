"""Incidents linked to problems: raising a problem from incidents, moving and unlinking them,
the agents-only line on each incident's timeline, and resolving every incident a fix closes."""

import pytest

from incidents import events as incident_events
from incidents import services as incident_services
from incidents.choices import EntryKind, HoldReason, ResolutionCode, State
from incidents.models import Incident
from incidents.selectors import timeline_for
from itsm.events import subscribed
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from problems import services
from problems.choices import ProblemEntryKind, ProblemState
from problems.models import Problem, ProblemLink
from tests.factories import CategoryFactory, ServiceFactory, make_incident

pytestmark = pytest.mark.django_db


def fresh(row):
    return type(row).objects.get(pk=row.pk)


def awaiting(incident, by):
    """Put an in-progress incident on hold until the problem is fixed."""
    return incident_services.incident_hold(incident=incident, by=by,
                                           reason=HoldReason.AWAITING_PROBLEM)


def fixing(problem, by) -> Problem:
    """Walk the problem to "fix in progress", recording its cause and fix on the way."""
    problem = services.problem_update(problem=problem, by=by, root_cause="Relay cert expired.",
                                      permanent_fix="Renewed the relay certificate.")
    for name in ("assess", "analyze", "start_fix"):
        problem = services.problem_transition(problem=problem, by=by, name=name)
    return problem


def problem_lines(incident, user):
    return [e for e in timeline_for(incident=incident, user=user) if e.kind == EntryKind.PROBLEM]


# --- raising a problem from incidents --------------------------------------------------------

def test_a_problem_raised_from_incidents_links_them_all_and_takes_the_firsts_details(
    agent, team, requester
):
    service, category = ServiceFactory(name="E-mail"), CategoryFactory(name="Software")
    first = make_incident(by=agent, caller=requester, assignment_team=team, service=service,
                          category=category, title="Outlook cannot reach the server")
    others = [make_incident(by=agent, caller=requester, assignment_team=team,
                            title=f"Mail down on floor {n}") for n in (2, 3)]

    problem = services.problem_create(by=agent, incidents=[first, *others])

    assert set(problem.links.values_list("incident_id", flat=True)) == {
        first.pk, *(i.pk for i in others)}
    assert (problem.title, problem.service, problem.category) == (
        "Outlook cannot reach the server", service, category)
    assert problem.number.startswith("PRB") and len(problem.number) == 10
    line = problem.timeline.get(kind=ProblemEntryKind.LINKED)
    assert line.codes == {"incidents": [first.number, *(i.number for i in others)]}


def test_each_linked_incident_gets_an_agents_only_problem_line(agent, team, requester):
    incidents = [make_incident(by=agent, caller=requester, assignment_team=team)
                 for _ in range(3)]

    problem = services.problem_create(by=agent, incidents=incidents, title="Relay TLS failures")

    for incident in incidents:
        [line] = problem_lines(incident, agent)
        assert line.body == f"Linked to problem {problem.number}: Relay TLS failures"
        assert line.new_code == {"problem": problem.number, "linked": True}
        assert line.actor == agent
        assert problem_lines(incident, requester) == []
        # The caller still sees the rest of their incident's history.
        assert timeline_for(incident=incident, user=requester).exists()


def test_the_given_title_and_service_win_over_the_first_incidents(agent, incident):
    service = ServiceFactory(name="VPN")
    problem = services.problem_create(by=agent, incidents=[incident], title="VPN drops",
                                      service=service)
    assert (problem.title, problem.service) == ("VPN drops", service)


def test_a_requester_cannot_raise_a_problem(requester, incident):
    with pytest.raises(Forbidden):
        services.problem_create(by=requester, incidents=[incident])
    assert not Problem.objects.exists()


def test_a_problem_with_no_title_and_no_incident_is_refused(agent):
    with pytest.raises(InvalidInput) as err:
        services.problem_create(by=agent)
    assert "title" in err.value.field_errors
    assert not Problem.objects.exists()


# --- linking, moving, unlinking --------------------------------------------------------------

def test_linking_an_incident_linked_elsewhere_moves_it(problem, incident, agent, other_agent):
    elsewhere = services.problem_create(by=other_agent, title="Relay TLS failures")

    changed = services.problem_link_incidents(problem=elsewhere, by=other_agent,
                                              incidents=[incident])

    assert changed == [incident]
    assert fresh(incident).problem_link.problem == elsewhere
    assert not problem.links.exists()
    line = elsewhere.timeline.filter(kind=ProblemEntryKind.LINKED).last()
    assert line.body == f"{incident.number} moved from {problem.number}"
    bodies = [e.body for e in problem_lines(incident, agent)]
    assert bodies[-1].startswith(f"Linked to problem {elsewhere.number}")


def test_linking_an_incident_already_linked_here_changes_nothing(problem, incident, agent):
    entries, lines = problem.timeline.count(), len(problem_lines(incident, agent))

    assert services.problem_link_incidents(problem=problem, by=agent, incidents=[incident]) == []

    assert problem.timeline.count() == entries
    assert len(problem_lines(incident, agent)) == lines
    assert ProblemLink.objects.filter(incident=incident).count() == 1


def test_any_agent_may_link_an_incident(problem, other_agent, team_incidents):
    [other] = team_incidents(1)
    services.problem_link_incidents(problem=problem, by=other_agent, incidents=[other])
    assert fresh(other).problem_link.problem == problem


@pytest.mark.parametrize("who", ["requester", "stranger"])
def test_a_requester_cannot_link(problem, team_incidents, request, who):
    [other] = team_incidents(1)
    with pytest.raises(Forbidden):
        services.problem_link_incidents(problem=problem, by=request.getfixturevalue(who),
                                        incidents=[other])
    assert not ProblemLink.objects.filter(incident=other).exists()


def test_a_canceled_problem_takes_no_more_incidents(problem, problem_manager, team_incidents):
    services.problem_transition(problem=problem, by=problem_manager, name="cancel",
                                note="Raised in error.")
    [other] = team_incidents(1)
    with pytest.raises(Conflict, match="canceled"):
        services.problem_link_incidents(problem=problem, by=problem_manager, incidents=[other])
    assert not ProblemLink.objects.filter(incident=other).exists()


def test_linking_nothing_is_bad_input(problem, agent):
    with pytest.raises(InvalidInput):
        services.problem_link_incidents(problem=problem, by=agent, incidents=[])


def test_unlinking_takes_the_incident_off_and_says_so_on_both_timelines(
    problem, incident, agent
):
    services.problem_unlink_incident(problem=problem, by=agent, incident=incident)

    assert not ProblemLink.objects.filter(incident=incident).exists()
    line = problem.timeline.last()
    assert (line.kind, line.codes) == (ProblemEntryKind.UNLINKED,
                                       {"incidents": [incident.number]})
    last = problem_lines(incident, agent)[-1]
    assert last.body.startswith(f"Unlinked from problem {problem.number}")
    assert last.new_code == {"problem": problem.number, "linked": False}


def test_unlinking_an_incident_that_is_not_linked_is_bad_input(problem, agent, team_incidents):
    [other] = team_incidents(1)
    entries = problem.timeline.count()
    with pytest.raises(InvalidInput):
        services.problem_unlink_incident(problem=problem, by=agent, incident=other)
    assert problem.timeline.count() == entries


def test_only_those_who_work_the_problem_unlink(problem, incident, other_agent):
    with pytest.raises(Forbidden):
        services.problem_unlink_incident(problem=problem, by=other_agent, incident=incident)
    assert fresh(incident).problem_link.problem == problem


# --- resolving the incidents a fix closes ----------------------------------------------------

@pytest.fixture
def waiting(problem, incident, agent, team_incidents):
    """Two linked incidents on hold awaiting the problem (`incident` one of them)."""
    incident = awaiting(incident_services.incident_acknowledge(incident=incident, by=agent),
                        agent)
    [second] = team_incidents(1, "in_progress", title="Mail bounces on floor 4")
    services.problem_link_incidents(problem=problem, by=agent, incidents=[second])
    return [incident, awaiting(second, agent)]


def test_the_fix_resolves_every_linked_incident_awaiting_it(
    problem, waiting, agent, problem_manager, team_incidents
):
    [held_for_caller] = team_incidents(1, "on_hold")
    [in_progress] = team_incidents(1, "in_progress")
    services.problem_link_incidents(problem=problem, by=agent,
                                    incidents=[held_for_caller, in_progress])
    [unlinked] = team_incidents(1, "in_progress")
    unlinked = awaiting(unlinked, agent)
    problem = fixing(problem, problem_manager)

    result = services.problem_resolve_incidents(problem=problem, by=agent)

    assert {i.pk for i in result.incidents} == {i.pk for i in waiting}
    assert result.refused == {}
    for incident in waiting:
        row = fresh(incident)
        assert row.state == State.RESOLVED
        assert row.resolution_code == ResolutionCode.FIXED
        assert row.resolution_notes == f"Fixed by {problem.number}: Renewed the relay certificate."
        steps = [(e.old_value, e.new_value) for e in
                 row.timeline.filter(kind=EntryKind.TRANSITION).order_by("at", "id")][-2:]
        assert steps == [(State.ON_HOLD.label, State.IN_PROGRESS.label),
                         (State.IN_PROGRESS.label, State.RESOLVED.label)]
    assert fresh(held_for_caller).state == State.ON_HOLD
    assert fresh(in_progress).state == State.IN_PROGRESS
    assert fresh(unlinked).state == State.ON_HOLD
    line = problem.timeline.last()
    assert line.kind == ProblemEntryKind.INCIDENTS_RESOLVED
    assert sorted(line.codes["resolved"]) == sorted(i.number for i in waiting)
    assert line.body == ""


def test_the_agents_own_notes_are_the_resolution_notes(problem, waiting, agent, problem_manager):
    problem = fixing(problem, problem_manager)
    services.problem_resolve_incidents(problem=problem, by=agent,
                                       notes="Certificate renewed; mail flows again.")
    assert {fresh(i).resolution_notes for i in waiting} == {
        "Certificate renewed; mail flows again."}


def test_an_incident_the_agent_may_not_work_is_refused_and_the_others_resolve(
    problem, waiting, agent, other_agent, other_team, problem_manager, requester
):
    theirs = make_incident(by=other_agent, caller=requester, assignment_team=other_team,
                           state="in_progress", title="Mail down in the data centre")
    theirs = awaiting(theirs, other_agent)
    services.problem_link_incidents(problem=problem, by=other_agent, incidents=[theirs])
    problem = fixing(problem, problem_manager)

    result = services.problem_resolve_incidents(problem=problem, by=agent)

    assert list(result.refused) == [theirs.number]
    assert fresh(theirs).state == State.ON_HOLD
    assert fresh(theirs).hold_reason == HoldReason.AWAITING_PROBLEM
    assert {fresh(i).state for i in waiting} == {State.RESOLVED}
    line = problem.timeline.last()
    assert line.codes["refused"] == result.refused
    assert line.body.startswith(f"Not resolved:\n{theirs.number}: ")


def test_an_incident_changed_meanwhile_is_refused_and_does_not_block_the_others(
    problem, waiting, agent, problem_manager
):
    first, second = sorted(waiting, key=lambda i: i.number)
    problem = fixing(problem, problem_manager)

    def someone_else_resumes_the_second(event):
        # Another agent resumes `second` between the bulk action's read and its turn.
        if event.incident.pk == first.pk and event.transition == "resume":
            incident_services.incident_resume(incident=second, by=problem_manager)

    with subscribed(incident_events.Transitioned, someone_else_resumes_the_second):
        result = services.problem_resolve_incidents(problem=problem, by=agent)

    assert [i.pk for i in result.incidents] == [first.pk]
    assert list(result.refused) == [second.number]
    assert fresh(first).state == State.RESOLVED
    assert fresh(second).state == State.IN_PROGRESS


def test_a_problem_manager_resolves_incidents_of_any_team(
    problem, waiting, problem_manager, other_agent, other_team, requester
):
    theirs = awaiting(make_incident(by=other_agent, caller=requester, assignment_team=other_team,
                                    state="in_progress"), other_agent)
    services.problem_link_incidents(problem=problem, by=other_agent, incidents=[theirs])
    problem = fixing(problem, problem_manager)

    result = services.problem_resolve_incidents(problem=problem, by=problem_manager)

    assert result.refused == {}
    assert fresh(theirs).state == State.RESOLVED


def test_a_resolved_problem_still_resolves_its_incidents(problem, waiting, problem_manager):
    problem = services.problem_transition(problem=fixing(problem, problem_manager),
                                          by=problem_manager, name="resolve")
    services.problem_resolve_incidents(problem=problem, by=problem_manager)
    assert {fresh(i).state for i in waiting} == {State.RESOLVED}


@pytest.mark.parametrize("steps", [[], ["assess"], ["assess", "analyze"]])
def test_a_problem_without_a_fix_resolves_nothing(problem, waiting, problem_manager, steps):
    for name in steps:
        problem = services.problem_transition(problem=problem, by=problem_manager, name=name)
    entries = problem.timeline.count()

    with pytest.raises(Conflict, match="no fix yet"):
        services.problem_resolve_incidents(problem=problem, by=problem_manager)

    assert {fresh(i).state for i in waiting} == {State.ON_HOLD}
    assert problem.timeline.count() == entries


def test_with_nothing_awaiting_the_fix_it_is_a_conflict(problem, problem_manager):
    problem = fixing(problem, problem_manager)
    with pytest.raises(Conflict, match="on hold awaiting it"):
        services.problem_resolve_incidents(problem=problem, by=problem_manager)
    assert not problem.timeline.filter(kind=ProblemEntryKind.INCIDENTS_RESOLVED).exists()


def test_only_those_who_work_the_problem_resolve_its_incidents(
    problem, waiting, problem_manager, other_agent
):
    problem = fixing(problem, problem_manager)
    with pytest.raises(Forbidden):
        services.problem_resolve_incidents(problem=problem, by=other_agent)
    assert {fresh(i).state for i in waiting} == {State.ON_HOLD}
    assert Incident.objects.filter(state=State.RESOLVED).count() == 0


def test_problem_state_is_untouched_by_resolving_its_incidents(problem, waiting, problem_manager):
    problem = fixing(problem, problem_manager)
    services.problem_resolve_incidents(problem=problem, by=problem_manager)
    assert fresh(problem).state == ProblemState.FIX_IN_PROGRESS
