"""Who is on call, computed without a database: rotations, DST nights, restrictions, overrides,
gaps, bad input, and a brute-force oracle that walks a few days minute by minute."""

import bisect
import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall.roster import (
    Layer,
    Override,
    Schedule,
    Shift,
    Turn,
    Window,
    final_shifts,
    gaps,
    layer_shifts,
    on_call,
    turn_at,
)

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
H = timedelta(hours=1)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
BUSINESS_HOURS = tuple(Window(day, 9 * 60, 17 * 60) for day in range(MON, SAT))


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def layer(participants=(1, 2, 3), turn=Turn.DAILY, start=None, *, id=1, level=0, length=1,
          name="Primary", **extra) -> Layer:
    start = start or berlin(2026, 5, 4, 9)  # a Monday, 09:00
    return Layer(id=id, name=name, level=level, participants=tuple(participants), turn=turn,
                 length=length, start=start, **extra)


def schedule(*layers, overrides=(), time_zone=TZ) -> Schedule:
    return Schedule(id=1, name="Service desk", time_zone=time_zone, layers=layers,
                    overrides=overrides)


def who(value: Schedule, at: datetime) -> int | None:
    shift = on_call(value, at)
    return None if shift is None else shift.user


def local(shift: Shift) -> tuple[datetime, datetime]:
    return shift.start.astimezone(BERLIN), shift.end.astimezone(BERLIN)


# --- rotations -------------------------------------------------------------------------------

def test_a_daily_rotation_hands_off_at_the_start_time_each_day():
    roster = schedule(layer((1, 2, 3)))
    assert who(roster, berlin(2026, 5, 4, 9)) == 1
    assert who(roster, berlin(2026, 5, 5, 8, 59, 59)) == 1
    assert who(roster, berlin(2026, 5, 5, 9)) == 2  # the hand-off instant is the next turn's
    assert who(roster, berlin(2026, 5, 6, 23)) == 3
    assert who(roster, berlin(2026, 5, 7, 9)) == 1  # round again
    shift = on_call(roster, berlin(2026, 5, 5, 15))
    assert local(shift) == (berlin(2026, 5, 5, 9), berlin(2026, 5, 6, 9))
    assert shift.start.tzinfo is UTC and shift.end.tzinfo is UTC
    assert shift.why == 'Layer "Primary", turn 2'
    assert (shift.layer, shift.override) == (1, None)


def test_nobody_before_the_first_hand_off_or_from_until_on():
    roster = schedule(layer((1, 2), until=berlin(2026, 5, 6, 12)))
    assert who(roster, berlin(2026, 5, 4, 8, 59)) is None
    assert local(on_call(roster, berlin(2026, 5, 6, 11))) == (berlin(2026, 5, 6, 9),
                                                              berlin(2026, 5, 6, 12))
    assert who(roster, berlin(2026, 5, 6, 12)) is None
    assert turn_at(roster.layers[0], TZ, berlin(2026, 5, 6, 12)) is None
    assert turn_at(roster.layers[0], TZ, berlin(2026, 5, 4, 8)) is None
    assert turn_at(layer(()), TZ, berlin(2026, 5, 5)) is None
    assert who(schedule(layer(())), berlin(2026, 5, 5)) is None


def test_a_weekly_rotation():
    roster = schedule(layer((1, 2), Turn.WEEKLY, berlin(2026, 5, 4, 10)))
    assert who(roster, berlin(2026, 5, 10, 23)) == 1
    assert who(roster, berlin(2026, 5, 11, 9, 59)) == 1
    assert who(roster, berlin(2026, 5, 11, 10)) == 2
    assert who(roster, berlin(2026, 5, 18, 10)) == 1
    assert local(on_call(roster, berlin(2026, 5, 12))) == (berlin(2026, 5, 11, 10),
                                                           berlin(2026, 5, 18, 10))


def test_a_rotation_of_n_days():
    roster = schedule(layer((1, 2), Turn.DAYS, berlin(2026, 5, 4, 8), length=3))
    assert who(roster, berlin(2026, 5, 7, 7, 59)) == 1
    assert who(roster, berlin(2026, 5, 7, 8)) == 2
    assert who(roster, berlin(2026, 5, 10, 8)) == 1
    assert turn_at(roster.layers[0], TZ, berlin(2026, 5, 9)) == (
        1, berlin(2026, 5, 7, 8), berlin(2026, 5, 10, 8))


def test_a_rotation_of_n_hours():
    roster = schedule(layer((1, 2, 3), Turn.HOURS, berlin(2026, 5, 4, 6), length=12))
    assert who(roster, berlin(2026, 5, 4, 17, 59)) == 1
    assert who(roster, berlin(2026, 5, 4, 18)) == 2
    assert who(roster, berlin(2026, 5, 5, 6)) == 3
    assert who(roster, berlin(2026, 5, 5, 18)) == 1
    assert local(on_call(roster, berlin(2026, 5, 5, 1))) == (berlin(2026, 5, 4, 18),
                                                             berlin(2026, 5, 5, 6))


