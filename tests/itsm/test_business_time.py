"""The business-time engine against a brute-force, minute-by-minute reference, plus the cases a
reader wants to see spelled out: DST weekends, part-day holidays, midnight joins, bad input.

No database: every calendar is a WorkingTime built in memory.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itsm.business_time import (
    WorkingTime,
    add_business_time,
    business_time_between,
    closures_between,
)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
OFFICE_DAY = [(8 * 60 + 30, 12 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30)]


def office(zone, holidays=None):
    return WorkingTime(zone=zone, week={day: OFFICE_DAY for day in range(5)},
                       holidays=holidays or {})


def round_the_clock(zone):
    """24×7 spelled as intervals, so the day-by-day path runs (always_open takes a shortcut)."""
    return WorkingTime(zone=zone, week=[[(0, 1440)]] * 7)


# --- The reference: the definition, one minute at a time -----------------------------------


class Reference:
    """Is the minute starting at a UTC instant business time? Straight from the definition.

    Exact for the zones used here: their offsets and transitions fall on whole minutes, so a
    minute is wholly in or wholly out.
    """

    def __init__(self, spec):
        self.zone = ZoneInfo(spec["zone"])
        self.always_open = spec["always_open"]
        self.week = spec["week"]
        self.holidays = spec["holidays"]

    def classify(self, instant: datetime) -> tuple[bool, date | None]:
        """(is business time, the date of a holiday that closed it or None)."""
        local = instant.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        if not self.always_open and not any(
                start <= minute < end for start, end in self.week[local.weekday()]):
            return False, None
        closure = self.holidays.get(local.date())
        if closure is not None and closure[0] <= minute < closure[1]:
            return False, local.date()
        return True, None

    def is_business(self, instant: datetime) -> bool:
        return self.classify(instant)[0]

    def walk(self, start: datetime, minutes: int) -> tuple[list[bool], set[date]]:
        """Each minute's business flag from `start`, and the holidays that closed any."""
        flags, closed = [], set()
        for i in range(minutes):
            business, holiday = self.classify(start + i * MINUTE)
            flags.append(business)
            if holiday is not None:
                closed.add(holiday)
        return flags, closed

    def deadlines(self, start: datetime, durations: list[int], limit: int) -> dict:
        """{minutes: the instant once that many business minutes lie behind}, stepping one
        minute at a time (within `limit` minutes)."""
        found, counted = {0: start}, 0
        for i in range(limit):
            if all(minutes in found for minutes in durations):
                break
            counted += self.is_business(start + i * MINUTE)
            found.setdefault(counted, start + (i + 1) * MINUTE)
        else:
            raise AssertionError(f"reference found no deadline within {limit} minutes")
        return found


# --- Random calendars ----------------------------------------------------------------------

ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
# Around the 2026 DST changes of London, New York and Sydney, and two ordinary weeks.
ANCHORS = [datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC),
           datetime(2026, 4, 5, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC),
           datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
           datetime(2026, 6, 15, tzinfo=UTC), datetime(2026, 12, 24, tzinfo=UTC)]
# Boundaries that matter (midnight both ways, the small hours DST moves) come up often.
boundary = st.one_of(st.sampled_from([0, 60, 120, 180, 1380, 1440]), st.integers(0, 1440))


@st.composite
def intervals(draw):
    pairs = draw(st.lists(st.tuples(boundary, boundary), max_size=3))
    return [(min(a, b), max(a, b)) for a, b in pairs if a != b]


@st.composite
def closure(draw):
    if draw(st.booleans()):
        return 0, 1440
    start, end = sorted(draw(st.lists(boundary, min_size=2, max_size=2, unique=True)))
    return start, end


