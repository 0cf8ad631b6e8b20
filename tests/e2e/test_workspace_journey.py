"""The agent workspace in a real browser: an internal note and a reply, an inline edit, a hold
with a question in its dialog, the bulk bar, every sort, the keyboard, and the phone queue."""

import re

import pytest
from playwright.sync_api import expect

from attachments.demo import demo_png
from attachments.models import Attachment
from incidents.models import Incident
from tests.e2e.test_agent_journey import log_in
from tests.factories import AgentFactory, TeamFactory, UserFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(db):
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    colleague = AgentFactory(username="tom", first_name="Tom", last_name="Becker")
    team = TeamFactory(name="Service Desk", members=[agent, colleague])
    caller = UserFactory(username="mateo", first_name="Mateo", last_name="Lopez",
                         role="Requester")
    incidents = [make_incident(by=agent, caller=caller, assignment_team=team,
                               title=f"Printer {n} jams on every page") for n in range(4)]
    return {"agent": agent, "colleague": colleague, "team": team, "incidents": incidents}


def paste_screenshot(page, selector):
    """What Ctrl+V of a screenshot does: a paste event carrying an image file."""
    data = list(demo_png(40, 24))
    page.locator(selector).evaluate("""(el, bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], "image.png", {type: "image/png"}));
        el.dispatchEvent(new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true,
                                                      cancelable: true}));
    }""", data)


def test_an_agent_notes_replies_edits_and_holds_in_place(page, desk, screenshot):
    incident = desk["incidents"][0]
    log_in(page, "alice")
    page.goto(f"/incidents/{incident.number}/")
    page.click("[data-action='acknowledge'] button")
    expect(page.get_by_test_id("confirmation")).to_contain_text("You are working on")

    # The composer: internal by default and amber; the reply says who reads it.
    expect(page.locator("#mode-internal")).to_be_checked()
    expect(page.locator(".composer-submit")).to_have_text(re.compile("Add internal note"))
    page.fill(".composer textarea", "Toner low on the second tray; screenshot of the panel.")
    paste_screenshot(page, ".composer textarea")
    expect(page.locator(".composer [data-attachment-list]")).to_contain_text("pasted-")
    page.click(".composer-submit")
    expect(page.get_by_test_id("confirmation")).to_have_text("Internal note added.")
    preview = page.locator("[data-kind='work_note'] img").first
    expect(preview).to_be_visible()  # the image shown inline on the timeline
    assert preview.evaluate("img => img.naturalWidth") > 0  # served to the agent who may see it
    page.click("label[for=mode-public]")
    expect(page.locator(".composer-submit")).to_have_text(re.compile("Reply to Mateo Lopez"))
    page.fill(".composer textarea", "A technician is on the way.")
    page.click(".composer-submit")
    expect(page.get_by_test_id("confirmation")).to_have_text("Reply sent to Mateo Lopez.")
    expect(page.locator("#mode-public")).to_be_checked()  # never reset silently
    page.reload()
    expect(page.locator("#mode-public")).to_be_checked()  # remembered across page loads
    page.click("label[for=mode-internal]")

    # One field edited in place; the priority follows.
    page.click("#field-impact .inline-edit")
    page.select_option("#field-impact select", "high")
    page.click("#field-impact button[type=submit]")
    expect(page.get_by_test_id("confirmation")).to_contain_text("Priority is now P2")
    expect(page.get_by_test_id("impact")).to_have_text("High")

    # Hold in a dialog, with the question for the caller.
    page.click("[data-action-toggle='hold']")
    dialog = page.locator("#panel-hold")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=reason]").select_option("awaiting_caller")
    dialog.locator("textarea[name=note]").fill("Which floor is the printer on?")
    screenshot("workspace-hold-dialog")
    dialog.locator("button[type=submit]").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("on hold: awaiting caller")
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    expect(page.get_by_test_id("timeline")).to_contain_text("Which floor is the printer on?")
    screenshot("workspace-detail")

    kinds = list(Incident.objects.get(pk=incident.pk).timeline.values_list("kind", flat=True))
    assert "work_note" in kinds and "comment" in kinds
    attachment = Attachment.objects.get(incident=incident)
    assert attachment.internal and attachment.name.startswith("pasted-")