def test_a_layer_started_years_ago_is_counted_by_arithmetic():
    first = date(2016, 1, 4)
    old = layer(range(1, 8), start=berlin(2016, 1, 4, 9))
    k, start, end = turn_at(old, TZ, berlin(2026, 5, 13, 12))
    days = (date(2026, 5, 13) - first).days
    assert k == days
    assert (start, end) == (berlin(2026, 5, 13, 9), berlin(2026, 5, 14, 9))
    assert who(schedule(old), berlin(2026, 5, 13, 12)) == days % 7 + 1


def test_the_same_person_twice_in_a_row_is_two_shifts():
    roster = schedule(layer((5,)))
    shifts = final_shifts(roster, berlin(2026, 5, 5), berlin(2026, 5, 7))
    assert [local(s) for s in shifts] == [
        (berlin(2026, 5, 5), berlin(2026, 5, 5, 9)),
        (berlin(2026, 5, 5, 9), berlin(2026, 5, 6, 9)),
        (berlin(2026, 5, 6, 9), berlin(2026, 5, 7)),
    ]
    assert {s.user for s in shifts} == {5}


# --- DST -------------------------------------------------------------------------------------

def test_a_daily_hand_off_stays_at_nine_across_spring_forward():
    roster = schedule(layer((1, 2), start=berlin(2026, 3, 26, 9)))
    shift = on_call(roster, berlin(2026, 3, 29, 1))
    assert local(shift) == (berlin(2026, 3, 28, 9), berlin(2026, 3, 29, 9))
    assert shift.end - shift.start == 23 * H
    assert shift.end == utc(2026, 3, 29, 7)
    assert who(roster, berlin(2026, 3, 29, 8, 59)) == 1
    assert who(roster, berlin(2026, 3, 29, 9)) == 2


def test_a_daily_hand_off_stays_at_nine_across_fall_back():
    roster = schedule(layer((1, 2), start=berlin(2026, 10, 22, 9)))
    shift = on_call(roster, berlin(2026, 10, 25, 2, 30))
    assert local(shift) == (berlin(2026, 10, 24, 9), berlin(2026, 10, 25, 9))
    assert shift.end - shift.start == 25 * H
    assert shift.end == utc(2026, 10, 25, 8)


def test_a_hand_off_skipped_by_spring_forward_happens_when_the_gap_ends():
    # 02:30 does not exist on 2026-03-29 in Berlin: 02:00 CET is followed by 03:00 CEST.
    handoff = layer((1, 2), start=berlin(2026, 3, 27, 2, 30))
    roster = schedule(handoff)
    assert who(roster, utc(2026, 3, 29, 0, 59)) == 2  # the turn of 2026-03-28
    shift = on_call(roster, utc(2026, 3, 29, 1))
    assert shift.user == 1
    assert shift.start == utc(2026, 3, 29, 1)  # 03:00 CEST, the first instant after the gap
    assert shift.end == berlin(2026, 3, 30, 2, 30)
    assert turn_at(handoff, TZ, utc(2026, 3, 29, 0, 59))[1:] == (berlin(2026, 3, 28, 2, 30),
                                                                  utc(2026, 3, 29, 1))


def test_a_hand_off_in_the_repeated_hour_of_fall_back_takes_the_first_one():
    roster = schedule(layer((1, 2), start=berlin(2026, 10, 23, 2, 30)))
    shift = on_call(roster, utc(2026, 10, 25, 0, 30))  # 02:30 CEST, the first 02:30
    assert shift.start == utc(2026, 10, 25, 0, 30)
    assert shift.user == 1  # turn 2 (k = 2)
    assert who(roster, utc(2026, 10, 25, 0, 29)) == 2


def test_a_layer_starting_in_the_second_pass_of_a_repeated_hour():
    second_pass = utc(2025, 10, 26, 1, 10)  # 02:10 CET, after 02:10 CEST an hour earlier
    repeated = layer((1, 2), start=second_pass)
    assert turn_at(repeated, TZ, second_pass) == (0, second_pass, berlin(2025, 10, 27, 2, 10))
    assert turn_at(repeated, TZ, second_pass - H) is None
    # A year on, the hand-off falls in the repeated hour again: its first pass, like any other.
    k, start, _ = turn_at(repeated, TZ, utc(2026, 10, 25, 1))
    assert (k, start) == (364, utc(2026, 10, 25, 0, 10))


def test_an_hours_rotation_keeps_elapsed_hours_across_dst():
    roster = schedule(layer((1, 2), Turn.HOURS, berlin(2026, 3, 28, 20), length=12))
    shift = on_call(roster, utc(2026, 3, 29, 6))
    assert (shift.start, shift.end) == (utc(2026, 3, 28, 19), utc(2026, 3, 29, 7))
    assert local(shift)[1] == berlin(2026, 3, 29, 9)  # the wall clock moved, elapsed time not
    assert who(roster, utc(2026, 3, 29, 7)) == 2
    fall = schedule(layer((1, 2), Turn.HOURS, berlin(2026, 10, 24, 20), length=12))
    night = on_call(fall, utc(2026, 10, 25, 5))
    assert night.end - night.start == 12 * H
    assert local(night)[1] == berlin(2026, 10, 25, 7)


