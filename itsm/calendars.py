"""Business calendars: the ones every desk starts with, and the admin's tools for holidays.

The arithmetic on them is `itsm.business_time`. Every change to a calendar, its intervals or
its holidays ends in `calendar_changed`, once per change, so cached working times reload and
the SLA clocks on the calendar are re-derived (incidents subscribes to CalendarChanged).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays as public_holidays
import icalendar
from django.apps import apps as global_apps
from django.conf import settings
from django.db import transaction
from django.db.models import F

from itsm import clock
from itsm.choices import Weekday
from itsm.events import Event, publish
from itsm.exceptions import InvalidInput
from itsm.models import BusinessCalendar, Holiday, minute_label

ALWAYS_OPEN = "24×7"
OFFICE_HOURS = "Office hours"
# 08:30–12:30 and 13:30–17:30, Monday to Friday: eight business hours a day.
OFFICE_DAY = [(8 * 60 + 30, 12 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30)]
BUSINESS_DAY_MINUTES = sum(end - start for start, end in OFFICE_DAY)


def seed_calendars(apps=global_apps, **kwargs) -> None:
    """Create the built-in calendars if missing (an admin's changes to them are kept)."""
    BusinessCalendar = apps.get_model("itsm", "BusinessCalendar")
    WorkingInterval = apps.get_model("itsm", "WorkingInterval")
    BusinessCalendar.objects.get_or_create(
        name=ALWAYS_OPEN, defaults={"always_open": True, "time_zone": "UTC",
                                    "description": "Every minute of every day."})
    office, created = BusinessCalendar.objects.get_or_create(
        name=OFFICE_HOURS, defaults={"time_zone": settings.TIME_ZONE,
                                     "description": "Monday to Friday, 08:30–17:30 with an "
                                                    "hour's lunch break."})
    if created:
        WorkingInterval.objects.bulk_create(
            WorkingInterval(calendar=office, weekday=day, start_minute=start, end_minute=end)
            for day in range(5) for start, end in OFFICE_DAY)


# --- Changes and holiday tools --------------------------------------------------------------

MAX_ICS_BYTES = 1_000_000
MAX_ICS_EVENTS = 2000
MAX_ICS_DAYS = 5000  # rows one import may create (multi-day events count each day)
YEARS = range(1950, 2101)


@dataclass(frozen=True, kw_only=True)
class CalendarChanged(Event):
    """A calendar, its intervals or its holidays changed: deadlines on it may have moved."""

    calendar: BusinessCalendar


def calendar_changed(calendar: BusinessCalendar, *, at=None, by=None) -> None:
    """Bump the calendar's version and publish CalendarChanged, in one transaction.

    Call once per change (one admin save, one import), after the rows are written. The
    in-memory `calendar` gets the new version, so `working_time(calendar)` reloads.
    """
    with transaction.atomic():
        BusinessCalendar.objects.filter(pk=calendar.pk).update(version=F("version") + 1)
        calendar.refresh_from_db(fields=["version"])
        publish(CalendarChanged(calendar=calendar, at=at or clock.now(), by=by))


def holidays_generate(calendar: BusinessCalendar, *, country: str, subdivision: str = "",
                      year: int, by=None) -> int:
    """Add a country's (or region's) public holidays of a year as whole-day closures.

    Dates the calendar already has are left as they are; returns how many were added.
    """
    found = _public_holidays(country.strip(), subdivision.strip(), year)
    closures = {day: (name, None, None) for day, name in found.items()}
    return _add_holidays(calendar, closures, by=by)


def _public_holidays(country: str, subdivision: str, year: int) -> dict[date, str]:
    if year not in YEARS:
        raise InvalidInput.field("year", f"Pick a year from {YEARS.start} to {YEARS.stop - 1}.")
    try:
        national = public_holidays.country_holidays(country.upper())
    except NotImplementedError:
        raise InvalidInput.field(
            "country", f"No public holidays are known for country {country!r}; use a "
                       "two-letter ISO code such as GB, US or DE.") from None
    if not subdivision:
        return dict(public_holidays.country_holidays(country.upper(), years=year))
    codes = {code.upper(): code for code in national.subdivisions}
    if subdivision.upper() not in codes:
        known = ", ".join(sorted(national.subdivisions)[:40])
        raise InvalidInput.field(
            "subdivision", f"{country.upper()} has no subdivision {subdivision!r}; "
                           f"known: {known or 'none'}.")
    return dict(public_holidays.country_holidays(
        country.upper(), subdiv=codes[subdivision.upper()], years=year))


def holidays_import_ics(calendar: BusinessCalendar, data: bytes, *, by=None) -> int:
    """Import an iCalendar feed: all-day events close whole days (DTEND exclusive), timed
    events close their local date in the calendar's zone from start to end.

    All or nothing; dates the calendar already has are left as they are; returns how many
    were added. Recurrence rules are not expanded: an event counts once, at DTSTART.
    """
    closures: dict[date, tuple[str, int | None, int | None]] = {}
    for event in _ics_events(data):
        for day, closed in _event_closures(event, calendar.time_zone):
            if day not in closures or _closed_length(closed) > _closed_length(closures[day]):
                closures[day] = closed
        if len(closures) > MAX_ICS_DAYS:
            raise InvalidInput.field("file", f"The feed closes more than {MAX_ICS_DAYS} days.")
    return _add_holidays(calendar, closures, by=by)


def _ics_events(data: bytes) -> list:
    if len(data) > MAX_ICS_BYTES:
        raise InvalidInput.field("file", f"The file is larger than {MAX_ICS_BYTES // 1000} kB.")
    try:
        feed = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError):
        raise InvalidInput.field("file", "This is not an iCalendar (.ics) file.") from None
    if feed.name != "VCALENDAR":
        raise InvalidInput.field("file", "This is not an iCalendar (.ics) file: it has no "
                                         "VCALENDAR.")
    events = [event for event in feed.walk("VEVENT")
              if str(event.get("STATUS", "")).upper() != "CANCELLED"]
    if not events:
        raise InvalidInput.field("file", "The feed contains no events.")
    if len(events) > MAX_ICS_EVENTS:
        raise InvalidInput.field("file", f"The feed has {len(events)} events; at most "
                                         f"{MAX_ICS_EVENTS} can be imported at once.")
    return events


