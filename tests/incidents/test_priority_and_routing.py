"""Priority from the matrix and service criticality; routing rules; manager overrides."""


import pytest

from incidents import services
from incidents.choices import EntryKind, Level, Priority
from incidents.models import PriorityMatrix, RoutingRule
from itsm.choices import Criticality
from itsm.exceptions import Forbidden, InvalidInput
from tests.factories import (
    CategoryFactory,
    ServiceFactory,
    TeamFactory,
)
from tests.incidents.helpers import fresh, snapshot

pytestmark = pytest.mark.django_db


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


def test_overriding_to_the_same_priority_is_refused_and_logs_nothing(team_incident, manager):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput, match="already P3"):
        services.incident_override_priority(incident=incident, by=manager,
                                            priority=incident.priority, reason="Pin it")
    assert snapshot(incident) == before
    assert fresh(incident).priority_override_reason == ""
