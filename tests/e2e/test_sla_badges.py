"""A breached incident shows it: red badge in the queue's Breached view, and the explain panel."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from incidents.sla.services import clocks_sweep
from tests.e2e.test_agent_journey import log_in
from tests.factories import AgentFactory, TeamFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_breached_incident_shows_its_badge_and_explains_it(page, screenshot):
    agent = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    team = TeamFactory(name="Service Desk", members=[agent])
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        late = make_incident(by=agent, assignment_team=team, impact="high", urgency="high",
                             title="Core switch down in building B")
    fresh = make_incident(by=agent, assignment_team=team, title="Printer jam on floor 3")
    clocks_sweep()

    log_in(page, "alice")
    page.goto("/incidents/?view=breached")
    row = page.locator("tr.desk-row", has_text=late.number)
    expect(row.locator(".sla-badge.text-bg-danger")).to_have_text("Response · breached")
    expect(page.locator("tr.desk-row", has_text=fresh.number)).to_have_count(0)
    screenshot("sla-breached-queue")

    page.goto("/incidents/?view=open&ordering=sla")
    expect(page.locator("tr.desk-row").first).to_contain_text(late.number)
    expect(page.locator("tr.desk-row", has_text=fresh.number).locator(".sla-badge")) \
        .to_contain_text("left")

    page.locator("tr.desk-row", has_text=late.number).get_by_role("link").first.click()
    card = page.get_by_test_id("sla-card")
    expect(card).to_contain_text("Response · breached")
    expect(card).to_contain_text("Resolution · 3 h")  # 4 h on 24×7, one gone
    card.get_by_role("button", name="Explain").click()
    ledger = page.get_by_test_id("sla-ledger").first
    expect(ledger).to_be_visible()
    expect(page.locator("#sla-explain")).to_contain_text("Breached: Due time passed")
    expect(page.locator("#sla-explain")).to_contain_text("P1 default v1")
    screenshot("sla-explain")
