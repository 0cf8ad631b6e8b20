"""Who may do what: agents of the team, of another team, managers, callers, strangers."""


import pytest

from incidents import actions, services
from incidents.choices import EntryKind, State
from incidents.models import Incident
from itsm.exceptions import Forbidden
from tests.incidents.helpers import LEGAL, PARAMS, fresh, snapshot

pytestmark = pytest.mark.django_db


# --- permissions -----------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "name"), list(LEGAL), ids=lambda v: str(v))
def test_an_agent_of_another_team_cannot_transition_the_teams_incident(
    team_incident, other_agent, other_team, state, name
):
    incident = team_incident(state)
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        actions.TRANSITIONS[name](incident=incident, by=other_agent, **PARAMS[name])
    assert snapshot(incident) == before


@pytest.mark.parametrize(("state", "name"), list(LEGAL), ids=lambda v: str(v))
def test_a_manager_can_transition_any_teams_incident(team_incident, manager, state, name):
    incident = team_incident(state)
    actions.TRANSITIONS[name](incident=incident, by=manager, **PARAMS[name])
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
        actions.TRANSITIONS[name](incident=incident, by=requester, **PARAMS[name])
    assert snapshot(incident) == before


@pytest.mark.parametrize("name", ["close", "reopen"])
def test_a_stranger_cannot_close_or_reopen_someone_elses_incident(team_incident, stranger,
                                                                  name):
    incident = team_incident("resolved")
    before = snapshot(incident)
    with pytest.raises(Forbidden):
        actions.TRANSITIONS[name](incident=incident, by=stranger)
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