@st.composite
def cases(draw):
    """(spec, start): a calendar as plain data and a whole-minute start near a DST change."""
    start = draw(st.sampled_from(ANCHORS)) + draw(st.integers(-3 * 1440, 3 * 1440)) * MINUTE
    week = draw(st.lists(intervals(), min_size=7, max_size=7))
    days = draw(st.lists(st.integers(-1, 10), max_size=4, unique=True))
    holidays = {start.date() + timedelta(days=n): (*draw(closure()), f"Holiday {n}")
                for n in days}
    spec = {"zone": draw(st.sampled_from(ZONES)), "always_open": draw(st.integers(0, 4)) == 0,
            "week": week, "holidays": holidays}
    return spec, start


def build(spec) -> WorkingTime:
    return WorkingTime(zone=ZoneInfo(spec["zone"]), always_open=spec["always_open"],
                       week=spec["week"], holidays=spec["holidays"])


def weekly_minutes(spec) -> int:
    if spec["always_open"]:
        return 7 * 1440
    return sum(len({m for start, end in day for m in range(start, end)}) for day in spec["week"])


PROPERTY = settings(max_examples=500, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cases(), st.data())
def test_add_business_time_matches_the_reference(case, data):
    spec, start = case
    week = weekly_minutes(spec)
    if week == 0:
        with pytest.raises(ValueError, match="no working time"):
            add_business_time(build(spec), start, MINUTE)
        return
    # Up to two days' worth, and at most a third of this calendar's week, so the reference walks
    # days, not months.
    cap = min(2 * 1440, max(1, week // 3))
    durations = data.draw(st.lists(st.integers(0, cap), min_size=1, max_size=4))
    hours, reference = build(spec), Reference(spec)
    expected = reference.deadlines(start, durations, limit=40 * 1440)
    for minutes in durations:
        due = add_business_time(hours, start, minutes * MINUTE)
        assert due.tzinfo is UTC
        assert due == expected[minutes]
        assert business_time_between(hours, start, due) == minutes * MINUTE
        if minutes:  # minimal: a minute earlier there is less
            assert business_time_between(hours, start, due - MINUTE) < minutes * MINUTE


@PROPERTY
@given(cases(), st.lists(st.integers(-60, 5 * 1440), min_size=1, max_size=4))
def test_business_time_between_and_closures_match_the_reference(case, ends):
    spec, start = case
    hours, reference = build(spec), Reference(spec)
    flags, closed = reference.walk(start, max(ends))
    for minutes in ends:
        expected = sum(flags[:minutes]) * MINUTE if minutes > 0 else timedelta(0)
        assert business_time_between(hours, start, start + minutes * MINUTE) == expected
    end = start + max(ends) * MINUTE
    assert closures_between(hours, start, end) == [
        (day, spec["holidays"][day][2]) for day in sorted(closed)]


@settings(max_examples=300, deadline=None, database=None)
@given(cases(), st.integers(1, 2 * 1440))
def test_a_holiday_never_brings_a_deadline_forward(case, minutes):
    spec, start = case
    if weekly_minutes(spec) == 0:
        return
    without = build({**spec, "holidays": {}})
    assert add_business_time(build(spec), start, minutes * MINUTE) >= add_business_time(
        without, start, minutes * MINUTE)


# --- DST weekends --------------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "day", "length"), [
    (LONDON, date(2026, 3, 29), 23), (LONDON, date(2026, 10, 25), 25),
    (NEW_YORK, date(2026, 3, 8), 23), (NEW_YORK, date(2026, 11, 1), 25),
])
@pytest.mark.parametrize("make", [round_the_clock, lambda zone: WorkingTime(zone, True)],
                         ids=["day-by-day", "always-open"])
def test_a_24x7_dst_day_lasts_23_or_25_hours(zone, day, length, make):
    hours = make(zone)
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    next_midnight = datetime(day.year, day.month, day.day + 1, tzinfo=zone)
    assert business_time_between(hours, midnight, next_midnight) == length * HOUR
    assert add_business_time(hours, midnight, length * HOUR) == next_midnight


