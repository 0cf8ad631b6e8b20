"""With DEBUG on, as `make run` has it, refused input still renders in place.

django-htmx's debug script replaces the whole document with any 400/403/404 answer; the
desk's own partials (a form with its errors, a refused action) must be swapped in instead.
"""

import re

import pytest
from django.db.models import F
from playwright.sync_api import expect

from incidents.models import Incident
from tests.e2e.test_agent_journey import log_in
from tests.factories import AgentFactory, TeamFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


@pytest.mark.parametrize("action, field", [("resolve", "notes"), ("escalate", "reason"),
                                           ("cancel", "reason")])
def test_a_validation_error_stays_in_its_form(page, debug_on, action, field):
    agent = AgentFactory(username="alice")
    l2 = TeamFactory(name="Network L2")
    team = TeamFactory(name="Service Desk", members=[agent], next_tier=l2)
    incident = make_incident(by=agent, assignment_team=team, assignee=agent,
                             state="in_progress", title="VPN flaps")
    log_in(page, "alice")
    page.goto(f"/incidents/{incident.number}/")
    expect(page.locator("script[data-debug='True']")).to_have_count(1)  # django-htmx's debug

    page.click(f"[data-action-toggle='{action}']")
    expect(page.locator(f"#panel-{action}")).to_have_class(re.compile(r"\bshow\b"))
    page.click(f"[data-action='{action}'] button[type=submit]")
    form = page.locator(f"[data-action='{action}']")
    expect(form.locator(".invalid-feedback").first).to_be_visible()
    expect(form.locator(f"[name={field}].is-invalid")).to_have_count(1)
    expect(page.locator("nav.desk-nav")).to_be_visible()  # still the desk, not a raw response
    incident.refresh_from_db()
    assert incident.state == "in_progress" and incident.assignment_team == team


def test_a_refused_action_shows_its_message_in_place(page, debug_on):
    agent = AgentFactory(username="alice")
    TeamFactory(name="Service Desk", members=[agent])
    incident = make_incident(by=agent, title="Printer jam")
    log_in(page, "alice")
    page.goto(f"/incidents/{incident.number}/")
    # Someone else cancels it meanwhile: the button's version is stale.
    Incident.objects.filter(pk=incident.pk).update(state="canceled", version=F("version") + 1)

    page.click("[data-action='acknowledge'] button")
    expect(page.locator("#incident .alert-danger")).to_be_visible()
    expect(page.locator("#incident")).to_have_attribute("data-state", "canceled")
    expect(page.locator("nav.desk-nav")).to_be_visible()
