"""Odd input never gets a 5xx: each class of input, at every kind of place it can arrive.

A bad value is a 400 that names what was wrong (the API's JSON error body) and changes
nothing; an unknown address is a 404 (JSON under /api/).
"""

import pytest

from incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.django_db

HUGE = str(2**70)
NUL = "\x00"
LIST = "/api/v1/incidents/"


def json_error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "field_errors"} and body["message"]
    return body


def unchanged(incident) -> tuple:
    return (Incident.objects.filter(pk=incident.pk).values_list("version", flat=True).get(),
            TimelineEntry.objects.filter(incident=incident).count())


# --- control characters ----------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    f"{LIST}INC0000001{NUL}/", f"{LIST}?q=a{NUL}b", f"{LIST}?view=open{NUL}",
    f"{LIST}?ordering=-updated{NUL}", f"{LIST}?team=1{NUL}", "/api/v1/teams/?tier=1%00",
])
def test_a_nul_byte_in_an_api_address_is_a_400(api, agent, incident, path):
    json_error(api(agent).get(path), 400)


@pytest.mark.parametrize("path", [
    "/incidents/?q=a%00b", "/incidents/?view=open%00", "/incidents/?page=%00",
    "/incidents/?team=%00", "/incidents/new/priority/?service=1%00&impact=high",
    "/incidents/INC0000001%00/", "/me/?x=%00",
])
def test_a_nul_byte_in_a_page_address_is_a_400_page(as_user, agent, incident, path):
    response = as_user(agent).get(path)
    assert response.status_code in (400, 404)
    assert b"Traceback" not in response.content


@pytest.mark.parametrize("field", ["title", "description"])
def test_a_nul_byte_in_a_json_body_is_a_400_naming_the_field(api, agent, incident, field):
    before = unchanged(incident)
    body = json_error(api(agent).patch(f"{LIST}{incident.number}/",
                                       {field: f"Disk{NUL}full"}, format="json"), 400)
    assert field in body["field_errors"]
    assert unchanged(incident) == before


def test_a_nul_byte_in_a_comment_is_a_400(api, agent, incident):
    before = unchanged(incident)
    body = json_error(api(agent).post(f"{LIST}{incident.number}/comments/",
                                      {"body": f"a{NUL}b"}, format="json"), 400)
    assert "body" in body["field_errors"]
    assert unchanged(incident) == before