def test_a_repeated_hour_across_midnight_starts_the_next_day_early():
    # Goose Bay, 1998-10-25 03:01 UTC: the clock went back from 00:01 to 23:01, so Sunday's
    # 00:00 (first pass) came before the second pass of Saturday's last hour.
    sunday = layer((8,), id=2, level=1, start=utc(1998, 10, 20), windows=(Window(SUN, 0, 60),))
    always = layer((9,), Turn.WEEKLY, id=1, name="Always", start=utc(1998, 10, 20))
    cover = Override(id=1, user=5, start=utc(1998, 10, 25, 3, 30), end=utc(1998, 10, 25, 6))
    roster = schedule(always, sunday, overrides=(cover,), time_zone="America/Goose_Bay")
    assert on_call(roster, utc(1998, 10, 25, 2, 50)).end == utc(1998, 10, 25, 3)
    shift = on_call(roster, utc(1998, 10, 25, 3, 10))  # 23:10 on Saturday's clock again
    assert (shift.user, shift.start, shift.end) == (8, utc(1998, 10, 25, 3),
                                                    utc(1998, 10, 25, 3, 30))


def test_a_day_skipped_altogether():
    # Samoa went from 2011-12-29 23:59:59 (-10) straight to 2011-12-31 00:00 (+14). The 29th's
    # window ends at 00:30 on a day that never came, i.e. when the gap ended; the 30th's runs
    # from then to 00:30 on the 31st. Touching, the two are one shift.
    windows = (Window(None, 60, 30),)  # 01:00 to 00:30 the next day
    roster = schedule(layer((1,), Turn.WEEKLY, utc(2011, 12, 28), windows=windows),
                      time_zone="Pacific/Apia")
    shift = on_call(roster, utc(2011, 12, 30, 10, 15))
    assert (shift.start, shift.end) == (utc(2011, 12, 29, 11), utc(2011, 12, 30, 10, 30))


# --- restrictions ----------------------------------------------------------------------------

def business_on_top() -> Schedule:
    always = layer((9,), Turn.WEEKLY, id=1, name="Always")
    business = layer((1, 2), id=2, level=1, name="Business", windows=BUSINESS_HOURS)
    return schedule(always, business)


def test_a_business_hours_layer_on_top_of_a_round_the_clock_one():
    roster = business_on_top()
    assert who(roster, berlin(2026, 5, 6, 9)) == 1  # Wednesday, turn 3 of the daily rotation
    assert who(roster, berlin(2026, 5, 6, 16, 59)) == 1
    assert who(roster, berlin(2026, 5, 6, 17)) == 9
    assert who(roster, berlin(2026, 5, 6, 8, 59)) == 9
    assert who(roster, berlin(2026, 5, 9, 12)) == 9  # Saturday
    assert local(on_call(roster, berlin(2026, 5, 6, 12))) == (berlin(2026, 5, 6, 9),
                                                              berlin(2026, 5, 6, 17))
    # The bottom layer shows through between the business hours, in one piece per gap.
    assert local(on_call(roster, berlin(2026, 5, 6, 20))) == (berlin(2026, 5, 6, 17),
                                                              berlin(2026, 5, 7, 9))
    assert local(on_call(roster, berlin(2026, 5, 9, 12))) == (berlin(2026, 5, 8, 17),
                                                              berlin(2026, 5, 11, 9))


def test_a_weekday_only_rotation_keeps_counting_over_the_weekend():
    weekdays = tuple(Window(day, 0, 1440) for day in range(MON, SAT))
    roster = schedule(layer((1, 2, 3, 4), start=berlin(2026, 5, 4, 0), windows=weekdays))
    monday = [who(roster, berlin(2026, 5, 4 + d, 12)) for d in range(8)]
    # Mon..Fri: 1 2 3 4 1; the weekend's turns (2, 3) cover nothing; Monday is turn 8: 4.
    assert monday == [1, 2, 3, 4, 1, None, None, 4]
    friday = on_call(roster, berlin(2026, 5, 8, 12))
    assert local(friday) == (berlin(2026, 5, 8), berlin(2026, 5, 9))
    assert local(on_call(roster, berlin(2026, 5, 11, 0))) == (berlin(2026, 5, 11),
                                                              berlin(2026, 5, 12))


def test_a_weekday_only_daily_rotation_never_puts_fridays_person_on_monday():
    roster = schedule(layer((1, 2, 3, 4), windows=BUSINESS_HOURS))
    assert who(roster, berlin(2026, 5, 8, 12)) == 1  # Friday: turn 5
    assert who(roster, berlin(2026, 5, 11, 8)) is None  # before Monday's window
    assert who(roster, berlin(2026, 5, 11, 9)) == 4  # Monday: turn 8, not Friday's 1


