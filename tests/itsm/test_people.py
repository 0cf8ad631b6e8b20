"""The people picker: search as you type, choose, and never a page carrying every user."""

import re

import pytest

from incidents.models import Incident
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return re.findall(r'data-label="([^"]+)"', response.text)


@pytest.fixture
def people(db):
    return [UserFactory(username=u, first_name=f, last_name=last, email=f"{u}@example.com")
            for u, f, last in [("mlopez", "Mateo", "Lopez"), ("mlo2", "Mateo", "Long"),
                               ("zsmith", "Zoe", "Smith"), ("old", "Mateo", "Gone")]]


def test_agents_find_people_by_any_part_of_name_username_or_email(as_user, agent, people):
    client = as_user(agent)
    assert names(client.get("/people/?q=mateo")) == ["Mateo Gone", "Mateo Long",
                                                     "Mateo Lopez"]
    assert names(client.get("/people/?q=mateo lo")) == ["Mateo Long", "Mateo Lopez"]
    assert names(client.get("/people/?q=zsmith@EXAMPLE")) == ["Zoe Smith"]
    assert "Nobody matches" in client.get("/people/?q=nobody-at-all").text


def test_inactive_people_are_not_offered(as_user, agent, people):
    people[3].is_active = False
    people[3].save()
    assert "Mateo Gone" not in names(as_user(agent).get("/people/?q=mateo"))


def test_the_assignee_picker_offers_agents_and_narrows_to_the_team(
        as_user, agent, other_agent, team, other_team, requester):
    client = as_user(agent)
    found = names(client.get(f"/people/?scope=agents&q={requester.username}"))
    assert found == []  # a requester is nobody's assignee
    assert names(client.get(f"/people/?scope=agents&q={other_agent.username}")) == [
        str(other_agent)]
    in_team = names(client.get(f"/people/?scope=agents&team={team.pk}&q={agent.first_name}"))
    assert in_team == [str(agent)]
    assert names(client.get(f"/people/?scope=agents&team={team.pk}"
                            f"&q={other_agent.first_name}")) == []


def test_requesters_get_no_user_directory(as_user, requester, people):
    assert as_user(requester).get("/people/?q=mateo").status_code == 404


def test_the_search_costs_the_same_few_queries_for_any_number_of_matches(
        as_user, agent, django_assert_max_num_queries):
    UserFactory.create_batch(40, first_name="Mateo")
    client = as_user(agent)
    with django_assert_max_num_queries(5):
        response = client.get("/people/?q=mateo")
    assert len(names(response)) == 10


def test_the_detail_page_carries_only_the_chosen_people(as_user, agent, incident):
    UserFactory.create_batch(30, first_name="Somebody", last_name="Else")
    client = as_user(agent)
    assert "Somebody Else" not in client.get(f"/incidents/{incident.number}/").text
    panel = client.get(f"/incidents/{incident.number}/?edit=caller", HTTP_HX_REQUEST="true").text
    assert "Somebody Else" not in panel
    assert f'value="{incident.caller}"' in panel  # the edit form shows the current caller


def edit(client, incident, **fields):
    data = {"version": incident.version, "title": incident.title, "channel": "phone",
            "impact": "medium", "urgency": "medium", "caller": incident.caller_id, **fields}
    return client.post(f"/incidents/{incident.number}/edit/", data, HTTP_HX_REQUEST="true")


def test_editing_with_no_caller_is_an_error_in_the_form_not_a_crash(as_user, agent, incident):
    response = edit(as_user(agent), incident, caller="", caller_search="")
    assert response.status_code == 400
    assert "is-invalid" in response.text
    assert Incident.objects.get(pk=incident.pk).caller == incident.caller


def test_typing_an_exact_username_chooses_that_person(as_user, agent, incident, people):
    response = edit(as_user(agent), incident, caller="", caller_search="ZSMITH")
    assert response.status_code == 200
    assert Incident.objects.get(pk=incident.pk).caller == people[2]


def test_typing_a_name_without_choosing_is_refused_as_typed(as_user, agent, incident, people):
    response = edit(as_user(agent), incident, caller="", caller_search="Mateo")
    assert response.status_code == 400
    assert "Choose someone from the list" in response.text
    assert 'value="Mateo"' in response.text  # what was typed stays in the box
    assert Incident.objects.get(pk=incident.pk).caller == incident.caller


@pytest.mark.parametrize("value", ["1.5", "abc", str(2**70), "-3"])
def test_a_bad_id_in_the_picker_is_an_error_in_the_form(as_user, agent, incident, value):
    response = edit(as_user(agent), incident, caller=value)
    assert response.status_code == 400
    assert Incident.objects.get(pk=incident.pk).caller == incident.caller


def test_intake_with_an_empty_caller_logs_it_for_the_agent(as_user, agent):
    client = as_user(agent)
    client.post("/incidents/new/", {"title": "Printer jam", "channel": "phone",
                                     "impact": "low", "urgency": "low", "caller": "",
                                     "caller_search": ""})
    assert Incident.objects.get(title="Printer jam").caller == agent


def test_the_api_refuses_a_null_caller_on_edit(api, agent, incident):
    response = api(agent).patch(f"/api/v1/incidents/{incident.number}/", {"caller": None},
                                format="json")
    assert response.status_code == 400
    assert "caller" in response.json()["field_errors"]


def test_the_service_refuses_a_missing_caller(agent, incident):
    from incidents import services
    from itsm.exceptions import InvalidInput

    with pytest.raises(InvalidInput) as error:
        services.incident_update(incident=incident, by=agent, caller=None)
    assert "caller" in error.value.field_errors