def test_the_queue_bulk_assigns_sorts_and_answers_the_keyboard(page, desk, screenshot):
    log_in(page, "alice")
    page.goto("/incidents/?view=open")
    expect(page.get_by_test_id("count-open")).to_have_text("4")

    # j/k move, x ticks, a takes the current row.
    page.locator("body").press("j")
    expect(page.locator("tr.desk-row.is-current")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("k")
    first = page.locator("tr.desk-row").first
    expect(first).to_have_class(re.compile("is-current"))
    taken = first.get_attribute("data-number")
    page.keyboard.press("a")
    expect(page.locator("#queue-status")).to_contain_text(f"{taken} is assigned to you")
    assert Incident.objects.get(number=taken).assignee == desk["agent"]
    expect(page.locator(f"tr[data-number='{taken}'] .col-assignee")).to_have_text("Alice Ng")

    # Bulk: three rows to Tom.
    rows = page.locator("tr.desk-row")
    for n in range(1, 4):
        rows.nth(n).locator(".row-select").check()
    expect(page.get_by_test_id("bulk-bar")).to_contain_text("3 incidents selected")
    page.select_option("#bulk-action", "assign")
    page.select_option("#bulk-team", label="Service Desk")
    page.fill("#bulk-bar input[type=search]", "tom")
    page.locator(".person-results [role=option]", has_text="Tom Becker").click()
    screenshot("workspace-bulk-bar")
    page.get_by_test_id("bulk-apply").click()
    expect(page.locator(".desk-messages")).to_contain_text("Assigned 3 incidents to Tom Becker")
    assert Incident.objects.filter(assignee=desk["colleague"]).count() == 3

    # Every column sorts, both ways, and the page keeps working.
    headers = page.locator("thead .sort-link")
    for n in range(headers.count()):
        for _ in range(2):
            page.locator("thead .sort-link").nth(n).click()
            expect(page.locator("tr.desk-row")).to_have_count(4)

    # ? opens the shortcut help; / goes to the search box.
    page.locator("body").press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    # Shown once the dialog holds the focus (Bootstrap ignores Escape while it opens).
    page.wait_for_function("() => document.activeElement?.closest('#shortcuts')")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    expect(page.locator("[data-shortcuts]")).to_be_focused()  # back where it was
    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()
    screenshot("workspace-queue")


def test_on_a_phone_the_queue_shows_cards(page, desk, screenshot):
    log_in(page, "alice")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/incidents/?view=open")
    row = page.locator("tr.desk-row").first
    expect(row).to_be_visible()
    assert row.evaluate("el => getComputedStyle(el).display") == "flex"  # a card, not a row
    expect(page.locator("thead")).to_be_hidden()
    expect(page.locator("#filters")).to_be_hidden()  # folded behind a button
    page.get_by_role("button", name="Filters").click()
    expect(page.locator("#filters")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    screenshot("workspace-queue-phone")


def test_keyboard_only_holds_and_takes_an_incident(page, desk):
    incident = desk["incidents"][1]
    log_in(page, "alice")
    page.goto(f"/incidents/{incident.number}/")
    page.focus("[data-action='acknowledge'] button")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirmation")).to_contain_text("You are working on")
    page.focus("[data-action-toggle='hold']")
    page.keyboard.press("Enter")  # the dialog opens with the focus in its first field
    reason = page.locator("#panel-hold select[name=reason]")
    expect(reason).to_be_focused()
    page.keyboard.press("ArrowDown")  # awaiting vendor
    page.keyboard.press("Tab")
    page.keyboard.type("Vendor ticket 4411 opened.")
    page.focus("#panel-hold button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("confirmation")).to_contain_text("on hold: awaiting vendor")
    page.wait_for_function("() => !document.querySelector('.modal.show')")
    assert Incident.objects.get(pk=incident.pk).hold_reason == "awaiting_vendor"
