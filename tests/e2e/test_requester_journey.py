"""A requester logs an incident for themselves, sees only their own and follows it."""

import pytest
from playwright.sync_api import expect

from incidents.services import incident_comment
from tests.factories import AgentFactory, UserFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_requester_logs_and_follows_only_their_own_incident(page, screenshot):
    UserFactory(username="rick", first_name="Rick", last_name="Ramos", role="Requester")
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    someone_else = make_incident(by=agent, title="Core router down")

    page.goto("/incidents/")  # nothing without login
    page.fill("#id_username", "rick")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")

    page.click("text=New incident")
    expect(page.locator("#id_caller")).to_have_count(0)  # requesters log for themselves
    page.click("text=Log incident")  # empty: errors in place, nothing logged
    expect(page.locator(".invalid-feedback").first).to_contain_text("required")
    screenshot("new-incident-errors")
    page.fill("#id_title", "Laptop battery swells")
    page.click("text=Log incident")
    expect(page.locator("#incident")).to_have_attribute("data-state", "new")
    number = page.locator("#incident").get_attribute("data-number")
    expect(page.get_by_test_id("actions").locator("button")).to_have_count(0)

    incident_comment(incident=someone_else, by=agent, body="ignore", internal=False)
    from incidents.models import Incident

    mine = Incident.objects.get(number=number)
    incident_comment(incident=mine, by=agent, body="Bring it to the desk, we swap it.")
    incident_comment(incident=mine, by=agent, body="Vendor RMA 5531", internal=True)

    page.click("text=Queue")
    expect(page.locator("h1")).to_have_text("My requests")
    expect(page.locator(f"tr[data-number='{number}']")).to_be_visible()
    expect(page.locator(f"tr[data-number='{someone_else.number}']")).to_have_count(0)
    page.click(f"tr[data-number='{number}'] a")
    expect(page.get_by_test_id("timeline")).to_contain_text("Bring it to the desk")
    expect(page.get_by_test_id("timeline")).not_to_contain_text("Vendor RMA")
    page.fill(".comment-form textarea", "On my way.")
    page.click(".comment-form button[type=submit]")
    expect(page.get_by_test_id("timeline")).to_contain_text("On my way.")
    screenshot("requester-detail")
