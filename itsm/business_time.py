"""Business-time arithmetic: deadlines and elapsed working time on a business calendar.

The definition everything here implements (and the brute-force reference in the tests checks):
an instant is business time iff

- the calendar is always open, or the instant's local wall-clock time in the calendar's zone
  (its weekday and minute of the day) falls in one of that weekday's intervals [start, end), and
- it is not inside the closed part [from, until) of a holiday on the instant's local date.

Consequences worth knowing: on the autumn DST day the repeated wall-clock hour counts twice if it
is in an interval, and the skipped spring hour does not exist; an interval ending at 24:00 runs
straight into the next day's interval from 00:00; a holiday only ever removes time, so it can
only move a deadline later.

The work is done day by day over local dates: each date's working intervals become UTC ranges
once (cached per calendar), so a deadline a week away costs a handful of steps, not minutes.
Internally instants are naive UTC datetimes, which keeps the arithmetic plain and exact to the
microsecond; the public functions take and return aware ones.
"""

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_MINUTES = 1440
ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
# No tz database offset is wider than this (the widest, LMT included, are about ±15:57), so
# every instant of a local date lies within [midnight - 16 h, next midnight + 16 h) in UTC.
MAX_OFFSET = timedelta(hours=16)
# Offsets are sampled this far apart around a date to find its transitions; no zone has had
# two transitions within four hours.
OFFSET_STEP = timedelta(hours=4)
# "No working time at all" for this many consecutive days ends a search with ValueError.
HORIZON_DAYS = 3660
# Bounds the per-calendar day cache (a few years of dates for a busy calendar).
DAY_CACHE_SIZE = 4096

Minutes = tuple[int, int]
Range = tuple[datetime, datetime]  # naive UTC, [start, end)


@dataclass(frozen=True)
class WorkingTime:
    """A calendar's working time, detached from the database (build one by hand in tests).

    `week` holds seven tuples (Monday first) of (start_minute, end_minute) after local
    midnight, 1440 being 24:00; a mapping {weekday: intervals} is accepted too. `holidays` maps
    a date to (closed_from_minute, closed_until_minute, name); a plain name means the whole day.
    Intervals are sorted and overlapping or touching ones merged on construction.
    """

    zone: ZoneInfo
    always_open: bool = False
    week: tuple[tuple[Minutes, ...], ...] = ((),) * 7
    holidays: Mapping[date, tuple[int, int, str]] = field(default_factory=dict)
    _dates: tuple[date, ...] = field(init=False, repr=False, compare=False)
    _days: dict[date, tuple[Range, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Frozen: normalize through object.__setattr__, once, here.
        zone = self.zone if isinstance(self.zone, ZoneInfo) else ZoneInfo(str(self.zone))
        week = self.week
        if isinstance(week, Mapping):
            week = [week.get(day, ()) for day in range(7)]
        if len(week) != 7:
            raise ValueError("A week has seven days of intervals, Monday first.")
        holidays = {day: _closure(value) for day, value in self.holidays.items()}
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "week", tuple(_merge(_checked(day)) for day in week))
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "_dates", tuple(sorted(holidays)))
        object.__setattr__(self, "_days", {})

    def __hash__(self):
        # The generated hash would fail on the holidays dict; this one agrees with ==.
        return hash((self.zone, self.always_open, self.week, tuple(sorted(self.holidays.items()))))

    @classmethod
    def from_calendar(cls, calendar) -> "WorkingTime":
        """Load a BusinessCalendar's intervals and holidays (two queries)."""
        week = [[] for _ in range(7)]
        for weekday, start, end in calendar.intervals.values_list(
                "weekday", "start_minute", "end_minute"):
            week[weekday].append((start, end))
        holidays = {
            day: (closed_from or 0, DAY_MINUTES if closed_until is None else closed_until, name)
            for day, name, closed_from, closed_until in calendar.holidays.values_list(
                "date", "name", "closed_from_minute", "closed_until_minute")}
        return cls(zone=calendar.time_zone, always_open=calendar.always_open, week=week,
                   holidays=holidays)

    @property
    def has_working_time(self) -> bool:
        return self.always_open or any(self.week)

    def open_minutes(self, day: date) -> tuple[Minutes, ...]:
        """The wall-clock minutes of a local date that are working time, holidays applied."""
        intervals = ((0, DAY_MINUTES),) if self.always_open else self.week[day.weekday()]
        closure = self.holidays.get(day)
        return intervals if closure is None else _subtract(intervals, closure[:2])

    def ranges(self, day: date) -> tuple[Range, ...]:
        """The working time of a local date as UTC ranges, in order; cached per date."""
        found = self._days.get(day)
        if found is None:
            if len(self._days) >= DAY_CACHE_SIZE:
                self._days.clear()
            found = self._days[day] = _to_utc(self.zone, day, self.open_minutes(day))
        return found

    def holiday_dates(self, first: date, last: date) -> tuple[date, ...]:
        """The holiday dates in [first, last], in order."""
        return self._dates[bisect_left(self._dates, first):bisect_right(self._dates, last)]


