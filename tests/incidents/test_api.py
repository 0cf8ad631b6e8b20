"""The REST API for incidents, tried by every member of the cast."""

import re

import pytest

from incidents.choices import EntryKind, State
from incidents.models import Incident, TimelineEntry
from itsm.models import User
from tests.factories import CategoryFactory, ServiceFactory, make_incident

LIST = "/api/v1/incidents/"


def url(incident, action=""):
    return f"{LIST}{incident.number}/" + (f"{action}/" if action else "")


def reloaded(incident):
    return Incident.objects.get(pk=incident.pk)


# --- create ----------------------------------------------------------------------------------

def test_an_agent_logs_an_incident(api, agent, team):
    response = api(agent).post(LIST, {"title": "VPN drops every hour", "impact": "high",
                                      "urgency": "high"}, format="json")
    assert response.status_code == 201, response.data
    body = response.json()
    assert re.fullmatch(r"INC\d{7}", body["number"])
    assert response["Location"].endswith(f"/api/v1/incidents/{body['number']}/")
    assert type(response["Location"]) is str  # wsgiref and gunicorn refuse str subclasses
    assert (body["state"], body["priority"], body["channel"]) == ("new", 1, "api")
    assert body["caller"] == agent.pk
    assert body["version"] == 1
    assert body["available_transitions"] == ["acknowledge", "cancel"]
    incident = Incident.objects.get(number=body["number"])
    assert incident.timeline.get().kind == EntryKind.CREATED


def test_a_requester_logs_an_incident_for_themselves(api, requester):
    response = api(requester).post(LIST, {"title": "Printer jams"}, format="json")
    assert response.status_code == 201
    assert response.json()["caller"] == requester.pk
    assert response.json()["available_transitions"] == []


