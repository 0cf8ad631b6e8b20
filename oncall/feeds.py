"""iCalendar feeds of the final roster: one per schedule, one per person.

Calendar apps cannot sign in, so each feed URL carries a secret: the schedule's `feed_token`,
or for a person a signature of their id (`person_feed_token`). A wrong secret is a 404, the
same answer as a feed that does not exist.
"""

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.text import slugify

from itsm import clock
from itsm.models import User
from oncall import roster, selectors
from oncall.models import Schedule

PAST = timedelta(days=7)
AHEAD = timedelta(days=60)
PERSON_FEED_SALT = "oncall.person-feed"
PRODID = "-//ITSM service desk//On-call roster//EN"


# --- secrets ---------------------------------------------------------------------------------

def _signature(pk: int) -> str:
    return signing.Signer(salt=PERSON_FEED_SALT).signature(str(pk))


def person_feed_token(user: User) -> str:
    """The secret of a person's feed URL: a signature of their id, so nothing is stored
    (changing SECRET_KEY changes every person's URL)."""
    return _signature(user.pk)


def person_for_token(pk: int, token: str) -> User | None:
    """The active person whose feed `token` opens, or None."""
    if not secrets.compare_digest(token.encode(), _signature(pk).encode()):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def schedule_for_token(pk: int, token: str) -> Schedule | None:
    schedule = Schedule.objects.filter(pk=pk).first()
    if schedule is None or not secrets.compare_digest(token.encode(),
                                                      schedule.feed_token.encode()):
        return None
    return schedule


# --- shifts ----------------------------------------------------------------------------------

def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or clock.now()
    return now - PAST, now + AHEAD


def whole(value: roster.Schedule, shift: roster.Shift, start: datetime,
          end: datetime) -> roster.Shift:
    """A shift cut by the edge of the range, made whole again: its start is part of its UID,
    and a UID that moved every day would make calendars show it as a new event."""
    if shift.start > start and shift.end < end:
        return shift
    return roster.on_call(value, shift.start) or shift


def why_text(shift: roster.Shift, overrides: dict, people: dict) -> str:
    """`Shift.why` with names: the roster only knows user ids (it is pure)."""
    row = overrides.get(shift.override) if shift.override is not None else None
    if row is None:
        return shift.why
    text = f"Override: {row.note}" if row.note else "Override"
    replaced = people.get(row.replaces_id) if row.replaces_id else None
    if replaced is not None and str(replaced) not in text:
        text += f" (covers for {replaced})"
    return text


# --- calendars -------------------------------------------------------------------------------

def _calendar(name: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # A hint to refresh hourly; overrides change the roster at any time.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    return calendar


def _event(schedule: Schedule, shift: roster.Shift, *, summary: str, description: str,
           stamp: datetime) -> icalendar.Event:
    event = icalendar.Event()
    host = urlsplit(settings.SITE_URL).hostname or "service-desk"
    event.add("uid", f"oncall-{schedule.pk}-{shift.start:%Y%m%dT%H%M%SZ}-{shift.user}@{host}")
    event.add("dtstamp", stamp)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", settings.SITE_URL.rstrip("/") + reverse("oncall:schedule",
                                                             args=[schedule.pk]))
    event.add("transp", "TRANSPARENT")  # being on call is not being busy
    return event


def schedule_calendar(schedule: Schedule, now: datetime | None = None) -> bytes:
    """The schedule's final roster from a week ago to 60 days ahead."""
    start, end = window(now)
    loaded = selectors.schedules_loaded(Schedule.objects.filter(pk=schedule.pk), start, end)[0]
    value = selectors.spec(loaded)
    shifts = [whole(value, s, start, end) for s in roster.final_shifts(value, start, end)]
    overrides = {row.pk: row for row in loaded.overrides.all()}
    people = selectors.people([s.user for s in shifts]
                              + [o.replaces_id for o in overrides.values()])
    calendar = _calendar(f"On call: {schedule.name}")
    stamp = clock.now()
    for shift in shifts:
        name = people.get(shift.user, "someone")
        calendar.add_component(_event(loaded, shift, summary=f"On call: {name}",
                                      description=why_text(shift, overrides, people),
                                      stamp=stamp))
    return calendar.to_ical()


def person_calendar(user: User, now: datetime | None = None) -> bytes:
    """The person's shifts on every schedule they take part in, same range."""
    start, end = window(now)
    found = selectors.user_shifts(user, start, end)
    overrides = {row.pk: row for schedule, _ in found for row in schedule.overrides.all()}
    people = selectors.people([user.pk] + [o.replaces_id for o in overrides.values()])
    calendar = _calendar(f"On call: {user}")
    stamp = clock.now()
    values = {}
    for schedule, shift in found:
        if schedule.pk not in values:
            values[schedule.pk] = selectors.spec(schedule)
        shift = whole(values[schedule.pk], shift, start, end)
        calendar.add_component(_event(schedule, shift, summary=f"On call: {schedule.name}",
                                      description=why_text(shift, overrides, people),
                                      stamp=stamp))
    return calendar.to_ical()


def feed_filename(name: str) -> str:
    return f"{slugify(name) or 'roster'}.ics"
