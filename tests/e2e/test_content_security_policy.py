"""In a real browser the desk's pages keep to its Content-Security-Policy: the queue, an
incident worked through htmx, the admin and the API docs."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import TeamFactory, UserFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page):
    """Every CSP violation the browser reports, as the event and as its console error."""
    found = []
    page.expose_function("reportCspViolation", lambda text: found.append(text))
    page.add_init_script("""document.addEventListener("securitypolicyviolation", (e) =>
        window.reportCspViolation(`${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}`));""")
    page.on("console", lambda m: "Content Security Policy" in m.text and found.append(m.text))
    return found


def test_queue_detail_admin_and_docs_break_no_csp_rule(page, violations):
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin", role="Agent",
                        is_staff=True, is_superuser=True)
    team = TeamFactory(name="Service Desk", members=[admin])
    caller = UserFactory(username="bob", role="Requester")
    incident = make_incident(by=admin, caller=caller, assignment_team=team,
                             title="Printer on 3rd floor jams")

    page.goto("/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.goto("/incidents/?view=all")

    # The queue: a click anywhere on a row opens it (desk.js, not an inline onclick).
    expect(page.locator(f"tr[data-number='{incident.number}']")).to_be_visible()
    page.locator(f"tr[data-number='{incident.number}'] td").last.click()
    expect(page).to_have_url(re.compile(f"/incidents/{incident.number}/$"))

    # The detail page through htmx: a transition, a refused form swapped in place after
    # Bootstrap's collapse has styled its panel, and a comment.
    page.click("[data-action='acknowledge'] button")
    expect(page.locator("#incident")).to_have_attribute("data-state", "in_progress")
    page.click("[data-action-toggle='resolve']")
    expect(page.locator("#panel-resolve")).to_have_class(re.compile(r"\bshow\b"))
    page.click("[data-action='resolve'] button[type=submit]")
    expect(page.locator("[data-action='resolve'] .invalid-feedback").first).to_be_visible()
    # Close the dialog, errors and all, once it holds the focus (Bootstrap ignores Escape
    # while it opens).
    page.wait_for_function("() => document.activeElement?.closest('#panel-resolve')")
    page.keyboard.press("Escape")
    expect(page.locator("#panel-resolve")).to_be_hidden()
    page.fill(".composer textarea", "Paper tray replaced.")
    page.click(".composer button[type=submit]")
    expect(page.get_by_test_id("timeline")).to_contain_text("Paper tray replaced.")

    # The admin: index, a list with filters, a form with its widgets, the lockouts.
    for path in ("/admin/", "/admin/itsm/user/", "/admin/axes/accessattempt/"):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
    page.goto(f"/admin/itsm/user/{caller.pk}/change/")
    expect(page.locator("#id_groups_from")).to_be_attached()  # the JS group picker ran

    # The API docs: Swagger UI starts from its nonce'd inline script and loads the schema.
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ITSM service desk API")
    expect(page.get_by_text("/api/v1/incidents/", exact=True).first).to_be_visible()

    assert violations == []

    # The policy is in force, and the check above would have seen a breach.
    ran = page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.inlineRan = true"; document.head.append(s);
        return window.inlineRan === true; }""")
    assert ran is False
    page.wait_for_timeout(200)
    assert any("script-src" in v for v in violations)