def test_a_nul_byte_in_a_form_is_an_error_in_the_form(as_user, agent, incident):
    before = unchanged(incident)
    response = as_user(agent).post(f"/incidents/{incident.number}/comment/",
                                   {"body": f"a{NUL}b"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "is-invalid" in response.text
    assert unchanged(incident) == before


def test_a_nul_byte_in_the_login_form_is_refused(client, agent):
    response = client.post("/login/", {"username": f"agent{NUL}", "password": "x"})
    assert response.status_code in (200, 400)
    assert "_auth_user_id" not in client.session


# --- numbers beyond 64 bits, and non-numbers where a number belongs --------------------------

@pytest.mark.parametrize("query, field", [
    (f"offset={HUGE}", "offset"), (f"limit={HUGE}", "limit"), ("offset=-1", "offset"),
    ("offset=abc", "offset"), ("limit=1.5", "limit"),
    (f"team={HUGE}", "team"), ("team=1.5", "team"), ("team=abc", "team"),
    (f"assignee={HUGE}", "assignee"), (f"service={HUGE}", "service"),
    (f"category={HUGE}", "category"), ("priority=9", "priority"), (f"priority={HUGE}", "priority"),
])
def test_a_bad_number_in_an_api_list_is_a_400_naming_it(api, agent, incident, query, field):
    body = json_error(api(agent).get(f"{LIST}?{query}"), 400)
    assert field in body["field_errors"], body


@pytest.mark.parametrize("path", ["/api/v1/teams/?tier=" + HUGE, "/api/v1/teams/?tier=1.5",
                                  f"/api/v1/services/?owner_team={HUGE}",
                                  f"/api/v1/categories/?parent={HUGE}",
                                  f"/api/v1/teams/{HUGE}/", "/api/v1/teams/1.5/",
                                  f"/api/v1/teams/?offset={HUGE}"])
def test_bad_numbers_in_the_configuration_lists_never_fail(api, agent, path):
    response = api(agent).get(path)
    assert response.status_code in (400, 404), response.content[:300]
    json_error(response, response.status_code)


@pytest.mark.parametrize("value", [2**70, 1.5, "abc", True, [1], {"id": 1}, -1, 0])
@pytest.mark.parametrize("field", ["assignment_team", "service", "caller", "category"])
def test_a_bad_id_in_a_new_incident_is_a_400_naming_the_field(api, agent, team, field, value):
    count = Incident.objects.count()
    body = json_error(api(agent).post(LIST, {"title": "Printer", field: value}, format="json"),
                      400)
    assert field in body["field_errors"], body
    assert Incident.objects.count() == count


@pytest.mark.parametrize("value", [2**70, 1.5, "abc", True])
@pytest.mark.parametrize("field", ["team", "assignee"])
def test_a_bad_id_in_an_assignment_is_a_400(api, agent, incident, field, value):
    before = unchanged(incident)
    body = json_error(api(agent).post(f"{LIST}{incident.number}/assign/", {field: value},
                                      format="json"), 400)
    assert field in body["field_errors"], body
    assert unchanged(incident) == before


@pytest.mark.parametrize("value", [2**70, 2**31, 1.5, "abc", 0])
def test_a_bad_version_is_a_400_not_a_conflict(api, agent, incident, value):
    before = unchanged(incident)
    body = json_error(api(agent).post(f"{LIST}{incident.number}/acknowledge/",
                                      {"version": value}, format="json"), 400)
    assert "version" in body["field_errors"]
    assert unchanged(incident) == before


@pytest.mark.parametrize("header", [HUGE, "1.5", "abc"])
def test_a_bad_if_match_is_a_400(api, agent, incident, header):
    before = unchanged(incident)
    body = json_error(api(agent).post(f"{LIST}{incident.number}/acknowledge/", {},
                                      format="json", HTTP_IF_MATCH=header), 400)
    assert "version" in body["field_errors"]
    assert unchanged(incident) == before


@pytest.mark.parametrize("query", [f"page={HUGE}", "page=-5", "page=abc", f"team={HUGE}",
                                   "team=1.5", f"assignee={HUGE}", f"service={HUGE}",
                                   f"category={HUGE}", f"priority={HUGE}", "ordering=-bogus"])
def test_bad_numbers_in_the_queue_show_a_page(as_user, agent, incident, query):
    response = as_user(agent).get(f"/incidents/?view=all&{query}")
    assert response.status_code == 200
    assert "<table" in response.text


@pytest.mark.parametrize("query", [f"service={HUGE}", "service=²", "service=1.5",
                                   "impact=" + HUGE, "urgency=x"])
def test_the_priority_preview_takes_any_input(as_user, agent, query):
    assert as_user(agent).get(f"/incidents/new/priority/?{query}").status_code == 200


@pytest.mark.parametrize("field, value", [("service", HUGE), ("caller", HUGE),
                                          ("category", "1.5"), ("subcategory", "abc")])
def test_a_bad_id_in_the_new_incident_form_is_an_error_in_the_form(as_user, agent, field, value):
    count = Incident.objects.count()
    response = as_user(agent).post("/incidents/new/", {"title": "Printer", "impact": "low",
                                                        "urgency": "low", "channel": "phone",
                                                        field: value})
    assert response.status_code == 400
    assert "is-invalid" in response.text
    assert Incident.objects.count() == count


# --- sizes and addresses ---------------------------------------------------------------------

def test_a_body_over_the_size_limit_gets_the_json_error(api, agent, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json_error(api(agent).post(LIST, {"title": "x" * 5000}, format="json"), 413)
    assert "too large" in body["message"].lower()


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v2/incidents/", "/api/",
                                  f"{LIST}INC0000001/bogus/", f"{LIST}NOPE/"])
def test_an_unknown_api_route_is_a_json_404(api, agent, path):
    json_error(api(agent).get(path), 404)


def test_an_unknown_page_is_a_404_page(as_user, agent):
    response = as_user(agent).get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
