"""The browser pages, for each member of the cast (see tests/conftest.py)."""

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from incidents.choices import State
from incidents.models import Incident
from incidents.sla.services import clocks_sweep
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def detail_url(incident):
    return reverse("incidents:detail", args=[incident.number])


def act_url(incident, action):
    return reverse("incidents:act", args=[incident.number, action])


# --- access ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/incidents/", "/incidents/new/"])
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_anonymous_cannot_see_an_incident(client, incident):
    assert client.get(detail_url(incident)).status_code == 302


@pytest.mark.parametrize("who", ["agent", "other_agent", "manager", "requester"])
def test_incident_page_is_visible_to_agents_and_its_caller(request, as_user, incident, who):
    # The caller lands on the same request in the portal (their own pages).
    response = as_user(request.getfixturevalue(who)).get(detail_url(incident), follow=True)
    assert response.status_code == 200
    assert incident.title in response.text


def test_a_stranger_gets_404_for_someone_elses_incident(as_user, incident, stranger):
    assert as_user(stranger).get(detail_url(incident)).status_code == 404


def test_requester_queue_lists_only_their_own_incidents(as_user, incident, agent, team, stranger):
    other = make_incident(by=agent, caller=stranger, title="Printer on fire", assignment_team=team)
    page = as_user(stranger).get("/incidents/?view=open", follow=True).text
    assert other.number in page
    assert incident.number not in page


def test_requester_does_not_see_work_notes(as_user, incident, agent, requester):
    from incidents.services import incident_comment

    incident_comment(incident=incident, by=agent, body="Relay looks dead", internal=True)
    incident_comment(incident=incident, by=agent, body="We are on it", internal=False)
    page = as_user(requester).get(detail_url(incident), follow=True).text
    assert "We are on it" in page
    assert "Relay looks dead" not in page


# --- queue -----------------------------------------------------------------------------------

def test_queue_views_filter_what_is_listed(as_user, agent, team, requester):
    mine = make_incident(by=agent, caller=requester, assignee=agent, assignment_team=team,
                         title="Mine")
    unassigned = make_incident(by=agent, caller=requester, assignment_team=team,
                               title="Nobody's")
    done = make_incident(by=agent, caller=requester, assignment_team=team, title="Done",
                         state="resolved")
    client = as_user(agent)
    assert mine.number in client.get("/incidents/?view=mine").text
    assert unassigned.number not in client.get("/incidents/?view=mine").text
    assert unassigned.number in client.get("/incidents/?view=unassigned").text
    resolved_page = client.get("/incidents/?view=resolved").text
    assert done.number in resolved_page and mine.number not in resolved_page


def test_queue_filters_by_state_priority_and_text(as_user, agent, team, requester):
    urgent = make_incident(by=agent, caller=requester, impact="high", urgency="high",
                           title="Core switch down")
    calm = make_incident(by=agent, caller=requester, impact="low", urgency="low",
                         title="Mouse squeaks")
    client = as_user(agent)
    page = client.get("/incidents/?view=open&state=new&priority=1").text
    assert urgent.number in page and calm.number not in page
    page = client.get("/incidents/?view=all&q=squeaks").text
    assert calm.number in page and urgent.number not in page
    page = client.get(f"/incidents/?view=all&q={calm.number}").text
    assert calm.number in page and urgent.number not in page