def test_an_overnight_window():
    day = layer((8,), Turn.WEEKLY, id=1, name="Day")
    nights = layer((7,), id=2, level=1, name="Nights", start=berlin(2026, 5, 4, 12),
                   windows=(Window(None, 22 * 60, 6 * 60),))
    roster = schedule(day, nights)
    assert who(roster, berlin(2026, 5, 5, 21, 59)) == 8
    assert who(roster, berlin(2026, 5, 5, 22)) == 7
    assert who(roster, berlin(2026, 5, 6, 5, 59)) == 7
    assert who(roster, berlin(2026, 5, 6, 6)) == 8
    assert local(on_call(roster, berlin(2026, 5, 6, 1))) == (berlin(2026, 5, 5, 22),
                                                             berlin(2026, 5, 6, 6))
    # The hand-off at noon is outside the window: a night is one turn, one shift.
    assert on_call(roster, berlin(2026, 5, 6, 1)).why == 'Layer "Nights", turn 2'
    # A range starting in the night starts with the rest of it.
    shifts = final_shifts(roster, berlin(2026, 5, 6, 3), berlin(2026, 5, 6, 12))
    assert [(s.user, *local(s)) for s in shifts] == [
        (7, berlin(2026, 5, 6, 3), berlin(2026, 5, 6, 6)),
        (8, berlin(2026, 5, 6, 6), berlin(2026, 5, 6, 12))]


def test_an_overnight_window_on_one_weekday_ends_the_next_morning():
    friday_night = schedule(layer((7,), windows=(Window(FRI, 22 * 60, 6 * 60),)))
    assert who(friday_night, berlin(2026, 5, 9, 5)) == 7  # Saturday morning
    assert who(friday_night, berlin(2026, 5, 9, 23)) is None  # Saturday night
    assert who(friday_night, berlin(2026, 5, 7, 23)) is None  # Thursday night
    # The turn hands off at 09:00; the window ends at 06:00: one shift from Friday 22:00.
    assert local(on_call(friday_night, berlin(2026, 5, 9, 5))) == (berlin(2026, 5, 8, 22),
                                                                   berlin(2026, 5, 9, 6))


def test_touching_windows_make_one_shift():
    late_monday = (Window(MON, 20 * 60, 1440), Window(TUE, 0, 2 * 60))
    roster = schedule(layer((1, 2), windows=late_monday))
    for at in (berlin(2026, 5, 4, 21), berlin(2026, 5, 5, 1)):
        assert local(on_call(roster, at)) == (berlin(2026, 5, 4, 20), berlin(2026, 5, 5, 2))
    assert who(roster, berlin(2026, 5, 5, 2)) is None


def test_of_two_layers_on_one_level_the_higher_id_wins():
    roster = schedule(layer((1,), id=2, name="Second"), layer((9,), id=7, name="Seventh"),
                      layer((5,), id=3, name="Third"))
    assert who(roster, berlin(2026, 5, 5, 12)) == 9


def test_follow_the_sun():
    # Berlin covers 08:00-20:00 Berlin time, New York the rest, in the schedule's zone.
    europe = layer((1, 2), id=1, name="Europe", windows=(Window(None, 8 * 60, 20 * 60),))
    america = layer((3, 4), id=2, name="America", start=berlin(2026, 5, 4, 20),
                    windows=(Window(None, 20 * 60, 8 * 60),))
    roster = schedule(europe, america)
    assert gaps(roster, berlin(2026, 5, 4, 20), berlin(2026, 5, 11, 20)) == []
    assert who(roster, berlin(2026, 5, 5, 12)) == 2
    assert who(roster, berlin(2026, 5, 5, 2)) == 3
    assert who(roster, berlin(2026, 5, 5, 22)) == 4
    shifts = final_shifts(roster, berlin(2026, 5, 5, 8), berlin(2026, 5, 7, 8))
    assert [(s.user, *local(s)) for s in shifts] == [
        (1, berlin(2026, 5, 5, 8), berlin(2026, 5, 5, 9)),  # Europe hands off at 09:00
        (2, berlin(2026, 5, 5, 9), berlin(2026, 5, 5, 20)),
        (4, berlin(2026, 5, 5, 20), berlin(2026, 5, 6, 8)),
        (2, berlin(2026, 5, 6, 8), berlin(2026, 5, 6, 9)),
        (1, berlin(2026, 5, 6, 9), berlin(2026, 5, 6, 20)),
        (3, berlin(2026, 5, 6, 20), berlin(2026, 5, 7, 8)),
    ]
    fall_back_night = on_call(roster, berlin(2026, 10, 25, 4))
    assert fall_back_night.end - fall_back_night.start == 13 * H


