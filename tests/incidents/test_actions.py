"""The action catalogue: listed once, offered by the UI and the API from that list, and its
guards are the services' own (an action that is not offered is refused, whatever the door)."""

import pytest
from django.urls import reverse

from incidents import actions, views
from incidents.api.views import IncidentViewSet
from incidents.choices import State
from itsm.exceptions import Conflict, Forbidden
from tests.factories import make_incident
from tests.incidents.helpers import PARAMS, fresh, snapshot

pytestmark = pytest.mark.django_db

INPUTS = {
    **PARAMS,
    "assign": {"team": None},  # filled in with the fixture's team
    "assign_to_me": {},
    "escalate": {"reason": "Needs the network team."},
    "notify_manager": {"reason": "VIP affected."},
    "edit": {"title": "VPN drops every ten minutes"},
    "override_priority": {"priority": 1, "reason": "Payroll run today."},
    "comment": {"body": "Any news?"},
    "work_note": {"body": "Checked the logs."},
}


def test_every_action_has_a_form_on_the_detail_page():
    assert set(views.FORMS) == set(actions.CATALOGUE)


def test_the_api_serves_exactly_the_catalogue_actions_and_the_history():
    routes = {a.url_path for a in IncidentViewSet.get_extra_actions()}
    endpoints = {a.slug for a in actions.CATALOGUE.values() if a.endpoint}
    assert routes == endpoints | {"comments", "timeline", "bulk"}  # bulk: many at once


@pytest.mark.parametrize("state", State.values)
@pytest.mark.parametrize("name", list(actions.CATALOGUE))
def test_an_action_is_offered_exactly_when_the_service_accepts_it(
    state, name, team, agent, other_agent, requester, l2_team
):
    for user in (agent, other_agent, requester):
        incident = make_incident(by=agent, caller=requester, assignment_team=team, state=state)
        action = actions.CATALOGUE[name]
        offered = action.allowed(incident, user)
        params = {**INPUTS[name], **({"team": l2_team} if name == "assign" else {})}
        before = snapshot(incident)
        try:
            action.service(incident=incident, by=user, **params)
        except (Conflict, Forbidden):
            assert not offered, f"{name} offered to {user} on {state} but refused"
            assert snapshot(incident) == before
        else:
            assert offered, f"{name} not offered to {user} on {state}, yet it ran"


def test_assign_to_me_on_a_closed_incident_is_refused_by_the_api(api, agent, team, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team, state="closed")
    response = api(agent).post(f"/api/v1/incidents/{incident.number}/assign-to-me/",
                               format="json")
    assert response.status_code == 409
    assert "closed" in response.json()["message"]
    assert fresh(incident).assignee_id == incident.assignee_id


def test_a_hidden_action_posted_by_hand_in_the_ui_is_refused(as_user, agent, team, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team, state="closed")
    page = as_user(agent).get(incident.get_absolute_url()).text
    assert 'data-action="assign_to_me"' not in page

    response = as_user(agent).post(reverse("incidents:act",
                                           args=[incident.number, "assign_to_me"]),
                                   {"version": incident.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "closed" in response.text


def test_the_api_lists_the_actions_the_user_may_take(api, agent, requester, team):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             state="in_progress")
    as_agent = api(agent).get(f"/api/v1/incidents/{incident.number}/").json()
    as_caller = api(requester).get(f"/api/v1/incidents/{incident.number}/").json()
    assert {"resolve", "hold", "escalate", "work_note"} <= set(as_agent["available_actions"])
    assert as_caller["available_actions"] == ["comment"]


def test_incidents_in_the_same_situation_are_offered_the_same_actions(
    team, other_team, l2_team, agent, other_agent, manager, requester, stranger
):
    """The API list asks the guards once per `actions.situation`; that is only right if the
    situation holds everything the guards read."""
    incidents = [
        make_incident(by=manager, caller=caller, assignment_team=group, assignee=assignee,
                      state=state, title=f"Case {n}")
        for n, (state, group, assignee, caller) in enumerate(
            (state, group, assignee, caller)
            for state in State.values
            for group, assignee in [(team, None), (team, agent), (other_team, other_agent),
                                    (l2_team, None), (None, None)]
            for caller in (requester, agent)
        )
    ]
    for user in (agent, other_agent, manager, requester, stranger):
        by_situation: dict[tuple, set] = {}
        for incident in incidents:
            incident = fresh(incident)
            offered = actions.available(incident, user)
            assert by_situation.setdefault(actions.situation(incident, user), offered) == offered
