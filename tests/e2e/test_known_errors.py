"""An agent logs an incident, sees the suggested known error while typing, applies its
workaround and resolves with it; then raises a problem from incidents ticked in the queue."""

import pytest
from playwright.sync_api import expect

from incidents.choices import ResolutionCode, State
from incidents.models import Incident
from itsm.choices import Role
from problems import services
from problems.models import Problem, WorkaroundApplication
from tests.e2e.test_agent_journey import log_in
from tests.factories import AgentFactory, TeamFactory, UserFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk():
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    team = TeamFactory(name="Service Desk", members=[agent])
    chief = UserFactory(username="petra", role=Role.PROBLEM_MANAGER)
    caller = UserFactory(username="bob", first_name="Bob", last_name="Caller",
                         role=Role.REQUESTER)
    vpn = services.known_error_create(
        by=agent, title="VPN client drops the tunnel after sleep",
        symptoms="The VPN disconnects every few minutes after the laptop wakes up",
        workaround="Turn off 'Allow the computer to turn off this device' for the Wi-Fi "
                   "adapter, then reconnect.")
    printer = services.known_error_create(
        by=agent, title="Printer queue stuck on floor 3", symptoms="Jobs wait forever",
        workaround="Restart the spooler service on PRN-03.")
    for known_error in (vpn, printer):
        services.knowledge_set_status(record=known_error, by=chief, status="published")
    return {"agent": agent, "team": team, "caller": caller, "vpn": vpn}


def test_agent_applies_the_suggested_workaround_and_resolves_with_it(page, screenshot, desk):
    log_in(page, "alice")
    page.goto("/incidents/new/")
    page.fill("#id_title", "VPN keeps disconnecting")
    page.fill("#id_description", "Since this morning the tunnel drops after the laptop sleeps")
    suggestion = page.locator(f"[data-known-error='{desk['vpn'].number}']")
    expect(suggestion).to_be_visible()  # debounced: appears while typing, no submit
    expect(page.locator("[data-known-error]").first).to_have_attribute(
        "data-known-error", desk["vpn"].number)
    screenshot("new-incident-suggestions")

    suggestion.get_by_test_id("log-with-workaround").click()
    applied = page.get_by_test_id("workaround-applied")
    expect(applied).to_contain_text(desk["vpn"].number)
    incident = Incident.objects.get(title="VPN keeps disconnecting")
    assert WorkaroundApplication.objects.filter(incident=incident,
                                                known_error=desk["vpn"]).exists()
    expect(page.get_by_test_id("timeline")).to_contain_text("Applied the workaround")
    screenshot("incident-workaround-applied")

    page.get_by_test_id("resolve-with-workaround").click()
    expect(page.locator("#incident")).to_have_attribute("data-state", "resolved")
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    assert incident.resolution_code == ResolutionCode.KNOWN_ERROR


def test_agent_raises_a_problem_from_incidents_ticked_in_the_queue(page, screenshot, desk):
    incidents = [make_incident(by=desk["agent"], caller=desk["caller"],
                               assignment_team=desk["team"], title=f"Shared drive slow {n}")
                 for n in range(3)]
    log_in(page, "alice")
    page.goto("/incidents/?view=open")
    bulk = page.get_by_test_id("bulk-problem")
    expect(bulk).to_be_disabled()  # nothing ticked yet
    for incident in incidents[:2]:
        page.locator(f"tr[data-number='{incident.number}'] .row-select").check()
    expect(bulk).to_have_text("Create problem from 2 selected")
    bulk.click()
    expect(page.get_by_test_id("incidents-to-link")).to_contain_text("2 incidents")
    page.fill("#id_title", "File server overloaded at 9:00")
    page.get_by_role("button", name="Log problem").click()
    expect(page.locator("#problem")).to_have_attribute("data-state", "new")
    problem = Problem.objects.get()
    assert {link.incident for link in problem.links.all()} == set(incidents[:2])
    expect(page.get_by_test_id("linked-incidents")).to_contain_text(incidents[0].number)

    # The 5 Whys, then a link typed by number, each swapped in place.
    page.fill("#why-q-1", "Why is the drive slow at nine?")
    page.fill("#why-a-1", "Every laptop syncs its offline files at logon")
    page.get_by_role("button", name="Save the 5 Whys").click()
    expect(page.locator("#problem .alert-success")).to_contain_text("5 Whys saved")
    expect(page.locator("#why-q-1")).to_have_value("Why is the drive slow at nine?")
    page.fill("#id_incidents", incidents[2].number)
    page.get_by_role("button", name="Link incidents").click()
    expect(page.get_by_test_id("linked-incidents")).to_contain_text(incidents[2].number)
    screenshot("problem-detail")
