"""An agent logs in, logs an incident, finds it in the queue, works it and resolves it."""

import re

import pytest
from playwright.sync_api import expect

from incidents.choices import State
from incidents.models import Incident
from tests.factories import AgentFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("user-name")).to_be_visible()


def test_agent_logs_works_and_resolves_an_incident(page, screenshot):
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    TeamFactory(name="Service Desk", members=[agent])
    ServiceFactory(name="Email", criticality=2)
    caller = UserFactory(username="bob", first_name="Bob", last_name="Caller", role="Requester")

    log_in(page, "alice")

    # Log it: the priority appears as impact and urgency are chosen.
    page.get_by_role("link", name="New incident").first.click()
    page.fill("#id_title", "Outlook cannot connect for the whole finance floor")
    page.fill("#id_description", "Since 08:40, about 30 people. Webmail works.")
    page.fill("#id_caller", "bob c")  # the people picker searches as one types
    page.locator(".person-results [role=option]", has_text="Bob Caller").click()
    expect(page.locator("#id_caller")).to_have_value("Bob Caller")
    page.select_option("#id_service", label="Email")
    page.select_option("#id_impact", "high")
    page.select_option("#id_urgency", "high")
    expect(page.locator("#priority-preview")).to_contain_text("P1")
    page.click("text=Log incident")

    expect(page.locator("#incident")).to_have_attribute("data-state", "new")
    number = page.locator("#incident").get_attribute("data-number")
    assert re.fullmatch(r"INC\d{7}", number)
    incident = Incident.objects.get(number=number)
    assert incident.caller == caller and incident.priority == 1

    # Find it in the queue by number.
    page.locator("#nav").get_by_role("link", name="Queue").click()
    page.fill("#id_q", number)
    row = page.locator(f"tr[data-number='{number}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("P1")
    screenshot("queue")
    row.locator("a").first.click()

    # Work it: start, note, resolve — each in place, without a page load.
    page.click("[data-action='acknowledge'] button")
    expect(page.locator("#incident")).to_have_attribute("data-state", "in_progress")
    expect(page.get_by_test_id("assignee")).to_contain_text("Alice Ng")
    page.fill(".composer textarea", "Exchange connector restarted, watching the queue.")
    expect(page.locator("#mode-internal")).to_be_checked()  # agents start on the internal note
    page.click(".composer button[type=submit]")
    expect(page.locator("[data-kind='work_note']")).to_contain_text("Exchange connector restarted")

    page.click("[data-action-toggle='resolve']")
    expect(page.locator("#panel-resolve")).to_have_class(re.compile(r"\bshow\b"))
    page.click("[data-action='resolve'] button[type=submit]")  # no code or notes yet
    expect(page.locator("[data-action='resolve'] .invalid-feedback").first).to_be_visible()
    page.select_option("[data-action='resolve'] select[name=code]", "fixed")
    page.fill("[data-action='resolve'] textarea[name=notes]", "Restarted the connector.")
    page.click("[data-action='resolve'] button[type=submit]")
    expect(page.locator("#incident")).to_have_attribute("data-state", "resolved")
    expect(page.get_by_test_id("timeline")).to_contain_text("Resolved")
    screenshot("detail")

    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    assert incident.resolution_notes == "Restarted the connector."
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds.count("transition") == 2 and "work_note" in kinds


def test_the_loser_of_a_race_sees_a_clear_message_and_the_fresh_state(page, browser,
                                                                      live_server):
    agent = AgentFactory(username="alice")
    TeamFactory(name="Service Desk", members=[agent])
    from tests.factories import make_incident

    incident = make_incident(by=agent, title="VPN flaps")
    log_in(page, "alice")
    page.goto(f"/incidents/{incident.number}/")

    # Someone else cancels it while this page is open.
    other = browser.new_context(base_url=live_server.url, reduced_motion="reduce").new_page()
    log_in(other, "alice")
    other.goto(f"/incidents/{incident.number}/")
    other.click("[data-action-toggle='cancel']")
    expect(other.locator("#panel-cancel")).to_have_class(re.compile(r"\bshow\b"))
    other.fill("[data-action='cancel'] textarea[name=reason]", "Duplicate of INC0000001")
    other.click("[data-action='cancel'] button[type=submit]")
    expect(other.locator("#incident")).to_have_attribute("data-state", "canceled")

    page.click("[data-action='acknowledge'] button")
    expect(page.locator("#incident .alert-danger")).to_contain_text("changed by someone else")
    expect(page.locator("#incident")).to_have_attribute("data-state", "canceled")
