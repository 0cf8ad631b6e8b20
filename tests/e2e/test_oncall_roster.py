"""An agent checks who is on call, opens the team's timeline, covers a shift with an override
and sees it on the final roster; on a phone the timeline scrolls inside its card."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from oncall.choices import TurnKind
from oncall.models import Layer, LayerMember, Override, Restriction, Schedule
from tests.factories import AgentFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def violations(page):
    """Content-Security-Policy violations the browser reports (none are allowed)."""
    found = []
    page.expose_function("reportCspViolation", lambda text: found.append(text))
    page.add_init_script("""document.addEventListener("securitypolicyviolation", (e) =>
        window.reportCspViolation(`${e.violatedDirective} ${e.blockedURI}`));""")
    page.on("console", lambda m: "Content Security Policy" in m.text and found.append(m.text))
    return found


def roster_of_a_real_team():
    """Three agents rotating weekly, a weekday day shift on top, a layer that stops in ten
    days (a gap after it), and a second schedule nobody is on."""
    people = [AgentFactory(username=u, first_name=f, last_name=n, time_zone="Europe/Berlin",
                           phone=p)
              for u, f, n, p in [("alice", "Alice", "Ng", "+49 30 555 0101"),
                                 ("oscar", "Oscar", "Berg", "+49 30 555 0102"),
                                 ("priya", "Priya", "Shah", "+49 30 555 0103"),
                                 ("dan", "Dan", "Duty", "")]]
    team = TeamFactory(name="Service Desk", members=people)
    today = datetime.now(BERLIN).date()
    monday = datetime.combine(today - timedelta(days=today.weekday()), time(9), BERLIN)
    schedule = Schedule.objects.create(name="Service desk on call", team=team,
                                       time_zone="Europe/Berlin")
    primary = Layer.objects.create(schedule=schedule, name="Primary", level=1,
                                   turn=TurnKind.WEEKLY, starts_at=monday,
                                   ends_at=monday + timedelta(days=10, hours=3))
    day = Layer.objects.create(schedule=schedule, name="Day shift", level=2,
                               turn=TurnKind.DAILY, starts_at=monday)
    for position, user in enumerate(people[:3]):
        LayerMember.objects.create(layer=primary, user=user, position=position)
    for position, user in enumerate([people[2], people[1]]):
        LayerMember.objects.create(layer=day, user=user, position=position)
    for weekday in range(5):
        Restriction.objects.create(layer=day, weekday=weekday, start_minute=9 * 60,
                                   end_minute=17 * 60)
    Schedule.objects.create(name="Weekend cover", team=team, time_zone="Europe/Berlin")
    return schedule, people


def log_in(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("user-name")).to_be_visible()


def test_agent_covers_a_shift_with_an_override(page, screenshot, violations):
    schedule, (alice, oscar, priya, dan) = roster_of_a_real_team()
    log_in(page, "alice")

    page.locator("#nav").get_by_role("link", name="On call").click()
    expect(page.get_by_role("heading", name="Who is on call now")).to_be_visible()
    on_call = page.locator(f"[data-schedule='{schedule.pk}']")
    expect(on_call.get_by_test_id("on-call-name")).to_have_text(re.compile(
        "Alice Ng|Priya Shah|Oscar Berg"))
    empty = Schedule.objects.get(name="Weekend cover")
    expect(page.locator(f"[data-schedule='{empty.pk}']")).to_contain_text("Nobody on call")
    screenshot("oncall-now")

    on_call.get_by_role("link", name="Service desk on call").click()
    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect(page.locator("[data-testid=layer-row]")).to_have_count(2)
    expect(page.get_by_test_id("gaps")).to_contain_text("Gaps in the next 2 weeks")

    # A click on a final-roster block pre-fills the override form with its times.
    page.locator("[data-testid=final-row] a.oc-pick").first.click()
    expect(page).to_have_url(re.compile(r"from=.*&to=.*#add-override"))
    expect(page.locator("#id_override-starts_at")).not_to_have_value("")

    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    page.select_option("#id_override-user", label="Dan Duty")
    page.fill("#id_override-starts_at", f"{tomorrow:%Y-%m-%d}T06:00")
    page.fill("#id_override-ends_at", f"{tomorrow:%Y-%m-%d}T22:00")
    page.fill("#id_override-note", "Covers the release")
    page.get_by_role("button", name="Add override").click()

    expect(page.locator(".desk-messages")).to_contain_text("Dan Duty is on call")
    dan_block = page.locator("[data-testid=final-row] svg.oc-override")
    expect(dan_block).to_have_count(1)
    expect(dan_block.locator("title")).to_contain_text("Dan Duty")
    expect(page.get_by_test_id("overrides")).to_contain_text("Covers the release")
    override = Override.objects.get()
    assert override.user == dan
    assert override.starts_at == datetime.combine(tomorrow, time(6), BERLIN)
    screenshot("oncall-roster")
    page.get_by_role("link", name="4 weeks").click()
    expect(page.locator("svg.oc-weeks-4")).to_be_visible()
    screenshot("oncall-roster-4-weeks")

    # A phone: the page does not scroll sideways; the timeline scrolls inside its card.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_test_id("timeline")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    scroller = page.locator(".oc-timeline-scroll")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    screenshot("oncall-roster-390")

    # My shifts: the rotation's turns and the feeds to subscribe to.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/oncall/me/")
    expect(page.get_by_test_id("my-shifts")).to_contain_text("Service desk on call")
    expect(page.get_by_test_id("person-feed")).to_contain_text(f"/oncall/people/{alice.pk}/feed/")
    page.get_by_test_id("test-notification").click()
    expect(page.locator(".desk-messages")).to_contain_text("Test sent to 2 channels.")
    screenshot("oncall-me")
    assert violations == []
