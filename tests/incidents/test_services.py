"""The incident service layer: lifecycle, inputs, permissions, priority, routing, escalation,
timeline and optimistic concurrency. Every refusal is checked to have written nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import selectors, services
from incidents.choices import EntryKind, HoldReason, Level, Priority, ResolutionCode, State
from incidents.models import Incident, PriorityMatrix, RoutingRule, TimelineEntry
from itsm.choices import Criticality, Role
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import Notification
from tests.factories import (
    AgentFactory,
    CategoryFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    make_incident,
)

pytestmark = pytest.mark.django_db

PARAMS = {
    "acknowledge": {},
    "hold": {"reason": HoldReason.AWAITING_VENDOR},
    "resume": {},
    "resolve": {"code": ResolutionCode.WORKAROUND, "notes": "Used the backup relay."},
    "close": {},
    "reopen": {},
    "cancel": {"reason": "Duplicate of an incident already being worked."},
}
LEGAL = {
    (State.NEW, "acknowledge"): State.IN_PROGRESS,
    (State.IN_PROGRESS, "hold"): State.ON_HOLD,
    (State.ON_HOLD, "resume"): State.IN_PROGRESS,
    (State.IN_PROGRESS, "resolve"): State.RESOLVED,
    (State.RESOLVED, "close"): State.CLOSED,
    (State.RESOLVED, "reopen"): State.IN_PROGRESS,
    (State.NEW, "cancel"): State.CANCELED,
    (State.IN_PROGRESS, "cancel"): State.CANCELED,
    (State.ON_HOLD, "cancel"): State.CANCELED,
}
ILLEGAL = [(state, name) for state in State.values for name in services.TRANSITIONS
           if (state, name) not in LEGAL]


def fresh(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def snapshot(incident: Incident) -> dict:
    """What a refused call must leave untouched."""
    row = fresh(incident)
    return {
        "state": row.state, "version": row.version, "timeline": row.timeline.count(),
        "priority": row.priority, "team": row.assignment_team_id, "assignee": row.assignee_id,
        "title": row.title, "impact": row.impact, "notifications": Notification.objects.count(),
    }


@pytest.fixture
def team_incident(team, agent, requester):
    """Walk an incident of `team` (caller: requester) to any state."""
    return lambda state="new", **kw: make_incident(by=agent, caller=requester,
                                                  assignment_team=team, state=state, **kw)


# --- the lifecycle ---------------------------------------------------------------------------

def test_the_transition_table_covers_every_state_and_transition():
    assert len(LEGAL) + len(ILLEGAL) == len(State.values) * len(services.TRANSITIONS) == 42


@pytest.mark.parametrize(("state", "name"), list(LEGAL), ids=lambda v: str(v))
def test_a_legal_transition_moves_the_state_bumps_the_version_and_is_logged(
    team_incident, agent, state, name
):
    incident = team_incident(state)
    before = snapshot(incident)

    result = services.TRANSITIONS[name](incident=incident, by=agent, version=incident.version,
                                        **PARAMS[name])

    row = fresh(incident)
    assert row.state == result.state == LEGAL[(state, name)]
    assert row.version > before["version"]
    entry = row.timeline.filter(kind=EntryKind.TRANSITION).last()
    assert (entry.field, entry.old_value, entry.new_value) == (
        "state", State(state).label, State(LEGAL[(state, name)]).label)
    assert entry.actor == agent


@pytest.mark.parametrize(("state", "name"), ILLEGAL, ids=lambda v: str(v))
def test_an_illegal_transition_is_a_conflict_and_changes_nothing(
    team_incident, agent, state, name
):
    incident = team_incident(state)
    before = snapshot(incident)

    with pytest.raises(Conflict) as err:
        services.TRANSITIONS[name](incident=incident, by=agent, version=incident.version,
                                   **PARAMS[name])

    assert incident.number in err.value.message
    assert snapshot(incident) == before


@pytest.mark.parametrize(("state", "name"), ILLEGAL, ids=lambda v: str(v))
def test_an_illegal_transition_is_a_conflict_even_for_a_manager(
    team_incident, manager, state, name
):
    incident = team_incident(state)
    before = snapshot(incident)
    with pytest.raises(Conflict):
        services.TRANSITIONS[name](incident=incident, by=manager, **PARAMS[name])
    assert snapshot(incident) == before


def test_resolve_from_new_is_rejected(team_incident, agent):
    incident = team_incident("new")
    with pytest.raises(Conflict, match="cannot be resolved"):
        services.incident_resolve(incident=incident, by=agent, **PARAMS["resolve"])
    assert fresh(incident).state == State.NEW


def test_acknowledge_starts_work_records_the_time_and_takes_the_incident(team_incident, agent):
    incident = team_incident("new")
    before = timezone.now()

    incident = services.incident_acknowledge(incident=incident, by=agent)

    row = fresh(incident)
    assert row.state == State.IN_PROGRESS
    assert before <= row.acknowledged_at <= timezone.now()
    assert row.assignee == agent
    assert list(row.timeline.values_list("kind", flat=True)) == [
        EntryKind.CREATED, EntryKind.TRANSITION, EntryKind.ASSIGNMENT]


def test_acknowledge_keeps_an_existing_assignee(team, agent, requester):
    colleague = AgentFactory(username="carl")
    team.members.add(colleague)
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             assignee=colleague)
    services.incident_acknowledge(incident=incident, by=agent)
    assert fresh(incident).assignee == colleague


def test_hold_records_the_reason_and_resume_clears_it(team_incident, agent):
    incident = team_incident("in_progress")

    incident = services.incident_hold(incident=incident, by=agent,
                                      reason=HoldReason.AWAITING_CALLER)
    assert fresh(incident).hold_reason == HoldReason.AWAITING_CALLER
    assert incident.timeline.last().body == "Awaiting caller"

    incident = services.incident_resume(incident=incident, by=agent)
    row = fresh(incident)
    assert (row.state, row.hold_reason) == (State.IN_PROGRESS, "")


def test_resolve_records_code_notes_and_time_and_tells_the_caller(team_incident, agent,
                                                                   requester):
    incident = team_incident("in_progress")

    services.incident_resolve(incident=incident, by=agent, code=ResolutionCode.FIXED,
                              notes="  Replaced the failed disk.  ")

    row = fresh(incident)
    assert row.state == State.RESOLVED
    assert (row.resolution_code, row.resolution_notes) == ("fixed", "Replaced the failed disk.")
    assert row.resolved_at is not None
    note = Notification.objects.get(recipient=requester)
    assert note.subject.startswith(f"[{row.number}] Resolved")
    assert "Replaced the failed disk." in note.body


def test_close_records_the_closing_time(team_incident, agent):
    incident = team_incident("resolved")
    services.incident_close(incident=incident, by=agent)
    row = fresh(incident)
    assert row.state == State.CLOSED
    assert row.closed_at >= row.resolved_at


def test_reopen_counts_and_clears_the_resolution(team_incident, agent):
    incident = team_incident("resolved")

    services.incident_reopen(incident=incident, by=agent, reason="Still failing.")

    row = fresh(incident)
    assert row.state == State.IN_PROGRESS
    assert row.reopen_count == 1
    assert (row.resolution_code, row.resolution_notes, row.resolved_at) == ("", "", None)
    assert row.timeline.last().body == "Still failing."

    services.incident_resolve(incident=row, by=agent, **PARAMS["resolve"])
    services.incident_reopen(incident=row, by=agent)
    assert fresh(incident).reopen_count == 2


def test_reopen_keeps_the_first_acknowledgement_time(team_incident, agent):
    incident = team_incident("resolved")
    acknowledged = fresh(incident).acknowledged_at
    services.incident_reopen(incident=incident, by=agent)
    assert fresh(incident).acknowledged_at == acknowledged


@pytest.mark.parametrize("state", [State.NEW, State.IN_PROGRESS, State.ON_HOLD])
def test_cancel_from_an_open_state_records_the_reason(team_incident, agent, state):
    incident = team_incident(state)

    services.incident_cancel(incident=incident, by=agent, reason="  Logged twice. ")

    row = fresh(incident)
    assert row.state == State.CANCELED
    assert row.cancel_reason == "Logged twice."
    assert row.hold_reason == ""
    assert row.closed_at is not None
    assert row.timeline.last().body == "Logged twice."


def test_the_state_field_cannot_be_set_directly(team_incident):
    incident = team_incident("new")
    with pytest.raises(AttributeError):
        incident.state = State.CLOSED


# --- required inputs -------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "fields"), [
    ({"code": ResolutionCode.FIXED, "notes": ""}, {"notes"}),
    ({"code": ResolutionCode.FIXED, "notes": "   "}, {"notes"}),
    ({"code": "", "notes": "Restarted it."}, {"code"}),
    ({"code": "magic", "notes": "Restarted it."}, {"code"}),
    ({"code": "", "notes": ""}, {"code", "notes"}),
])
def test_resolve_without_code_or_notes_names_the_field_and_writes_nothing(
    team_incident, agent, params, fields
):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_resolve(incident=incident, by=agent, **params)
    assert set(err.value.field_errors) == fields
    assert snapshot(incident) == before


@pytest.mark.parametrize("reason", ["", "because", None])
def test_hold_without_a_valid_reason_names_the_field_and_writes_nothing(team_incident, agent,
                                                                        reason):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_hold(incident=incident, by=agent, reason=reason)
    assert set(err.value.field_errors) == {"reason"}
    assert snapshot(incident) == before


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_cancel_without_a_reason_names_the_field_and_writes_nothing(team_incident, agent,
                                                                    reason):
    incident = team_incident("new")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_cancel(incident=incident, by=agent, reason=reason)
    assert set(err.value.field_errors) == {"reason"}
    assert snapshot(incident) == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": "  "}, "title"),
    ({"impact": "huge"}, "impact"),
    ({"urgency": "yesterday"}, "urgency"),
    ({"channel": "pigeon"}, "channel"),
    ({"state": State.CLOSED}, "state"),
    ({"priority": 1}, "priority"),
])
def test_bad_edits_name_the_field_and_write_nothing(team_incident, agent, changes, field):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_update(incident=incident, by=agent, **changes)
    assert field in err.value.field_errors
    assert snapshot(incident) == before


@pytest.mark.parametrize(("fields", "field"), [
    ({"title": "   "}, "title"),
    ({"impact": "huge"}, "impact"),
    ({"urgency": "soon"}, "urgency"),
    ({"channel": "fax"}, "channel"),
])
def test_creating_with_bad_input_names_the_field_and_writes_nothing(agent, fields, field):
    payload = {"title": "VPN drops every hour", **fields}
    with pytest.raises(InvalidInput) as err:
        services.incident_create(by=agent, **payload)
    assert field in err.value.field_errors
    assert not Incident.objects.exists()


def test_a_subcategory_must_belong_to_the_category(agent):
    hardware, software = CategoryFactory(name="Hardware"), CategoryFactory(name="Software")
    laptop = CategoryFactory(name="Laptop", parent=hardware)
    with pytest.raises(InvalidInput) as err:
        services.incident_create(by=agent, title="Screen flickers", category=software,
                                 subcategory=laptop)
    assert "subcategory" in err.value.field_errors
    with pytest.raises(InvalidInput) as err:
        services.incident_create(by=agent, title="Screen flickers", category=laptop)
    assert "category" in err.value.field_errors
    assert not Incident.objects.exists()


def test_an_inactive_category_cannot_be_used(agent):
    retired = CategoryFactory(name="Fax", active=False)
    with pytest.raises(InvalidInput) as err:
        services.incident_create(by=agent, title="Fax is jammed", category=retired)
    assert "category" in err.value.field_errors


def test_an_assignee_must_belong_to_the_team(agent, team, other_team, other_agent):
    with pytest.raises(InvalidInput) as err:
        services.incident_create(by=agent, title="Printer on fire", assignment_team=team,
                                 assignee=other_agent)
    assert "assignee" in err.value.field_errors
    assert not Incident.objects.exists()


def test_an_assignee_without_a_team_is_refused_with_a_message(agent, team):
    loner = AgentFactory(username="lone")
    with pytest.raises(InvalidInput) as err:
        services.incident_create(by=agent, title="Printer on fire", assignee=loner)
    assert "assignee" in err.value.field_errors
    assert not Incident.objects.exists()


def test_an_assignee_alone_brings_their_team(agent, team):
    incident = services.incident_create(by=agent, title="Printer on fire", assignee=agent)
    assert (incident.assignment_team, incident.assignee) == (team, agent)


# --- permissions -----------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "name"), list(LEGAL), ids=lambda v: str(v))
def test_an_agent_of_another_team_cannot_transition_the_teams_incident(
    team_incident, other_agent, other_team, state, name
):
    incident = team_incident(state)
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        services.TRANSITIONS[name](incident=incident, by=other_agent, **PARAMS[name])
    assert snapshot(incident) == before


@pytest.mark.parametrize(("state", "name"), list(LEGAL), ids=lambda v: str(v))
def test_a_manager_can_transition_any_teams_incident(team_incident, manager, state, name):
    incident = team_incident(state)
    services.TRANSITIONS[name](incident=incident, by=manager, **PARAMS[name])
    assert fresh(incident).state == LEGAL[(state, name)]


def test_a_manager_acknowledging_another_teams_incident_leaves_it_with_the_team(
    team_incident, manager, team
):
    incident = services.incident_acknowledge(incident=team_incident("new"), by=manager)
    row = fresh(incident)
    assert row.state == State.IN_PROGRESS
    assert row.assignment_team == team


def test_an_agent_of_another_team_cannot_edit_assign_or_escalate(
    team_incident, other_agent, other_team
):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    calls = [
        lambda: services.incident_update(incident=incident, by=other_agent, title="Mine now"),
        lambda: services.incident_assign(incident=incident, by=other_agent, team=other_team),
        lambda: services.incident_assign_to_me(incident=incident, by=other_agent),
        lambda: services.incident_escalate(incident=incident, by=other_agent, reason="Faster"),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert snapshot(incident) == before


def test_a_manager_can_edit_and_assign_any_teams_incident(team_incident, manager, other_team,
                                                          other_agent):
    incident = team_incident("in_progress")
    services.incident_update(incident=incident, by=manager, title="Mail down for everyone")
    services.incident_assign(incident=incident, by=manager, team=other_team,
                             assignee=other_agent)
    row = fresh(incident)
    assert (row.title, row.assignment_team, row.assignee) == (
        "Mail down for everyone", other_team, other_agent)


def test_any_agent_may_pick_up_an_unassigned_incident(other_agent, other_team, requester):
    incident = services.incident_create(by=requester, title="Cannot print")
    assert incident.assignment_team is None
    services.incident_acknowledge(incident=incident, by=other_agent)
    row = fresh(incident)
    assert (row.state, row.assignment_team, row.assignee) == (
        State.IN_PROGRESS, other_team, other_agent)


def test_the_assignee_may_work_an_incident_of_a_team_they_left(team_incident, agent, team):
    incident = services.incident_acknowledge(incident=team_incident("new"), by=agent)
    team.members.remove(agent)
    del agent._itsm_team_ids  # the per-request cache, as a fresh request would have it
    services.incident_resolve(incident=incident, by=agent, **PARAMS["resolve"])
    assert fresh(incident).state == State.RESOLVED


def test_the_caller_may_close_their_resolved_incident(team_incident, requester):
    incident = team_incident("resolved")
    services.incident_close(incident=incident, by=requester, note="Works again, thanks.")
    row = fresh(incident)
    assert row.state == State.CLOSED
    assert row.timeline.last().actor == requester


def test_the_caller_may_reopen_their_resolved_incident(team_incident, requester):
    incident = team_incident("resolved")
    services.incident_reopen(incident=incident, by=requester, reason="It broke again.")
    row = fresh(incident)
    assert (row.state, row.reopen_count) == (State.IN_PROGRESS, 1)


@pytest.mark.parametrize(("state", "name"), [
    (State.NEW, "acknowledge"), (State.IN_PROGRESS, "hold"), (State.ON_HOLD, "resume"),
    (State.IN_PROGRESS, "resolve"), (State.NEW, "cancel"),
])
def test_the_caller_cannot_work_their_incident(team_incident, requester, state, name):
    incident = team_incident(state)
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        services.TRANSITIONS[name](incident=incident, by=requester, **PARAMS[name])
    assert snapshot(incident) == before


@pytest.mark.parametrize("name", ["close", "reopen"])
def test_a_stranger_cannot_close_or_reopen_someone_elses_incident(team_incident, stranger,
                                                                  name):
    incident = team_incident("resolved")
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        services.TRANSITIONS[name](incident=incident, by=stranger)
    assert snapshot(incident) == before


def test_a_requester_cannot_edit_or_assign(team_incident, requester, team):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        services.incident_update(incident=incident, by=requester, title="Urgent!!!")
    with pytest.raises(Forbidden):
        services.incident_assign(incident=incident, by=requester, team=team)
    with pytest.raises(Forbidden):
        services.incident_notify_manager(incident=incident, by=requester, reason="Hurry")
    assert snapshot(incident) == before


def test_a_requester_cannot_write_work_notes(team_incident, requester):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        services.incident_comment(incident=incident, by=requester, body="psst", internal=True)
    assert snapshot(incident) == before


def test_a_requester_comments_publicly_on_their_own_incident(team_incident, requester):
    incident = team_incident("in_progress")
    entry = services.incident_comment(incident=incident, by=requester, body="Any news?")
    assert (entry.kind, entry.actor, entry.is_public) == (EntryKind.COMMENT, requester, True)


def test_a_stranger_cannot_comment_on_someone_elses_incident(team_incident, stranger):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        services.incident_comment(incident=incident, by=stranger, body="Me too")
    assert snapshot(incident) == before


def test_a_requester_logs_incidents_for_themselves(requester):
    incident = services.incident_create(by=requester, title="Laptop will not boot")
    assert (incident.caller, incident.reported_by) == (requester, requester)


@pytest.mark.parametrize("extra", ["caller", "assignment_team", "assignee"])
def test_a_requester_cannot_log_for_someone_else_or_pick_the_team(requester, stranger, team,
                                                                  agent, extra):
    value = {"caller": stranger, "assignment_team": team, "assignee": agent}[extra]
    with pytest.raises(Forbidden):
        services.incident_create(by=requester, title="Laptop will not boot", **{extra: value})
    assert not Incident.objects.exists()


def test_an_agent_logs_on_behalf_of_a_caller(agent, requester):
    incident = services.incident_create(by=agent, title="Phone call: no VPN", caller=requester,
                                        channel="phone")
    assert (incident.caller, incident.reported_by, incident.channel) == (
        requester, agent, "phone")


# --- priority --------------------------------------------------------------------------------

ITIL = {
    ("high", "high"): 1, ("high", "medium"): 2, ("high", "low"): 3,
    ("medium", "high"): 2, ("medium", "medium"): 3, ("medium", "low"): 4,
    ("low", "high"): 3, ("low", "medium"): 4, ("low", "low"): 4,
}


def test_the_matrix_is_seeded_with_the_itil_grid():
    cells = {(c.impact, c.urgency): c.priority for c in PriorityMatrix.objects.all()}
    assert cells == ITIL


@pytest.mark.parametrize(("impact", "urgency"), list(ITIL))
def test_a_new_incident_gets_its_priority_from_the_matrix(agent, impact, urgency):
    incident = services.incident_create(by=agent, title="Something broke", impact=impact,
                                        urgency=urgency)
    assert incident.priority == ITIL[(impact, urgency)]


def test_an_edited_matrix_cell_applies_to_new_incidents(agent):
    PriorityMatrix.objects.filter(impact="low", urgency="low").update(priority=Priority.P2)
    incident = services.incident_create(by=agent, title="Odd", impact="low", urgency="low")
    assert incident.priority == Priority.P2


@pytest.mark.parametrize(("impact", "urgency", "expected"), [
    ("high", "high", 1), ("high", "medium", 1), ("medium", "medium", 2), ("low", "low", 3),
])
def test_a_mission_critical_service_raises_the_priority_one_level_but_not_above_p1(
    agent, impact, urgency, expected
):
    payroll = ServiceFactory(name="Payroll", criticality=Criticality.MISSION_CRITICAL)
    incident = services.incident_create(by=agent, title="Payroll run fails", service=payroll,
                                        impact=impact, urgency=urgency)
    assert incident.priority == expected


def test_a_less_critical_service_keeps_the_matrix_priority(agent):
    wiki = ServiceFactory(name="Wiki", criticality=Criticality.BUSINESS_CRITICAL)
    incident = services.incident_create(by=agent, title="Wiki slow", service=wiki)
    assert incident.priority == Priority.P3


def test_editing_impact_recomputes_the_priority_and_logs_old_and_new(team_incident, agent):
    incident = team_incident("in_progress")
    assert incident.priority == Priority.P3

    services.incident_update(incident=incident, by=agent, impact=Level.HIGH,
                             version=fresh(incident).version)

    row = fresh(incident)
    assert row.priority == Priority.P2
    changes = {e.field: (e.old_value, e.new_value, e.actor)
               for e in row.timeline.filter(kind=EntryKind.FIELD_CHANGE)}
    assert changes == {
        "impact": ("Medium", "High", agent),
        "priority": ("P3 – Moderate", "P2 – High", agent),
    }


def test_moving_to_a_mission_critical_service_raises_the_priority(team_incident, agent):
    incident = team_incident("in_progress")
    payroll = ServiceFactory(name="Payroll", criticality=Criticality.MISSION_CRITICAL)
    services.incident_update(incident=incident, by=agent, service=payroll)
    row = fresh(incident)
    assert row.priority == Priority.P2
    assert row.timeline.filter(field="service", old_value="", new_value="Payroll").exists()


def test_a_priority_override_needs_a_reason(team_incident, manager):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_override_priority(incident=incident, by=manager, priority=1,
                                            reason="  ")
    assert set(err.value.field_errors) == {"reason"}
    with pytest.raises(InvalidInput) as err:
        services.incident_override_priority(incident=incident, by=manager, priority=9,
                                            reason="CEO affected")
    assert set(err.value.field_errors) == {"priority"}
    assert snapshot(incident) == before


def test_an_agent_cannot_override_the_priority(team_incident, agent):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        services.incident_override_priority(incident=incident, by=agent, priority=1,
                                            reason="I said so")
    assert snapshot(incident) == before


def test_a_manager_override_sticks_when_impact_and_urgency_change(team_incident, manager,
                                                                  agent):
    incident = team_incident("in_progress")

    services.incident_override_priority(incident=incident, by=manager, priority=Priority.P1,
                                        reason="The CEO's laptop")
    entry = fresh(incident).timeline.last()
    assert (entry.field, entry.old_value, entry.new_value, entry.actor) == (
        "priority", "P3 – Moderate", "P1 – Critical", manager)
    assert "The CEO's laptop" in entry.body

    services.incident_update(incident=incident, by=agent, impact=Level.LOW, urgency=Level.LOW)
    row = fresh(incident)
    assert (row.priority, row.priority_override_reason) == (Priority.P1, "The CEO's laptop")


# --- routing ---------------------------------------------------------------------------------

@pytest.fixture
def hardware():
    return CategoryFactory(name="Hardware")


@pytest.fixture
def laptop(hardware):
    return CategoryFactory(name="Laptop", parent=hardware)


def test_the_first_matching_active_rule_by_position_wins(agent, hardware, team, other_team):
    desk_side = TeamFactory(name="Desk-side")
    RoutingRule.objects.create(position=1, category=hardware, team=desk_side, active=False)
    RoutingRule.objects.create(position=20, category=hardware, team=team)
    RoutingRule.objects.create(position=10, category=hardware, team=other_team)

    incident = services.incident_create(by=agent, title="Monitor dead", category=hardware)

    assert incident.assignment_team == other_team
    assert incident.escalation_tier == other_team.tier
    assert incident.timeline.get().body == "Logged via Web, routed to Database"


def test_a_rule_on_a_category_matches_its_subcategories(agent, hardware, laptop, team):
    RoutingRule.objects.create(category=hardware, team=team)
    incident = services.incident_create(by=agent, title="Laptop hinge broke", category=hardware,
                                        subcategory=laptop)
    assert incident.assignment_team == team


def test_a_rule_on_a_subcategory_does_not_match_its_siblings(agent, hardware, laptop, team):
    RoutingRule.objects.create(category=laptop, team=team)
    printer = CategoryFactory(name="Printer", parent=hardware)
    matched = services.incident_create(by=agent, title="Hinge", category=hardware,
                                       subcategory=laptop)
    other = services.incident_create(by=agent, title="Jam", category=hardware,
                                     subcategory=printer)
    assert (matched.assignment_team, other.assignment_team) == (team, None)


def test_a_rule_with_category_and_service_needs_both(agent, hardware, team, other_team):
    mail = ServiceFactory(name="Mail")
    RoutingRule.objects.create(position=1, category=hardware, service=mail, team=other_team)
    RoutingRule.objects.create(position=2, service=mail, team=team)
    both = services.incident_create(by=agent, title="A", category=hardware, service=mail)
    service_only = services.incident_create(by=agent, title="B", service=mail)
    category_only = services.incident_create(by=agent, title="C", category=hardware)
    assert [i.assignment_team for i in (both, service_only, category_only)] == [
        other_team, team, None]


def test_without_a_matching_rule_the_incident_is_unassigned(agent, hardware, team):
    RoutingRule.objects.create(category=CategoryFactory(name="Software"), team=team)
    incident = services.incident_create(by=agent, title="Monitor dead", category=hardware)
    assert (incident.assignment_team, incident.assignee) == (None, None)


def test_a_team_chosen_at_intake_beats_the_rules(agent, hardware, team, other_team):
    RoutingRule.objects.create(category=hardware, team=other_team)
    incident = services.incident_create(by=agent, title="Monitor dead", category=hardware,
                                        assignment_team=team)
    assert incident.assignment_team == team


# --- assignment and escalation ---------------------------------------------------------------

def test_assigning_to_a_team_member_logs_it_and_tells_the_assignee(team_incident, agent, team):
    colleague = AgentFactory(username="carl")
    team.members.add(colleague)
    incident = team_incident("new")

    services.incident_assign(incident=incident, by=agent, team=team, assignee=colleague)

    entry = fresh(incident).timeline.last()
    assert (entry.kind, entry.old_value, entry.new_value, entry.actor) == (
        EntryKind.ASSIGNMENT, "Service Desk / —", f"Service Desk / {colleague}", agent)
    assert Notification.objects.filter(recipient=colleague, subject__contains="Assigned").count() \
        == 1


def test_assigning_to_someone_outside_the_team_is_refused(team_incident, agent, team,
                                                         other_agent):
    incident = team_incident("new")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_assign(incident=incident, by=agent, team=team, assignee=other_agent)
    assert "assignee" in err.value.field_errors
    assert snapshot(incident) == before


def test_a_closed_incident_cannot_be_reassigned(team_incident, agent, other_team):
    incident = team_incident("closed")
    before = snapshot(incident)
    with pytest.raises(Conflict):
        services.incident_assign(incident=incident, by=agent, team=other_team)
    assert snapshot(incident) == before


def test_assign_to_me_takes_the_incident(team_incident, agent, team):
    incident = services.incident_assign_to_me(incident=team_incident("new"), by=agent)
    row = fresh(incident)
    assert (row.assignment_team, row.assignee) == (team, agent)
    assert not Notification.objects.filter(recipient=agent).exists()


@pytest.fixture
def l2_member(l2_team):
    member = AgentFactory(username="nina", first_name="Nina", last_name="Network")
    l2_team.members.add(member)
    return member


def test_functional_escalation_hands_the_incident_to_the_next_tier(
    team_incident, agent, l2_team, l2_member
):
    incident = services.incident_acknowledge(incident=team_incident("new"), by=agent)

    services.incident_escalate(incident=incident, by=agent, reason="Needs a router config")

    row = fresh(incident)
    assert (row.assignment_team, row.assignee, row.escalation_tier) == (l2_team, None, 2)
    assert row.state == State.IN_PROGRESS
    entry = row.timeline.last()
    assert (entry.kind, entry.actor, entry.body) == (
        EntryKind.ESCALATION, agent, "Needs a router config")
    assert (entry.old_value, entry.new_value) == ("Service Desk / Alice Agent", "Network L2 / —")
    note = Notification.objects.get(recipient=l2_member)
    assert "Escalated to Network L2" in note.subject
    assert "Needs a router config" in note.body


def test_escalating_without_a_next_tier_is_a_conflict(agent, other_team, other_agent):
    incident = make_incident(by=other_agent, assignment_team=other_team, state="in_progress")
    before = snapshot(incident)
    with pytest.raises(Conflict, match="no next-tier team"):
        services.incident_escalate(incident=incident, by=other_agent, reason="Help")
    assert snapshot(incident) == before


def test_escalating_needs_a_reason_and_an_open_incident(team_incident, agent, l2_team):
    incident = team_incident("in_progress")
    with pytest.raises(InvalidInput) as err:
        services.incident_escalate(incident=incident, by=agent, reason="")
    assert set(err.value.field_errors) == {"reason"}
    closed = team_incident("closed")
    before = snapshot(closed)
    with pytest.raises(Conflict):
        services.incident_escalate(incident=closed, by=agent, reason="Too late")
    assert snapshot(closed) == before


def test_hierarchical_escalation_notifies_the_manager_and_logs_it(team_incident, agent,
                                                                  manager):
    incident = team_incident("in_progress")

    services.incident_notify_manager(incident=incident, by=agent, reason="Caller is the CFO")

    note = Notification.objects.get(recipient=manager)
    assert note.subject.startswith(f"[{incident.number}] Needs your attention")
    assert "Caller is the CFO" in note.body
    entry = fresh(incident).timeline.last()
    assert (entry.kind, entry.actor, entry.new_value, entry.body) == (
        EntryKind.NOTIFICATION, agent, "Maria Manager", "Caller is the CFO")


def test_notifying_a_team_without_a_manager_is_a_conflict(other_team, other_agent):
    incident = make_incident(by=other_agent, assignment_team=other_team, state="in_progress")
    before = snapshot(incident)
    with pytest.raises(Conflict, match="no manager"):
        services.incident_notify_manager(incident=incident, by=other_agent, reason="Help")
    assert snapshot(incident) == before


# --- the timeline ----------------------------------------------------------------------------

def test_the_timeline_records_a_whole_life_in_order(team, agent, requester, manager):
    start = timezone.now()
    incident = make_incident(by=agent, caller=requester, assignment_team=team)
    services.incident_update(incident=incident, by=agent, title="Mail down, whole building",
                             urgency=Level.HIGH)
    incident = services.incident_acknowledge(incident=incident, by=agent)
    services.incident_comment(incident=incident, by=agent, body="Looking at the relay.")
    services.incident_comment(incident=incident, by=agent, body="Relay disk full.",
                              internal=True)
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_VENDOR)
    services.incident_resume(incident=incident, by=agent)
    services.incident_resolve(incident=incident, by=agent, code=ResolutionCode.FIXED,
                              notes="Freed disk space.")
    services.incident_close(incident=incident, by=requester)

    lines = [(e.kind, e.field, e.old_value, e.new_value, e.actor.username)
             for e in fresh(incident).timeline.all()]
    assert lines == [
        ("created", "", "", "P3 – Moderate", "alice"),
        ("field_change", "title", "Mail is down for the finance floor",
         "Mail down, whole building", "alice"),
        ("field_change", "urgency", "Medium", "High", "alice"),
        ("field_change", "priority", "P3 – Moderate", "P2 – High", "alice"),
        ("transition", "state", "New", "In progress", "alice"),
        ("assignment", "assignment", "Service Desk / —", "Service Desk / Alice Agent", "alice"),
        ("comment", "", "", "", "alice"),
        ("work_note", "", "", "", "alice"),
        ("transition", "state", "In progress", "On hold", "alice"),
        ("transition", "state", "On hold", "In progress", "alice"),
        ("transition", "state", "In progress", "Resolved", "alice"),
        ("transition", "state", "Resolved", "Closed", "rick"),
    ]
    times = list(fresh(incident).timeline.values_list("at", flat=True))
    assert times == sorted(times)
    assert start <= times[0] and times[-1] <= timezone.now()


def test_an_edit_that_changes_nothing_writes_nothing(team_incident, agent):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    services.incident_update(incident=incident, by=agent, title=incident.title,
                             impact=incident.impact)
    assert snapshot(incident) == before


def test_requesters_do_not_see_work_notes_on_the_timeline(team_incident, agent, requester):
    incident = team_incident("in_progress")
    services.incident_comment(incident=incident, by=agent, body="We are on it.")
    services.incident_comment(incident=incident, by=agent, body="Blame the vendor.",
                              internal=True)
    seen_by_requester = [e.body for e in selectors.timeline_for(incident=incident,
                                                                user=requester)]
    seen_by_agent = [e.body for e in selectors.timeline_for(incident=incident, user=agent)]
    assert "We are on it." in seen_by_requester
    assert "Blame the vendor." not in seen_by_requester
    assert "Blame the vendor." in seen_by_agent


def test_a_public_comment_tells_the_caller_but_a_work_note_does_not(team_incident, agent,
                                                                   requester):
    incident = team_incident("in_progress")
    services.incident_comment(incident=incident, by=agent, body="Secret", internal=True)
    assert not Notification.objects.filter(recipient=requester).exists()
    services.incident_comment(incident=incident, by=agent, body="Try again now?")
    assert Notification.objects.get(recipient=requester).body.endswith("Try again now?")


def test_an_empty_comment_is_refused(team_incident, agent):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_comment(incident=incident, by=agent, body="   ")
    assert set(err.value.field_errors) == {"body"}
    assert snapshot(incident) == before


def test_timeline_entries_cannot_be_changed(team_incident):
    entry = team_incident("new").timeline.get()
    entry.body = "Nothing happened here."
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    assert TimelineEntry.objects.get(pk=entry.pk).body != "Nothing happened here."


# --- optimistic concurrency ------------------------------------------------------------------

@pytest.mark.parametrize("call", ["transition", "update", "assign", "escalate", "override"])
def test_a_stale_version_is_a_conflict_and_changes_nothing(team_incident, agent, manager, team,
                                                           call):
    incident = team_incident("in_progress")
    seen = incident.version
    services.incident_comment(incident=incident, by=agent, body="unrelated")  # no version bump
    services.incident_update(incident=incident, by=agent, title="Someone else was quicker")
    before = snapshot(incident)

    actions = {
        "transition": lambda: services.incident_resolve(incident=incident, by=agent,
                                                        version=seen, **PARAMS["resolve"]),
        "update": lambda: services.incident_update(incident=incident, by=agent, version=seen,
                                                   impact=Level.HIGH),
        "assign": lambda: services.incident_assign(incident=incident, by=agent, team=team,
                                                   assignee=None, version=seen),
        "escalate": lambda: services.incident_escalate(incident=incident, by=agent,
                                                       reason="Help", version=seen),
        "override": lambda: services.incident_override_priority(
            incident=incident, by=manager, priority=1, reason="CEO", version=seen),
    }
    with pytest.raises(Conflict, match="changed by someone else"):
        actions[call]()
    assert snapshot(incident) == before


def test_the_current_version_is_accepted(team_incident, agent):
    incident = team_incident("in_progress")
    services.incident_update(incident=incident, by=agent, title="Edited once")
    current = fresh(incident).version
    services.incident_resolve(incident=incident, by=agent, version=current, **PARAMS["resolve"])
    assert fresh(incident).version == current + 1


def test_each_write_bumps_the_version_once(team_incident, agent):
    incident = team_incident("new")
    start = fresh(incident).version
    services.incident_update(incident=incident, by=agent, title="New title")
    assert fresh(incident).version == start + 1


def test_an_old_resolution_can_be_closed_by_an_agent_a_week_later(team_incident, agent):
    incident = team_incident("resolved")
    Incident.objects.filter(pk=incident.pk).update(
        resolved_at=timezone.now() - timedelta(days=7))
    services.incident_close(incident=incident, by=agent)
    assert fresh(incident).state == State.CLOSED


def test_a_user_with_no_role_is_treated_as_a_requester(team_incident):
    nobody = UserFactory(username="nobody", role=None)
    incident = services.incident_create(by=nobody, title="Who am I")
    assert incident.caller == nobody
    with pytest.raises(Forbidden):
        services.incident_acknowledge(incident=incident, by=nobody)


def test_an_admin_works_any_incident(team_incident):
    admin = UserFactory(username="root", role=Role.ADMIN, is_superuser=True)
    incident = services.incident_acknowledge(incident=team_incident("new"), by=admin)
    assert fresh(incident).state == State.IN_PROGRESS


def test_the_creation_entry_records_who_owned_the_incident_from_the_start(agent, team,
                                                                          requester):
    by_team = services.incident_create(by=agent, title="A", assignment_team=team)
    by_person = services.incident_create(by=agent, title="B", assignee=agent, channel="phone")
    unrouted = services.incident_create(by=requester, title="C")
    assert [i.timeline.get().body for i in (by_team, by_person, unrouted)] == [
        "Logged via Web, assigned to Service Desk",
        "Logged via Phone, assigned to Service Desk / Alice Agent",
        "Logged via Web",
    ]


@pytest.mark.parametrize("action", ["comment", "work_note", "notify_manager"])
def test_conversation_marks_the_incident_active_without_a_version_bump(team_incident, agent,
                                                                      action):
    incident = team_incident("in_progress")
    Incident.objects.filter(pk=incident.pk).update(
        updated_at=timezone.now() - timedelta(hours=1))
    before = fresh(incident)
    {
        "comment": lambda: services.incident_comment(incident=incident, by=agent, body="Hi"),
        "work_note": lambda: services.incident_comment(incident=incident, by=agent, body="Hm",
                                                       internal=True),
        "notify_manager": lambda: services.incident_notify_manager(incident=incident, by=agent,
                                                                   reason="Look"),
    }[action]()
    after = fresh(incident)
    assert after.updated_at > before.updated_at + timedelta(minutes=59)
    assert after.version == before.version  # a form open elsewhere can still be saved


def test_a_closed_incident_cannot_be_edited(team_incident, agent):
    incident = team_incident("closed")
    before = snapshot(incident)
    with pytest.raises(Conflict, match="reopen it"):
        services.incident_update(incident=incident, by=agent, title="Too late")
    assert snapshot(incident) == before


@pytest.mark.parametrize(("state", "who", "expected"), [
    (State.NEW, "agent", {"acknowledge", "cancel"}),
    (State.IN_PROGRESS, "agent", {"hold", "resolve", "cancel"}),
    (State.ON_HOLD, "agent", {"resume", "cancel"}),
    (State.RESOLVED, "agent", {"close", "reopen"}),
    (State.CLOSED, "manager", set()),
    (State.CANCELED, "manager", set()),
    (State.IN_PROGRESS, "other_agent", set()),
    (State.IN_PROGRESS, "manager", {"hold", "resolve", "cancel"}),
    (State.IN_PROGRESS, "requester", set()),
    (State.RESOLVED, "requester", {"close", "reopen"}),
    (State.RESOLVED, "stranger", set()),
])
def test_the_buttons_offered_match_what_the_services_allow(team_incident, request, other_team,
                                                           state, who, expected):
    user = request.getfixturevalue(who)
    incident = fresh(team_incident(state))
    offered = {t.name for t in incident.get_available_user_state_transitions(user)}
    assert offered == expected


def test_a_resolved_incident_cannot_be_reprioritised(agent, team, manager, requester):
    from tests.factories import make_incident

    incident = make_incident(by=agent, caller=requester, assignment_team=team, state="resolved")
    with pytest.raises(Conflict):
        services.incident_override_priority(incident=incident, by=manager, priority=1,
                                            reason="Too late")
    incident.refresh_from_db()
    assert incident.priority_override_reason == ""