def test_a_requester_cannot_log_for_someone_else(api, requester, stranger):
    response = api(requester).post(LIST, {"title": "Printer jams", "caller": stranger.pk},
                                   format="json")
    assert response.status_code == 403
    assert response.json()["message"]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "Slow", "impact": "huge"}, "impact"),
    ({"title": "Slow", "channel": "pigeon"}, "channel"),
    ({"title": "Slow", "service": 999999}, "service"),
    ({"title": "Slow", "category": 999999}, "category"),
    ({"title": "Slow", "assignment_team": 999999}, "assignment_team"),
    ({"title": "x" * 201}, "title"),
])
def test_bad_input_is_400_naming_the_field_and_creates_nothing(api, agent, payload, field):
    response = api(agent).post(LIST, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body["field_errors"]
    assert field in body["message"]
    assert not Incident.objects.exists()


def test_a_subcategory_of_another_category_is_rejected(api, agent):
    network, hardware = CategoryFactory(name="Network"), CategoryFactory(name="Hardware")
    wifi = CategoryFactory(name="Wi-Fi", parent=network)
    response = api(agent).post(LIST, {"title": "No Wi-Fi", "category": hardware.pk,
                                      "subcategory": wifi.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["subcategory"]
    assert not Incident.objects.exists()


def test_state_and_timestamps_cannot_be_written(api, agent, incident):
    response = api(agent).post(LIST, {"title": "Down", "state": "closed",
                                      "opened_at": "2001-01-01T00:00:00Z",
                                      "number": "INC9999999"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "new"
    assert not body["opened_at"].startswith("2001")
    assert body["number"] != "INC9999999"

    response = api(agent).patch(url(incident), {"state": "closed", "closed_at":
                                                "2001-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 200
    assert reloaded(incident).state == State.NEW
    assert reloaded(incident).closed_at is None


# --- read and visibility ---------------------------------------------------------------------

def test_an_agent_reads_an_incident_by_number(api, agent, incident):
    response = api(agent).get(url(incident))
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == incident.number
    assert body["assignment_team_name"] == "Service Desk"
    assert body["available_transitions"] == ["acknowledge", "cancel"]


def test_a_requester_sees_only_their_own_incidents(api, agent, requester, stranger, incident):
    make_incident(by=agent, caller=stranger, title="Stranger's laptop is slow")
    response = api(requester).get(LIST)
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [incident.number]


def test_someone_elses_incident_is_404(api, stranger, incident):
    assert api(stranger).get(url(incident)).status_code == 404
    response = api(stranger).post(url(incident, "acknowledge"), format="json")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field_errors": {}}
    response = api(stranger).post(url(incident, "hold"), {"reason": "bogus"}, format="json")
    assert response.status_code == 404
    assert api(stranger).get(url(incident, "comments")).status_code == 404


def test_an_unknown_number_is_404(api, agent):
    assert api(agent).get(f"{LIST}INC0999999/").status_code == 404


@pytest.mark.parametrize(("method", "path"), [
    ("get", LIST),
    ("post", LIST),
    ("get", "/api/v1/incidents/INC0000001/"),
    ("post", "/api/v1/incidents/INC0000001/acknowledge/"),
    ("get", "/api/v1/teams/"),
    ("get", "/api/v1/services/"),
    ("get", "/api/v1/categories/"),
])
def test_anonymous_is_refused(api, incident, method, path):
    response = getattr(api(), method)(path, format="json")
    assert response.status_code in (401, 403)
    assert response.json()["message"]
    assert reloaded(incident).state == State.NEW


# --- edit ------------------------------------------------------------------------------------

def test_an_agent_edits_an_incident_and_the_priority_follows(api, agent, incident):
    response = api(agent).patch(url(incident), {"title": "Mail down for everyone",
                                                "impact": "high", "urgency": "high",
                                                "version": 1}, format="json")
    assert response.status_code == 200, response.data
    body = response.json()
    assert (body["title"], body["priority"], body["version"]) == ("Mail down for everyone", 1, 2)
    changed = set(incident.timeline.filter(kind=EntryKind.FIELD_CHANGE)
                  .values_list("field", flat=True))
    assert changed == {"title", "impact", "urgency", "priority"}


def test_a_stale_version_is_409_and_nothing_changes(api, agent, incident):
    api(agent).patch(url(incident), {"title": "First edit", "version": 1}, format="json")
    response = api(agent).patch(url(incident), {"title": "Second edit", "version": 1},
                                format="json")
    assert response.status_code == 409
    assert "reload" in response.json()["message"]
    assert reloaded(incident).title == "First edit"


def test_a_stale_if_match_header_is_409(api, agent, incident):
    api(agent).patch(url(incident), {"description": "More detail"}, format="json")
    response = api(agent).post(url(incident, "acknowledge"), format="json",
                               headers={"If-Match": '"1"'})
    assert response.status_code == 409
    assert reloaded(incident).state == State.NEW
    response = api(agent).post(url(incident, "acknowledge"), format="json",
                               headers={"If-Match": '"2"'})
    assert response.status_code == 200


def test_a_malformed_if_match_header_is_400(api, agent, incident):
    response = api(agent).post(url(incident, "acknowledge"), format="json",
                               headers={"If-Match": "yesterday"})
    assert response.status_code == 400
    assert "version" in response.json()["field_errors"]


def test_a_manager_overrides_the_priority_with_a_reason(api, manager, incident):
    response = api(manager).patch(url(incident), {"priority": 1, "priority_override_reason":
                                                  "CFO affected"}, format="json")
    assert response.status_code == 200, response.data
    incident = reloaded(incident)
    assert (incident.priority, incident.priority_override_reason) == (1, "CFO affected")


def test_an_override_needs_a_reason(api, manager, incident):
    response = api(manager).patch(url(incident), {"priority": 1}, format="json")
    assert response.status_code == 400
    assert "priority_override_reason" in response.json()["field_errors"]


def test_an_agent_cannot_override_and_the_edit_is_not_half_written(api, agent, incident):
    response = api(agent).patch(url(incident), {"title": "Edited", "priority": 1,
                                                "priority_override_reason": "Urgent"},
                                format="json")
    assert response.status_code == 403
    incident = reloaded(incident)
    assert (incident.title, incident.priority, incident.version) == (
        "Mail is down for the finance floor", 3, 1)


def test_a_requester_cannot_edit(api, requester, incident):
    response = api(requester).patch(url(incident), {"title": "Mine now"}, format="json")
    assert response.status_code == 403
    assert reloaded(incident).title == "Mail is down for the finance floor"


def test_an_unknown_service_on_edit_is_400(api, agent, incident):
    response = api(agent).patch(url(incident), {"service": 999999}, format="json")
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["service"]


def test_put_replaces_the_descriptive_fields(api, agent, incident):
    service = ServiceFactory()
    response = api(agent).put(url(incident), {"title": "Replaced", "service": service.pk},
                              format="json")
    assert response.status_code == 200
    assert (reloaded(incident).title, reloaded(incident).service) == ("Replaced", service)


# --- lifecycle -------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "transition", "payload", "end"), [
    ("new", "acknowledge", {}, State.IN_PROGRESS),
    ("in_progress", "hold", {"reason": "awaiting_vendor"}, State.ON_HOLD),
    ("on_hold", "resume", {}, State.IN_PROGRESS),
    ("in_progress", "resolve", {"code": "fixed", "notes": "Rebooted."}, State.RESOLVED),
    ("resolved", "close", {}, State.CLOSED),
    ("resolved", "reopen", {"reason": "Still broken"}, State.IN_PROGRESS),
    ("new", "cancel", {"reason": "Duplicate of another"}, State.CANCELED),
    ("on_hold", "cancel", {"reason": "Caller left"}, State.CANCELED),
])
def test_every_legal_transition_answers_200(api, agent, team, requester, start, transition,
                                            payload, end):
    incident = make_incident(by=agent, caller=requester, assignment_team=team, state=start)
    response = api(agent).post(url(incident, transition), payload, format="json")
    assert response.status_code == 200, response.data
    assert response.json()["state"] == end
    assert reloaded(incident).state == end
    assert incident.timeline.filter(kind=EntryKind.TRANSITION).last().new_value == end.label


@pytest.mark.parametrize(("start", "transition", "payload"), [
    ("new", "resolve", {"code": "fixed", "notes": "Rebooted."}),
    ("new", "resume", {}),
    ("in_progress", "close", {}),
    ("closed", "reopen", {}),
    ("canceled", "acknowledge", {}),
    ("resolved", "cancel", {"reason": "Too late"}),
])
def test_an_impossible_transition_is_409_and_changes_nothing(api, agent, team, requester, start,
                                                             transition, payload):
    incident = make_incident(by=agent, caller=requester, assignment_team=team, state=start)
    entries = incident.timeline.count()
    response = api(agent).post(url(incident, transition), payload, format="json")
    assert response.status_code == 409
    assert response.json()["message"]
    assert reloaded(incident).state == start
    assert incident.timeline.count() == entries


def test_resolving_without_notes_is_400_naming_them(api, agent, team):
    incident = make_incident(by=agent, assignment_team=team, state="in_progress")
    response = api(agent).post(url(incident, "resolve"), {"code": "fixed"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["notes"]
    assert reloaded(incident).state == State.IN_PROGRESS


def test_a_hold_needs_a_known_reason(api, agent, team):
    incident = make_incident(by=agent, assignment_team=team, state="in_progress")
    response = api(agent).post(url(incident, "hold"), {"reason": "lunch"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["field_errors"]


def test_an_agent_of_another_team_cannot_transition(api, other_agent, incident):
    response = api(other_agent).post(url(incident, "acknowledge"), format="json")
    assert response.status_code == 403
    assert reloaded(incident).state == State.NEW


def test_a_requester_cannot_acknowledge(api, requester, incident):
    response = api(requester).post(url(incident, "acknowledge"), format="json")
    assert response.status_code == 403
    assert reloaded(incident).state == State.NEW


def test_the_caller_confirms_a_resolution_by_closing(api, agent, team, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team, state="resolved")
    response = api(requester).post(url(incident, "close"), format="json")
    assert response.status_code == 200
    assert reloaded(incident).state == State.CLOSED


def test_a_stale_version_on_a_transition_is_409(api, agent, incident):
    response = api(agent).post(url(incident, "cancel"), {"reason": "Dup", "version": 7},
                               format="json")
    assert response.status_code == 409
    assert reloaded(incident).state == State.NEW


# --- assignment and escalation ---------------------------------------------------------------

def test_an_agent_reassigns_to_another_team_and_person(api, agent, other_agent, other_team,
                                                       incident):
    response = api(agent).post(url(incident, "assign"),
                               {"team": other_team.pk, "assignee": other_agent.pk}, format="json")
    assert response.status_code == 200, response.data
    assert (response.json()["assignment_team"], response.json()["assignee"]) == (
        other_team.pk, other_agent.pk)


def test_assigning_to_a_non_member_is_400(api, agent, other_agent, team, incident):
    response = api(agent).post(url(incident, "assign"),
                               {"team": team.pk, "assignee": other_agent.pk}, format="json")
    assert response.status_code == 400
    assert "assignee" in response.json()["field_errors"]


def test_assigning_to_an_unknown_team_is_400(api, agent, incident):
    response = api(agent).post(url(incident, "assign"), {"team": 999999}, format="json")
    assert response.status_code == 400
    assert "team" in response.json()["field_errors"]


def test_an_agent_takes_an_incident(api, agent, incident):
    response = api(agent).post(url(incident, "assign-to-me"), format="json")
    assert response.status_code == 200
    assert reloaded(incident).assignee == agent


def test_escalation_hands_over_to_the_next_tier(api, agent, l2_team, incident):
    response = api(agent).post(url(incident, "escalate"), {"reason": "Needs network"},
                               format="json")
    assert response.status_code == 200
    assert reloaded(incident).assignment_team == l2_team
    assert incident.timeline.filter(kind=EntryKind.ESCALATION).exists()


def test_escalation_needs_a_reason(api, agent, incident):
    response = api(agent).post(url(incident, "escalate"), {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["field_errors"]


def test_notifying_the_manager_goes_on_the_timeline(api, agent, manager, incident):
    response = api(agent).post(url(incident, "notify-manager"), {"reason": "VIP affected"},
                               format="json")
    assert response.status_code == 200
    entry = incident.timeline.get(kind=EntryKind.NOTIFICATION)
    assert (entry.new_value, entry.body) == (str(manager), "VIP affected")


def test_a_requester_cannot_assign(api, requester, incident):
    response = api(requester).post(url(incident, "assign-to-me"), format="json")
    assert response.status_code == 403
    assert reloaded(incident).assignee is None


# --- comments and timeline -------------------------------------------------------------------

def test_an_agent_writes_a_work_note_the_requester_cannot_see(api, agent, requester, incident):
    response = api(agent).post(url(incident, "comments"), {"body": "Check relay logs",
                                                           "internal": True}, format="json")
    assert response.status_code == 201
    assert response.json()["internal"] is True
    api(agent).post(url(incident, "comments"), {"body": "Working on it"}, format="json")

    agent_sees = [e["body"] for e in api(agent).get(url(incident, "comments")).json()]
    requester_sees = [e["body"] for e in api(requester).get(url(incident, "comments")).json()]
    assert agent_sees == ["Check relay logs", "Working on it"]
    assert requester_sees == ["Working on it"]
    timeline = api(requester).get(url(incident, "timeline")).json()
    assert [e["kind"] for e in timeline] == ["created", "comment"]


def test_a_requester_comments_but_cannot_write_work_notes(api, requester, incident):
    response = api(requester).post(url(incident, "comments"), {"body": "It is back"},
                                   format="json")
    assert response.status_code == 201
    response = api(requester).post(url(incident, "comments"), {"body": "Secret",
                                                               "internal": True}, format="json")
    assert response.status_code == 403
    assert not TimelineEntry.objects.filter(body="Secret").exists()


def test_an_empty_comment_is_400(api, agent, incident):
    response = api(agent).post(url(incident, "comments"), {"body": ""}, format="json")
    assert response.status_code == 400
    assert "body" in response.json()["field_errors"]


# --- list: filters, pagination, query count -------------------------------------------------

@pytest.fixture
def queue(agent, team, requester):
    """Incidents in several states and priorities."""
    return {
        "p1_new": make_incident(by=agent, assignment_team=team, impact="high", urgency="high",
                                title="Core switch down"),
        "p3_new": make_incident(by=agent, assignment_team=team),
        "p3_working": make_incident(by=agent, assignment_team=team, state="in_progress"),
        "closed": make_incident(by=agent, assignment_team=team, state="closed"),
    }


def numbers(response):
    assert response.status_code == 200, response.data
    return {row["number"] for row in response.json()["results"]}


def test_the_list_filters_by_state(api, agent, queue):
    assert numbers(api(agent).get(LIST, {"state": "new"})) == {
        queue["p1_new"].number, queue["p3_new"].number}


def test_the_list_filters_by_priority(api, agent, queue):
    assert numbers(api(agent).get(LIST, {"priority": 1})) == {queue["p1_new"].number}


def test_the_list_finds_an_incident_by_number(api, agent, queue):
    number = queue["p3_working"].number
    assert numbers(api(agent).get(LIST, {"q": number})) == {number}
    assert numbers(api(agent).get(LIST, {"q": "switch"})) == {queue["p1_new"].number}


def test_the_list_has_the_queue_views_and_ordering(api, agent, queue):
    assert queue["closed"].number not in numbers(api(agent).get(LIST, {"view": "open"}))
    rows = api(agent).get(LIST, {"ordering": "-opened"}).json()["results"]
    assert rows[0]["number"] == queue["closed"].number


def test_a_bad_filter_is_400_naming_it(api, agent, queue):
    response = api(agent).get(LIST, {"state": "sleeping"})
    assert response.status_code == 400
    assert "state" in response.json()["field_errors"]


def test_the_list_pages_with_links_and_a_capped_count(api, agent, queue):
    first = api(agent).get(LIST, {"limit": 3}).json()
    assert (first["count"], first["count_capped"], len(first["results"])) == (4, False, 3)
    assert first["previous"] is None
    second = api(agent).get(first["next"]).json()
    assert (second["count"], len(second["results"]), second["next"]) == (4, 1, None)
    assert second["previous"]


def test_the_count_is_capped(api, agent, monkeypatch, queue):
    monkeypatch.setattr("itsm.api.COUNT_CAP", 2)
    page = api(agent).get(LIST, {"limit": 1}).json()
    assert (page["count"], page["count_capped"]) == (2, True)


def test_the_list_runs_a_constant_number_of_queries(api, agent, other_agent, team, other_team,
                                                    requester, django_assert_max_num_queries):
    for i in range(30):
        make_incident(by=agent if i % 2 else other_agent, caller=requester, title=f"Incident {i}",
                      assignment_team=team if i % 2 else other_team,
                      service=ServiceFactory() if i % 3 else None,
                      state=["new", "in_progress", "resolved"][i % 3])
    client = api(User.objects.get(pk=agent.pk))  # a fresh user: no permissions cached yet
    # The user's permissions (2) and teams, the rows, their SLA clocks, the capped count:
    # whatever the size.
    with django_assert_max_num_queries(6):
        response = client.get(LIST, {"limit": 10, "view": "open", "ordering": "-priority"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 10
    assert response.json()["next"]


# --- configuration and schema ---------------------------------------------------------------

def test_configuration_is_readable_by_any_signed_in_user(api, requester, team):
    ServiceFactory(name="E-mail")
    CategoryFactory(name="Network")
    client = api(requester)
    assert "Service Desk" in [t["name"] for t in client.get("/api/v1/teams/").json()["results"]]
    assert [s["name"] for s in client.get("/api/v1/services/").json()["results"]] == ["E-mail"]
    assert [c["name"] for c in client.get("/api/v1/categories/").json()["results"]] == [
        "Network"]
    assert client.post("/api/v1/teams/", {"name": "Mine"}, format="json").status_code == 405


def test_the_schema_describes_every_action(api, agent):
    response = api(agent).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for action in ["acknowledge", "hold", "resume", "resolve", "close", "reopen", "cancel",
                   "assign", "assign-to-me", "escalate", "notify-manager"]:
        operation = paths[f"/api/v1/incidents/{{number}}/{action}/"]["post"]
        assert "requestBody" in operation, action
        assert "409" in operation["responses"], action
    assert "/api/v1/incidents/{number}/comments/" in paths


def test_the_docs_page_is_served(client, agent):
    client.force_login(agent)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