def test_a_better_layer_cuts_at_its_first_window_ahead_and_its_last_one_behind():
    # Overlapping windows: a night 22:00-08:00 and, inside it, 01:00-02:00 of the next day.
    nights = (Window(None, 22 * 60, 8 * 60), Window(None, 60, 120))
    lunch = (Window(None, 12 * 60, 13 * 60), Window(None, 15 * 60, 16 * 60))
    bottom = layer((9,), Turn.WEEKLY, id=1, name="Always")
    roster = schedule(bottom, layer((7,), id=2, level=1, windows=nights),
                      layer((8,), id=3, level=2, windows=lunch))
    assert local(on_call(roster, berlin(2026, 5, 6, 10))) == (berlin(2026, 5, 6, 8),
                                                              berlin(2026, 5, 6, 12))
    assert local(on_call(roster, berlin(2026, 5, 6, 14))) == (berlin(2026, 5, 6, 13),
                                                              berlin(2026, 5, 6, 15))
    assert local(on_call(roster, berlin(2026, 5, 6, 3))) == (berlin(2026, 5, 5, 22),
                                                             berlin(2026, 5, 6, 8))


def test_layer_shifts_are_the_turns_cut_by_the_windows():
    shifts = layer_shifts(layer((1, 2), windows=BUSINESS_HOURS), TZ, berlin(2026, 5, 4),
                          berlin(2026, 5, 11))
    assert [(s.user, *local(s)) for s in shifts] == [
        (1 + d % 2, berlin(2026, 5, 4 + d, 9), berlin(2026, 5, 4 + d, 17)) for d in range(5)]
    assert [s.why for s in shifts][-1] == 'Layer "Primary", turn 5'


# --- overrides -------------------------------------------------------------------------------

def test_an_override_wins_over_every_layer():
    roster = business_on_top()
    cover = Override(id=1, user=30, start=berlin(2026, 5, 6, 12), end=berlin(2026, 5, 6, 20),
                     note="dentist")
    roster = schedule(*roster.layers, overrides=(cover,))
    shift = on_call(roster, berlin(2026, 5, 6, 13))
    assert (shift.user, shift.layer, shift.override) == (30, None, 1)
    assert local(shift) == (berlin(2026, 5, 6, 12), berlin(2026, 5, 6, 20))
    assert shift.why == "Override: dentist"
    assert who(roster, berlin(2026, 5, 6, 11, 59)) == 1
    assert who(roster, berlin(2026, 5, 6, 20)) == 9
    assert local(on_call(roster, berlin(2026, 5, 6, 10))) == (berlin(2026, 5, 6, 9),
                                                              berlin(2026, 5, 6, 12))
    assert local(on_call(roster, berlin(2026, 5, 6, 21))) == (berlin(2026, 5, 6, 20),
                                                              berlin(2026, 5, 7, 9))


def test_of_overlapping_overrides_the_latest_wins():
    earlier = Override(id=2, user=21, start=berlin(2026, 5, 6, 12), end=berlin(2026, 5, 6, 16))
    first = Override(id=1, user=20, start=berlin(2026, 5, 6, 10), end=berlin(2026, 5, 6, 14))
    hidden = Override(id=0, user=22, start=berlin(2026, 5, 6, 13), end=berlin(2026, 5, 6, 15))
    roster = schedule(layer(), overrides=(earlier, first, hidden))
    assert local(on_call(roster, berlin(2026, 5, 6, 11))) == (berlin(2026, 5, 6, 10),
                                                              berlin(2026, 5, 6, 12))
    assert who(roster, berlin(2026, 5, 6, 13)) == 21
    assert local(on_call(roster, berlin(2026, 5, 6, 15))) == (berlin(2026, 5, 6, 12),
                                                              berlin(2026, 5, 6, 16))
    users = [s.user for s in final_shifts(roster, berlin(2026, 5, 6, 9), berlin(2026, 5, 6, 17))]
    assert users == [3, 20, 21, 3]


def test_a_swap_says_whom_it_covers_for():
    swap = Override(id=4, user=8, start=berlin(2026, 5, 6, 9), end=berlin(2026, 5, 7, 9),
                    note="swap with Tue", replaces=3)
    roster = schedule(layer(), overrides=(swap,))
    assert on_call(roster, berlin(2026, 5, 6, 12)).why == (
        "Override (covers for user 3): swap with Tue")
    bare = Override(id=5, user=8, start=berlin(2026, 5, 6, 9), end=berlin(2026, 5, 7, 9),
                    replaces=3)
    assert on_call(schedule(overrides=(bare,)), berlin(2026, 5, 6, 12)).why == (
        "Override (covers for user 3)")


def test_an_empty_override_covers_nothing():
    backwards = Override(id=1, user=8, start=berlin(2026, 5, 6, 12), end=berlin(2026, 5, 6, 10))
    roster = schedule(layer(), overrides=(backwards,))
    assert who(roster, berlin(2026, 5, 6, 11)) == 3
    assert len(final_shifts(roster, berlin(2026, 5, 6), berlin(2026, 5, 7))) == 2


