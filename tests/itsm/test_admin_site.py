"""The desk's admin site: branding, sections, the routing tester and the beat jobs' list."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
)

from incidents.models import RoutingRule
from itsm.admin_site import SECTIONS, DeskAdminSite, section_of
from itsm.choices import Role
from itsm.models import DeskSettings, Team, User
from itsm.schedule import BEAT_SCHEDULE, every_label, runs_label
from tests.factories import CategoryFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

TESTER = "/admin/incidents/routingrule/test/"


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def as_root(client, root):
    client.force_login(root)
    return client


def section_names(app_list):
    return [section["name"] for section in app_list]


# --- branding and sections -------------------------------------------------------------------

def test_the_default_site_is_the_desks():
    assert isinstance(admin.site, DeskAdminSite)
    assert admin.site.site_header == "Service desk administration"


def test_the_index_is_branded(as_root):
    page = as_root.get("/admin/").text
    assert "<title>Configure the desk | Service desk admin</title>" in page
    assert "Service desk administration" in page


def test_the_index_groups_models_into_sections_in_order(as_root):
    response = as_root.get("/admin/")
    assert section_names(response.context["app_list"]) == [
        "Desk configuration", "Incidents", "Problems & knowledge", "On call", "People", "System"]


def test_every_registered_model_appears_exactly_once(as_root):
    app_list = as_root.get("/admin/").context["app_list"]
    listed = [model["model"] for section in app_list for model in section["models"]]

    assert len(listed) == len(set(listed))
    assert set(listed) == set(admin.site._registry)


def test_the_sections_name_only_models_that_exist_and_no_model_twice():
    named = [name for _slug, _title, _collapsed, names in SECTIONS for name in names]
    assert len(named) == len(set(named))
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert set(named) <= registered, set(named) - registered


def test_models_the_sections_do_not_name_join_their_apps_section():
    from django.apps import apps

    assert section_of(apps.get_model("incidents", "TimelineEntry")) == "incidents"
    assert section_of(apps.get_model("oncall", "PageNotice")) == "on-call"
    assert section_of(apps.get_model("contenttypes", "ContentType")) == "system"


def test_configuration_comes_first_and_system_jobs_last(as_root):
    app_list = as_root.get("/admin/").context["app_list"]
    sections = {s["name"]: [m["object_name"] for m in s["models"]] for s in app_list}

    assert sections["Desk configuration"][:2] == ["DeskSettings", "Team"]
    assert {"RoutingRule", "PriorityMatrix", "SlaPolicy", "BusinessCalendar",
            "RecurrenceSettings"} <= set(sections["Desk configuration"])
    assert sections["Incidents"][:2] == ["Incident", "SlaClock"]
    assert {"User", "Group", "ContactMethod"} <= set(sections["People"])
    assert {"PeriodicTask", "IntervalSchedule", "CrontabSchedule", "ClockedSchedule",
            "SolarSchedule", "AccessAttempt", "ApiToken", "Heartbeat",
            "Notification"} <= set(sections["System"])


def test_the_system_section_is_collapsed_without_script(as_root):
    page = as_root.get("/admin/").text

    system = re.search(r"<details class=\"app-system module desk-section\"( open)?>", page)
    assert system and system.group(1) is None
    assert "<summary>System" in page
    assert "<script>" not in page.split("<details", 1)[1].split("</details>", 1)[0]
    assert 'style="' not in page


def test_the_sidebar_opens_the_system_section_on_one_of_its_pages(as_root):
    page = as_root.get("/admin/django_celery_beat/periodictask/").text
    assert re.search(r"<details class=\"app-system module desk-section current-app\" open>",
                     page)


def test_a_staff_member_sees_only_the_sections_they_may_use(client):
    agent = UserFactory(username="staffer", role=Role.AGENT, is_staff=True)
    client.force_login(agent)
    app_list = client.get("/admin/").context["app_list"]

    assert "System" not in section_names(app_list)
    models = {m["object_name"] for s in app_list for m in s["models"]}
    assert "RoutingRule" in models and "PeriodicTask" not in models


@pytest.mark.parametrize("label", sorted({m._meta.app_label for m in admin.site._registry}))
def test_each_apps_own_page_still_works(as_root, label):
    response = as_root.get(f"/admin/{label}/")
    assert response.status_code == 200
    assert [app["app_label"] for app in response.context["app_list"]] == [label]


def test_an_unknown_app_page_is_a_404(as_root):
    assert as_root.get("/admin/nosuchapp/").status_code == 404


def test_every_model_page_of_the_index_opens(as_root):
    app_list = as_root.get("/admin/").context["app_list"]
    for model in (m for section in app_list for m in section["models"]):
        response = as_root.get(model["admin_url"])
        assert response.status_code in (200, 302), model["admin_url"]


# --- the routing tester ----------------------------------------------------------------------

@pytest.fixture
def hardware(db):
    return CategoryFactory(name="Hardware")


def test_the_rules_list_links_to_the_tester(as_root):
    assert f'href="{TESTER}"' in as_root.get("/admin/incidents/routingrule/").text


def test_the_tester_starts_with_an_empty_form(as_root):
    response = as_root.get(TESTER)
    assert response.status_code == 200
    assert response.context["result"] is None
    assert 'data-testid="route-result"' not in response.text


def test_the_tester_names_the_matching_rule_and_its_team(as_root, hardware, other_team):
    laptop = CategoryFactory(name="Laptop", parent=hardware)
    rule = RoutingRule.objects.create(position=7, category=hardware, team=other_team)

    response = as_root.get(TESTER, {"category": hardware.pk, "subcategory": laptop.pk})

    assert response.context["result"]["rule"] == rule
    assert response.context["result"]["team"] == other_team
    assert f'href="/admin/incidents/routingrule/{rule.pk}/change/"' in response.text
    assert "Position 7: Hardware → Database" in response.text


def test_the_tester_gives_what_no_rule_matches_to_the_default_team(as_root, hardware, team):
    DeskSettings.objects.create(pk=1, default_team=team)
    page = as_root.get(TESTER, {"category": hardware.pk}).text
    assert "No rule matches: the default team <strong>Service Desk</strong> gets it" in page


def test_the_tester_warns_when_nothing_would_take_the_incident(as_root):
    page = as_root.get(TESTER, {"category": "", "service": ""}).text
    assert "desk-route-result warning" in page
    assert "no default team is set: it would be unassigned" in page


def test_the_tester_warns_about_an_inactive_default_team(as_root, team):
    DeskSettings.objects.create(pk=1, default_team=team)
    Team.objects.filter(pk=team.pk).update(active=False)
    page = as_root.get(TESTER, {"service": ""}).text
    assert "desk-route-result warning" in page
    assert "the default team <strong>Service Desk</strong> is inactive" in page


def test_the_tester_follows_a_service_rule(as_root, hardware, team, other_team):
    mail = ServiceFactory(name="Mail")
    RoutingRule.objects.create(position=1, category=hardware, service=mail, team=other_team)
    RoutingRule.objects.create(position=2, service=mail, team=team)

    assert as_root.get(TESTER, {"service": mail.pk}).context["result"]["team"] == team
    assert as_root.get(TESTER, {"service": mail.pk, "category": hardware.pk}
                       ).context["result"]["team"] == other_team


@pytest.mark.parametrize("params", [
    {"category": "999999"}, {"category": "abc"}, {"service": "-1"},
    {"subcategory": "1 OR 1=1"}, {"category": "9" * 40}, {"service": "1.5"},
])
def test_bogus_ids_are_form_errors(as_root, params):
    response = as_root.get(TESTER, params)
    assert response.status_code == 200
    assert response.context["result"] is None
    assert response.context["form"].errors


def test_a_subcategory_of_another_category_is_refused(as_root, hardware):
    access = CategoryFactory(name="Access")
    laptop = CategoryFactory(name="Laptop", parent=hardware)
    response = as_root.get(TESTER, {"category": access.pk, "subcategory": laptop.pk})

    assert response.context["result"] is None
    assert "Laptop is a subcategory of Hardware" in response.text


def test_the_tester_needs_the_permission_to_see_routing_rules(client):
    staff = UserFactory(username="staffer", role=Role.REQUESTER, is_staff=True)
    client.force_login(staff)
    assert client.get(TESTER).status_code == 403


def test_the_tester_is_for_signed_in_staff(client):
    response = client.get(TESTER)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- the beat jobs ---------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "label"), [
    (15, "every 15 seconds"), (30, "every 30 seconds"), (60, "every minute"),
    (90, "every 90 seconds"), (15 * 60, "every 15 minutes"), (3600, "every hour"),
    (2 * 3600, "every 2 hours"), (86400, "every day"),
])
def test_intervals_read_as_plain_words(seconds, label):
    assert every_label(seconds) == label


def test_every_schedule_entry_has_a_label_and_a_description():
    for name, entry in BEAT_SCHEDULE.items():
        assert entry.get("label") and entry.get("description"), name
        assert len(entry["description"]) <= 100


def test_the_jobs_list_shows_plain_names_and_how_often(as_root):
    page = as_root.get("/admin/django_celery_beat/periodictask/").text
    for label in ("SLA check", "On-call escalation steps", "Escalation matrix",
                  "Recurring-incident detection", "Auto-close resolved incidents",
                  "Deliver notifications", "Broker clean-up", "Heartbeat",
                  "every 30 seconds", "every 15 minutes", "every hour"):
        assert label in page, label
    assert "column-job" in page and "column-runs" in page and "column-enabled" in page
    assert "column-last_run_at" in page


def test_the_jobs_list_runs_a_fixed_number_of_queries(as_root, django_assert_max_num_queries):
    every = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    for n in range(10):
        PeriodicTask.objects.create(name=f"extra {n}", task="itsm.tasks.heartbeat",
                                    interval=every)
    with django_assert_max_num_queries(20):
        as_root.get("/admin/django_celery_beat/periodictask/")


def test_other_schedules_read_as_words_too():
    at = timezone.now() + timedelta(days=1)
    clocked = PeriodicTask(name="once", task="x", clocked=ClockedSchedule.objects.create(
        clocked_time=at), one_off=True)
    cron = PeriodicTask(name="nightly", task="x", crontab=CrontabSchedule.objects.create(
        minute="0", hour="2"))
    minutes = PeriodicTask(name="m", task="x", interval=IntervalSchedule.objects.create(
        every=5, period=IntervalSchedule.MINUTES))

    assert runs_label(clocked).startswith("once at ")
    assert "02:00" in runs_label(cron)
    assert runs_label(minutes) == "every 5 minutes"


def test_a_job_the_code_does_not_define_keeps_its_own_name(as_root):
    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.create(name="nightly report (by hand)", task="itsm.tasks.heartbeat",
                                interval=every, description="Made in the admin.")
    page = as_root.get("/admin/django_celery_beat/periodictask/").text
    assert "nightly report (by hand)" in page and "Made in the admin." in page
    assert "every 2 hours" in page


def test_a_job_still_opens_for_editing(as_root):
    task = PeriodicTask.objects.get(task="incidents.tasks.check_slas")
    assert as_root.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/"
                       ).status_code == 200


def test_new_teams_keep_working_in_the_admin(as_root):
    response = as_root.post("/admin/itsm/team/add/", {
        "name": "Field services", "tier": 1, "email": "", "active": "on"})
    assert response.status_code == 302
    assert TeamFactory._meta.model.objects.filter(name="Field services").exists()
