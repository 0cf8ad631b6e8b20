"""The roster pages as the cast sees them: who is on call, a schedule's timeline with its
overrides and swaps, my shifts and contact methods.

The `roster` fixture (tests/oncall/conftest.py): Europe/Berlin, one weekly layer "Primary",
Alice Agent from Monday 2026-11-30 09:00, then Oscar Other, and so on. Viewers here set
their zone to Berlin so the times on the page read as the roster's.
"""

import html
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itsm.models import Notification
from oncall.choices import ContactKind, SwapState
from oncall.models import (
    ContactMethod,
    Layer,
    LayerMember,
    NotificationRule,
    Override,
    Schedule,
    ShiftSwap,
)
from oncall.services import swap_request
from tests.factories import AgentFactory, TeamFactory
from tests.oncall.conftest import BERLIN

pytestmark = pytest.mark.django_db

WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=BERLIN)  # Alice's first week


@pytest.fixture(autouse=True)
def _wednesday():
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        yield


@pytest.fixture
def berliners(agent, other_agent, manager):
    for user in (agent, other_agent, manager):
        user.time_zone = "Europe/Berlin"
        user.save(update_fields=["time_zone"])


@pytest.fixture
def outsider(db):
    """An agent of another team: sees rosters, changes none of `team`'s."""
    olga = AgentFactory(username="olga", first_name="Olga", last_name="Outside",
                        time_zone="Europe/Berlin")
    TeamFactory(name="Networks", members=[olga])
    return olga


def schedule_url(schedule, query=""):
    return reverse("oncall:schedule", args=[schedule.pk]) + query


def block_of(page: str, schedule) -> str:
    """The part of the who-is-on-call page about one schedule."""
    start = page.index(f'data-schedule="{schedule.pk}"')
    end = page.find("data-schedule=", start + 1)
    return page[start:end if end > 0 else len(page)]


def final_row(page: str) -> str:
    start = page.index('data-testid="final-row"')
    return html.unescape(page[start:page.index("</g>", start)])


