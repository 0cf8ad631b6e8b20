"""Someone in Berlin without a zone of their own is offered the browser's zone once, and picks a
zone on their profile by typing part of it; without JavaScript nothing is offered."""

import re
import zoneinfo

import pytest
from playwright.sync_api import expect

from tests.e2e.test_agent_journey import log_in
from tests.factories import AgentFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_browser(browser, live_server):
    """`open_browser(zone, javascript=True)` → a page in a browser whose clock is in `zone`;
    the CSP violations it reports are collected in `page.csp_violations` (none allowed)."""
    contexts = []

    def make(zone, javascript=True):
        context = browser.new_context(base_url=live_server.url, timezone_id=zone,
                                      java_script_enabled=javascript, reduced_motion="reduce")
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = []
        page.on("console", lambda m: "Content Security Policy" in m.text
                and page.csp_violations.append(m.text))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def alice(db):
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    TeamFactory(name="Service Desk", members=[agent])
    return agent


def test_the_browsers_zone_is_offered_and_used(open_browser, alice):
    page = open_browser("Europe/Berlin")
    log_in(page, "alice")
    prompt = page.get_by_test_id("time-zone-prompt")
    expect(prompt).to_contain_text("Times are shown in UTC. Your browser says Europe/Berlin — "
                                   "use that?")
    page.get_by_role("button", name="Use Europe/Berlin").click()
    expect(page.locator("body")).to_contain_text(
        "Times are now shown in Europe/Berlin")
    expect(prompt).to_have_count(0)
    alice.refresh_from_db()
    assert alice.time_zone == zoneinfo.ZoneInfo("Europe/Berlin")
    page.goto("/me/")
    expect(page.get_by_test_id("time-zone-picker")).to_contain_text(
        re.compile(r"It is now \d+ \w{3} \d{4}, \d\d:\d\d CES?T in Europe/Berlin\."))
    assert page.csp_violations == []


def test_keep_dismisses_the_banner_for_the_session(open_browser, alice):
    page = open_browser("America/New_York")
    log_in(page, "alice")
    prompt = page.get_by_test_id("time-zone-prompt")
    expect(prompt).to_contain_text("Your browser says America/New_York")
    page.get_by_role("button", name="Keep UTC").click()
    expect(prompt).to_have_count(0)  # swapped away in place
    page.goto("/notifications/")
    expect(page.get_by_test_id("user-name")).to_be_visible()
    expect(prompt).to_have_count(0)
    alice.refresh_from_db()
    assert alice.time_zone is None
    assert page.csp_violations == []


def test_nothing_is_offered_when_the_browser_agrees_or_without_javascript(open_browser, alice):
    page = open_browser("UTC")
    log_in(page, "alice")
    expect(page.get_by_test_id("time-zone-prompt")).to_be_hidden()

    page = open_browser("Europe/Berlin", javascript=False)
    page.goto("/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("user-name")).to_be_visible()
    expect(page.get_by_test_id("time-zone-prompt")).to_be_hidden()


def test_the_profile_picker_shows_the_time_in_the_zone_typed(open_browser, alice):
    page = open_browser("Europe/Berlin")
    log_in(page, "alice")
    page.goto("/me/")
    picker = page.get_by_test_id("time-zone-picker")
    box = picker.get_by_label("Time zone")
    expect(box).to_have_attribute("list", "time-zones")
    box.fill("Asia/Kolkata")
    expect(picker).to_contain_text(
        re.compile(r"It is now \d+ \w{3} \d{4}, \d\d:\d\d IST in Asia/Kolkata\."))
    box.fill("Europe/Istanbul")
    expect(picker).to_contain_text(re.compile(r"\d\d:\d\d UTC\+03 in Europe/Istanbul\."))

    picker.get_by_role("button", name="Use Europe/Berlin").click()
    expect(box).to_have_value("Europe/Berlin")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("Times are shown in Europe/Berlin.")
    alice.refresh_from_db()
    assert alice.time_zone == zoneinfo.ZoneInfo("Europe/Berlin")

    # Typed in part, without picking from the list: the one zone that matches is taken.
    page.get_by_label("Time zone").fill("kolk")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("Times are shown in Asia/Kolkata.")
    assert page.csp_violations == []
