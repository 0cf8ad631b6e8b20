"""Every page people use has no WCAG 2.1 A/AA violations that axe-core finds, for each role.

Three tests (the login page and a requester; an agent, in a Berlin browser so the time-zone
banner is on every page; a manager and an admin) walk their pages in one browser tab each;
each page is a subtest, so one page's violations are reported (also in
test-artifacts/axe-<name>.json) without hiding the next page's.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from incidents.choices import Level
from itsm import clock
from itsm.choices import Role
from itsm.models import User
from oncall.choices import TurnKind
from oncall.models import EscalationPolicy, Layer, LayerMember, Schedule
from problems import services as problems
from problems.choices import Audience
from tests.factories import AgentFactory, ServiceFactory, TeamFactory, UserFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk():
    """A team with an agent, its manager, a requester with an incident, a problem, a published
    known error and article, an on-call schedule and a paging policy; and an admin."""
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    manager = UserFactory(username="maria", first_name="Maria", last_name="Manager",
                          role=Role.MANAGER)
    chief = UserFactory(username="petra", first_name="Petra", last_name="Chief",
                        role=Role.PROBLEM_MANAGER)
    team = TeamFactory(name="Service Desk", manager=manager, members=[agent, chief])
    requester = UserFactory(username="rick", first_name="Rick", last_name="Requester",
                            role=Role.REQUESTER)
    admin = User.objects.create_superuser("root", "root@example.com", "pw", first_name="Ada",
                                          last_name="Admin")
    email = ServiceFactory(name="Email", criticality=2)
    incident = make_incident(by=agent, caller=requester, assignment_team=team, service=email,
                             impact=Level.HIGH, urgency=Level.HIGH,
                             title="Outlook cannot connect for the finance floor")
    make_incident(by=agent, caller=requester, assignment_team=team, state="in_progress",
                  title="Printer on floor 3 jams")
    make_incident(by=agent, caller=requester, assignment_team=team, state="on_hold",
                  title="New laptop for Rick")
    make_incident(by=agent, caller=requester, assignment_team=team, state="resolved",
                  title="Password reset")
    # Every state and priority badge, for the "Everything" view.
    make_incident(by=agent, caller=requester, assignment_team=team, state="closed",
                  impact=Level.HIGH, urgency=Level.MEDIUM, title="VPN drops at night")
    make_incident(by=agent, caller=requester, assignment_team=team, state="canceled",
                  impact=Level.LOW, urgency=Level.LOW, title="Logged twice")
    problem = problems.problem_create(by=agent, title="Mail relay drops connections",
                                      incidents=[incident])
    known_error = problems.known_error_create(
        by=agent, title="VPN client drops the tunnel after sleep",
        symptoms="The VPN disconnects after the laptop wakes up",
        workaround="Turn off power saving for the Wi-Fi adapter, then reconnect.")
    article = problems.article_create(by=agent, title="Set up the VPN client",
                                      audience=Audience.EVERYONE,
                                      body="## Steps\n\n1. Install it.\n2. Sign in.")
    for record in (known_error, article):
        problems.knowledge_set_status(record=record, by=chief, status="published")
    schedule = Schedule.objects.create(name="Service desk on call", team=team,
                                       time_zone="Europe/Berlin")
    started = (clock.now() - timedelta(days=3)).replace(hour=8, minute=0, second=0,
                                                         microsecond=0)
    layer = Layer.objects.create(schedule=schedule, name="Primary", level=1,
                                 turn=TurnKind.WEEKLY, starts_at=started)
    LayerMember.objects.create(layer=layer, user=agent, position=0)
    EscalationPolicy.objects.create(name="Service desk paging", team=team, repeat=1)
    return {"agent": agent, "manager": manager, "requester": requester, "admin": admin,
            "incident": incident, "problem": problem, "known_error": known_error,
            "article": article, "schedule": schedule}


def sign_in(page, live_server, user):
    """Sign in without the form (the requester's test uses it): a session cookie."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": live_server.url}])


def check_pages(page, axe, subtests, role, pages):
    for name, url in pages:
        with subtests.test(msg=f"{role} {name}", url=url):
            response = page.goto(url)
            assert response.ok, f"{url} answered {response.status}"
            # htmx's loads after the page (the bell) settle first; not "networkidle", which
            # waits half a second on every page and never comes on a polling one.
            page.wait_for_function("() => !document.querySelector('.htmx-request')")
            violations = axe(page, f"{role}-{name}")
            assert violations == [], str(violations)


@pytest.fixture
def berlin_page(browser, live_server):
    """A browser in Berlin: people without a zone of their own see the banner offering it."""
    context = browser.new_context(base_url=live_server.url, timezone_id="Europe/Berlin",
                                  viewport={"width": 1440, "height": 900},
                                  reduced_motion="reduce")
    page = context.new_page()
    yield page
    context.close()


def test_an_agents_pages(berlin_page, axe, subtests, live_server, desk):
    page = berlin_page
    sign_in(page, live_server, desk["agent"])
    page.goto("/incidents/")
    expect(page.get_by_test_id("time-zone-prompt")).to_be_visible()  # checked on every page
    check_pages(page, axe, subtests, "agent", [
        ("queue", "/incidents/"),
        ("queue-everything", "/incidents/?view=all"),
        ("incident", desk["incident"].get_absolute_url()),
        ("new-incident", "/incidents/new/"),
        ("problems", "/problems/"),
        ("problem", f"/problems/{desk['problem'].number}/"),
        ("known-errors", "/known-errors/"),
        ("known-error", f"/known-errors/{desk['known_error'].number}/"),
        ("articles", "/articles/"),
        ("oncall-now", "/oncall/"),
        ("oncall-schedule", f"/oncall/schedules/{desk['schedule'].pk}/"),
        ("oncall-me", "/oncall/me/"),
        ("oncall-pages", "/oncall/pages/"),
        ("oncall-policies", "/oncall/policies/"),
        ("notifications", "/notifications/"),
        ("profile", "/me/"),
    ])


def test_the_login_page_and_a_requesters_pages(page, axe, subtests, desk):
    with subtests.test(msg="login"):
        page.goto("/login/")
        violations = axe(page, "login")
        assert violations == [], str(violations)
    # axe came in through DevTools, and the page's policy still holds: an inline script that
    # the page itself adds is refused.
    assert page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.inlineRan = true";
        document.head.append(script);
        return [typeof window.axe.run, window.inlineRan === true];
    }""") == ["function", False]
    page.fill("#id_username", "rick")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    with subtests.test(msg="login with an error"):
        expect(page.get_by_test_id("login-error")).to_be_visible()
        violations = axe(page, "login-error")
        assert violations == [], str(violations)
    page.fill("#id_username", "rick")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("user-name")).to_be_visible()
    check_pages(page, axe, subtests, "requester", [
        ("requests", "/requests/"),
        ("request", f"/requests/{desk['incident'].number}/"),
        ("new-request", "/requests/new/"),
        ("articles", "/articles/"),
        ("article", f"/articles/{desk['article'].number}/"),
        ("notifications", "/notifications/"),
        ("profile", "/me/"),
    ])


def test_a_managers_and_an_admins_pages(page, axe, subtests, live_server, desk):
    sign_in(page, live_server, desk["manager"])
    check_pages(page, axe, subtests, "manager", [("sla-dashboard", "/dashboard/sla/")])
    page.context.clear_cookies()
    sign_in(page, live_server, desk["admin"])
    check_pages(page, axe, subtests, "admin", [
        ("queue", "/incidents/"),
        ("admin-index", "/admin/"),
        ("admin-incidents", "/admin/incidents/incident/"),
        ("admin-routing-tester", "/admin/incidents/routingrule/test/"),
        ("admin-beat-jobs", "/admin/django_celery_beat/periodictask/"),
        ("admin-desk-settings", "/admin/itsm/desksettings/"),
    ])
    with subtests.test(msg="admin the branded 404"):
        assert page.goto("/incidents/INC9999999/").status == 404
        checked(axe, page, "admin-not-found")


def checked(axe, page, name):
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    violations = axe(page, name)
    assert violations == [], str(violations)


def test_the_workspace_in_its_open_states(page, axe, subtests, live_server, desk):
    """What the journeys open on top of the pages: the bulk bar, a dialog, an inline edit,
    the reply mode; the requester's banner and "Did this fix it?"."""
    sign_in(page, live_server, desk["agent"])
    page.goto("/incidents/?view=open")
    page.locator(".row-select").first.check()
    with subtests.test(msg="queue with the bulk bar"):
        expect(page.get_by_test_id("bulk-bar")).to_be_visible()
        checked(axe, page, "agent-queue-bulk")
    page.goto(desk["incident"].get_absolute_url())
    page.click("label[for=mode-public]")
    with subtests.test(msg="composer in reply mode"):
        checked(axe, page, "agent-composer-reply")
    page.click("#field-impact .inline-edit")
    expect(page.locator("#field-impact select")).to_be_visible()
    with subtests.test(msg="an inline edit"):
        checked(axe, page, "agent-inline-edit")
    page.click("[data-action-toggle='cancel']")
    expect(page.locator("#panel-cancel textarea")).to_be_visible()
    with subtests.test(msg="the cancel dialog"):
        checked(axe, page, "agent-cancel-dialog")
    page.context.clear_cookies()
    sign_in(page, live_server, desk["requester"])
    waiting = desk["requester"].incidents_called.get(title="New laptop for Rick")
    solved = desk["requester"].incidents_called.get(title="Password reset")
    for name, incident in (("waiting-for-reply", waiting), ("did-this-fix-it", solved)):
        with subtests.test(msg=f"requester {name}"):
            page.goto(f"/requests/{incident.number}/")
            checked(axe, page, f"requester-{name}")
