"""The permission contract (README, "Who may do what"), as role × relation × action, through
the browser pages and the API alike.

Any agent may add a work note to any incident (swarming); only the assigned team's agents,
the assignee and managers may edit, transition, assign, escalate, notify the manager or reply
to the caller. The caller may reply on their own incident. Others cannot even see it (404).
"""

import pytest

from incidents import actions
from tests.factories import AgentFactory, TeamFactory, make_incident
from tests.incidents.helpers import snapshot

pytestmark = pytest.mark.django_db

ACTIONS = ["edit", "acknowledge", "cancel", "assign", "assign_to_me", "escalate",
           "notify_manager", "comment", "work_note"]
WORK = set(ACTIONS)
# Who (relation to the incident) may do what.
CONTRACT = {
    "team_agent": WORK,
    "assignee": WORK,  # assigned while in the team, since moved to another one
    "manager": WORK,
    "other_agent": {"work_note"},
    "caller": {"comment"},
    "stranger": set(),  # sees nothing: 404
}
# Allowed, but impossible for this person now (409, and not offered).
NOT_NOW = {("assignee", "assign_to_me"),  # already theirs
           ("manager", "assign_to_me")}  # in no team, so nobody's assignee


@pytest.fixture
def cast(agent, manager, requester, stranger, team, l2_team, other_agent, other_team):
    outsider = AgentFactory(username="bea", first_name="Bea", last_name="Bystander")
    TeamFactory(name="Facilities", members=[outsider])
    return {"team_agent": agent, "assignee": other_agent, "manager": manager,
            "other_agent": outsider, "caller": requester, "stranger": stranger}


@pytest.fixture
def incident_for(team, agent, requester, other_agent):
    def make():
        # The assignee has since moved to another team: still the incident's assignee.
        team.members.add(other_agent)
        incident = make_incident(by=agent, caller=requester, assignment_team=team,
                                 assignee=other_agent, title="Core switch flapping")
        team.members.remove(other_agent)
        return incident
    return make


def api_call(client, incident, action, l2_team):
    base = f"/api/v1/incidents/{incident.number}/"
    if action == "edit":
        return client.patch(base, {"title": "Renamed"}, format="json")
    if action in ("comment", "work_note"):
        return client.post(f"{base}comments/", {"body": "Seen this before",
                                                "internal": action == "work_note"},
                           format="json")
    body = {"assign": {"team": l2_team.pk}, "cancel": {"reason": "Duplicate"},
            "escalate": {"reason": "Needs L2"}, "notify_manager": {"reason": "Big one"}}
    return client.post(f"{base}{actions.CATALOGUE[action].slug}/", body.get(action, {}),
                       format="json")


def page_call(client, incident, action, l2_team):
    data = {"version": incident.version}
    data.update({
        "edit": {"title": "Renamed", "caller": incident.caller_id, "channel": "phone",
                 "impact": incident.impact, "urgency": incident.urgency},
        "assign": {"team": l2_team.pk}, "cancel": {"reason": "Duplicate"},
        "escalate": {"team": l2_team.pk, "reason": "Needs L2"},
        "notify_manager": {"reason": "Big one"},
        "comment": {"body": "Seen this before"},
        "work_note": {"body": "Seen this before", "internal": "on"},
    }.get(action, {}))
    slug = "comment" if action == "work_note" else action
    return client.post(f"/incidents/{incident.number}/{slug}/", data)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", list(CONTRACT))
@pytest.mark.parametrize("channel", ["api", "page"])
def test_the_contract(request, cast, incident_for, l2_team, api, client, channel, who, action):
    incident, user = incident_for(), cast[who]
    before = snapshot(incident)
    if channel == "api":
        response = api_call(api(user), incident, action, l2_team)
        allowed_status = {200, 201}
    else:
        client.force_login(user)
        response = page_call(client, incident, action, l2_team)
        allowed_status = {302}
    if (who, action) in NOT_NOW:
        assert response.status_code == 409
        assert snapshot(incident) == before
    elif action in CONTRACT[who]:
        assert response.status_code in allowed_status, (response.status_code,
                                                        response.content[:300])
        assert snapshot(incident) != before
    else:
        assert response.status_code == (404 if who == "stranger" else 403)
        assert snapshot(incident) == before


@pytest.mark.parametrize("who", list(CONTRACT))
def test_the_page_and_the_api_offer_what_the_contract_allows(cast, incident_for, api, client,
                                                             who):
    incident, user = incident_for(), cast[who]
    if who == "stranger":
        assert api(user).get(f"/api/v1/incidents/{incident.number}/").status_code == 404
        return
    offered = set(api(user).get(f"/api/v1/incidents/{incident.number}/").json()[
        "available_actions"]) & WORK
    expected = {action for action in CONTRACT[who] if (who, action) not in NOT_NOW}
    assert offered == expected
    client.force_login(user)
    if who == "caller":  # the caller's own pages are the portal's (tests/portal)
        assert client.get(f"/incidents/{incident.number}/").status_code == 302
        return
    page = client.get(f"/incidents/{incident.number}/").text
    for action in ACTIONS:
        if action in ("comment", "work_note"):
            continue  # one composer for both; checked below
        # A one-click button is its own form; a dialog is offered by its toggle; a field is
        # edited in place by its pencil.
        shown = (f'data-action="{action}"' in page or f'data-action-toggle="{action}"' in page
                 or (action == "edit" and "inline-edit" in page))
        assert shown == (action in expected), action
    has_composer = 'data-testid="composer"' in page
    assert has_composer == bool(CONTRACT[who] & {"comment", "work_note"})
    if who == "other_agent":
        assert 'data-testid="work-note-only"' in page


def test_requesters_learn_team_names_but_not_who_is_in_them(api, requester, agent, team):
    teams = api(requester).get("/api/v1/teams/").json()["results"]
    assert teams and all(set(t) == {"id", "name", "tier", "active"} for t in teams)
    assert agent.pk in next(t for t in api(agent).get("/api/v1/teams/").json()["results"]
                            if t["id"] == team.pk)["members"]
