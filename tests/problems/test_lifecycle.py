"""The problem lifecycle: every transition from every state, who may run it, what each one
needs, stale versions, and the problem's timeline."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents.choices import Level, Priority
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from problems import guards, services
from problems.choices import ProblemEntryKind, ProblemState
from problems.models import Problem, ProblemEntry
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

S = ProblemState
# Written out by hand, not read from the model: this is the lifecycle users were promised.
LEGAL = {
    (S.NEW, "assess"): S.ASSESSED,
    (S.ASSESSED, "analyze"): S.ROOT_CAUSE_ANALYSIS,
    (S.ROOT_CAUSE_ANALYSIS, "start_fix"): S.FIX_IN_PROGRESS,
    (S.FIX_IN_PROGRESS, "resolve"): S.RESOLVED,
    (S.RESOLVED, "close"): S.CLOSED,
    (S.FIX_IN_PROGRESS, "reanalyze"): S.ROOT_CAUSE_ANALYSIS,
    (S.RESOLVED, "reanalyze"): S.ROOT_CAUSE_ANALYSIS,
    (S.RISK_ACCEPTED, "reanalyze"): S.ROOT_CAUSE_ANALYSIS,
    (S.NEW, "cancel"): S.CANCELED,
    (S.ASSESSED, "cancel"): S.CANCELED,
    (S.ROOT_CAUSE_ANALYSIS, "cancel"): S.CANCELED,
    (S.FIX_IN_PROGRESS, "cancel"): S.CANCELED,
    (S.NEW, "mark_duplicate"): S.DUPLICATE,
    (S.ASSESSED, "mark_duplicate"): S.DUPLICATE,
    (S.ROOT_CAUSE_ANALYSIS, "mark_duplicate"): S.DUPLICATE,
    (S.ASSESSED, "accept_risk"): S.RISK_ACCEPTED,
    (S.ROOT_CAUSE_ANALYSIS, "accept_risk"): S.RISK_ACCEPTED,
}
ILLEGAL = [(state, name) for state in S.values for name in guards.TRANSITIONS
           if (state, name) not in LEGAL]
MANAGER_ONLY = ["assess", "close", "cancel", "mark_duplicate", "accept_risk"]
WORK = ["analyze", "start_fix", "resolve", "reanalyze"]
NOTES = {"close": "Fix verified for a week.", "reanalyze": "The fix did not hold.",
         "cancel": "Raised in error.", "accept_risk": "Legacy system, retired in Q3 (CIO)."}
# The way into each state, as (transition, note) steps run by a problem manager.
PATHS = {
    S.NEW: [],
    S.ASSESSED: ["assess"],
    S.ROOT_CAUSE_ANALYSIS: ["assess", "analyze"],
    S.FIX_IN_PROGRESS: ["assess", "analyze", "start_fix"],
    S.RESOLVED: ["assess", "analyze", "start_fix", "resolve"],
    S.CLOSED: ["assess", "analyze", "start_fix", "resolve", "close"],
    S.CANCELED: ["cancel"],
    S.DUPLICATE: ["mark_duplicate"],
    S.RISK_ACCEPTED: ["assess", "accept_risk"],
}


def fresh(problem: Problem) -> Problem:
    return Problem.objects.get(pk=problem.pk)


def snapshot(problem: Problem) -> dict:
    """What a refused call must leave untouched."""
    row = fresh(problem)
    return {"state": row.state, "version": row.version, "timeline": row.timeline.count(),
            "links": sorted(row.links.values_list("incident_id", flat=True)),
            "closing_note": row.closing_note, "duplicate_of": row.duplicate_of_id,
            "resolved_at": row.resolved_at, "closed_at": row.closed_at}


def run(problem, by, name, *, original=None, **kw):
    """One transition with everything it needs (its note, the problem it duplicates)."""
    params = {"note": NOTES.get(name, "")}
    if name == "mark_duplicate":
        params["duplicate_of"] = original
    return services.problem_transition(problem=problem, by=by, name=name,
                                       **{**params, **kw})


def walk(problem, state, by, *, original=None) -> Problem:
    """Give the problem a root cause and a fix, then walk it to `state` as `by`."""
    problem = services.problem_update(problem=problem, by=by, root_cause="Relay cert expired.",
                                      permanent_fix="Auto-renew the relay certificate.")
    for name in PATHS[state]:
        problem = run(problem, by, name, original=original)
    return fresh(problem)


@pytest.fixture
def original(agent, team):
    """Another open problem, the one a duplicate points to."""
    return services.problem_create(by=agent, title="Mail relay rejects TLS", assignment_team=team)


# --- the table -------------------------------------------------------------------------------

def test_the_table_covers_every_state_and_every_transition():
    assert set(guards.TRANSITIONS) == set(MANAGER_ONLY) | set(WORK)
    assert set(guards.MANAGER_TRANSITIONS) == set(MANAGER_ONLY)
    assert set(PATHS) == set(S)
    assert len(LEGAL) + len(ILLEGAL) == len(S) * len(guards.TRANSITIONS) == 81


@pytest.mark.parametrize(("state", "name"), list(LEGAL), ids=lambda v: str(v))
def test_a_legal_transition_moves_the_state_bumps_the_version_and_is_logged(
    problem, problem_manager, original, state, name
):
    problem = walk(problem, state, problem_manager, original=original)
    entries = problem.timeline.count()

    result = run(problem, problem_manager, name, original=original, version=problem.version)

    row = fresh(problem)
    assert row.state == result.state == LEGAL[(state, name)]
    assert row.version == problem.version + 1
    entry = row.timeline.filter(kind=ProblemEntryKind.TRANSITION).last()
    assert (entry.field, entry.old_value, entry.new_value) == (
        "state", S(state).label, S(LEGAL[(state, name)]).label)
    assert entry.codes == {"from": state, "to": LEGAL[(state, name)], "transition": name}
    assert entry.actor == problem_manager
    assert row.timeline.count() > entries


@pytest.mark.parametrize(("state", "name"), ILLEGAL, ids=lambda v: str(v))
def test_an_illegal_transition_is_a_conflict_and_changes_nothing(
    problem, problem_manager, original, state, name
):
    problem = walk(problem, state, problem_manager, original=original)
    before = snapshot(problem)

    with pytest.raises(Conflict) as err:
        run(problem, problem_manager, name, original=original, version=problem.version)

    assert problem.number in err.value.message
    assert "cannot be" in err.value.message
    assert snapshot(problem) == before


@pytest.mark.parametrize(("state", "name"), ILLEGAL[::7], ids=lambda v: str(v))
def test_an_illegal_transition_is_a_conflict_before_any_permission_check(
    problem, problem_manager, other_agent, original, state, name
):
    problem = walk(problem, state, problem_manager, original=original)
    with pytest.raises(Conflict):
        run(problem, other_agent, name, original=original)


def test_an_unknown_transition_is_bad_input(problem, problem_manager):
    with pytest.raises(InvalidInput) as err:
        services.problem_transition(problem=problem, by=problem_manager, name="delete")
    assert "transition" in err.value.field_errors
    assert fresh(problem).state == S.NEW


# --- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MANAGER_ONLY)
def test_a_manager_only_transition_is_forbidden_to_the_problems_own_team(
    problem, problem_manager, agent, original, name
):
    source = next(state for state, n in LEGAL if n == name)
    problem = walk(problem, source, problem_manager, original=original)
    before = snapshot(problem)

    with pytest.raises(Forbidden, match="problem managers"):
        run(problem, agent, name, original=original)

    assert snapshot(problem) == before


def test_an_incident_manager_is_not_a_problem_manager(problem, manager):
    with pytest.raises(Forbidden):
        run(problem, manager, "assess")
    assert fresh(problem).state == S.NEW


@pytest.mark.parametrize("name", WORK)
def test_the_problems_team_works_it(problem, problem_manager, agent, name):
    source = next(state for state, n in LEGAL if n == name)
    problem = walk(problem, source, problem_manager)

    run(problem, agent, name)

    assert fresh(problem).state == LEGAL[(source, name)]


def test_its_owner_works_it_without_being_in_its_team(problem, problem_manager, other_agent):
    problem = walk(problem, S.ASSESSED, problem_manager)
    services.problem_update(problem=problem, by=problem_manager, owner=other_agent)

    run(problem, other_agent, "analyze")

    assert fresh(problem).state == S.ROOT_CAUSE_ANALYSIS


@pytest.mark.parametrize("name", WORK)
def test_an_agent_of_another_team_cannot_work_it(
    problem, problem_manager, other_agent, name
):
    source = next(state for state, n in LEGAL if n == name)
    problem = walk(problem, source, problem_manager)
    before = snapshot(problem)

    with pytest.raises(Forbidden):
        run(problem, other_agent, name)

    assert snapshot(problem) == before


def test_a_requester_runs_no_transition(problem, requester):
    with pytest.raises(Forbidden, match="agents"):
        run(problem, requester, "assess")
    assert fresh(problem).state == S.NEW


# --- what each transition needs --------------------------------------------------------------

def test_starting_the_fix_needs_the_root_cause(problem, problem_manager):
    for name in PATHS[S.ROOT_CAUSE_ANALYSIS]:
        problem = run(problem, problem_manager, name)
    before = snapshot(problem)

    with pytest.raises(InvalidInput) as err:
        run(problem, problem_manager, "start_fix")

    assert "root_cause" in err.value.field_errors
    assert snapshot(problem) == before
    services.problem_update(problem=problem, by=problem_manager, root_cause="Expired cert.")
    assert run(problem, problem_manager, "start_fix").state == S.FIX_IN_PROGRESS


def test_a_blank_root_cause_does_not_count(problem, problem_manager):
    problem = services.problem_update(problem=problem, by=problem_manager, root_cause="   ")
    for name in PATHS[S.ROOT_CAUSE_ANALYSIS]:
        problem = run(problem, problem_manager, name)
    with pytest.raises(InvalidInput):
        run(problem, problem_manager, "start_fix")


def test_resolving_needs_the_permanent_fix(problem, problem_manager):
    problem = services.problem_update(problem=problem, by=problem_manager, root_cause="Cert.")
    for name in PATHS[S.FIX_IN_PROGRESS]:
        problem = run(problem, problem_manager, name)
    before = snapshot(problem)

    with pytest.raises(InvalidInput) as err:
        run(problem, problem_manager, "resolve")

    assert "permanent_fix" in err.value.field_errors
    assert snapshot(problem) == before


@pytest.mark.parametrize("name", ["cancel", "reanalyze", "accept_risk"])
@pytest.mark.parametrize("note", ["", "   \n"])
def test_canceling_reanalysing_and_accepting_the_risk_need_a_note(
    problem, problem_manager, name, note
):
    source = next(state for state, n in LEGAL if n == name and state != S.NEW)
    problem = walk(problem, source, problem_manager)
    before = snapshot(problem)

    with pytest.raises(InvalidInput) as err:
        run(problem, problem_manager, name, note=note)

    assert "note" in err.value.field_errors
    assert snapshot(problem) == before


@pytest.mark.parametrize("name", ["cancel", "accept_risk", "close"])
def test_the_note_is_kept_as_the_closing_note_and_on_the_timeline(
    problem, problem_manager, name
):
    source = next(state for state, n in LEGAL if n == name and state != S.NEW)
    problem = walk(problem, source, problem_manager)

    run(problem, problem_manager, name, note="  Agreed with the service owner.  ")

    row = fresh(problem)
    assert row.closing_note == "Agreed with the service owner."
    assert row.closed_at is not None
    assert row.timeline.last().body == "Agreed with the service owner."


def test_a_note_longer_than_2000_characters_is_refused(problem, problem_manager):
    with pytest.raises(InvalidInput):
        run(problem, problem_manager, "cancel", note="x" * 2001)
    assert fresh(problem).state == S.NEW


def test_resolve_close_and_reanalyze_stamp_and_clear_their_times(problem, problem_manager):
    start = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        problem = walk(problem, S.FIX_IN_PROGRESS, problem_manager)
        traveller.shift(timedelta(days=2))
        problem = run(problem, problem_manager, "resolve")
        assert fresh(problem).resolved_at == start + timedelta(days=2)

        problem = run(problem, problem_manager, "reanalyze")
        row = fresh(problem)
        assert row.resolved_at is None
        assert row.closing_note == NOTES["reanalyze"]

        problem = run(row, problem_manager, "start_fix")
        traveller.shift(timedelta(days=1))
        problem = run(problem, problem_manager, "resolve")
        traveller.shift(timedelta(days=7))
        run(problem, problem_manager, "close")
        row = fresh(problem)
        assert row.resolved_at == start + timedelta(days=3)
        assert row.closed_at == start + timedelta(days=10)
        assert row.updated_at == start + timedelta(days=10)


# --- duplicates ------------------------------------------------------------------------------

def test_marking_a_duplicate_moves_its_incidents_to_the_original(
    problem, problem_manager, original, incident, agent, team, requester
):
    second = make_incident(by=agent, caller=requester, assignment_team=team,
                           title="Mail bounces for the finance floor")
    services.problem_link_incidents(problem=problem, by=agent, incidents=[second])

    run(problem, problem_manager, "mark_duplicate", original=original)

    row = fresh(problem)
    assert row.state == S.DUPLICATE
    assert row.duplicate_of == original
    assert not row.links.exists()
    assert set(original.links.values_list("incident_id", flat=True)) == {incident.pk, second.pk}
    moved = original.timeline.filter(kind=ProblemEntryKind.LINKED).last()
    assert moved.body == f"Moved from duplicate {problem.number}"
    assert set(moved.codes["incidents"]) == {incident.number, second.number}
    assert row.timeline.last().body == f"Duplicate of {original.number}"
    line = incident.timeline.filter(kind="problem").last()
    assert original.number in line.body


def test_a_duplicate_needs_the_problem_it_duplicates(problem, problem_manager):
    with pytest.raises(InvalidInput) as err:
        services.problem_transition(problem=problem, by=problem_manager, name="mark_duplicate")
    assert "duplicate_of" in err.value.field_errors
    assert fresh(problem).state == S.NEW


def test_a_problem_cannot_duplicate_itself(problem, problem_manager):
    with pytest.raises(InvalidInput, match="itself"):
        run(problem, problem_manager, "mark_duplicate", original=problem)
    assert fresh(problem).state == S.NEW


@pytest.mark.parametrize("finished", [S.CLOSED, S.CANCELED, S.DUPLICATE])
def test_a_duplicate_of_a_finished_problem_is_refused(
    problem, problem_manager, agent, team, finished
):
    target = services.problem_create(by=agent, title="Relay TLS", assignment_team=team)
    elsewhere = services.problem_create(by=agent, title="Relay TLS again", assignment_team=team)
    target = walk(target, finished, problem_manager, original=elsewhere)
    before = snapshot(problem)

    with pytest.raises(InvalidInput) as err:
        run(problem, problem_manager, "mark_duplicate", original=target)

    assert "duplicate_of" in err.value.field_errors
    assert snapshot(problem) == before
    assert not target.links.exists()


# --- concurrency -----------------------------------------------------------------------------

def test_a_stale_version_is_a_conflict_and_changes_nothing(problem, problem_manager, agent):
    seen = problem.version
    services.problem_update(problem=problem, by=agent, title="Mail relay drops TLS sessions")
    before = snapshot(problem)

    with pytest.raises(Conflict, match="changed by someone else"):
        run(problem, problem_manager, "assess", version=seen)

    assert snapshot(problem) == before


def test_a_stale_version_refuses_an_edit_too(problem, agent):
    seen = problem.version
    services.problem_update(problem=problem, by=agent, description="Since Monday.")

    with pytest.raises(Conflict):
        services.problem_update(problem=problem, by=agent, version=seen, title="Other title")

    row = fresh(problem)
    assert row.title == "Mail is down for the finance floor"
    assert row.description == "Since Monday."


def test_the_current_version_is_accepted(problem, problem_manager):
    run(problem, problem_manager, "assess", version=fresh(problem).version)
    assert fresh(problem).state == S.ASSESSED


# --- the problem's timeline ------------------------------------------------------------------

def test_creating_a_problem_is_the_first_line_of_its_timeline(problem, agent):
    first = problem.timeline.first()
    assert first.kind == ProblemEntryKind.CREATED
    assert first.actor == agent
    assert first.codes == {"state": S.NEW, "priority": problem.priority}


def test_every_changed_field_is_one_line_with_old_and_new_values(problem, agent, other_agent):
    services.problem_update(problem=problem, by=agent, title="Relay certificate expired",
                            impact=Level.HIGH, urgency=Level.HIGH, owner=other_agent)

    lines = {e.field: (e.old_value, e.new_value) for e in
             problem.timeline.filter(kind=ProblemEntryKind.FIELD_CHANGE)}
    assert lines == {
        "title": ("Mail is down for the finance floor", "Relay certificate expired"),
        "impact": ("Medium", "High"),
        "urgency": ("Medium", "High"),
        "owner": ("", str(other_agent)),
        "priority": (Priority(problem.priority).label, Priority(fresh(problem).priority).label),
    }
    assert fresh(problem).priority < problem.priority


def test_an_edit_that_changes_nothing_writes_nothing(problem, agent):
    before = snapshot(problem)
    services.problem_update(problem=problem, by=agent, title=problem.title)
    assert snapshot(problem) == before


def test_a_finished_problem_cannot_be_edited(problem, problem_manager):
    problem = walk(problem, S.CANCELED, problem_manager)
    with pytest.raises(Conflict, match="canceled"):
        services.problem_update(problem=problem, by=problem_manager, title="Too late")
    assert fresh(problem).title == "Mail is down for the finance floor"


def test_the_5_whys_are_one_line_and_an_unchanged_chain_writes_nothing(problem, agent):
    whys = [("Why did mail stop?", "The relay refused TLS."),
            ("Why did it refuse TLS?", "Its certificate expired.")]
    services.problem_save_whys(problem=problem, by=agent, whys=[*whys, ("", "")])
    services.problem_save_whys(problem=problem, by=agent, whys=whys)

    lines = problem.timeline.filter(kind=ProblemEntryKind.WHYS)
    assert lines.count() == 1
    assert "2. Why? Why did it refuse TLS? — Its certificate expired." in lines.get().body
    assert [w.question for w in problem.whys.all()] == [q for q, _ in whys]


def test_a_note_is_a_line_of_its_own(problem, other_agent):
    services.problem_note(problem=problem, by=other_agent, body="Vendor ticket 4411 opened.")
    line = problem.timeline.last()
    assert (line.kind, line.body, line.actor) == (ProblemEntryKind.NOTE,
                                                  "Vendor ticket 4411 opened.", other_agent)


def test_a_whole_life_leaves_one_transition_line_per_step(problem, problem_manager):
    walk(problem, S.CLOSED, problem_manager)

    steps = [(e.codes["from"], e.codes["to"]) for e in
             ProblemEntry.objects.filter(problem=problem, kind=ProblemEntryKind.TRANSITION)]
    assert steps == [(S.NEW, S.ASSESSED), (S.ASSESSED, S.ROOT_CAUSE_ANALYSIS),
                     (S.ROOT_CAUSE_ANALYSIS, S.FIX_IN_PROGRESS),
                     (S.FIX_IN_PROGRESS, S.RESOLVED), (S.RESOLVED, S.CLOSED)]
