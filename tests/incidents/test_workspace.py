"""The agent workspace: hold notes and follow-ups, escalation to a chosen team, the bulk bar,
saved filters, tab counts, lifecycle sorting, inline edits, confirmations and the composer."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from incidents import services, workspace
from incidents.choices import PUBLIC_KINDS, EntryKind, State
from incidents.filters import IncidentFilter, View
from incidents.models import Incident, SavedFilter
from incidents.selectors import view_counts
from itsm.exceptions import InvalidInput
from itsm.models import Notification
from tests.factories import ServiceFactory, TeamFactory, make_incident
from tests.incidents.helpers import fresh, snapshot

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def act_url(incident, action):
    return reverse("incidents:act", args=[incident.number, action])


# --- hold: a note and a follow-up reminder ---------------------------------------------------

def test_hold_keeps_its_note_as_the_timeline_line(team_incident, agent):
    incident = team_incident("in_progress")
    services.incident_hold(incident=incident, by=agent, reason="awaiting_caller",
                           note="Which printer is it, the one by the window?")
    entry = incident.timeline.filter(kind=EntryKind.TRANSITION).last()
    assert entry.body == "Awaiting caller: Which printer is it, the one by the window?"
    assert entry.is_public


def test_a_follow_up_in_the_past_is_refused_and_changes_nothing(team_incident, agent):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as error:
        services.incident_hold(incident=incident, by=agent, reason="awaiting_vendor",
                               follow_up_at=timezone.now() - timedelta(minutes=1))
    assert "future" in error.value.field_errors["follow_up_at"][0]
    assert snapshot(incident) == before


def test_the_follow_up_reminder_comes_once_when_due(team_incident, agent):
    with time_machine.travel(NOW, tick=False):
        incident = team_incident("in_progress", assignee=agent)
        services.incident_hold(incident=incident, by=agent, reason="awaiting_vendor",
                               follow_up_at=NOW + timedelta(hours=2))
        assert services.follow_ups_remind() == 0  # not yet
    with time_machine.travel(NOW + timedelta(hours=2, minutes=1), tick=False):
        assert services.follow_ups_remind() == 1
        assert services.follow_ups_remind() == 0  # the sweep again: no second reminder
    reminders = incident.timeline.filter(kind=EntryKind.REMINDER)
    assert reminders.count() == 1
    assert fresh(incident).follow_up_at is None
    follow_up = f"[{incident.number}] Follow-up"
    assert Notification.objects.filter(subject__startswith=follow_up).count() == 1
    assert EntryKind.REMINDER not in PUBLIC_KINDS  # for agents, not the caller


def test_resuming_drops_the_follow_up(team_incident, agent):
    with time_machine.travel(NOW, tick=False):
        incident = team_incident("in_progress")
        incident = services.incident_hold(incident=incident, by=agent, reason="awaiting_vendor",
                                          follow_up_at=NOW + timedelta(days=1))
        services.incident_resume(incident=incident, by=agent)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        assert services.follow_ups_remind() == 0
    assert fresh(incident).follow_up_at is None


def test_hold_form_takes_a_follow_up_in_the_viewers_zone(as_user, agent, team_incident):
    incident = team_incident("in_progress")
    agent.time_zone = "Europe/Berlin"
    agent.save()
    with time_machine.travel(NOW, tick=False):
        response = as_user(agent).post(act_url(incident, "hold"), {
            "version": fresh(incident).version, "reason": "awaiting_vendor",
            "follow_up_at": "2026-12-02T09:30"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert fresh(incident).follow_up_at == datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
    assert "on hold: awaiting vendor" in response.text


# --- escalation to a chosen team -------------------------------------------------------------

def test_escalation_defaults_to_the_services_owner_team(team_incident, agent, other_team):
    service = ServiceFactory(owner_team=other_team)
    incident = team_incident("in_progress", service=service)
    assert services.escalation_target(incident) == other_team
    incident = services.incident_escalate(incident=incident, by=agent, reason="Their system.")
    assert incident.assignment_team == other_team and incident.assignee is None


def test_escalation_falls_back_to_the_next_tier(team_incident, agent, l2_team):
    incident = team_incident("in_progress")
    assert services.escalation_target(incident) == l2_team


def test_escalation_to_a_picked_team(team_incident, agent):
    network = TeamFactory(name="Network Operations")
    incident = services.incident_escalate(incident=team_incident("in_progress"), by=agent,
                                          reason="Looks like the core switch.", team=network)
    assert fresh(incident).assignment_team == network


def test_escalation_to_the_current_team_is_refused(team_incident, agent, team):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as error:
        services.incident_escalate(incident=incident, by=agent, reason="x", team=team)
    assert "already with" in error.value.field_errors["team"][0]
    assert snapshot(incident) == before


def test_after_handing_it_away_the_agent_sees_where_it_went(as_user, agent, team_incident):
    network = TeamFactory(name="Network Operations")
    incident = team_incident("in_progress")
    response = as_user(agent).post(act_url(incident, "escalate"), {
        "version": fresh(incident).version, "team": network.pk, "reason": "Core switch."},
        headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Handed to Network Operations." in response.text
    assert "Now with Network Operations." in response.text


# --- the bulk bar ----------------------------------------------------------------------------

def test_bulk_assign_summarises_done_and_refused(as_user, agent, other_agent, team, other_team,
                                                 team_incident):
    mine = [team_incident("new") for _ in range(3)]
    theirs = make_incident(by=other_agent, assignment_team=other_team)
    response = as_user(agent).post(reverse("incidents:bulk"), {
        "action": "assign", "team": team.pk, "assignee": agent.pk,
        "incident": [i.number for i in mine] + [theirs.number, "INC9999999"],
        "next": "/incidents/?view=open"}, follow=True)
    text = response.content.decode()
    assert response.redirect_chain[-1][0] == "/incidents/?view=open"
    assert "Assigned 3 incidents to" in text
    assert "2 not changed" in text and theirs.number in text and "INC9999999" in text
    assert all(fresh(i).assignee == agent for i in mine)
    assert fresh(theirs).assignee is None


def test_bulk_resolve_runs_each_through_its_own_service(agent, team_incident):
    working = team_incident("in_progress")
    new = team_incident("new")  # a new incident cannot be resolved: refused, the other goes on
    result = workspace.incidents_bulk(by=agent, action="resolve", numbers=[working.number,
                                                                          new.number],
                                     code="fixed", notes="Rebooted the relay.")
    assert [i.number for i in result.done] == [working.number]
    assert result.refused[0][0] == new.number and "cannot be resolved" in result.refused[0][1]
    assert fresh(working).state == State.RESOLVED
    assert fresh(working).timeline.filter(kind=EntryKind.TRANSITION, to_state="resolved").exists()


@pytest.mark.parametrize("data, message", [
    ({"action": "hold"}, "Choose why"),
    ({"action": "resolve", "code": "fixed"}, "resolution code"),
    ({"action": "assign"}, "Choose the team"),
    ({"action": "explode"}, "valid choice"),
])
def test_bulk_with_incomplete_input_changes_nothing(as_user, agent, team_incident, data,
                                                    message):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    response = as_user(agent).post(reverse("incidents:bulk"), {**data,
                                                               "incident": [incident.number]},
                                   follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot(incident) == before


def test_bulk_is_for_agents_only(as_user, requester, incident):
    response = as_user(requester).post(reverse("incidents:bulk"), {
        "action": "assign_to_me", "incident": [incident.number]})
    assert response.status_code == 404


def test_bulk_never_redirects_off_the_queue(as_user, agent, team_incident):
    response = as_user(agent).post(reverse("incidents:bulk"), {
        "action": "assign_to_me", "incident": [team_incident().number],
        "next": "https://evil.example/incidents/"})
    assert response["Location"] == "/incidents/"


# --- saved filters ---------------------------------------------------------------------------

def test_a_saved_filter_becomes_a_tab(as_user, agent, team):
    client = as_user(agent)
    response = client.post(reverse("incidents:filter-save"), {
        "name": "  P1 on   my team ", "query": f"view=teams&priority=1&team={team.pk}&page=3"})
    saved = SavedFilter.objects.get(owner=agent)
    assert saved.name == "P1 on my team" and "page" not in saved.query
    assert response["Location"] == saved.get_absolute_url()
    page = client.get(saved.get_absolute_url()).content.decode()
    assert 'aria-current="page">P1 on my team</a>' in page


@pytest.mark.parametrize("name, query, message", [
    ("", "view=open", "Give the filter a name"),
    ("Open", "", "nothing to save"),
    ("Open", "page=2", "nothing to save"),
])
def test_saving_a_filter_needs_a_name_and_a_filter(agent, name, query, message):
    with pytest.raises(InvalidInput, match=message):
        workspace.saved_filter_create(by=agent, name=name, query=query)
    assert not SavedFilter.objects.exists()


def test_filter_names_are_unique_per_person_and_limited(agent, other_agent):
    workspace.saved_filter_create(by=agent, name="Mine", query="view=mine")
    workspace.saved_filter_create(by=other_agent, name="Mine", query="view=mine")  # theirs
    with pytest.raises(InvalidInput, match="already have"):
        workspace.saved_filter_create(by=agent, name="MINE", query="view=open")
    for n in range(workspace.SAVED_FILTER_LIMIT - 1):
        workspace.saved_filter_create(by=agent, name=f"F{n}", query="view=open")
    with pytest.raises(InvalidInput, match="delete one first"):
        workspace.saved_filter_create(by=agent, name="One more", query="view=open")


def test_nobody_deletes_someone_elses_filter(as_user, agent, other_agent):
    saved = workspace.saved_filter_create(by=agent, name="Mine", query="view=mine")
    assert as_user(other_agent).post(
        reverse("incidents:filter-delete", args=[saved.pk])).status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    as_user(agent).post(reverse("incidents:filter-delete", args=[saved.pk]))
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


# --- tab counts and sorting ------------------------------------------------------------------

def test_tab_counts_in_one_query_and_capped(agent, team_incident, django_assert_num_queries):
    for _ in range(2):
        team_incident("new")
    team_incident("resolved")
    views = [View.TEAMS, View.UNASSIGNED, View.OPEN]
    workspace.saved_filter_create(by=agent, name="Mine", query="view=mine")
    with django_assert_num_queries(1):  # the counts and the saved filters together
        counts, saved = view_counts(agent, IncidentFilter, views)
    assert counts == {View.TEAMS: 2, View.UNASSIGNED: 2, View.OPEN: 2}
    assert [f.name for f in saved] == ["Mine"]


def test_tab_counts_stop_at_the_cap(agent, team_incident, settings, monkeypatch):
    monkeypatch.setattr("incidents.selectors.VIEW_COUNT_CAP", 2)
    for _ in range(4):
        team_incident("new")
    counts, _ = view_counts(agent, IncidentFilter, [View.OPEN])
    assert counts == {View.OPEN: 3}  # cap + 1: shown as "2+"


def test_queue_shows_the_counts_on_its_tabs(as_user, agent, team_incident):
    team_incident("new")
    page = as_user(agent).get("/incidents/?view=open").content.decode()
    assert 'data-testid="count-open">1<' in page
    assert 'data-testid="count-unassigned">1<' in page


def test_state_sorts_in_lifecycle_order(as_user, agent, team_incident):
    made = {state: team_incident(state).number
            for state in ("closed", "on_hold", "new", "canceled", "resolved", "in_progress")}
    page = as_user(agent).get("/incidents/?view=all&ordering=state").content.decode()
    positions = {state: page.index(number) for state, number in made.items()}
    assert sorted(positions, key=positions.get) == ["new", "in_progress", "on_hold",
                                                    "resolved", "closed", "canceled"]


@pytest.mark.parametrize("column", ["number", "priority", "title", "state", "sla", "service",
                                    "team", "assignee", "opened", "updated"])
def test_every_column_sorts_both_ways(as_user, agent, team_incident, column):
    team_incident("new")
    for ordering in (column, f"-{column}"):
        response = as_user(agent).get(f"/incidents/?view=all&ordering={ordering}")
        assert response.status_code == 200
        assert "Some filters were not understood" not in response.content.decode()


# --- the detail page: inline edits, confirmations, the composer ------------------------------

def test_an_inline_edit_changes_only_its_field(as_user, agent, team_incident):
    incident = team_incident("in_progress")
    response = as_user(agent).post(act_url(incident, "edit"), {
        "only": "impact", "impact": "high", "version": incident.version},
        headers={"HX-Request": "true"})
    assert response.status_code == 200
    row = fresh(incident)
    assert row.impact == "high" and row.title == incident.title
    assert "Saved: impact." in response.content.decode()
    assert "Priority is now P2" in response.content.decode()


def test_a_bad_inline_edit_shows_its_error_in_place(as_user, agent, team_incident):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    response = as_user(agent).post(act_url(incident, "edit"), {
        "only": "title", "title": "   ", "version": incident.version},
        headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert 'name="only" value="title"' in response.content.decode()
    assert snapshot(incident) == before


def test_a_stale_inline_edit_is_refused(as_user, agent, team_incident):
    incident = team_incident("in_progress")
    services.incident_update(incident=incident, by=agent, title="Changed meanwhile")
    response = as_user(agent).post(act_url(incident, "edit"), {
        "only": "urgency", "urgency": "low", "version": incident.version},
        headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert fresh(incident).urgency == "medium"


def test_the_edit_pencil_loads_one_fields_form(as_user, agent, team_incident):
    incident = team_incident("in_progress")
    page = as_user(agent).get(incident.get_absolute_url() + "?edit=category").content.decode()
    assert 'name="only" value="category"' in page
    assert 'name="subcategory"' in page and 'name="title"' not in page


def test_reassigning_says_to_whom_and_offers_undo(as_user, agent, other_agent, team,
                                                  team_incident):
    team.members.add(other_agent)
    incident = team_incident("in_progress", assignee=agent)
    client = as_user(agent)
    response = client.post(act_url(incident, "assign"), {
        "version": fresh(incident).version, "team": team.pk, "assignee": other_agent.pk},
        headers={"HX-Request": "true"})
    text = response.content.decode()
    assert f"Assigned to {other_agent} ({team})." in text
    assert 'data-testid="undo"' in text
    undo = client.post(act_url(incident, "assign"), {
        "version": fresh(incident).version, "team": team.pk, "assignee": agent.pk},
        headers={"HX-Request": "true"})
    assert undo.status_code == 200
    assert fresh(incident).assignee == agent


def test_agents_start_on_the_internal_note(as_user, agent, team_incident):
    page = as_user(agent).get(team_incident("in_progress").get_absolute_url()).content.decode()
    assert 'id="mode-internal" autocomplete="off" checked' in page
    assert "Reply to " in page and "Add internal note" in page


def test_the_composer_keeps_the_reply_mode_after_posting(as_user, agent, team_incident):
    incident = team_incident("in_progress")
    response = as_user(agent).post(act_url(incident, "comment"), {
        "body": "We are on it.", "internal": "false"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert f"Reply sent to {incident.caller}." in text
    assert 'id="mode-public" autocomplete="off" checked' in text
    assert incident.timeline.filter(kind=EntryKind.COMMENT, body="We are on it.").exists()


def test_an_internal_note_is_not_public(as_user, agent, team_incident):
    incident = team_incident("in_progress")
    as_user(agent).post(act_url(incident, "comment"), {"body": "Vendor ticket 4411.",
                                                       "internal": "true"})
    assert incident.timeline.get(body="Vendor ticket 4411.").kind == EntryKind.WORK_NOTE


def test_queue_page_stays_within_its_queries(as_user, agent, team_incident,
                                             django_assert_max_num_queries):
    for _ in range(5):
        team_incident("in_progress")
    client = as_user(agent)
    client.get("/incidents/")  # services, categories and team members are then cached
    with django_assert_max_num_queries(10):
        assert client.get("/incidents/?view=open").status_code == 200
    assert Incident.objects.count() == 5


# --- the API ---------------------------------------------------------------------------------

def test_api_bulk_reports_done_and_refused(api, agent, team_incident):
    working, new = team_incident("in_progress"), team_incident("new")
    response = api(agent).post("/api/v1/incidents/bulk/", {
        "action": "resolve", "incidents": [working.number, new.number], "code": "fixed",
        "notes": "Swapped the toner."}, format="json")
    assert response.status_code == 200
    assert response.json()["done"] == [working.number]
    assert response.json()["refused"][0]["number"] == new.number


@pytest.mark.parametrize("body", [{}, {"action": "hold", "incidents": ["INC0000001"]},
                                  {"action": "assign_to_me", "incidents": []},
                                  {"action": "assign_to_me", "incidents": "INC1"},
                                  {"action": "resolve", "incidents": ["x"], "code": "nope"}])
def test_api_bulk_refuses_bad_input(api, agent, body, team_incident):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    assert api(agent).post("/api/v1/incidents/bulk/", body, format="json").status_code == 400
    assert snapshot(incident) == before


def test_api_saved_filters_are_personal(api, agent, other_agent, requester):
    created = api(agent).post("/api/v1/saved-filters/", {"name": "P1", "query": "priority=1"},
                              format="json")
    assert created.status_code == 201 and created.json()["name"] == "P1"
    assert api(agent).post("/api/v1/saved-filters/", {"name": "p1", "query": "view=open"},
                           format="json").status_code == 400
    assert api(other_agent).get("/api/v1/saved-filters/").json() == []
    pk = created.json()["id"]
    assert api(other_agent).delete(f"/api/v1/saved-filters/{pk}/").status_code == 404
    assert api(requester).get("/api/v1/saved-filters/").status_code == 403
    assert api(agent).delete(f"/api/v1/saved-filters/{pk}/").status_code == 204


def test_the_callers_reply_reaches_the_assignee(agent, requester, team_incident):
    incident = team_incident("in_progress", assignee=agent)
    services.incident_comment(incident=incident, by=requester, body="It happens on wifi only.")
    mail = Notification.objects.get(recipient=agent, subject__contains="The caller replied")
    assert "It happens on wifi only." in mail.body