def test_the_repeated_autumn_hour_counts_twice_and_the_skipped_spring_hour_not_at_all():
    small_hours = WorkingTime(zone=LONDON, week={6: [(0, 4 * 60)]})  # Sundays 00:00–04:00
    assert business_time_between(small_hours, datetime(2026, 10, 25, tzinfo=LONDON),
                                 datetime(2026, 10, 26, tzinfo=LONDON)) == 5 * HOUR
    assert business_time_between(small_hours, datetime(2026, 3, 29, tzinfo=LONDON),
                                 datetime(2026, 3, 30, tzinfo=LONDON)) == 3 * HOUR


def test_office_hours_across_the_london_spring_change():
    # Friday 16:00 GMT: 1.5 h left that day, the other 1.5 h from 08:30 BST on Monday.
    due = add_business_time(office(LONDON), datetime(2026, 3, 27, 16, tzinfo=LONDON), 3 * HOUR)
    assert due == datetime(2026, 3, 30, 10, 0, tzinfo=LONDON)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_office_hours_across_the_new_york_autumn_change():
    start = datetime(2026, 10, 30, 17, 0, tzinfo=NEW_YORK)  # Friday, EDT
    due = add_business_time(office(NEW_YORK), start, 8 * HOUR)
    assert due == datetime(2026, 11, 2, 17, 0, tzinfo=NEW_YORK)  # Monday, EST
    assert business_time_between(office(NEW_YORK), start, due) == 8 * HOUR


def test_an_office_day_is_eight_hours_on_both_sides_of_a_dst_change():
    for day in (date(2026, 3, 27), date(2026, 3, 30), date(2026, 10, 23), date(2026, 10, 26)):
        start = datetime(day.year, day.month, day.day, tzinfo=LONDON)
        assert business_time_between(office(LONDON), start, start + 24 * HOUR) == 8 * HOUR


# --- Holidays ------------------------------------------------------------------------------

CHRISTMAS = {date(2026, 12, 24): (13 * 60, 1440, "Christmas Eve"),
             date(2026, 12, 25): "Christmas Day",
             date(2026, 12, 26): "Boxing Day",  # a Saturday: closes nothing on office hours
             date(2026, 12, 28): "Boxing Day (observed)"}


