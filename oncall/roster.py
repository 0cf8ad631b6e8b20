"""Who is on call: schedules, layers and overrides turned into shifts. Pure: stdlib only.

Rules
- Every datetime returned is aware and in UTC. Inputs may be in any zone; a naive one is a
  ValueError. Intervals are half-open: [start, end).
- Turns are counted from `layer.start` by arithmetic, never by walking from it, so a layer
  started years ago costs the same as one started yesterday. Turn k (k = 0, 1, ...) belongs to
  `participants[k % len(participants)]`; `Shift.why` numbers turns from 1 (k + 1).
  - DAILY / WEEKLY / DAYS: hand-off k happens at the local wall-clock time of `start` on the
    local date start_date + k * N days (N = 1, 7, length), in the schedule's zone. Across a DST
    change the hand-off keeps its wall-clock time, so that turn lasts 23 or 25 hours.
    Hand-off 0 is `start` itself (even in the second pass of a repeated hour).
  - HOURS: hand-off k is at start + k * length hours of elapsed time.
- Local wall-clock times (hand-offs and window edges) become instants by one rule: the first
  instant whose local time is at or after it. So a time skipped by spring-forward happens at
  the end of the gap (02:30 on 2026-03-29 in Europe/Berlin is 03:00 CEST), and a time that
  occurs twice at fall-back means its first occurrence.
- `until`: the layer covers nothing from then on; the turn running at `until` is cut there.
  A layer without participants, or an override ending at or before its start, covers nothing.
- Windows (restrictions) only mask time: the rotation keeps counting underneath, so on Monday
  a weekday-only layer shows Monday's turn, never Friday's person carried over. A window with
  weekday W starts on day W at `start_minute`; if end_minute <= start_minute it ends on the
  following day. Several windows: their union. A layer's shifts are its turns cut by it.
- The final roster, instant by instant: the covering override with the highest id wins; else
  the covering layer with the highest (level, id); else nobody (a gap). Adjacent pieces are one
  Shift only if they have the same user, the same source and (for layers) the same turn.
- `on_call(schedule, t)` returns the whole Shift covering t, or None: exactly the shift that
  `final_shifts` shows over any range holding all of it. Over a range that cuts it, such as
  t - 35 days .. t + 35 days for a longer override, final_shifts shows it cut to the range.
  It is computed around t: the turn covering t, the window stretch around it, and the nearest
  coverage of anything that outranks it; never a list of the schedule's shifts.
- Pure caches (local times to UTC, windows per local day) make repeated questions cheap.
"""

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Layer", "Override", "Schedule", "Shift", "Turn", "Window", "final_shifts", "gaps",
           "layer_shifts", "on_call", "turn_at"]

MINUTES_PER_DAY = 1440
ONE_DAY = timedelta(days=1)

Interval = tuple[datetime, datetime]


class Turn(StrEnum):
    """How long one participant's turn lasts."""

    DAILY = "daily"  # one local calendar day
    WEEKLY = "weekly"  # seven local calendar days
    DAYS = "days"  # `length` local calendar days
    HOURS = "hours"  # `length` elapsed hours


@dataclass(frozen=True)
class Window:
    """A restriction: when a layer is active, in the schedule's local wall-clock time."""

    weekday: int | None  # 0 = Monday ... 6 = Sunday; None = every day
    start_minute: int  # 0..1439 after local midnight
    end_minute: int  # 1..1440; <= start_minute: ends on the next day

    def __post_init__(self):
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6 or None, not {self.weekday!r}")
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError(f"start_minute must be 0..1439, not {self.start_minute!r}")
        if not 0 < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(f"end_minute must be 1..1440, not {self.end_minute!r}")


