"""The SLA policy and clock admin: saving versions, refusing bad targets, re-applying."""

import pytest

from incidents.choices import ClockStage
from incidents.models import SlaClock, SlaPolicy
from itsm.choices import Role
from itsm.models import BusinessCalendar
from tests.factories import UserFactory, make_incident


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", role=Role.ADMIN, is_staff=True))
    return client


def form_data(policy, **changes):
    data = {"name": policy.name, "kind": policy.kind, "position": policy.position,
            "active": "on", "priority": policy.priority or "",
            "response_minutes": policy.response_minutes or "",
            "response_calendar": policy.response_calendar_id or "",
            "resolution_minutes": policy.resolution_minutes or "",
            "resolution_calendar": policy.resolution_calendar_id or "",
            "pause_states": ["on_hold"], "warn_percents": "75, 90",
            "versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0}
    data.update(changes)
    return data


def test_the_policy_pages_render(admin_client):
    policy = SlaPolicy.objects.get(name="P1 default")
    assert admin_client.get("/admin/incidents/slapolicy/").status_code == 200
    page = admin_client.get(f"/admin/incidents/slapolicy/{policy.pk}/change/")
    assert page.status_code == 200
    assert "75, 90" in page.text


def test_saving_a_change_makes_a_version_and_keeps_running_clocks(admin_client, agent, team):
    incident = make_incident(by=agent, assignment_team=team, impact="high", urgency="high")
    policy = SlaPolicy.objects.get(name="P1 default")
    response = admin_client.post(f"/admin/incidents/slapolicy/{policy.pk}/change/",
                                 form_data(policy, resolution_minutes=120))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.version == 2 and policy.versions.count() == 2
    clock = SlaClock.objects.get(incident=incident, target="resolution")
    assert clock.policy_version.number == 1  # untouched until re-applied

    admin_client.post("/admin/incidents/slapolicy/", {"action": "reapply",
                                                      "_selected_action": [policy.pk]})
    assert SlaClock.objects.get(incident=incident, target="resolution",
                                stage=ClockStage.RUNNING).policy_version.number == 2


@pytest.mark.parametrize("changes, field", [
    ({"warn_percents": "90, 75"}, "warn_percents"),
    ({"warn_percents": "150"}, "warn_percents"),
    ({"warn_percents": "soon"}, "warn_percents"),
    ({"response_minutes": "0"}, "response_minutes"),
    ({"response_calendar": ""}, "response_calendar"),
    ({"response_minutes": "-5"}, "response_minutes"),
])
def test_bad_targets_are_refused_and_change_nothing(admin_client, changes, field):
    policy = SlaPolicy.objects.get(name="P2 default")
    response = admin_client.post(f"/admin/incidents/slapolicy/{policy.pk}/change/",
                                 form_data(policy, **changes))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.version == 1


def test_a_policy_needs_a_target(admin_client):
    calendar = BusinessCalendar.objects.first()
    response = admin_client.post("/admin/incidents/slapolicy/add/", {
        "name": "Nothing", "kind": "sla", "position": 5, "response_calendar": calendar.pk,
        "versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0})
    assert response.status_code == 200
    assert not SlaPolicy.objects.filter(name="Nothing").exists()


def test_clocks_are_read_only_in_the_admin(admin_client, agent, team):
    incident = make_incident(by=agent, assignment_team=team)
    clock = SlaClock.objects.filter(incident=incident).first()
    page = admin_client.get(f"/admin/incidents/slaclock/{clock.pk}/change/")
    assert page.status_code == 200
    assert "Attached" in page.text  # its ledger
    assert admin_client.get("/admin/incidents/slaclock/add/").status_code == 403
    assert admin_client.get(f"/admin/incidents/slaclock/?q={incident.number}").status_code == 200