# --- gaps ------------------------------------------------------------------------------------

def test_a_business_hours_only_schedule_has_gaps_at_night_and_at_weekends():
    roster = schedule(layer((1, 2), windows=BUSINESS_HOURS))
    holes = gaps(roster, berlin(2026, 5, 7), berlin(2026, 5, 12))
    assert [(a.astimezone(BERLIN), b.astimezone(BERLIN)) for a, b in holes] == [
        (berlin(2026, 5, 7), berlin(2026, 5, 7, 9)),
        (berlin(2026, 5, 7, 17), berlin(2026, 5, 8, 9)),
        (berlin(2026, 5, 8, 17), berlin(2026, 5, 11, 9)),  # the weekend
        (berlin(2026, 5, 11, 17), berlin(2026, 5, 12)),
    ]
    assert who(roster, berlin(2026, 5, 7, 20)) is None


def test_an_empty_schedule_is_one_gap():
    assert gaps(schedule(), berlin(2026, 5, 7), berlin(2026, 5, 8)) == [
        (utc(2026, 5, 6, 22), utc(2026, 5, 7, 22))]
    assert final_shifts(schedule(), berlin(2026, 5, 7), berlin(2026, 5, 8)) == []
    assert on_call(schedule(), berlin(2026, 5, 7)) is None


# --- the extent of on_call's shift -----------------------------------------------------------

def test_on_call_returns_the_whole_shift_even_past_any_window_of_days():
    # Rule: on_call's shift is final_shifts' shift over any range holding all of it.
    long = Override(id=1, user=8, start=berlin(2026, 1, 1), end=berlin(2026, 12, 1))
    roster = schedule(layer(), overrides=(long,))
    t = berlin(2026, 6, 1)
    assert (on_call(roster, t).start, on_call(roster, t).end) == (long.start, long.end)
    clipped = final_shifts(roster, t - 35 * 24 * H, t + 35 * 24 * H)
    assert (clipped[0].start, clipped[0].end) == (t - 35 * 24 * H, t + 35 * 24 * H)
    whole = final_shifts(roster, long.start - H, long.end + H)
    assert on_call(roster, t) in whole


def test_on_call_agrees_with_final_shifts_around_it():
    roster = business_on_top()
    roster = schedule(*roster.layers, overrides=(
        Override(id=1, user=30, start=berlin(2026, 5, 6, 12), end=berlin(2026, 5, 6, 20)),))
    t = berlin(2026, 5, 4, 9)  # the first hand-off
    while t < berlin(2026, 5, 11, 9):
        around = final_shifts(roster, t - 35 * 24 * H, t + 35 * 24 * H)
        assert on_call(roster, t) == next(s for s in around if s.start <= t < s.end)
        t += 30 * timedelta(minutes=1)


# --- bad input -------------------------------------------------------------------------------

def test_naive_datetimes_are_refused():
    naive = datetime(2026, 5, 6, 12)
    roster = schedule(layer())
    for call in (lambda: on_call(roster, naive),
                 lambda: final_shifts(roster, naive, berlin(2026, 5, 7)),
                 lambda: final_shifts(roster, berlin(2026, 5, 5), naive),
                 lambda: gaps(roster, naive, berlin(2026, 5, 7)),
                 lambda: turn_at(roster.layers[0], TZ, naive),
                 lambda: layer_shifts(roster.layers[0], TZ, naive, berlin(2026, 5, 7)),
                 lambda: layer(start=naive),
                 lambda: Override(id=1, user=1, start=naive, end=berlin(2026, 5, 7))):
        with pytest.raises(ValueError, match="aware"):
            call()


def test_an_empty_or_backwards_range_gives_nothing():
    roster = schedule(layer())
    assert final_shifts(roster, berlin(2026, 5, 7), berlin(2026, 5, 7)) == []
    assert final_shifts(roster, berlin(2026, 5, 8), berlin(2026, 5, 7)) == []
    assert gaps(roster, berlin(2026, 5, 8), berlin(2026, 5, 7)) == []
    assert layer_shifts(roster.layers[0], TZ, berlin(2026, 5, 8), berlin(2026, 5, 7)) == []


@pytest.mark.parametrize("make", [
    lambda: Window(7, 0, 60),
    lambda: Window(None, 1440, 60),
    lambda: Window(None, 0, 0),
    lambda: layer(turn=Turn.DAYS, length=0),
    lambda: layer(turn=Turn.HOURS, length=-1),
    lambda: schedule(time_zone="Mars/Olympus_Mons"),
    lambda: turn_at(layer(), "Nowhere", berlin(2026, 5, 6)),
])
def test_impossible_values_are_refused(make):
    with pytest.raises(ValueError):
        make()


