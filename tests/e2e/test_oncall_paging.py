"""A P1 pages the person on call; they acknowledge it from the incident page, and the page
stops: the card turns green and the incident is theirs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.choices import State
from oncall.choices import PageState, TargetKind, TurnKind
from oncall.models import EscalationPolicy, EscalationStep, Layer, LayerMember, Page, Schedule
from tests.e2e.test_agent_journey import log_in
from tests.factories import AgentFactory, TeamFactory, make_incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_person_on_call_acknowledges_a_page_from_the_incident(page, screenshot):
    alice = AgentFactory(username="alice", first_name="Alice", last_name="Ng")
    team = TeamFactory(name="Network Operations", members=[alice])
    schedule = Schedule.objects.create(name="Network on call", team=team)
    layer = Layer.objects.create(schedule=schedule, name="Primary", turn=TurnKind.WEEKLY,
                                 starts_at=timezone.now() - timedelta(days=1))
    LayerMember.objects.create(layer=layer, user=alice)
    policy = EscalationPolicy.objects.create(name="Network paging", team=team)
    EscalationStep.objects.create(policy=policy, target=TargetKind.SCHEDULE, schedule=schedule)
    incident = make_incident(by=alice, assignment_team=team, impact="high", urgency="high",
                             title="Core switch down in building B")

    log_in(page, "alice")
    page.goto(f"/incidents/{incident.number}/")
    card = page.get_by_test_id("paging-card")
    expect(card.get_by_test_id("page-active")).to_contain_text("Paging Network Operations")
    expect(card).to_contain_text("Notified: Alice Ng")
    screenshot("oncall-page-active")
    card.get_by_test_id("acknowledge-page").click()

    expect(page.locator(".alert-success")).to_contain_text("Page acknowledged")
    card = page.get_by_test_id("paging-card")
    expect(card.get_by_test_id("page-active")).to_have_count(0)
    expect(card).to_contain_text("acknowledged by Alice Ng")
    expect(page.get_by_test_id("timeline")).to_contain_text("Page acknowledged by Alice Ng")
    screenshot("oncall-page-acknowledged")
    running = Page.objects.get(incident=incident)
    assert running.state == PageState.ACKNOWLEDGED
    incident.refresh_from_db()
    assert incident.state == State.IN_PROGRESS and incident.assignee == alice