def _event_closures(event, zone) -> list[tuple[date, tuple[str, int | None, int | None]]]:
    """(date, (name, closed_from, closed_until)) for each day the event closes."""
    name = str(event.get("SUMMARY", "") or "Closed").strip()[:200] or "Closed"
    try:
        if event.errors:
            raise ValueError(event.errors[0])
        start, end = event.start, event.end
    except (ValueError, TypeError) as error:  # IncompleteComponent is a ValueError
        raise InvalidInput.field("file", f"Event {name!r} has no valid start or end "
                                         f"({error}).") from None
    if not isinstance(start, datetime):  # all-day: DTEND is exclusive
        days = (end - start).days if not isinstance(end, datetime) else 1
        return [(start + timedelta(days=n), (name, None, None)) for n in range(max(days, 1))]
    start, end = _local(start, zone), _local(end, zone)
    if end <= start:
        return []  # an instant: closes nothing
    closed_from = start.hour * 60 + start.minute
    if end.date() > start.date():
        closed_until = None
    else:  # round the end up to the minute: a closure never ends early
        closed_until = end.hour * 60 + end.minute + (1 if end.second or end.microsecond else 0)
    return [(start.date(), (name, closed_from or None, closed_until))]


def _local(instant: datetime, zone) -> datetime:
    """An event time in the calendar's zone; a floating (naive) one is read as local."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=zone)
    return instant.astimezone(zone)


def _closed_length(closed: tuple[str, int | None, int | None]) -> int:
    _, closed_from, closed_until = closed
    return (1440 if closed_until is None else closed_until) - (closed_from or 0)


def _add_holidays(calendar: BusinessCalendar,
                  closures: dict[date, tuple[str, int | None, int | None]], *, by=None) -> int:
    """Insert the closures on dates the calendar does not have yet; one CalendarChanged."""
    with transaction.atomic():
        existing = set(calendar.holidays.filter(date__in=list(closures))
                       .values_list("date", flat=True))
        new = [Holiday(calendar=calendar, date=day, name=name[:200],
                       closed_from_minute=closed_from, closed_until_minute=closed_until)
               for day, (name, closed_from, closed_until) in sorted(closures.items())
               if day not in existing]
        # ignore_conflicts: a concurrent import of the same dates is not an error.
        Holiday.objects.bulk_create(new, ignore_conflicts=True)
        if new:
            calendar_changed(calendar, by=by)
    return len(new)


def week_summary(calendar: BusinessCalendar) -> str:
    """"Mon–Fri 08:30–12:30, 13:30–17:30": runs of days with the same intervals.

    Reads `calendar.intervals.all()`, so a prefetched list costs no query.
    """
    if calendar.always_open:
        return "24×7"
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for interval in calendar.intervals.all():
        week[interval.weekday].append((interval.start_minute, interval.end_minute))
    runs: list[list] = []  # [first day, last day, intervals]
    for day, intervals in enumerate(week):
        intervals = sorted(intervals)
        if runs and runs[-1][2] == intervals:
            runs[-1][1] = day
        else:
            runs.append([day, day, intervals])
    parts = [f"{_days_label(first, last)} "
             + ", ".join(f"{minute_label(start)}–{minute_label(end)}" for start, end in intervals)
             for first, last, intervals in runs if intervals]
    return "; ".join(parts) or "no working time"


def _days_label(first: int, last: int) -> str:
    names = [day.label[:3] for day in Weekday]
    return names[first] if first == last else f"{names[first]}–{names[last]}"


def closed_label(holiday: Holiday) -> str:
    """"whole day", "from 13:00", "until 10:00" or "12:00–14:00"."""
    closed_from, closed_until = holiday.closed_minutes
    if (closed_from, closed_until) == (0, 1440):
        return "whole day"
    if closed_until == 1440:
        return f"from {minute_label(closed_from)}"
    if closed_from == 0:
        return f"until {minute_label(closed_until)}"
    return f"{minute_label(closed_from)}–{minute_label(closed_until)}"