# --- the brute-force oracle ------------------------------------------------------------------
# Independent of the module: every minute of a few days gets its local wall time, and a local
# time means the first minute whose wall time has reached it (the module's DST rule: a time
# skipped by spring-forward happens when the gap ends, a repeated one at its first pass).
# Turns are walked one by one from the layer's start; windows are painted day by day.

MINUTE = timedelta(minutes=1)
GRID_DAYS = 4
# (zone, first day of the grid): DST changes on the grid's middle days, some at midnight,
# Lord Howe's half hour, Goose Bay's 00:01 (its repeated hour spans midnight), and Samoa
# skipping 2011-12-30 altogether.
PLACES = [
    ("Europe/Berlin", date(2026, 3, 27)), ("Europe/Berlin", date(2026, 10, 23)),
    ("Europe/Berlin", date(2026, 6, 10)), ("America/New_York", date(2026, 3, 6)),
    ("America/New_York", date(2026, 10, 30)), ("America/Santiago", date(2026, 9, 4)),
    ("America/Santiago", date(2026, 4, 3)), ("Australia/Lord_Howe", date(2026, 4, 3)),
    ("Australia/Lord_Howe", date(2026, 10, 2)), ("Pacific/Apia", date(2011, 12, 28)),
    ("America/Goose_Bay", date(1998, 10, 23)), ("America/Goose_Bay", date(1999, 4, 2)),
    ("Asia/Kolkata", date(2026, 5, 10)), ("UTC", date(2026, 5, 10)),
]


