"""A requester logs a request in the portal, answers the desk's question and confirms the fix,
seeing only their own requests and nothing internal."""

import re

import pytest
from playwright.sync_api import expect

from incidents import services
from incidents.choices import HoldReason, Level, ResolutionCode, State
from incidents.models import Incident
from itsm.models import Notification
from tests.factories import AgentFactory, ServiceFactory, TeamFactory, UserFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_requester_logs_answers_and_confirms_in_the_portal(page, screenshot):
    UserFactory(username="rick", first_name="Rick", last_name="Ramos", role="Requester")
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    team = TeamFactory(name="Service Desk", members=[agent])
    ServiceFactory(name="Printing")
    someone_else = make_incident(by=agent, title="Core router down", assignment_team=team)

    page.goto("/requests/")  # nothing without signing in
    page.fill("#id_username", "rick")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/requests/$"))
    expect(page.get_by_test_id("empty")).to_contain_text("No requests yet")
    screenshot("portal-empty")

    # A new request, in plain words: errors in place first, then logged.
    page.get_by_role("link", name="New request").first.click()
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("what's wrong")
    screenshot("portal-new-request-errors")
    page.goto("/requests/new/")
    page.fill("#id_title", "The 3rd floor printer jams on every page")
    page.fill("#id_description", "Since this morning. Paper comes out crumpled.")
    page.get_by_text("I can't work at all").click()
    page.get_by_text("My team").click()
    page.select_option("#id_service", label="Printing")
    screenshot("portal-new-request")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#request")).to_have_attribute("data-state", "new")
    number = page.locator("#request").get_attribute("data-number")
    expect(page.locator(".alert-success")).to_contain_text(
        f"Thanks — we've got it. Your request number is {number}.")
    expect(page.get_by_test_id("status")).to_have_text("Received")
    incident = Incident.objects.get(number=number)
    assert (incident.impact, incident.urgency) == (Level.MEDIUM, Level.HIGH)

    # The agent asks a question and writes an internal note.
    incident = services.incident_acknowledge(incident=incident, by=agent)
    services.incident_comment(incident=incident, by=agent, body="Vendor RMA 5531", internal=True)
    services.incident_comment(incident=someone_else, by=agent, body="Not for Rick")
    incident = services.incident_hold(incident=incident, by=agent,
                                      reason=HoldReason.AWAITING_CALLER,
                                      note="Is it the printer by the kitchen or by the lifts?")
    assert Notification.objects.filter(key__startswith="portal-reply:",
                                       recipient=incident.caller).count() == 1

    page.reload()
    banner = page.get_by_test_id("waiting-banner")
    expect(banner).to_contain_text("Waiting for your reply")
    expect(banner).to_contain_text("by the kitchen or by the lifts?")
    conversation = page.get_by_test_id("conversation")
    expect(conversation).to_contain_text("We started working on it")
    expect(conversation).not_to_contain_text("Vendor RMA")
    expect(page.locator("main")).not_to_contain_text("Service Desk")
    screenshot("portal-waiting-for-reply")

    # The banner's button takes the requester to the reply box; the reply resumes the work.
    banner.get_by_role("link", name="Reply").click()
    expect(page.locator("#reply-body")).to_be_focused()
    page.fill("#reply-body", "The one by the lifts.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_test_id("waiting-banner")).to_have_count(0)
    expect(page.get_by_test_id("status")).to_have_text("We're working on it")
    expect(conversation).to_contain_text("The one by the lifts.")
    expect(page.locator("#reply-body")).to_have_value("")
    incident.refresh_from_db()
    assert incident.state == State.IN_PROGRESS

    # The agent fixes it; the requester confirms.
    services.incident_resolve(incident=incident, by=agent, code=ResolutionCode.FIXED,
                              notes="Replaced the fuser unit. Printing is back to normal.")
    page.reload()
    card = page.get_by_test_id("did-it-fix")
    expect(card).to_contain_text("Did this fix it?")
    expect(card).to_contain_text("Replaced the fuser unit.")
    expect(page.get_by_test_id("status")).to_have_text("Solved — please confirm")
    screenshot("portal-did-this-fix-it")
    card.get_by_role("button", name="Yes, close it").click()
    expect(page.get_by_test_id("closed-line")).to_contain_text("Still a problem?")
    expect(page.get_by_test_id("status")).to_have_text("Closed")
    incident.refresh_from_db()
    assert (incident.state, incident.closed_at is not None) == (State.CLOSED, True)
    screenshot("portal-closed")

    # My requests lists only Rick's own; on a phone too.
    page.get_by_role("link", name="My requests").first.click()
    expect(page.locator(".portal-tabs [aria-current=page]")).to_have_text("Open")
    page.locator(".portal-tabs").get_by_role("link", name="All").click()
    expect(page.locator(f"[data-number='{number}']")).to_contain_text("Closed")
    expect(page.locator(f"[data-number='{someone_else.number}']")).to_have_count(0)
    make_incident(by=agent, caller=incident.caller, title="Wi-Fi drops in meeting room 2",
                  state="on_hold", assignment_team=team)
    make_incident(by=agent, caller=incident.caller, title="New starter needs a laptop",
                  state="in_progress", assignment_team=team)
    page.reload()
    screenshot("portal-my-requests")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_test_id("waiting-badge")).to_be_visible()
    screenshot("portal-my-requests-390")