def text(page: str) -> str:
    """The page's words, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def override_post(who, start="2026-12-03T08:00", end="2026-12-03T20:00", note="Release night"):
    return {"override-user": who.pk if who else "", "override-starts_at": start,
            "override-ends_at": end, "override-note": note}


# --- access ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["oncall:now", "oncall:me"])
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_anonymous_cannot_see_a_timeline(client, roster):
    assert client.get(schedule_url(roster))["Location"].startswith("/login/")


@pytest.mark.parametrize("name", ["oncall:now", "oncall:me"])
def test_requesters_are_refused(as_user, requester, name):
    assert as_user(requester).get(reverse(name)).status_code == 403


def test_requesters_cannot_see_a_timeline_or_add_overrides(as_user, requester, roster, agent):
    client = as_user(requester)
    assert client.get(schedule_url(roster)).status_code == 403
    response = client.post(reverse("oncall:override-add", args=[roster.pk]),
                           override_post(agent))
    assert response.status_code == 403
    assert not Override.objects.exists()


@pytest.mark.parametrize("path", [
    "/oncall/schedules/99999999999999999999/",
    "/oncall/schedules/99999999999999999999/feed/x.ics",
    "/oncall/people/99999999999999999999/feed/x.ics",
])
def test_an_enormous_id_is_404_not_500(as_user, agent, path):
    assert as_user(agent).get(path).status_code == 404


# --- who is on call now ----------------------------------------------------------------------

def test_who_is_on_call_shows_the_person_their_phone_until_when_and_who_is_next(
        as_user, agent, roster, berliners):
    agent.phone = "+49 30 1234567"
    agent.save(update_fields=["phone"])
    page = as_user(agent).get(reverse("oncall:now")).text
    block = text(block_of(page, roster))
    assert "Service desk on call" in block
    assert "Alice Agent" in block
    assert "+49 30 1234567" in block
    assert "alice@example.com" in block
    assert "Until Mon 7 Dec 09:00 CET" in block
    assert 'Layer "Primary", turn 1' in block
    assert "Next: Oscar Other from Mon 7 Dec 09:00 CET" in block
    assert "Nobody on call" not in block


def test_who_is_on_call_follows_the_clock(as_user, agent, roster, berliners):
    with time_machine.travel(datetime(2026, 12, 8, 12, 0, tzinfo=BERLIN), tick=False):
        block = text(block_of(as_user(agent).get(reverse("oncall:now")).text, roster))
    assert block.index("Oscar Other") < block.index("Next:")
    assert "Next: Alice Agent from Mon 14 Dec 09:00 CET" in block


def test_a_schedule_with_nobody_on_call_is_shown_loudly(as_user, agent, team, roster):
    empty = Schedule.objects.create(name="Weekend cover", team=team, time_zone="Europe/Berlin")
    page = as_user(agent).get(reverse("oncall:now")).text
    assert "Nobody on call" in block_of(page, empty)
    assert "nobody in the next 14 days" in block_of(page, empty)
    assert "Nobody on call" not in block_of(page, roster)
    assert "1 schedule with nobody on call right now" in page


def test_who_is_on_call_links_the_other_on_call_pages(as_user, manager, roster):
    page = as_user(manager).get(reverse("oncall:now")).text
    for name in ("oncall:me", "oncall:policies", "oncall:matrix", "oncall:dry-run"):
        assert f'href="{reverse(name)}"' in page
    assert f'href="{schedule_url(roster)}"' in page


def test_who_is_on_call_runs_the_same_queries_for_more_schedules(as_user, agent, team, roster):
    client = as_user(agent)
    client.get(reverse("oncall:now"))  # the session and permissions, once
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("oncall:now"))
    for n in range(3):
        extra = Schedule.objects.create(name=f"Extra {n}", team=team, time_zone="UTC")
        layer = Layer.objects.create(schedule=extra, name="L", starts_at=WEDNESDAY_NOON)
        LayerMember.objects.create(layer=layer, user=agent)
    with CaptureQueriesContext(connection) as four:
        client.get(reverse("oncall:now"))
    assert len(four) == len(one)


# --- the timeline ----------------------------------------------------------------------------

def test_timeline_shows_each_layer_and_the_final_roster(as_user, agent, roster, berliners):
    page = as_user(agent).get(schedule_url(roster)).text
    assert 'data-testid="layer-row" data-label="Primary"' in page
    final = final_row(page)
    assert 'data-label="Alice Agent"' in final
    assert 'data-label="Oscar Other"' in final
    # The hover title has the exact times in the viewer's zone.
    assert "Mon 30 Nov 09:00 – Mon 7 Dec 09:00 CET" in final
    assert page.count('<rect class="oc-day') == 14
    assert "No gaps" in page


def test_timeline_shows_gaps_loudly(as_user, agent, roster, berliners):
    Layer.objects.filter(schedule=roster).update(ends_at=datetime(2026, 12, 5, 9, 0,
                                                                  tzinfo=BERLIN))
    page = as_user(agent).get(schedule_url(roster)).text
    assert 'class="oc-gap"' in final_row(page)
    gaps = text(page[page.index('data-testid="gaps"'):])
    assert "Gaps in the next 2 weeks: Sat 5 Dec 09:00 – Wed 16 Dec 00:00 CET" in gaps
    assert "No gaps" not in page


def test_timeline_runs_the_same_queries_for_more_overrides(as_user, agent, other_agent, roster):
    client = as_user(agent)

    def add(day):
        Override.objects.create(schedule=roster, user=other_agent, created_by=agent,
                                starts_at=datetime(2026, 12, day, 8, tzinfo=BERLIN),
                                ends_at=datetime(2026, 12, day, 20, tzinfo=BERLIN))

    add(3)
    client.get(schedule_url(roster))
    with CaptureQueriesContext(connection) as one:
        client.get(schedule_url(roster))
    for day in (4, 5, 8, 9):
        add(day)
    with CaptureQueriesContext(connection) as five:
        page = client.get(schedule_url(roster)).text
    assert len(five) == len(one)
    assert final_row(page).count("oc-override") == 5


def test_four_weeks_on_request_and_two_for_anything_else(as_user, agent, roster):
    client = as_user(agent)
    assert client.get(schedule_url(roster, "?weeks=4")).text.count('<rect class="oc-day') == 28
    for odd in ("?weeks=abc", "?weeks=3", "?weeks=", "?weeks=99999999999999999999"):
        response = client.get(schedule_url(roster, odd))
        assert response.status_code == 200
        assert response.text.count('<rect class="oc-day') == 14


@pytest.mark.parametrize("start", ["nonsense", "2026-13-45", "9999-12-31", "0001-01-01", ""])
def test_a_bad_start_is_ignored(as_user, agent, roster, berliners, start):
    response = as_user(agent).get(schedule_url(roster, f"?start={start}"))
    assert response.status_code == 200
    assert ">2 Dec<" in response.text  # today, the first column


def test_a_start_date_moves_the_timeline(as_user, agent, roster, berliners):
    page = as_user(agent).get(schedule_url(roster, "?start=2027-01-04")).text
    assert ">4 Jan<" in page
    assert "Mon 4 Jan 09:00 – Mon 11 Jan 09:00 CET" in final_row(page)


def test_a_click_on_the_final_roster_prefills_the_override_form(as_user, agent, roster,
                                                               berliners):
    client = as_user(agent)
    assert "from=2026-11-30T09%3A00&amp;to=2026-12-07T09%3A00#add-override" in \
        client.get(schedule_url(roster)).text
    page = client.get(schedule_url(roster, "?from=2026-12-03T08:00&to=2026-12-03T20:00")).text
    assert 'name="override-starts_at" value="2026-12-03T08:00"' in page
    assert 'name="override-ends_at" value="2026-12-03T20:00"' in page
    assert client.get(schedule_url(roster, "?from=yesterday&to=%00")).status_code in (200, 400)


def test_the_override_form_offers_the_teams_members(as_user, agent, roster, outsider):
    page = as_user(agent).get(schedule_url(roster)).text
    form = page[page.index('id="add-override"'):page.index('id="offer-swap"')]
    assert "Alice Agent" in form and "Oscar Other" in form
    assert "Olga Outside" not in form


# --- overrides -------------------------------------------------------------------------------

def test_adding_an_override_puts_that_person_on_the_final_roster(as_user, agent, other_agent,
                                                                roster, berliners):
    client = as_user(agent)
    response = client.post(reverse("oncall:override-add", args=[roster.pk]),
                           override_post(other_agent))
    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.created_by) == (other_agent, agent)
    # Typed in the viewer's zone (Berlin): 08:00 CET is 07:00 UTC.
    assert override.starts_at == datetime(2026, 12, 3, 8, 0, tzinfo=BERLIN)
    page = client.get(response["Location"]).text
    assert "Oscar Other is on call Thu 3 Dec 08:00 – Thu 3 Dec 20:00 CET" in text(page)
    final = final_row(page)
    assert "Oscar Other\nThu 3 Dec 08:00 – Thu 3 Dec 20:00 CET\nOverride: Release night" in final
    assert "oc-override" in final
    assert "Release night" in text(page[page.index('data-testid="overrides"'):])


def test_an_override_that_ends_before_it_starts_is_refused_next_to_the_field(
        as_user, agent, other_agent, roster):
    response = as_user(agent).post(reverse("oncall:override-add", args=[roster.pk]),
                                   override_post(other_agent, start="2026-12-03T20:00",
                                                 end="2026-12-03T08:00"))
    assert response.status_code == 400
    form = response.text[response.text.index('id="add-override"'):]
    ends = form[form.index('name="override-ends_at"'):]
    assert "is-invalid" in form[form.index('name="override-ends_at"') - 200:][:400]
    assert "It must end after it starts." in ends[:600]
    assert not Override.objects.exists()


@pytest.mark.parametrize("data, field, message", [
    ({"override-user": ""}, "override-user", "Choose who covers."),
    ({"override-starts_at": ""}, "override-starts_at", "This field is required."),
    ({"override-ends_at": "tomorrow"}, "override-ends_at", "Enter a valid date/time."),
])
def test_override_form_errors_are_shown_not_raised(as_user, agent, other_agent, roster, data,
                                                   field, message):
    response = as_user(agent).post(reverse("oncall:override-add", args=[roster.pk]),
                                   {**override_post(other_agent), **data})
    assert response.status_code == 400
    after = response.text[response.text.index(f'name="{field}"'):]
    assert message in html.unescape(after[:800])
    assert not Override.objects.exists()


def test_an_agent_of_another_team_cannot_change_this_roster(as_user, outsider, agent, roster):
    client = as_user(outsider)
    page = client.get(schedule_url(roster)).text
    assert 'id="add-override"' not in page
    assert "Only members of Service Desk and managers change this roster." in page
    response = client.post(reverse("oncall:override-add", args=[roster.pk]),
                           override_post(agent))
    assert response.status_code == 403
    assert "Only the team's members and managers change this roster." in text(response.text)
    # Naming oneself, not one of the team, is refused by the form already.
    response = client.post(reverse("oncall:override-add", args=[roster.pk]),
                           override_post(outsider))
    assert response.status_code == 400
    assert not Override.objects.exists()


def test_deleting_an_override(as_user, agent, other_agent, outsider, roster):
    override = Override.objects.create(
        schedule=roster, user=other_agent, starts_at=datetime(2026, 12, 3, 8, tzinfo=BERLIN),
        ends_at=datetime(2026, 12, 3, 20, tzinfo=BERLIN))
    url = reverse("oncall:override-delete", args=[override.pk])
    assert as_user(outsider).post(url).status_code == 403
    assert Override.objects.filter(pk=override.pk).exists()
    response = as_user(agent).post(url)
    assert response.status_code == 302
    assert not Override.objects.exists()


def test_a_manager_edits_any_roster(as_user, manager, agent, roster):
    response = as_user(manager).post(reverse("oncall:override-add", args=[roster.pk]),
                                     override_post(agent))
    assert response.status_code == 302
    assert Override.objects.get().created_by == manager


# --- swaps -----------------------------------------------------------------------------------

def test_a_teammate_takes_an_offered_shift_and_both_names_show(as_user, client, agent,
                                                              other_agent, roster, berliners):
    client = as_user(agent)
    response = client.post(reverse("oncall:swap-add", args=[roster.pk]), {
        "swap-starts_at": "2026-12-04T09:00", "swap-ends_at": "2026-12-04T18:00",
        "swap-note": "Dentist"})
    assert response.status_code == 302
    swap = ShiftSwap.objects.get()
    assert "Take this shift" not in client.get(schedule_url(roster)).text  # not one's own

    client = as_user(other_agent)
    page = client.get(schedule_url(roster)).text
    assert "Alice Agent" in text(page[page.index('data-testid="swaps"'):]) and "Dentist" in page
    response = client.post(reverse("oncall:swap-act", args=[swap.pk, "take"]))
    assert response.status_code == 302
    override = Override.objects.get()
    assert (override.user, override.replaces) == (other_agent, agent)
    swap.refresh_from_db()
    assert swap.state == SwapState.TAKEN

    page = client.get(schedule_url(roster)).text
    overrides = text(page[page.index('data-testid="overrides"'):page.index('data-testid="swaps"')])
    assert "Oscar Other for Alice Agent" in overrides
    assert "Oscar Other\nFri 4 Dec 09:00 – Fri 4 Dec 18:00 CET\nOverride: Swap: covers for " \
           "Alice Agent (Dentist)" in final_row(page)
    assert "No open offers." in page
    # The team heard of the offer, and Alice that it was taken.
    offered = Notification.objects.get(recipient=other_agent, channel="in_app")
    assert offered.subject.startswith("Shift offered") and "Dentist" in offered.body
    assert Notification.objects.get(recipient=agent, channel="in_app").subject == \
        "Oscar Other took your shift on Service desk on call"


def test_a_taken_swap_cannot_be_taken_again(as_user, agent, other_agent, manager, roster):
    swap = swap_request(schedule=roster, by=agent, starts_at=WEDNESDAY_NOON + timedelta(days=1),
                        ends_at=WEDNESDAY_NOON + timedelta(days=1, hours=8))
    as_user(other_agent).post(reverse("oncall:swap-act", args=[swap.pk, "take"]))
    response = as_user(manager).post(reverse("oncall:swap-act", args=[swap.pk, "take"]))
    assert response.status_code == 409
    assert "Someone else took this shift" in response.text
    assert Override.objects.count() == 1


def test_withdrawing_a_swap_and_odd_actions(as_user, agent, other_agent, outsider, roster):
    swap = swap_request(schedule=roster, by=agent, starts_at=WEDNESDAY_NOON + timedelta(days=1),
                        ends_at=WEDNESDAY_NOON + timedelta(days=1, hours=8))
    assert as_user(agent).post(reverse("oncall:swap-act", args=[swap.pk, "steal"])) \
        .status_code == 404
    assert as_user(outsider).post(reverse("oncall:swap-act", args=[swap.pk, "take"])) \
        .status_code == 403
    assert as_user(other_agent).post(reverse("oncall:swap-act", args=[swap.pk, "cancel"])) \
        .status_code == 403
    assert as_user(agent).post(reverse("oncall:swap-act", args=[swap.pk, "cancel"])) \
        .status_code == 302
    swap.refresh_from_db()
    assert swap.state == SwapState.CANCELED
    assert not Override.objects.exists()


def test_a_swap_with_bad_times_is_refused_on_the_field(as_user, agent, roster):
    response = as_user(agent).post(reverse("oncall:swap-add", args=[roster.pk]), {
        "swap-starts_at": "2026-11-01T09:00", "swap-ends_at": "2026-11-01T18:00"})
    assert response.status_code == 400
    after = response.text[response.text.index('name="swap-ends_at"'):]
    assert "That shift is already over." in after[:600]
    assert not ShiftSwap.objects.exists()


# --- my shifts -------------------------------------------------------------------------------

def test_my_shifts_lists_the_next_four_weeks_and_my_feeds(as_user, agent, roster, berliners):
    page = as_user(agent).get(reverse("oncall:me")).text
    shifts = text(page[page.index('data-testid="my-shifts"'):page.index('data-testid="feeds"')])
    assert "Service desk on call now Wed 2 Dec 12:00 Mon 7 Dec 09:00" in shifts
    assert "Mon 14 Dec 09:00 Mon 21 Dec 09:00" in shifts
    assert "Mon 7 Dec 09:00 Mon 14 Dec 09:00" not in shifts  # Oscar's week
    feeds = page[page.index('data-testid="feeds"'):]
    assert f"http://testserver/oncall/people/{agent.pk}/feed/" in feeds
    assert f"http://testserver/oncall/schedules/{roster.pk}/feed/{roster.feed_token}.ics" in feeds
    assert "Subscribe in Google Calendar / Outlook with this URL" in feeds


def test_contact_method_with_a_bad_email_is_refused(as_user, agent):
    response = as_user(agent).post(reverse("oncall:contact-method-add"),
                                   {"kind": "email", "address": "not-an-address"})
    assert response.status_code == 400
    after = response.text[response.text.index('name="address"'):]
    assert "Enter a valid e-mail address." in after[:600]
    assert not ContactMethod.objects.exists()


def test_a_good_contact_method_is_listed_and_can_be_removed(as_user, agent, other_agent):
    client = as_user(agent)
    response = client.post(reverse("oncall:contact-method-add"),
                           {"kind": "email", "address": "alice@pager.example.com",
                            "label": "Pager inbox"})
    assert response.status_code == 302
    page = client.get(reverse("oncall:me")).text
    methods = page[page.index('data-testid="contact-methods"'):]
    assert "alice@pager.example.com" in methods and "Pager inbox" in methods
    method = ContactMethod.objects.get()
    assert as_user(other_agent).post(
        reverse("oncall:contact-method-delete", args=[method.pk])).status_code == 404
    assert as_user(agent).post(
        reverse("oncall:contact-method-delete", args=[method.pk])).status_code == 302
    assert not ContactMethod.objects.exists()


def test_a_test_notification_reaches_me_on_every_channel(as_user, agent, other_agent):
    client = as_user(agent)
    response = client.post(reverse("oncall:test-notification"), follow=True)
    rows = Notification.objects.filter(recipient=agent)
    assert {row.channel for row in rows} == {"in_app", "email"}
    assert not Notification.objects.filter(recipient=other_agent).exists()
    assert "Test sent to 2 channels." in response.text
    assert client.get(reverse("oncall:test-notification")).status_code == 405


# --- my notification rules -------------------------------------------------------------------

def test_i_build_my_ladder_on_my_page(as_user, agent):
    mail = ContactMethod.objects.create(user=agent, kind=ContactKind.EMAIL,
                                        address="alice.pager@example.com", label="Pager mail")
    client = as_user(agent)
    response = client.post("/oncall/rules/", {"method": mail.pk, "urgency": "high",
                                              "delay_minutes": 5}, follow=True)
    assert "Rule added." in response.content.decode()
    rule = NotificationRule.objects.get(user=agent)
    assert (rule.method, rule.delay_minutes, rule.urgency) == (mail, 5, "high")
    assert "after 5 min: Pager mail" in client.get("/oncall/me/").content.decode()
    client.post(f"/oncall/rules/{rule.pk}/delete/")
    assert not NotificationRule.objects.exists()


@pytest.mark.parametrize("data", [
    {"method": "", "urgency": "high", "delay_minutes": 0},
    {"method": "abc", "urgency": "high", "delay_minutes": 0},
    {"method": "OTHER", "urgency": "high", "delay_minutes": 0},
    {"method": "MINE", "urgency": "urgent", "delay_minutes": 0},
    {"method": "MINE", "urgency": "high", "delay_minutes": -1},
    {"method": "MINE", "urgency": "high", "delay_minutes": 99999},
    {"method": "MINE", "urgency": "high", "delay_minutes": "soon"},
])
def test_a_bad_rule_is_refused_clearly(as_user, agent, other_agent, data):
    mine = ContactMethod.objects.create(user=agent, kind=ContactKind.IN_APP)
    theirs = ContactMethod.objects.create(user=other_agent, kind=ContactKind.IN_APP)
    data = {**data, "method": {"MINE": mine.pk, "OTHER": theirs.pk}.get(data["method"],
                                                                       data["method"])}
    response = as_user(agent).post("/oncall/rules/", data)
    assert response.status_code == 400 and "is-invalid" in response.content.decode()
    assert not NotificationRule.objects.exists()


def test_someone_elses_rule_cannot_be_removed(as_user, agent, other_agent):
    theirs = ContactMethod.objects.create(user=other_agent, kind=ContactKind.IN_APP)
    rule = NotificationRule.objects.create(user=other_agent, method=theirs)
    assert as_user(agent).post(f"/oncall/rules/{rule.pk}/delete/").status_code == 404
    assert NotificationRule.objects.filter(pk=rule.pk).exists()
