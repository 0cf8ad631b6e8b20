"""The paging pages: the incident's paging card, acknowledging, paging a team by hand, the
one-time link in a message, the dry run, the policies and the matrix."""

from datetime import datetime

import pytest
import time_machine

from incidents.choices import Level
from oncall.choices import PageState
from oncall.models import Page, PageNotice
from tests.factories import make_incident
from tests.oncall.conftest import BERLIN

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def at_tuesday():
    with time_machine.travel(TUESDAY, tick=False):
        yield


@pytest.fixture
def critical(policy, team, agent, requester):
    return make_incident(by=agent, caller=requester, assignment_team=team,
                         impact=Level.HIGH, urgency=Level.HIGH, title="Core switch down")


def test_the_incident_page_shows_the_page_and_acknowledges_it(as_user, critical, agent):
    client = as_user(agent)
    page = client.get(f"/incidents/{critical.number}/").content.decode()
    assert 'data-testid="page-active"' in page and "Paging Service Desk" in page
    assert 'data-testid="page-banner"' in page  # the phone's button above the timeline
    running = Page.objects.get(incident=critical)
    response = client.post(f"/oncall/pages/{running.pk}/acknowledge/",
                           {"next": f"/incidents/{critical.number}/"}, follow=True)
    assert "Page acknowledged" in response.content.decode()
    running.refresh_from_db()
    assert running.state == PageState.ACKNOWLEDGED
    assert response.redirect_chain[-1][0] == f"/incidents/{critical.number}/"
    assert 'data-testid="page-banner"' not in response.content.decode()


def test_acknowledging_twice_says_who_did(as_user, critical, agent, manager):
    running = Page.objects.get(incident=critical)
    as_user(agent).post(f"/oncall/pages/{running.pk}/acknowledge/")
    response = as_user(manager).post(f"/oncall/pages/{running.pk}/acknowledge/", follow=True)
    assert "Already acknowledged by Alice Agent" in response.content.decode()


def test_an_outside_next_is_not_followed(as_user, critical, agent):
    running = Page.objects.get(incident=critical)
    response = as_user(agent).post(f"/oncall/pages/{running.pk}/acknowledge/",
                                   {"next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response["Location"]


def test_the_link_in_the_message_acknowledges_once_without_login(client, critical, agent):
    notice = PageNotice.objects.get(page__incident=critical)
    url = f"/oncall/ack/{notice.ack_token}/"
    shown = client.get(url)  # a mail scanner following the link changes nothing
    assert shown.status_code == 200 and "Acknowledge as Alice Agent" in shown.content.decode()
    assert Page.objects.get(incident=critical).state == PageState.ACTIVE
    done = client.post(url)
    assert done.status_code == 200 and "nobody else will be paged" in done.content.decode()
    again = client.post(url)
    assert again.status_code == 409 and "already used" in again.content.decode()
    assert client.get("/oncall/ack/not-a-token/").status_code == 404


def test_paging_a_team_by_hand(as_user, policy, team, agent, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team)  # a P3
    response = as_user(agent).post(f"/oncall/incidents/{incident.number}/page/",
                                   {"team": team.pk, "reason": "Whole floor offline"},
                                   follow=True)
    assert "Paging Service Desk" in response.content.decode()
    assert Page.objects.get(incident=incident).reason == "Whole floor offline"


@pytest.mark.parametrize("data, message", [
    ({"team": "", "reason": "x"}, "Choose a team to page."),
    ({"team": "abc", "reason": "x"}, "Choose a team to page."),
    ({"team": "999999", "reason": "x"}, "Choose a team to page."),
    ({"reason": ""}, "Say why the team is paged."),
])
def test_paging_by_hand_with_bad_input_says_why(as_user, policy, team, agent, requester,
                                                 data, message):
    incident = make_incident(by=agent, caller=requester, assignment_team=team)
    data = {"team": team.pk, **data}
    response = as_user(agent).post(f"/oncall/incidents/{incident.number}/page/", data,
                                   follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Page.objects.filter(incident=incident).exists()


def test_requesters_cannot_page_or_see_paging(as_user, critical, requester):
    client = as_user(requester)
    assert client.post(f"/oncall/incidents/{critical.number}/page/",
                       {"reason": "x"}).status_code == 403
    assert 'data-testid="paging-card"' not in client.get(
        f"/incidents/{critical.number}/").content.decode()
    for url in ["/oncall/policies/", "/oncall/dry-run/", "/oncall/matrix/", "/oncall/pages/"]:
        assert client.get(url).status_code == 403


def test_the_dry_run_page_shows_the_plan(as_user, policy, agent):
    response = as_user(agent).get("/oncall/dry-run/", {"policy": policy.pk, "priority": 1,
                                                       "at": "2026-12-01T10:00"})
    body = response.content.decode()
    assert response.status_code == 200 and body.count('data-testid="plan-row"') == 9
    assert "Alice Agent" in body and "Maria Manager" in body


@pytest.mark.parametrize("query", [
    {"policy": "abc"}, {"policy": "99999"}, {"priority": "9"}, {"at": "yesterday"},
    {"team": "x"}, {"priority": "1"},
])
def test_the_dry_run_refuses_odd_input_clearly(as_user, policy, agent, query):
    response = as_user(agent).get("/oncall/dry-run/", query)
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode() or "alert-danger" in \
        response.content.decode()


def test_policies_matrix_and_pages_pages(as_user, critical, policy, agent):
    client = as_user(agent)
    assert "Service desk paging" in client.get("/oncall/policies/").content.decode()
    matrix = client.get("/oncall/matrix/").content.decode()
    assert "Alice Agent" in matrix and 'data-testid="matrix-functional"' in matrix
    assert critical.number in client.get("/oncall/pages/").content.decode()
