"""The on-call admin: every page renders, a step that could find nobody is refused, contact
methods are checked, and ending a page goes through the service."""

from datetime import datetime

import pytest
import time_machine

from incidents.choices import Level
from itsm.choices import Role
from oncall.choices import ContactKind, PageState, TargetKind
from oncall.models import ContactMethod, EscalationPolicy, EscalationStep, Page
from tests.factories import UserFactory, make_incident
from tests.oncall.conftest import BERLIN


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", role=Role.ADMIN, is_staff=True))
    return client


def policy_form(team, **step):
    data = {"name": "Night paging", "team": team.pk, "priorities": "1,2", "repeat": 1,
            "active": "on", "steps-TOTAL_FORMS": 1, "steps-INITIAL_FORMS": 0,
            "steps-0-position": 0, "steps-0-target": TargetKind.SCHEDULE,
            "steps-0-wait_minutes": 5}
    data.update({f"steps-0-{key}": value for key, value in step.items()})
    return data


@pytest.mark.parametrize("model", ["schedule", "layer", "override", "shiftswap",
                                   "escalationpolicy", "matrixrule", "contactmethod",
                                   "notificationrule", "page"])
def test_every_on_call_admin_page_renders(admin_client, policy, model):
    assert admin_client.get(f"/admin/oncall/{model}/").status_code == 200
    if model != "page":
        assert admin_client.get(f"/admin/oncall/{model}/add/").status_code == 200
    assert admin_client.get(f"/admin/oncall/escalationpolicy/{policy.pk}/change/") \
        .status_code == 200


@pytest.mark.parametrize("step, field", [
    ({"target": TargetKind.SCHEDULE, "wait_minutes": 7}, "schedule"),
    ({"target": TargetKind.TEAM}, "team"),
    ({"target": TargetKind.ROUND_ROBIN}, "team"),
    ({"target": TargetKind.USERS}, "users"),
])
def test_a_step_that_names_nobody_is_refused(admin_client, team, step, field):
    response = admin_client.post("/admin/oncall/escalationpolicy/add/", policy_form(team, **step))
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert field in errors
    assert not EscalationPolicy.objects.filter(name="Night paging").exists()


def test_a_policy_without_steps_is_refused(admin_client, team):
    data = {**policy_form(team), "steps-TOTAL_FORMS": 0}
    response = admin_client.post("/admin/oncall/escalationpolicy/add/", data)
    assert response.status_code == 200 and "at least one step" in response.content.decode()
    assert not EscalationPolicy.objects.filter(name="Night paging").exists()


def test_a_good_policy_is_saved(admin_client, team, roster):
    response = admin_client.post("/admin/oncall/escalationpolicy/add/",
                                 policy_form(team, schedule=roster.pk))
    assert response.status_code == 302
    assert EscalationStep.objects.get(policy__name="Night paging").schedule == roster


@pytest.mark.parametrize("kind, address, message", [
    (ContactKind.EMAIL, "not an address", "valid e-mail"),
    (ContactKind.APPRISE, "nope://x", "does not recognise"),
    (ContactKind.APPRISE, "", "Enter the Apprise URL"),
])
def test_contact_methods_are_checked(admin_client, agent, kind, address, message):
    response = admin_client.post("/admin/oncall/contactmethod/add/",
                                 {"user": agent.pk, "kind": kind, "address": address})
    assert response.status_code == 200 and message in response.content.decode()
    assert not ContactMethod.objects.exists()


def test_ending_pages_from_the_admin(admin_client, policy, team, agent, requester):
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN), tick=False):
        incident = make_incident(by=agent, caller=requester, assignment_team=team,
                                 impact=Level.HIGH, urgency=Level.HIGH)
        page = Page.objects.get(incident=incident)
        admin_client.post("/admin/oncall/page/", {"action": "end_pages",
                                                  "_selected_action": [page.pk]})
    page.refresh_from_db()
    assert page.state == PageState.RESOLVED
    assert incident.timeline.filter(body__startswith="Page ended").exists()


def test_managers_with_staff_status_keep_the_matrix_agents_do_not(client, manager, agent):
    for person in (manager, agent):
        person.is_staff = True
        person.save()
    client.force_login(manager)
    assert client.get("/admin/oncall/escalationpolicy/add/").status_code == 200
    assert client.get("/admin/oncall/matrixrule/add/").status_code == 200
    client.force_login(agent)
    assert client.get("/admin/oncall/escalationpolicy/add/").status_code == 403
