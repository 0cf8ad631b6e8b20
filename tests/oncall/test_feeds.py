"""iCalendar feeds: what a calendar app subscribed to the URL gets, with no sign-in.

The `roster` fixture: Berlin, weekly turns from Monday 2026-11-30 09:00 (08:00 UTC), Alice
Agent first, then Oscar Other. The feed covers a week back and 60 days ahead.
"""

from datetime import UTC, datetime

import icalendar
import pytest
import time_machine
from django.urls import reverse

from oncall.feeds import person_feed_token
from oncall.models import Layer, LayerMember, Override, Schedule
from oncall.services import swap_request, swap_take
from tests.factories import AgentFactory
from tests.oncall.conftest import BERLIN

pytestmark = pytest.mark.django_db

WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _wednesday():
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        yield


def schedule_feed(schedule, token=None):
    return reverse("oncall:schedule-feed", args=[schedule.pk, token or schedule.feed_token])


def person_feed(user, token=None):
    return reverse("oncall:person-feed", args=[user.pk, token or person_feed_token(user)])


def events(response):
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    return calendar, [
        {"uid": str(e["uid"]), "summary": str(e["summary"]), "description": str(e["description"]),
         "start": e.decoded("dtstart"), "end": e.decoded("dtend")}
        for e in calendar.walk("VEVENT")]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# --- the schedule's feed ---------------------------------------------------------------------

def test_schedule_feed_is_the_final_roster_without_sign_in(client, roster):
    response = client.get(schedule_feed(roster))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert 'filename="oncall-service-desk-on-call.ics"' in response["Content-Disposition"]
    calendar, found = events(response)
    assert str(calendar["x-wr-calname"]) == "On call: Service desk on call"
    # Weekly turns from the layer's start (a week back is before it) to 60 days ahead, the
    # last one whole although the range ends inside it.
    assert [(e["summary"], e["start"], e["end"]) for e in found[:3]] == [
        ("On call: Alice Agent", utc(2026, 11, 30, 8), utc(2026, 12, 7, 8)),
        ("On call: Oscar Other", utc(2026, 12, 7, 8), utc(2026, 12, 14, 8)),
        ("On call: Alice Agent", utc(2026, 12, 14, 8), utc(2026, 12, 21, 8)),
    ]
    assert found[-1]["start"] == utc(2027, 1, 25, 8) and found[-1]["end"] == utc(2027, 2, 1, 8)
    assert len(found) == 9
    assert found[0]["description"] == 'Layer "Primary", turn 1'
    assert len({e["uid"] for e in found}) == len(found)


def test_schedule_feed_times_are_utc_and_stamped(client, roster):
    body = client.get(schedule_feed(roster)).content.decode()
    assert "DTSTART:20261130T080000Z" in body
    assert "DTEND:20261207T080000Z" in body
    assert "DTSTAMP:20261202T110000Z" in body


def test_a_shift_keeps_its_uid_from_day_to_day(client, roster):
    _, today = events(client.get(schedule_feed(roster)))
    with time_machine.travel(datetime(2026, 12, 9, 12, tzinfo=BERLIN), tick=False):
        _, next_week = events(client.get(schedule_feed(roster)))
    # The shift a week back is cut by the range on the later day, yet keeps start and UID.
    assert today[0]["uid"] in {e["uid"] for e in next_week}
    assert next_week[0]["start"] == utc(2026, 11, 30, 8)


def test_overrides_and_swaps_show_in_the_feed_with_names(client, roster, agent, other_agent):
    swap = swap_request(schedule=roster, by=agent, starts_at=datetime(2026, 12, 4, 9,
                                                                      tzinfo=BERLIN),
                        ends_at=datetime(2026, 12, 4, 18, tzinfo=BERLIN), note="Dentist")
    swap_take(swap=swap, by=other_agent)
    _, found = events(client.get(schedule_feed(roster)))
    covered = [e for e in found if e["start"] == utc(2026, 12, 4, 8)]
    assert covered == [{"uid": covered[0]["uid"], "summary": "On call: Oscar Other",
                        "description": "Override: Swap: covers for Alice Agent (Dentist)",
                        "start": utc(2026, 12, 4, 8), "end": utc(2026, 12, 4, 17)}]
    # Alice's week is split around it.
    assert [e["end"] for e in found if e["summary"] == "On call: Alice Agent"][:2] == [
        utc(2026, 12, 4, 8), utc(2026, 12, 7, 8)]


@pytest.mark.parametrize("token", ["wrong", "x" * 32])
def test_a_wrong_schedule_token_is_404(client, roster, token):
    assert client.get(schedule_feed(roster, token)).status_code == 404


def test_another_schedules_token_does_not_open_this_one(client, roster):
    other = Schedule.objects.create(name="Other", time_zone="UTC")
    assert client.get(schedule_feed(roster, other.feed_token)).status_code == 404
    assert client.get(reverse("oncall:schedule-feed", args=[999999, roster.feed_token])) \
        .status_code == 404


def test_an_empty_schedule_is_an_empty_calendar(client):
    empty = Schedule.objects.create(name="Empty", time_zone="UTC")
    calendar, found = events(client.get(schedule_feed(empty)))
    assert found == [] and str(calendar["x-wr-calname"]) == "On call: Empty"


# --- a person's feed -------------------------------------------------------------------------

def test_person_feed_has_only_that_persons_shifts_across_schedules(client, roster, agent):
    second = Schedule.objects.create(name="Database nights", time_zone="UTC")
    layer = Layer.objects.create(schedule=second, name="Nights", turn="daily",
                                 starts_at=utc(2026, 12, 1, 20))
    LayerMember.objects.create(layer=layer, user=AgentFactory(username="dora"), position=0)
    Override.objects.create(schedule=second, user=agent, starts_at=utc(2026, 12, 3, 20),
                            ends_at=utc(2026, 12, 4, 6), note="Patch night")
    calendar, found = events(client.get(person_feed(agent)))
    assert str(calendar["x-wr-calname"]) == "On call: Alice Agent"
    assert [(e["summary"], e["start"]) for e in found[:3]] == [
        ("On call: Service desk on call", utc(2026, 11, 30, 8)),
        ("On call: Database nights", utc(2026, 12, 3, 20)),
        ("On call: Service desk on call", utc(2026, 12, 14, 8)),
    ]
    assert found[1]["description"] == "Override: Patch night"
    assert len({e["uid"] for e in found}) == len(found)


def test_a_wrong_person_token_is_404(client, roster, agent, other_agent):
    assert client.get(person_feed(agent, "wrong")).status_code == 404
    # One person's token opens nobody else's feed.
    assert client.get(person_feed(other_agent, person_feed_token(agent))).status_code == 404
    assert client.get(person_feed(other_agent)).status_code == 200


def test_a_deactivated_persons_feed_is_404(client, roster, agent):
    url = person_feed(agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_person_tokens_are_stable_and_differ_per_person(agent, other_agent):
    assert person_feed_token(agent) == person_feed_token(agent)
    assert person_feed_token(agent) != person_feed_token(other_agent)
    assert str(agent.pk) not in person_feed_token(agent).split(":")