@dataclass(frozen=True)
class Layer:
    """One rotation of participants, optionally restricted to windows."""

    id: int
    name: str
    level: int  # higher wins where several layers cover an instant
    participants: tuple[int, ...]  # user ids in turn order; empty: covers nothing
    turn: Turn
    length: int  # units for DAYS / HOURS; ignored for DAILY / WEEKLY
    start: datetime  # aware (kept in UTC): participants[0]'s turn starts here
    until: datetime | None = None  # aware (kept in UTC); covers nothing from here on
    windows: tuple[Window, ...] = ()  # empty: active all the time

    def __post_init__(self):
        # The adapter may hand over lists and plain strings; keep the dataclass hashable.
        object.__setattr__(self, "participants", tuple(self.participants))
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "turn", Turn(self.turn))
        # UTC once here, not on every question; equality is by instant either way.
        object.__setattr__(self, "start", _utc(self.start, "Layer.start"))
        if self.until is not None:
            object.__setattr__(self, "until", _utc(self.until, "Layer.until"))
        if self.turn in (Turn.DAYS, Turn.HOURS) and self.length < 1:
            raise ValueError(f"a {self.turn} turn needs a length of at least 1")


@dataclass(frozen=True)
class Override:
    """Someone on call for a fixed stretch, over whatever the layers say."""

    id: int
    user: int
    start: datetime  # aware (kept in UTC)
    end: datetime  # aware (kept in UTC); at or before start: covers nothing
    note: str = ""
    replaces: int | None = None  # who gave the shift away, for display

    def __post_init__(self):
        object.__setattr__(self, "start", _utc(self.start, "Override.start"))
        object.__setattr__(self, "end", _utc(self.end, "Override.end"))


@dataclass(frozen=True)
class Schedule:
    """Layers and overrides, read in one time zone."""

    id: int
    name: str
    time_zone: str  # IANA name, e.g. "Europe/Berlin"
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        _zone(self.time_zone)


@dataclass(frozen=True)
class Shift:
    """A stretch of time one person is on call, and where that came from."""

    start: datetime  # aware, UTC
    end: datetime
    user: int
    layer: int | None = None  # the layer id, or None for an override
    override: int | None = None  # the override id, or None
    why: str = ""  # 'Layer "Primary", turn 3' or 'Override (covers for user 7): note'


# --- time ------------------------------------------------------------------------------------

def _utc(value: datetime, what: str = "datetime") -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is UTC:  # the usual case, and astimezone is not free
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware: {value!r}")
    return value.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"unknown time zone: {name!r}") from error


# Arithmetic from a fixed point: datetime.replace() costs several times more.
_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = datetime(2000, 1, 1, tzinfo=UTC)


def _as_utc(naive_utc: datetime) -> datetime:
    return _EPOCH_UTC + (naive_utc - _EPOCH)