def test_queue_htmx_refresh_returns_only_the_results(as_user, agent, incident):
    response = as_user(agent).get("/incidents/?view=open", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="results"' in response.text
    assert "<nav" not in response.text.split('id="results"')[0]
    assert "HX-Request" in response["Vary"]


def test_queue_query_count_does_not_grow_with_rows(as_user, agent, team, requester,
                                                  django_assert_max_num_queries):
    for n in range(60):
        make_incident(by=agent, caller=requester, assignment_team=team, title=f"Disk full {n}")
    client = as_user(agent)
    client.get("/incidents/")  # services, categories and team members are then cached
    for url in ["/incidents/?view=open", "/incidents/?view=teams&page=2",
                "/incidents/?view=all&state=new&priority=3&ordering=-updated",
                "/incidents/?view=unassigned&q=disk", "/incidents/?view=mine",
                "/incidents/?view=breaching&ordering=sla"]:
        # The rows' SLA clocks are one of them; the tab counts and saved filters another.
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200


def test_every_link_the_queue_renders_lists_incidents(as_user, agent, team, requester):
    """Each header, tab and pager link, followed twice (to test the toggled direction too)."""
    for n, (assignee, state) in enumerate([(agent, "new")] * 40 + [(None, "new")] * 20
                                          + [(agent, "resolved")] * 3):
        make_incident(by=agent, caller=requester, assignment_team=team, assignee=assignee,
                      state=state, title=f"Printer {n}")
    # For the SLA views: two breached three days ago, two due within the hour.
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        for n in range(2):
            make_incident(by=agent, assignment_team=team, impact="high", urgency="high",
                          title=f"Printer breached {n}")
    for n in range(2):
        make_incident(by=agent, assignment_team=team, impact="high", urgency="high",
                      title=f"Printer due soon {n}")
    clocks_sweep()
    client = as_user(agent)
    seen, todo = set(), ["/incidents/?view=open"]
    while todo:
        url = todo.pop()
        response = client.get(url)
        assert response.status_code == 200, url
        assert "not understood" not in response.text, url
        assert "Printer" in response.text, url
        if url.count("ordering") < 1 or len(seen) < 40:
            # Sort headers, view tabs and the pager's enabled links.
            for href in re.findall(r'(?:<li class="page-item">|<a class="(?:sort-link|nav-link'
                                   r'[^"]*)")[^>]*?href="([^"]+)"', response.text):
                href = "/incidents/" + html.unescape(href) if href.startswith("?") else href
                if href.startswith("/incidents/?") and href not in seen:
                    seen.add(href)
                    todo.append(href)
    sorts = {link for link in seen if "ordering=" in link}
    assert {"ordering=opened", "ordering=-opened", "ordering=updated", "ordering=-updated",
            "ordering=number", "ordering=state"} <= {
        part for link in sorts for part in link.split("?")[1].split("&")}


def test_queue_ignores_a_bad_filter_instead_of_failing(as_user, agent, incident):
    response = as_user(agent).get("/incidents/?view=open&priority=9&page=x")
    assert response.status_code == 200
    assert "not understood" in response.text


# --- intake ----------------------------------------------------------------------------------

def test_agent_logs_an_incident_and_lands_on_it(as_user, agent, requester):
    response = as_user(agent).post("/incidents/new/", {
        "title": "Payroll app shows 500", "description": "Since 9:00", "caller": requester.pk,
        "channel": "phone", "impact": "high", "urgency": "high",
    })
    incident = Incident.objects.get(title="Payroll app shows 500")
    assert response.status_code == 302
    assert response["Location"] == detail_url(incident)
    assert incident.priority == 1 and incident.caller == requester


def test_intake_rejects_a_missing_title_and_writes_nothing(as_user, agent):
    response = as_user(agent).post("/incidents/new/", {"title": " ", "impact": "high",
                                                       "urgency": "low", "channel": "web"})
    assert response.status_code == 400
    assert "This field is required" in response.text or "title is required" in response.text
    assert not Incident.objects.exists()


def test_requesters_log_in_the_portal_not_the_agent_form(as_user, requester, stranger):
    response = as_user(requester).post("/incidents/new/", {
        "title": "Laptop will not boot", "caller": stranger.pk, "impact": "low",
        "urgency": "medium"})
    assert response["Location"] == "/requests/new/"
    assert not Incident.objects.exists()


def test_priority_preview_follows_the_matrix(as_user, agent):
    page = as_user(agent).get("/incidents/new/priority/?impact=high&urgency=high").text
    assert "P1" in page


# --- detail actions --------------------------------------------------------------------------

def test_detail_offers_only_the_transitions_the_user_may_take(as_user, incident, agent,
                                                              other_agent):
    assert 'data-action="acknowledge"' in as_user(agent).get(detail_url(incident)).text
    assert 'data-action="acknowledge"' not in as_user(other_agent).get(detail_url(incident)).text


def test_agent_works_an_incident_through_htmx(as_user, incident, agent):
    client = as_user(agent)
    response = client.post(act_url(incident, "acknowledge"), {"version": incident.version},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-state="in_progress"' in response.text
    assert "incident-changed" in response["HX-Trigger"]
    incident.refresh_from_db()
    response = client.post(act_url(incident, "resolve"), {
        "version": incident.version, "code": "fixed", "notes": "Restarted the relay"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED


def test_resolve_without_notes_shows_the_error_in_place(as_user, agent, team, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             state="in_progress")
    response = as_user(agent).post(act_url(incident, "resolve"),
                                   {"version": incident.version, "code": "fixed", "notes": ""},
                                   HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "is-invalid" in response.text
    incident.refresh_from_db()
    assert incident.state == State.IN_PROGRESS


def test_a_stale_form_gets_409_and_the_fresh_state(as_user, incident, agent):
    client = as_user(agent)
    stale = incident.version
    client.post(act_url(incident, "acknowledge"), {"version": stale})
    response = client.post(act_url(incident, "cancel"), {"version": stale, "reason": "dup"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "changed by someone else" in response.text
    assert 'data-state="in_progress"' in response.text


def test_agent_of_another_team_is_refused(as_user, incident, other_agent):
    response = as_user(other_agent).post(act_url(incident, "acknowledge"),
                                         {"version": incident.version})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.state == State.NEW


def test_requester_comments_on_their_incident(as_user, incident, requester):
    as_user(requester).post(act_url(incident, "comment"), {"body": "Still broken for me"})
    assert incident.timeline.filter(kind="comment", actor=requester).exists()


def test_requester_cannot_post_a_work_note(as_user, incident, requester):
    response = as_user(requester).post(act_url(incident, "comment"),
                                       {"body": "psst", "internal": "on"})
    assert response.status_code == 403
    assert not incident.timeline.filter(kind="work_note").exists()


def test_escalate_moves_to_the_next_tier(as_user, incident, agent, l2_team):
    page = as_user(agent).get(f"{detail_url(incident)}?panel=escalate").text
    assert f'<option value="{l2_team.pk}" selected>' in page  # offered first
    as_user(agent).post(act_url(incident, "escalate"), {
        "version": incident.version, "team": l2_team.pk, "reason": "Needs network access"})
    incident.refresh_from_db()
    assert incident.assignment_team == l2_team
    assert incident.timeline.filter(kind="escalation").exists()


def test_unknown_action_is_404(as_user, incident, agent):
    assert as_user(agent).post(act_url(incident, "explode"), {}).status_code == 404


def test_detail_page_query_count_does_not_grow_with_its_history(as_user, incident, agent,
                                                                django_assert_max_num_queries):
    from incidents.services import incident_comment

    for n in range(30):
        incident_comment(incident=incident, by=agent, body=f"Update {n}", internal=n % 2 == 0)
    client = as_user(agent)
    with django_assert_max_num_queries(20):  # the page and its dropdowns, not one per entry
        assert client.get(detail_url(incident)).status_code == 200


def test_an_action_panel_brings_its_form_when_opened(as_user, agent, incident):
    client = as_user(agent)
    page = client.get(detail_url(incident)).text
    assert 'data-action-toggle="cancel"' in page and 'data-action="cancel"' not in page
    assert f'hx-get="{detail_url(incident)}?panel=cancel"' in page
    panel = client.get(f"{detail_url(incident)}?panel=cancel", HTTP_HX_REQUEST="true").text
    assert 'data-action="cancel"' in panel and 'name="reason"' in panel
    assert 'data-action="assign"' not in panel  # only the panel asked for
