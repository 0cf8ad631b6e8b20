"""The lifecycle: every legal and illegal transition, and the inputs each one requires."""


import pytest
from django.utils import timezone

from incidents import actions, services
from incidents.choices import EntryKind, HoldReason, ResolutionCode, State
from incidents.models import Incident
from itsm.exceptions import Conflict, InvalidInput
from itsm.models import Notification
from tests.factories import (
    AgentFactory,
    CategoryFactory,
    make_incident,
)
from tests.incidents.helpers import ILLEGAL, LEGAL, PARAMS, fresh, snapshot

pytestmark = pytest.mark.django_db


# --- the lifecycle ---------------------------------------------------------------------------

def test_the_transition_table_covers_every_state_and_transition():
    assert len(LEGAL) + len(ILLEGAL) == len(State.values) * len(actions.TRANSITIONS) == 42


@pytest.mark.parametrize(("state", "name"), list(LEGAL), ids=lambda v: str(v))
def test_a_legal_transition_moves_the_state_bumps_the_version_and_is_logged(
    team_incident, agent, state, name
):
    incident = team_incident(state)
    before = snapshot(incident)

    result = actions.TRANSITIONS[name](incident=incident, by=agent, version=incident.version,
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
        actions.TRANSITIONS[name](incident=incident, by=agent, version=incident.version,
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
        actions.TRANSITIONS[name](incident=incident, by=manager, **PARAMS[name])
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