@lru_cache(maxsize=16384)
def _to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose local time in `zone` is at or after the naive `wall`.

    Cached: schedules asked about the same days share their hand-off and window times. The
    cache cannot tell folds apart (naive datetimes compare without them): walls have fold 0."""
    first = zone.utcoffset(wall)
    second = zone.utcoffset(datetime(wall.year, wall.month, wall.day, wall.hour, wall.minute,
                                     wall.second, wall.microsecond, fold=1))
    # Per PEP 495, fold=0 takes the offset from before a transition: larger than fold=1's
    # when the clock went back (so it is the first occurrence), smaller inside a gap.
    if first >= second:
        return _as_utc(wall - first)
    return _gap_end(zone, wall - second, wall - first)


def _gap_end(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The transition between two naive UTC instants, `before` on the old offset and `after`
    on the new one. Transitions fall on whole seconds, so bisect over seconds."""
    base = _as_utc(before) - timedelta(microseconds=before.microsecond)
    old = base.astimezone(zone).utcoffset()
    low, high = 0, math.ceil((_as_utc(after) - base).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if (base + timedelta(seconds=middle)).astimezone(zone).utcoffset() == old:
            low = middle
        else:
            high = middle
    return base + timedelta(seconds=high)


@lru_cache(maxsize=1024)
def _local_day(t: datetime, zone: ZoneInfo) -> tuple[date, int]:
    """The local date of `t`, and 1 if it is the second pass of a repeated hour. Cached:
    looking around one instant asks for it again and again, and astimezone is not free."""
    local = t.astimezone(zone)
    return local.date(), local.fold


# --- rotations -------------------------------------------------------------------------------

# The internal values below are named tuples: immutable like the dataclasses above, and
# several times cheaper to build, which on_call does for every layer it asks.

class _Rotation(NamedTuple):
    """A layer's hand-offs in one zone: hand-off k by arithmetic, the turn of an instant."""

    start: datetime  # UTC
    until: datetime | None  # UTC
    zone: ZoneInfo
    days: int  # calendar days per turn; 0 for elapsed hours
    step: timedelta  # a turn: `days` days, or the elapsed hours
    first_day: date  # local date of the start
    wall: time  # local time of the start: the hand-off time for calendar turns

    def handoff(self, k: int) -> datetime:
        if k == 0:
            return self.start
        if not self.days:
            return self.start + k * self.step
        return _to_utc(datetime.combine(self.first_day + k * self.step, self.wall), self.zone)

    def covers(self, t: datetime) -> bool:
        return self.start <= t and (self.until is None or t < self.until)

    def turn(self, t: datetime) -> tuple[int, datetime, datetime]:
        """(k, start, end) of the turn covering `t`, which must be covered; end cut at until."""
        if self.days:
            # The local date gives the turn to within one; the hand-off instants settle it.
            elapsed = (_local_day(t, self.zone)[0] - self.first_day).days
            k = max(0, elapsed // self.days)
        else:
            k = (t - self.start) // self.step
        start, end = self.handoff(k), self.handoff(k + 1)
        while start > t:
            k, start, end = k - 1, self.handoff(k - 1), start
        while end <= t:
            k, start, end = k + 1, end, self.handoff(k + 2)
        return k, start, self.cut(end)

    def cut(self, end: datetime) -> datetime:
        return self.until if self.until is not None and self.until < end else end


_CALENDAR_DAYS = {Turn.DAILY: 1, Turn.WEEKLY: 7}


def _rotation(layer: Layer, zone: ZoneInfo) -> _Rotation:
    start, until = layer.start, layer.until
    local = start.astimezone(zone)
    wall = local.time()
    if wall.fold:  # a start in a repeated hour: later hand-offs take its first occurrence
        wall = time(wall.hour, wall.minute, wall.second, wall.microsecond)
    days = _CALENDAR_DAYS.get(layer.turn, layer.length if layer.turn == Turn.DAYS else 0)
    step = timedelta(days=days) if days else timedelta(hours=layer.length)
    return _Rotation(start, until, zone, days, step, local.date(), wall)


def turn_at(layer: Layer, time_zone: str, at: datetime) -> tuple[int, datetime, datetime] | None:
    """The turn running at `at`, ignoring windows: (k, start, end), end cut at `until`.

    None before the layer starts, from `until` on, or when it has no participants."""
    t = _utc(at, "at")
    rotation = _rotation(layer, _zone(time_zone))
    if not layer.participants or not rotation.covers(t):
        return None
    return rotation.turn(t)


# --- windows ---------------------------------------------------------------------------------

# Minutes after a local midnight, up to the end of the next day: built once, not per window.
_MINUTES = tuple(timedelta(minutes=m) for m in range(2 * MINUTES_PER_DAY + 1))


# How many (zone, local day) occurrence lists one set of windows keeps before starting over.
DAYS_REMEMBERED = 64


@dataclass(frozen=True, slots=True)
class _Plan:
    """A set of windows by weekday, as minutes after local midnight, and the UTC intervals
    they make on each local day, remembered: equal sets of windows share one plan."""

    by_weekday: tuple[tuple[tuple[int, int], ...], ...]  # [weekday] -> ((start, end), ...)
    memo: dict[tuple[ZoneInfo, date], list[Interval]] = field(default_factory=dict)

    def on(self, zone: ZoneInfo, day: date) -> list[Interval]:
        """The windows that start on local date `day`, as UTC intervals."""
        key = (zone, day)
        found = self.memo.get(key)
        if found is None:
            if len(self.memo) >= DAYS_REMEMBERED:
                self.memo.clear()
            found = self.memo[key] = self._occurrences(zone, day)
        return found

    def _occurrences(self, zone: ZoneInfo, day: date) -> list[Interval]:
        midnight, found = datetime.combine(day, time()), []
        for start_minute, end_minute in self.by_weekday[day.weekday()]:
            start = _to_utc(midnight + _MINUTES[start_minute], zone)
            stop = _to_utc(midnight + _MINUTES[end_minute], zone)
            if start < stop:  # a window swallowed by a DST gap is empty
                found.append((start, stop))
        return found


@lru_cache(maxsize=256)
def _plan(windows: tuple[Window, ...]) -> _Plan:
    def minutes(window: Window) -> tuple[int, int]:
        end = window.end_minute
        if end <= window.start_minute:  # overnight: ends on the next day
            end += MINUTES_PER_DAY
        return window.start_minute, end

    return _Plan(tuple(tuple(minutes(w) for w in windows if w.weekday in (None, weekday))
                       for weekday in range(7)))


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


class _Windows(NamedTuple):
    """A layer's windows in one zone, and the local days worth looking at around an instant.

    A window starts on its own day, not before its midnight, and ends before the second
    midnight after it. So of the windows from two days before an instant's local date, none
    reaches past it (one may just touch it), and none from the next day starts before it,
    unless the instant is the second pass of a repeated hour."""

    plan: _Plan
    zone: ZoneInfo

    def on(self, day: date) -> list[Interval]:
        found = self.plan.memo.get((self.zone, day))  # the plan's own lookup, inlined
        return self.plan.on(self.zone, day) if found is None else found

    def _between(self, first: date, last: date) -> list[Interval]:
        found = []
        while first <= last:
            found += self.on(first)
            first += ONE_DAY
        return found

    def _first_day(self, t: datetime) -> date:
        """The earliest local date whose windows can end after `t`."""
        return _local_day(t, self.zone)[0] - ONE_DAY

    def _last_day(self, t: datetime) -> date:
        """The latest local date whose windows can start before `t`."""
        day, fold = _local_day(t, self.zone)
        return day + fold * ONE_DAY

    def _around(self, t: datetime, back: int = 1) -> list[Interval]:
        """The windows that can contain `t` (back=2: or end at it)."""
        day, fold = _local_day(t, self.zone)
        return self._between(day - back * ONE_DAY, day + fold * ONE_DAY)

    def containing(self, t: datetime) -> list[Interval]:
        return [(s, e) for s, e in self._around(t) if s <= t < e]

    def cover(self, a: datetime, b: datetime) -> list[Interval]:
        """The union of the windows within [a, b): sorted, disjoint, touching ones joined."""
        if a >= b:
            return []
        found = self._between(self._first_day(a), self._last_day(b))
        return _merge((max(s, a), min(e, b)) for s, e in found if s < b and e > a)

    def stretch(self, hits: list[Interval], lo: datetime, hi: datetime) -> Interval:
        """The stretch of window time that the windows `hits` (all containing one instant)
        belong to, cut to [lo, hi)."""
        start, end = min(s for s, _ in hits), max(e for _, e in hits)
        while end < hi:  # windows that overlap or touch carry the stretch on
            later = [e for s, e in self._around(end) if s <= end < e]
            if not later:
                break
            end = max(later)
        while start > lo:
            earlier = [s for s, e in self._around(start, back=2) if s < start <= e]
            if not earlier:
                break
            start = min(earlier)
        return max(start, lo), min(end, hi)

    def first_from(self, x: datetime, hi: datetime) -> datetime | None:
        """The first instant in [x, hi) inside a window, or None.

        A later day's windows start later, so the first day with a hit has the answer."""
        day, last = self._first_day(x), self._last_day(hi)
        while day <= last:
            hits = [max(s, x) for s, e in self.on(day) if e > x and s < hi]
            if hits:
                return min(hits)
            day += ONE_DAY
        return None

    def last_end_before(self, lo: datetime, x: datetime) -> datetime | None:
        """Where the last window time in [lo, x) ends, or None if there is none.

        A day's windows end after its midnight, so later than any from two days before: the
        last day with a hit and the day before it hold the answer."""
        first, day = self._first_day(lo), self._last_day(x)
        while day >= first:
            if any(s < x and e > lo for s, e in self.on(day)):
                found = self._between(day - ONE_DAY, day)
                return max(min(e, x) for s, e in found if s < x and e > lo)
            day -= ONE_DAY
        return None


# --- pieces and the final roster -------------------------------------------------------------

class _Piece(NamedTuple):
    start: datetime
    end: datetime
    rank: tuple[int, ...]  # the larger wins
    user: int
    layer: int | None
    override: int | None
    turn: int | None
    why: str

    @property
    def source(self) -> tuple:
        return self.user, self.layer, self.override, self.turn

    def shift(self) -> Shift:
        return Shift(self.start, self.end, self.user, self.layer, self.override, self.why)


def _layer_rank(layer: Layer) -> tuple[int, ...]:
    return 0, layer.level, layer.id


def _override_rank(override: Override) -> tuple[int, ...]:
    return 1, override.id  # any override outranks every layer


def _layer_piece(layer: Layer, k: int, start: datetime, end: datetime) -> _Piece:
    user = layer.participants[k % len(layer.participants)]
    why = f'Layer "{layer.name}", turn {k + 1}'
    return _Piece(start, end, _layer_rank(layer), user, layer.id, None, k, why)


def _override_why(override: Override) -> str:
    why = "Override"
    if override.replaces is not None:
        why += f" (covers for user {override.replaces})"
    if override.note:
        why += f": {override.note}"
    return why


def _override_piece(override: Override, start: datetime, end: datetime) -> _Piece:
    return _Piece(start, end, _override_rank(override), override.user, None, override.id, None,
                  _override_why(override))


def _turns(rotation: _Rotation, a: datetime, b: datetime) -> Iterator[tuple[int, datetime,
                                                                             datetime]]:
    """The turns overlapping [a, b), a not before the start, each cut to [a, b)."""
    k, start, end = rotation.turn(a)
    while start < b:
        yield k, max(start, a), min(end, b)
        if end == rotation.until:
            return
        k, start, end = k + 1, end, rotation.cut(rotation.handoff(k + 2))


def _layer_pieces(layer: Layer, zone: ZoneInfo, a: datetime, b: datetime) -> list[_Piece]:
    if not layer.participants:
        return []
    rotation = _rotation(layer, zone)
    a = max(a, rotation.start)
    if rotation.until is not None:
        b = min(b, rotation.until)
    if a >= b:
        return []
    cover = _Windows(_plan(layer.windows), zone).cover(a, b) if layer.windows else [(a, b)]
    pieces, i = [], 0
    for k, start, end in _turns(rotation, a, b) if cover else ():
        while i < len(cover) and cover[i][1] <= start:
            i += 1
        j = i
        while j < len(cover) and cover[j][0] < end:
            piece_start, piece_end = max(start, cover[j][0]), min(end, cover[j][1])
            if piece_start < piece_end:
                pieces.append(_layer_piece(layer, k, piece_start, piece_end))
            j += 1
    return pieces


def _override_pieces(overrides: Iterable[Override], a: datetime, b: datetime) -> list[_Piece]:
    pieces = []
    for override in overrides:
        start, end = max(override.start, a), min(override.end, b)
        if start < end:
            pieces.append(_override_piece(override, start, end))
    return pieces


def _resolve(pieces: list[_Piece]) -> list[_Piece]:
    """Sweep the candidates: the best ranked one wins each stretch; runs of one source and
    turn join."""
    bounds = sorted({p.start for p in pieces} | {p.end for p in pieces})
    waiting = sorted(pieces, key=lambda p: p.start)
    active: list[_Piece] = []
    result: list[_Piece] = []
    i = 0
    for left, right in zip(bounds, bounds[1:], strict=False):
        active = [p for p in active if p.end > left]
        while i < len(waiting) and waiting[i].start <= left:
            active.append(waiting[i])
            i += 1
        if not active:
            continue
        best = max(active, key=lambda p: p.rank)
        last = result[-1] if result else None
        if last is not None and last.end == left and last.source == best.source:
            result[-1] = last._replace(end=right)
        else:
            result.append(best._replace(start=left, end=right))
    return result


def layer_shifts(layer: Layer, time_zone: str, start: datetime, end: datetime) -> list[Shift]:
    """One layer's shifts within [start, end) on its own: its turns cut by its windows, one
    Shift per turn and window stretch, cut to the range. Empty if end <= start."""
    a, b = _utc(start, "start"), _utc(end, "end")
    return [p.shift() for p in _layer_pieces(layer, _zone(time_zone), a, b)]


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call across [start, end): sorted, non-overlapping shifts, cut to the range,
    overrides over layers. Empty if end <= start."""
    a, b = _utc(start, "start"), _utc(end, "end")
    if a >= b:
        return []
    zone = _zone(schedule.time_zone)
    pieces = _override_pieces(schedule.overrides, a, b)
    for layer in schedule.layers:
        pieces.extend(_layer_pieces(layer, zone, a, b))
    return [p.shift() for p in _resolve(pieces)]


def gaps(schedule: Schedule, start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) nobody covers, in UTC, sorted."""
    a, b = _utc(start, "start"), _utc(end, "end")
    holes, cursor = [], a
    for shift in final_shifts(schedule, a, b):
        if shift.start > cursor:
            holes.append((cursor, shift.start))
        cursor = shift.end
    if cursor < b:
        holes.append((cursor, b))
    return holes


# --- on call at one instant ------------------------------------------------------------------

def on_call(schedule: Schedule, at: datetime) -> Shift | None:
    """The Shift covering `at`, whole: as `final_shifts` shows it over any range that holds
    all of it. None when nobody is on call then."""
    t = _utc(at, "at")
    overrides = schedule.overrides
    covering = [o for o in overrides if o.start <= t < o.end]
    if covering:
        override = max(covering, key=lambda o: o.id)
        outranking = [(o.start, o.end) for o in overrides if o.id > override.id]
        start, end = _trim(override.start, override.end, t, outranking)
        return _override_piece(override, start, end).shift()
    return _layer_on_call(schedule, t, [(o.start, o.end) for o in overrides])


class _Reach(NamedTuple):
    """Where a layer can cover anything: [start, until) and, if it has any, its windows."""

    start: datetime
    until: datetime | None
    windows: _Windows | None

    def holds(self, t: datetime) -> bool:
        return self.start <= t and (self.until is None or t < self.until)


def _reach(layer: Layer, zone: ZoneInfo) -> _Reach:
    windows = _Windows(_plan(layer.windows), zone) if layer.windows else None
    return _Reach(layer.start, layer.until, windows)


def _layer_on_call(schedule: Schedule, t: datetime, overrides: list[Interval]) -> Shift | None:
    """The best ranked layer covering `t`, cut where an override or a better layer begins
    or ends around it."""
    zone = _zone(schedule.time_zone)
    better: list[_Reach] = []
    for layer in sorted(schedule.layers, key=_layer_rank, reverse=True):
        if not layer.participants:
            continue
        reach = _reach(layer, zone)
        better.append(reach)
        if not reach.holds(t):
            continue
        # The windows first: most layers that miss `t` miss it there, and they are cheaper.
        hits = None if reach.windows is None else reach.windows.containing(t)
        if hits == []:
            continue
        k, start, end = _rotation(layer, zone).turn(t)
        if hits:
            start, end = reach.windows.stretch(hits, start, end)
        start, end = _trim(start, end, t, overrides)
        for other in better[:-1]:
            start, end = _trim_by_layer(other, t, start, end)
        return _layer_piece(layer, k, start, end).shift()
    return None


def _trim(start: datetime, end: datetime, t: datetime,
          intervals: Iterable[Interval]) -> Interval:
    """Cut [start, end) around `t` by intervals that outrank it; none of them covers `t`."""
    for other_start, other_end in intervals:
        if other_start >= other_end:
            continue
        if t < other_start < end:
            end = other_start
        elif start < other_end <= t:
            start = other_end
    return start, end


def _trim_by_layer(reach: _Reach, t: datetime, start: datetime, end: datetime) -> Interval:
    """Cut [start, end) around `t` where a better layer, which does not cover `t`, covers."""
    ahead_from = max(t, reach.start)
    ahead_to = end if reach.until is None else min(end, reach.until)
    if ahead_from < ahead_to:
        found = ahead_from if reach.windows is None else \
            reach.windows.first_from(ahead_from, ahead_to)
        end = found or end
    behind_from = max(start, reach.start)
    behind_to = t if reach.until is None else min(t, reach.until)
    if behind_from < behind_to:
        found = behind_to if reach.windows is None else \
            reach.windows.last_end_before(behind_from, behind_to)
        start = found or start
    return start, end
