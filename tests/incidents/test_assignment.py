"""Assignment, functional escalation and notifying the manager."""


import pytest

from incidents import services
from incidents.choices import EntryKind, State
from itsm.exceptions import Conflict, InvalidInput
from itsm.models import Notification
from tests.factories import (
    AgentFactory,
    make_incident,
)
from tests.incidents.helpers import fresh, snapshot

pytestmark = pytest.mark.django_db


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


def test_escalating_without_a_next_tier_asks_for_a_team(agent, other_team, other_agent):
    incident = make_incident(by=other_agent, assignment_team=other_team, state="in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as error:
        services.incident_escalate(incident=incident, by=other_agent, reason="Help")
    assert error.value.field_errors["team"] == ["Choose the team to hand it to."]
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