class Clock:
    def __init__(self, zone: ZoneInfo, first: date):
        self.zone = zone
        self.start = datetime.combine(first, time(), UTC)
        self.size = GRID_DAYS * 1440
        self.walls = [(self.start + i * MINUTE).astimezone(zone).replace(tzinfo=None)
                      for i in range(self.size)]
        self.reached = list(itertools.accumulate(self.walls, max))

    def minute(self, instant: datetime) -> int:
        return min(max((instant - self.start) // MINUTE, 0), self.size)

    def instant(self, minute: int) -> datetime:
        return self.start + minute * MINUTE

    def first_reaching(self, wall: datetime) -> int:
        return bisect.bisect_left(self.reached, wall)


def oracle_turns(clock: Clock, layer: Layer) -> list[int | None]:
    """The turn of `layer` at every minute, windows aside, walking hand-offs from the start."""
    turns: list[int | None] = [None] * clock.size
    if not layer.participants:
        return turns
    start = clock.minute(layer.start)
    stop = clock.size if layer.until is None else clock.minute(layer.until)
    start_wall = layer.start.astimezone(clock.zone)
    days = {Turn.DAILY: 1, Turn.WEEKLY: 7, Turn.DAYS: layer.length}.get(layer.turn)
    handoffs = [start]
    while handoffs[-1] < stop:
        k = len(handoffs)
        if days is None:
            handoffs.append(start + k * layer.length * 60)
        else:
            wall = datetime.combine(start_wall.date() + timedelta(days=k * days),
                                    start_wall.time())
            handoffs.append(clock.first_reaching(wall))
        assert handoffs[-1] > handoffs[-2]
    for k, (lo, hi) in enumerate(itertools.pairwise(handoffs)):
        for i in range(lo, min(hi, stop)):
            turns[i] = k
    return turns


def oracle_active(clock: Clock, layer: Layer) -> list[bool]:
    if not layer.windows:
        return [True] * clock.size
    active = [False] * clock.size
    day = clock.walls[0].date() - timedelta(days=2)
    while day <= clock.walls[-1].date() + timedelta(days=1):
        midnight = datetime.combine(day, time())
        for window in layer.windows:
            if window.weekday not in (None, day.weekday()):
                continue
            overnight = window.end_minute <= window.start_minute
            lo = clock.first_reaching(midnight + window.start_minute * MINUTE)
            hi = clock.first_reaching(midnight + timedelta(days=overnight)
                                      + window.end_minute * MINUTE)
            active[lo:hi] = [True] * max(hi - lo, 0)
        day += timedelta(days=1)
    return active


def oracle_why(override: Override) -> str:
    covers = "" if override.replaces is None else f" (covers for user {override.replaces})"
    return f"Override{covers}" + (f": {override.note}" if override.note else "")


def oracle_roster(clock: Clock, roster: Schedule) -> list[tuple | None]:
    """Who is on call at every minute: (user, layer, override, why), or None."""
    layers = [(item, oracle_turns(clock, item), oracle_active(clock, item))
              for item in roster.layers]
    spans = [(o, clock.minute(o.start), clock.minute(o.end)) for o in roster.overrides]
    minutes = []
    for i in range(clock.size):
        covering = [o for o, lo, hi in spans if lo <= i < hi]
        if covering:
            o = max(covering, key=lambda o: o.id)
            minutes.append((o.user, None, o.id, oracle_why(o)))
            continue
        live = [(item.level, item.id, item, turns[i]) for item, turns, active in layers
                if turns[i] is not None and active[i]]
        if not live:
            minutes.append(None)
            continue
        _, _, item, k = max(live, key=lambda entry: entry[:2])
        user = item.participants[k % len(item.participants)]
        minutes.append((user, item.id, None, f'Layer "{item.name}", turn {k + 1}'))
    return minutes


def oracle_shifts(clock: Clock, minutes: list, lo: int, hi: int) -> list[Shift]:
    shifts, i = [], lo
    for key, run in itertools.groupby(minutes[lo:hi]):
        length = len(list(run))
        if key is not None:
            shifts.append(Shift(clock.instant(i), clock.instant(i + length), *key))
        i += length
    return shifts


def oracle_run(minutes: list, i: int) -> tuple[int, int]:
    lo = hi = i
    while lo > 0 and minutes[lo - 1] == minutes[i]:
        lo -= 1
    while hi < len(minutes) and minutes[hi] == minutes[i]:
        hi += 1
    return lo, hi


HALF_HOURS = st.integers(0, 47).map(lambda n: n * 30)
WINDOWS = st.builds(Window, weekday=st.none() | st.integers(0, 6), start_minute=HALF_HOURS,
                    end_minute=st.integers(1, 48).map(lambda n: n * 30))


@st.composite
def scenarios(draw):
    zone_name, first = draw(st.sampled_from(PLACES))
    zone, origin = ZoneInfo(zone_name), datetime.combine(first, time(), UTC)

    def instant(most_half_hours: int) -> datetime:
        moment = origin + draw(st.integers(0, most_half_hours)) * 30 * MINUTE
        return moment.astimezone(zone) if draw(st.booleans()) else moment  # any input zone

    count = draw(st.integers(0, 3))
    ids = draw(st.permutations(range(1, count + 1)))
    layers = []
    for index in range(count):
        turn = draw(st.sampled_from(list(Turn)))
        length = {Turn.DAYS: draw(st.integers(1, 3)), Turn.HOURS: draw(st.integers(1, 30))}
        start = instant(2 * 48)
        lasts = draw(st.none() | st.integers(1, 6 * 48))
        until = None if lasts is None else start + lasts * 30 * MINUTE
        layers.append(Layer(
            id=ids[index], name=f"L{ids[index]}", level=draw(st.integers(0, 2)),
            participants=tuple(draw(st.lists(st.integers(1, 4), max_size=3))), turn=turn,
            length=length.get(turn, 1), start=start, until=until,
            windows=tuple(draw(st.lists(WINDOWS, max_size=3)))))
    overrides = []
    for override_id in range(draw(st.integers(0, 3))):
        start = instant(GRID_DAYS * 48 - 1)
        end = start + draw(st.integers(-1, 48)) * 30 * MINUTE
        overrides.append(Override(id=override_id + 1, user=draw(st.integers(1, 4)), start=start,
                                  end=end, note=draw(st.sampled_from(["", "sick"])),
                                  replaces=draw(st.none() | st.integers(1, 4))))
    return Schedule(1, "Random", zone_name, tuple(layers), tuple(overrides)), first


# No example database: the test writes nothing into the repository's working tree.
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.integers(1440, 3 * 1440 - 1), min_size=2, max_size=2))
def test_the_roster_agrees_with_a_minute_by_minute_oracle(scenario, sampled):
    roster, first = scenario
    clock = Clock(ZoneInfo(roster.time_zone), first)
    minutes = oracle_roster(clock, roster)
    lo, hi = 1440, 3 * 1440  # the middle two days: layers and overrides start before them
    a, b = clock.instant(lo), clock.instant(hi)

    shifts = final_shifts(roster, a, b)
    assert shifts == oracle_shifts(clock, minutes, lo, hi)
    holes = gaps(roster, a, b)
    pieces = sorted([(s.start, s.end) for s in shifts] + holes)
    assert [p[0] for p in pieces] == [a] + [p[1] for p in pieces[:-1]]  # they tile [a, b)
    assert (pieces[-1][1] if pieces else a) == b
    assert all(start < end for start, end in pieces)

    for i in range(lo, hi, 15):
        shift, key = on_call(roster, clock.instant(i)), minutes[i]
        if key is None:
            assert shift is None
            continue
        assert (shift.user, shift.layer, shift.override, shift.why) == key
        run = oracle_run(minutes, i)
        if run[0] > 0 and run[1] < clock.size:  # the whole shift is on the grid
            assert (shift.start, shift.end) == (clock.instant(run[0]), clock.instant(run[1]))

    for i in sampled:  # on_call is final_shifts' shift over a range, clipped to the range
        t = clock.instant(i)
        since, until = t - 35 * 24 * H, t + 35 * 24 * H
        containing = [s for s in final_shifts(roster, since, until) if s.start <= t < s.end]
        shift = on_call(roster, t)
        expected = [] if shift is None else [
            replace(shift, start=max(shift.start, since), end=min(shift.end, until))]
        assert containing == expected