def _closure(value) -> tuple[int, int, str]:
    if isinstance(value, str):
        return 0, DAY_MINUTES, value
    closed_from, closed_until, name = value
    if not 0 <= closed_from < closed_until <= DAY_MINUTES:
        raise ValueError(f"Holiday {name!r}: closed from {closed_from} until {closed_until} "
                         "is not a part of a day.")
    return closed_from, closed_until, name


def _checked(intervals: Iterable[Minutes]) -> list[Minutes]:
    intervals = [(int(start), int(end)) for start, end in intervals]
    for start, end in intervals:
        if not 0 <= start < end <= DAY_MINUTES:
            raise ValueError(f"Interval ({start}, {end}) is not within a day (0 to 1440).")
    return intervals


def _merge(intervals: Iterable[Minutes]) -> tuple[Minutes, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def _subtract(intervals: tuple[Minutes, ...], closed: Minutes) -> tuple[Minutes, ...]:
    closed_from, closed_until = closed
    left = []
    for start, end in intervals:
        if start < closed_from:
            left.append((start, min(end, closed_from)))
        if end > closed_until:
            left.append((max(start, closed_until), end))
    return tuple(left)


def _to_utc(zone: ZoneInfo, day: date, minutes: Iterable[Minutes]) -> tuple[Range, ...]:
    """Wall-clock minutes of a local date → the UTC ranges whose local time is in them.

    On a date with an offset change a wall-clock range can map to two UTC ranges (the repeated
    autumn hour) or shrink (the skipped spring hour): each stretch of the date with a constant
    offset is mapped on its own.
    """
    midnight = datetime.combine(day, time())
    out: list[Range] = []
    for piece_start, piece_end, offset in _date_pieces(zone, day):
        for start, end in minutes:
            lo = max(piece_start, midnight + timedelta(minutes=start) - offset)
            hi = min(piece_end, midnight + timedelta(minutes=end) - offset)
            if lo < hi:
                if out and out[-1][1] == lo:
                    out[-1] = (out[-1][0], hi)
                else:
                    out.append((lo, hi))
    return tuple(out)


@lru_cache(maxsize=16384)
def _date_pieces(zone: ZoneInfo, day: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """The UTC stretches in which the local date is `day`, each with its constant offset.

    One stretch on an ordinary date, two on a date with a DST change.
    """
    midnight = datetime.combine(day, time())
    pieces = []
    for start, end, offset in _constant_offsets(zone, midnight - MAX_OFFSET,
                                                midnight + ONE_DAY + MAX_OFFSET):
        lo, hi = max(start, midnight - offset), min(end, midnight + ONE_DAY - offset)
        if lo < hi:
            pieces.append((lo, hi, offset))
    return tuple(pieces)


def _constant_offsets(zone: ZoneInfo, lo: datetime, hi: datetime) -> Iterator:
    """Split [lo, hi) (naive UTC) where the zone's offset changes: (start, end, offset)."""
    start, offset = lo, _offset(zone, lo)
    probe = lo
    while probe < hi:
        probe = min(probe + OFFSET_STEP, hi)
        if (after := _offset(zone, probe)) != offset:
            change = _transition(zone, probe - OFFSET_STEP, probe, offset)
            yield start, change, offset
            start, offset = change, after
    yield start, hi, offset


def _transition(zone: ZoneInfo, lo: datetime, hi: datetime, before: timedelta) -> datetime:
    """The first instant in (lo, hi] whose offset is not `before` (tz transitions fall on whole
    seconds, so a binary search over seconds finds it exactly)."""
    low, high = 0, int((hi - lo).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, lo + timedelta(seconds=middle)) == before:
            low = middle
        else:
            high = middle
    return lo + timedelta(seconds=high)


def _offset(zone: ZoneInfo, utc: datetime) -> timedelta:
    return zone.fromutc(utc.replace(tzinfo=zone)).utcoffset()


def _naive_utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {instant!r}.")
    return instant.astimezone(UTC).replace(tzinfo=None)


def _local_date(zone: ZoneInfo, utc: datetime) -> date:
    return (utc + _offset(zone, utc)).date()


def _ranges_from(hours: WorkingTime, start: datetime, last: date | None = None) -> Iterator:
    """Working ranges in UTC order, from the local date before `start`'s to `last`.

    Ranges come off a heap so they stay in UTC order even where a zone's clock goes back over
    midnight (a later date's range can then start before an earlier date's). Without `last`
    the search is open-ended, so it gives up with ValueError after HORIZON_DAYS idle dates.
    """
    day = _local_date(hours.zone, start) - ONE_DAY
    pending: list[Range] = []
    idle = 0
    while last is None or day <= last:
        ranges = hours.ranges(day)
        idle = 0 if ranges else idle + 1
        if last is None and idle > HORIZON_DAYS:
            raise ValueError(f"The calendar has no working time for {HORIZON_DAYS} days after "
                             f"{day - timedelta(days=HORIZON_DAYS)}.")
        for found in ranges:
            heapq.heappush(pending, found)
        day += ONE_DAY
        # No later date has an instant before its midnight minus the widest offset.
        settled = datetime.combine(day, time()) - MAX_OFFSET
        while pending and pending[0][0] < settled:
            yield heapq.heappop(pending)
    while pending:
        yield heapq.heappop(pending)


_loaded: dict[int, tuple[int, WorkingTime]] = {}


def working_time(calendar) -> WorkingTime:
    """A BusinessCalendar's WorkingTime, cached in-process by (pk, version); a WorkingTime is
    returned as it is.

    `version` goes up on every change (itsm.calendars.calendar_changed), so a cached entry for
    an older version is replaced, never served.
    """
    if isinstance(calendar, WorkingTime):
        return calendar
    cached = _loaded.get(calendar.pk)
    if cached is not None and cached[0] == calendar.version:
        return cached[1]
    hours = WorkingTime.from_calendar(calendar)
    if calendar.pk is not None:
        _loaded[calendar.pk] = (calendar.version, hours)
    return hours


def add_business_time(calendar, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant t with business_time_between(calendar, start, t) == duration.

    `start` itself for a zero duration. Raises ValueError for naive datetimes, a negative
    duration, or a calendar without working time (none at all, or none for ten years).
    """
    hours = working_time(calendar)
    begin = _naive_utc(start, "start")
    if duration < ZERO:
        raise ValueError(f"A business duration cannot be negative, got {duration}.")
    if duration == ZERO:
        return begin.replace(tzinfo=UTC)
    if not hours.has_working_time:
        raise ValueError("The calendar has no working time: no intervals and not 24×7.")
    if hours.always_open and not hours.holidays:
        return (begin + duration).replace(tzinfo=UTC)
    left = duration
    for range_start, range_end in _ranges_from(hours, begin):
        if range_end <= begin:
            continue
        available = range_end - max(range_start, begin)
        if left <= available:
            return (max(range_start, begin) + left).replace(tzinfo=UTC)
        left -= available
    raise AssertionError("unreachable: _ranges_from ends only by raising")


def business_time_between(calendar, start: datetime, end: datetime) -> timedelta:
    """How much business time lies in [start, end); timedelta(0) when end <= start."""
    hours = working_time(calendar)
    begin, finish = _naive_utc(start, "start"), _naive_utc(end, "end")
    if finish <= begin or not hours.has_working_time:
        return ZERO
    if hours.always_open and not hours.holidays:
        return finish - begin
    total = ZERO
    last = _local_date(hours.zone, finish) + ONE_DAY
    for range_start, range_end in _ranges_from(hours, begin, last):
        if range_start >= finish:
            break
        lo, hi = max(range_start, begin), min(range_end, finish)
        if lo < hi:
            total += hi - lo
    return total


def closures_between(calendar, start: datetime, end: datetime) -> list[tuple[date, str]]:
    """(date, holiday name) of every holiday that took working time away inside [start, end).

    A holiday on a day that would not have been worked anyway (a Saturday on office hours) is
    not listed: it changed nothing.
    """
    hours = working_time(calendar)
    begin, finish = _naive_utc(start, "start"), _naive_utc(end, "end")
    if finish <= begin or not hours.holidays:
        return []
    first = _local_date(hours.zone, begin) - ONE_DAY
    last = _local_date(hours.zone, finish) + ONE_DAY
    found = []
    for day in hours.holiday_dates(first, last):
        closed_from, closed_until, name = hours.holidays[day]
        worked = ((0, DAY_MINUTES),) if hours.always_open else hours.week[day.weekday()]
        removed = [(max(start_minute, closed_from), min(end_minute, closed_until))
                   for start_minute, end_minute in worked]
        removed = [(lo, hi) for lo, hi in removed if lo < hi]
        if any(max(lo, begin) < min(hi, finish) for lo, hi in _to_utc(hours.zone, day, removed)):
            found.append((day, name))
    return found