def test_christmas_eve_closes_at_13_00():
    hours = office(LONDON, CHRISTMAS)
    eve = datetime(2026, 12, 24, tzinfo=LONDON)
    assert business_time_between(hours, eve, eve + 24 * HOUR) == 4 * HOUR
    # Thursday 11:00 + 3 h: 1.5 h that morning, then closed until Tuesday 08:30.
    start = datetime(2026, 12, 24, 11, tzinfo=LONDON)
    due = add_business_time(hours, start, 3 * HOUR)
    assert due == datetime(2026, 12, 29, 10, 0, tzinfo=LONDON)
    assert closures_between(hours, start, due) == [
        (date(2026, 12, 24), "Christmas Eve"), (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (observed)")]


def test_a_holiday_extends_a_deadline_and_never_shortens_it():
    start = datetime(2026, 12, 23, 9, tzinfo=LONDON)
    plain, closed = office(LONDON), office(LONDON, CHRISTMAS)
    for hours_wanted in range(1, 30):
        assert add_business_time(closed, start, hours_wanted * HOUR) >= add_business_time(
            plain, start, hours_wanted * HOUR)
    assert add_business_time(closed, start, 16 * HOUR) > add_business_time(
        plain, start, 16 * HOUR)


def test_closures_outside_the_span_or_on_idle_days_are_not_listed():
    hours = office(LONDON, CHRISTMAS)
    assert closures_between(hours, datetime(2026, 12, 26, tzinfo=LONDON),
                            datetime(2026, 12, 27, tzinfo=LONDON)) == []
    # Christmas Eve closes from 13:00: a span that ends at 13:00 lost nothing.
    assert closures_between(hours, datetime(2026, 12, 24, 9, tzinfo=LONDON),
                            datetime(2026, 12, 24, 13, tzinfo=LONDON)) == []


def test_a_holiday_on_an_always_open_calendar_closes_it():
    hours = WorkingTime(zone=SYDNEY, always_open=True,
                        holidays={date(2026, 12, 25): "Christmas Day"})
    start = datetime(2026, 12, 24, 23, tzinfo=SYDNEY)
    assert add_business_time(hours, start, 2 * HOUR) == datetime(2026, 12, 26, 1, tzinfo=SYDNEY)


# --- Midnight, precision and bad input -----------------------------------------------------


def test_an_interval_ending_at_24_00_runs_into_one_starting_at_00_00():
    late_and_early = WorkingTime(zone=LONDON, week={0: [(20 * 60, 1440)], 1: [(0, 4 * 60)]})
    start = datetime(2026, 6, 15, 23, tzinfo=LONDON)  # a Monday
    assert add_business_time(late_and_early, start, 2 * HOUR) == datetime(
        2026, 6, 16, 1, tzinfo=LONDON)
    assert business_time_between(late_and_early, start + HOUR / 2,
                                 start + 3 * HOUR / 2) == HOUR


def test_a_24x7_calendar_has_no_gap_at_midnight():
    hours = round_the_clock(SYDNEY)
    start = datetime(2026, 6, 15, 23, 59, 30, tzinfo=SYDNEY)
    assert add_business_time(hours, start, MINUTE) == start + MINUTE
    assert business_time_between(hours, start, start + MINUTE) == MINUTE


def test_seconds_and_microseconds_are_kept():
    start = datetime(2026, 6, 15, 12, 29, 59, 500_000, tzinfo=LONDON)
    due = add_business_time(office(LONDON), start, timedelta(seconds=1, microseconds=1))
    assert due == datetime(2026, 6, 15, 13, 30, 0, 500_001, tzinfo=LONDON)
    assert business_time_between(office(LONDON), start, due) == timedelta(seconds=1,
                                                                           microseconds=1)


def test_a_zero_duration_is_the_start_itself_even_off_hours():
    start = datetime(2026, 6, 13, 3, tzinfo=LONDON)  # a Saturday
    assert add_business_time(office(LONDON), start, timedelta(0)) == start


def test_a_calendar_without_working_time_raises():
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(WorkingTime(zone=UTC), datetime(2026, 1, 1, tzinfo=UTC), HOUR)
    assert business_time_between(WorkingTime(zone=UTC), datetime(2026, 1, 1, tzinfo=UTC),
                                 datetime(2027, 1, 1, tzinfo=UTC)) == timedelta(0)


def test_a_calendar_closed_for_ten_years_raises_instead_of_searching_forever():
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(12 * 53)]
    hours = WorkingTime(zone=LONDON, week={0: [(540, 600)]},
                        holidays={day: "Closed" for day in mondays})
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(hours, datetime(2026, 1, 1, tzinfo=UTC), HOUR)


def test_naive_datetimes_are_refused():
    naive, aware = datetime(2026, 6, 15, 9), datetime(2026, 6, 15, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        add_business_time(office(LONDON), naive, HOUR)
    with pytest.raises(ValueError, match="aware"):
        business_time_between(office(LONDON), aware, naive)
    with pytest.raises(ValueError, match="aware"):
        closures_between(office(LONDON, CHRISTMAS), naive, aware)


def test_end_before_start_is_no_time():
    start = datetime(2026, 6, 15, 10, tzinfo=LONDON)
    assert business_time_between(office(LONDON), start, start - HOUR) == timedelta(0)


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError):
        WorkingTime(zone=LONDON, week={0: [(600, 500)]})
    with pytest.raises(ValueError):
        WorkingTime(zone=LONDON, week={0: [(0, 1441)]})
