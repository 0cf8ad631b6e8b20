"""The default assignment team: what no routing rule matches goes to the desk's default team
(DeskSettings), from every way an incident is logged."""

import importlib

import pytest
from django.apps import apps as installed_apps

from incidents import services
from incidents.models import Incident, RoutingRule
from itsm.models import DeskSettings, Team
from tests.factories import CategoryFactory, ServiceFactory, TeamFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team):
    """The Service Desk (the cast's `team`) as the default team."""
    DeskSettings.objects.create(pk=1, default_team=team)
    return team


def test_an_incident_no_rule_matches_lands_in_the_default_team(desk, agent):
    incident = make_incident(by=agent)

    assert incident.assignment_team == desk
    assert incident.escalation_tier == desk.tier
    assert incident.timeline.get().body == "Logged via Web, routed to Service Desk"


def test_a_matching_rule_still_wins_over_the_default_team(desk, agent, other_team):
    hardware = CategoryFactory(name="Hardware")
    RoutingRule.objects.create(category=hardware, team=other_team)

    assert make_incident(by=agent, category=hardware).assignment_team == other_team
    assert make_incident(by=agent, category=CategoryFactory(name="Access")
                         ).assignment_team == desk


def test_an_inactive_rule_does_not_count_so_the_default_team_gets_it(desk, agent, other_team):
    mail = ServiceFactory(name="Mail")
    RoutingRule.objects.create(service=mail, team=other_team, active=False)

    assert make_incident(by=agent, service=mail).assignment_team == desk


def test_a_team_the_agent_chooses_still_wins(desk, agent, other_team):
    assert make_incident(by=agent, assignment_team=other_team).assignment_team == other_team


def test_a_requesters_incident_lands_in_the_default_team(desk, requester):
    incident = make_incident(by=requester, title="Printer jams")
    assert incident.assignment_team == desk


def test_an_e_mail_incident_lands_in_the_default_team(desk, agent, requester):
    incident = make_incident(by=agent, caller=requester, channel="email")
    assert incident.assignment_team == desk


def test_the_api_create_path_uses_the_default_team(desk, api, agent, requester):
    for user in (agent, requester):
        response = api(user).post("/api/v1/incidents/", {"title": "VPN drops every hour"},
                                  format="json")
        assert response.status_code == 201, response.data
        assert response.json()["assignment_team"] == desk.pk
    assert set(Incident.objects.values_list("assignment_team", flat=True)) == {desk.pk}


def test_the_web_create_path_uses_the_default_team(desk, as_user, agent, requester):
    as_user(agent).post("/incidents/new/", {
        "title": "Payroll app shows 500", "caller": requester.pk, "channel": "phone",
        "impact": "high", "urgency": "high"})
    assert Incident.objects.get().assignment_team == desk


def test_without_a_default_team_an_unmatched_incident_stays_unassigned(agent, team):
    incident = make_incident(by=agent)
    assert incident.assignment_team is None
    assert incident.timeline.get().body == "Logged via Web"


def test_a_deactivated_default_team_routes_nowhere(desk, agent):
    Team.objects.filter(pk=desk.pk).update(active=False)

    incident = make_incident(by=agent)

    assert incident.assignment_team is None
    assert incident.escalation_tier == 1


def test_deleting_the_default_team_clears_the_setting(agent):
    team = TeamFactory(name="Front desk")
    DeskSettings.objects.create(pk=1, default_team=team)
    team.delete()

    assert DeskSettings.load().default_team is None
    assert make_incident(by=agent).assignment_team is None


def test_route_follows_a_change_of_the_default_team_at_once(desk, other_team):
    nothing = {"category": None, "subcategory": None, "service": None}
    assert services.route(**nothing) == desk
    DeskSettings.objects.filter(pk=1).update(default_team=other_team)
    assert services.route(**nothing) == other_team


def test_matching_rule_names_the_rule_and_route_its_team(desk, other_team):
    hardware = CategoryFactory(name="Hardware")
    laptop = CategoryFactory(name="Laptop", parent=hardware)
    rule = RoutingRule.objects.create(position=5, category=hardware, team=other_team)

    assert services.matching_rule(category=hardware, subcategory=laptop, service=None) == rule
    assert services.route(category=hardware, subcategory=laptop, service=None) == other_team
    assert services.matching_rule(category=None, subcategory=None, service=None) is None


def test_loading_the_settings_before_anyone_saved_them_writes_nothing():
    settings = DeskSettings.load()

    assert settings.pk == 1 and settings.default_team is None
    assert not DeskSettings.objects.exists()


def test_there_is_only_one_settings_row():
    from django.db import IntegrityError, transaction

    DeskSettings.objects.create(pk=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeskSettings.objects.create(pk=2)


# --- the data migration ----------------------------------------------------------------------

migration = importlib.import_module("itsm.migrations.0010_desk_settings")


def test_the_migration_makes_the_service_desk_the_default_team(team):
    migration.default_to_the_service_desk(installed_apps, None)
    assert DeskSettings.load().default_team == team


def test_the_migration_does_nothing_without_a_service_desk_team(other_team):
    migration.default_to_the_service_desk(installed_apps, None)
    assert not DeskSettings.objects.exists()


# --- the admin page --------------------------------------------------------------------------

@pytest.fixture
def superuser(db):
    from itsm.models import User

    return User.objects.create_superuser("root", "root@example.com", "pw")


def test_the_admin_opens_straight_on_the_one_row(client, superuser):
    client.force_login(superuser)
    response = client.get("/admin/itsm/desksettings/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/itsm/desksettings/1/change/"
    page = client.get(response["Location"])
    assert "Incidents that no routing rule matches go to this team" in page.text
    assert client.get("/admin/itsm/desksettings/").status_code == 302  # still one row
    assert DeskSettings.objects.count() == 1


def test_the_admin_sets_the_default_team(client, superuser, team):
    client.force_login(superuser)
    client.get("/admin/itsm/desksettings/")
    response = client.post("/admin/itsm/desksettings/1/change/", {"default_team": team.pk})

    assert response.status_code == 302
    assert DeskSettings.load().default_team == team


def test_the_admin_refuses_an_inactive_default_team(client, superuser):
    retired = TeamFactory(name="Old desk", active=False)
    client.force_login(superuser)
    client.get("/admin/itsm/desksettings/")
    response = client.post("/admin/itsm/desksettings/1/change/", {"default_team": retired.pk})

    assert response.status_code == 200
    assert "Old desk is inactive" in response.text
    assert DeskSettings.load().default_team is None


@pytest.mark.parametrize("value", ["999999", "abc", "1 OR 1=1", "-1", "9" * 30])
def test_the_admin_refuses_a_bogus_team(client, superuser, value):
    client.force_login(superuser)
    client.get("/admin/itsm/desksettings/")
    response = client.post("/admin/itsm/desksettings/1/change/", {"default_team": value})

    assert response.status_code == 200
    assert DeskSettings.load().default_team is None


def test_the_settings_row_cannot_be_added_or_deleted_in_the_admin(client, superuser):
    client.force_login(superuser)
    client.get("/admin/itsm/desksettings/")
    assert client.get("/admin/itsm/desksettings/add/").status_code == 403
    assert client.post("/admin/itsm/desksettings/1/delete/", {"post": "yes"}).status_code == 403
    assert DeskSettings.objects.count() == 1


def test_people_without_the_permission_cannot_open_the_settings(client, agent):
    agent.is_staff = True
    agent.save()
    client.force_login(agent)
    assert client.get("/admin/itsm/desksettings/").status_code == 403
