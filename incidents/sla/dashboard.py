"""The managers' SLA dashboard: its period, and its figures, aggregated in PostgreSQL.

Definitions (the page's "How these are counted" note says the same):

- A clock is *decided* when it is met (at `stopped_at`) or breached (at `breached_at`, the due
  time that passed, even if it stopped later or still runs). Canceled clocks never count.
- Compliance of a target = met / (met + breached) among the clocks decided in the period.
- MTTA = acknowledged_at − opened_at of incidents acknowledged in the period; MTTR =
  resolved_at − opened_at of incidents resolved in the period (wall-clock, not business time).
- Breached and at-risk open incidents are "now", whatever the period.

Filters: team is the incident's assignment team (for an OLA clock: the clock's team, the team
it measures), service and priority are the incident's. Every selector runs a fixed number of
queries, whatever the period or the number of rows, and aggregates in PostgreSQL.
"""

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo

from django.contrib.postgres.fields import ArrayField
from django.db import transaction
from django.db.models import (
    Aggregate,
    Avg,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    F,
    Func,
    IntegerField,
    Q,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from incidents.choices import OPEN_STATES, ClockStage, Priority, SlaKind, SlaTarget
from incidents.models import Incident, SlaClock
from incidents.sla.engine import human

TARGET_PERCENT = 95  # the trend chart's target line
LIST_SIZE = 20
COUNT_CAP = 1000  # "1,000+" rather than counting every breached incident
AT_RISK_WITHIN = timedelta(hours=1)
MIN_TREND_WEEKS = 8
MAX_PERIOD_DAYS = 366
# A median sorts every duration: +20 ms on 28 days of a million incidents, +300 ms on 90 days.
MEDIAN_MAX_DAYS = 31


# --- the period ------------------------------------------------------------------------------

PRESETS = {
    "this_week": "This week",
    "last_7": "Last 7 days",
    "last_28": "Last 28 days",
    "last_90": "Last 90 days",
    "this_year": "This year",
}
DEFAULT_PRESET = "last_28"


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC-aware datetimes; `first` and `last` are the local days it spans."""

    start: datetime
    end: datetime
    first: date
    last: date
    preset: str = ""  # empty: custom dates

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%-d %b %Y}"
        head = f"{self.first:%-d %b}" if self.first.year == self.last.year else (
            f"{self.first:%-d %b %Y}")
        return f"{head} – {self.last:%-d %b %Y}"


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def period_preset(name: str, *, now: datetime, zone: tzinfo) -> Period:
    """A preset counted in local calendar days, from a local midnight up to now."""
    today = now.astimezone(zone).date()
    first = {
        "this_week": today - timedelta(days=today.weekday()),
        "last_7": today - timedelta(days=6),
        "last_28": today - timedelta(days=27),
        "last_90": today - timedelta(days=89),
        "this_year": today.replace(month=1, day=1),
    }[name]
    return Period(local_midnight(first, zone), now, first, today, name)


def period_custom(first: date, last: date, *, zone: tzinfo) -> Period:
    """From local midnight of `first` to local midnight after `last` (both days included)."""
    return Period(local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone),
                  first, last)


@dataclass(frozen=True)
class Filters:
    period: Period
    zone: tzinfo
    team: int | None = None
    service: int | None = None
    priority: int | None = None

    def incident_q(self, prefix: str = "") -> Q:
        """The team, service and priority filters on an incident (`prefix`: from a clock)."""
        q = Q()
        if self.team is not None:
            q &= Q(**{f"{prefix}assignment_team_id": self.team})
        if self.service is not None:
            q &= Q(**{f"{prefix}service_id": self.service})
        if self.priority is not None:
            q &= Q(**{f"{prefix}priority": self.priority})
        return q

    def clock_q(self) -> Q:
        """The filters on a clock: an OLA's team is the team it measures, not the incident's."""
        q = Q()
        if self.team is not None:
            q &= (Q(kind=SlaKind.SLA, incident__assignment_team_id=self.team)
                  | Q(kind=SlaKind.OLA, team_id=self.team))
        if self.service is not None:
            q &= Q(incident__service_id=self.service)
        if self.priority is not None:
            q &= Q(incident__priority=self.priority)
        return q


# --- clocks: compliance, OLA per team, weekly trend --------------------------------------------

@dataclass(frozen=True)
class Compliance:
    met: int = 0
    breached: int = 0

    def __add__(self, other: "Compliance") -> "Compliance":
        return Compliance(self.met + other.met, self.breached + other.breached)

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def percent(self) -> float | None:
        return 100 * self.met / self.decided if self.decided else None

    @property
    def shown(self) -> float | None:
        """The percentage to one decimal, rounded down so one breach never shows as 100 %."""
        return None if self.percent is None else math.floor(self.percent * 10) / 10

    @property
    def label(self) -> str:
        """"96.4 %", "100 %"; "—" when nothing was decided."""
        if self.shown is None:
            return "—"
        return f"{self.shown:.1f} %".replace(".0 %", " %")

    @property
    def tone(self) -> str:
        if self.percent is None:
            return "none"
        if self.percent >= TARGET_PERCENT:
            return "good"
        return "warn" if self.percent >= TARGET_PERCENT - 10 else "bad"


@dataclass
class Week:
    start: date  # a Monday, in the viewer's zone
    response: Compliance = field(default_factory=Compliance)
    resolution: Compliance = field(default_factory=Compliance)
    current: bool = False  # the week `now` falls in


@dataclass
class ClockFigures:
    response: Compliance
    resolution: Compliance
    ola: list[tuple[int | None, Compliance, Compliance]]  # (team id, response, resolution)
    weeks: list[Week]


def trend_start(period: Period, zone: tzinfo) -> datetime:
    """The Monday starting the period's first week, or MIN_TREND_WEEKS before its last week."""
    last_monday = period.last - timedelta(days=period.last.weekday())
    first = min(period.first - timedelta(days=period.first.weekday()),
                last_monday - timedelta(weeks=MIN_TREND_WEEKS - 1))
    return local_midnight(first, zone)


class WidthBucket(Func):
    """PostgreSQL's width_bucket(x, thresholds): 1 for [t1, t2), 2 for [t2, t3) … (a search)."""

    function = "width_bucket"
    output_field = IntegerField()


def _decided_counts(stage: str, column: str, start: datetime, end: datetime,
                    filters: Filters, bounds: list[datetime]):
    """Clocks that reached `stage` within [start, end), counted per kind, target, team and
    bucket: one query. One range on one column, so a partial index on it (WHERE stage = …)
    that includes kind, target, team_id and incident_id answers it from the index alone.

    With a team, SLA clocks (the incident's team) and OLA clocks (the clock's team) are
    counted apart and the two UNIONed: an OR across the join kept PostgreSQL from narrowing
    the incidents by team first (a third slower on 90 days of a million incidents).
    """
    bucket = WidthBucket(F(column), Value(bounds, output_field=ArrayField(DateTimeField())))
    decided = SlaClock.objects.filter(stage=stage, **{f"{column}__gte": start,
                                                      f"{column}__lt": end})

    def counted(queryset):
        return (queryset.annotate(bucket=bucket).values("kind", "target", "team_id", "bucket")
                .annotate(n=Count("*")).order_by())

    if filters.team is None:
        return counted(decided.filter(filters.clock_q()))
    others = replace(filters, team=None).clock_q()
    return counted(decided.filter(others, kind=SlaKind.SLA,
                                  incident__assignment_team_id=filters.team)).union(
        counted(decided.filter(others, kind=SlaKind.OLA, team_id=filters.team)), all=True)


def clock_figures(filters: Filters, *, now: datetime) -> ClockFigures:
    """Compliance of the period, OLA per team and the weekly trend: two grouped queries, the
    met clocks (by stopped_at) and the breached ones (by breached_at).

    Clocks are counted into buckets that start at each local Monday and at the period's start
    (a mid-week start splits its week in two): width_bucket compares with instants worked out
    here, in the viewer's zone and across DST. A date_trunc in the zone on every row was 2–5×
    slower: the planner cannot tell it has few values, so it sorted every row instead of
    hashing a few hundred groups.
    """
    period, zone = filters.period, filters.zone
    start = trend_start(period, zone)
    mondays = []
    monday = start.astimezone(zone).date()
    while monday <= period.last:
        mondays.append(monday)
        monday += timedelta(weeks=1)
    bounds = sorted({*(local_midnight(m, zone) for m in mondays), period.start})
    rows = [(ClockStage.MET, row) for row in _decided_counts(
        ClockStage.MET, "stopped_at", start, period.end, filters, bounds)]
    rows += [(ClockStage.BREACHED, row) for row in _decided_counts(
        ClockStage.BREACHED, "breached_at", start, period.end, filters, bounds)]
    today = now.astimezone(zone).date()
    weeks = {m: Week(m, current=m <= today < m + timedelta(weeks=1)) for m in mondays}
    totals = {SlaTarget.RESPONSE: Compliance(), SlaTarget.RESOLUTION: Compliance()}
    ola: dict[int | None, dict[str, Compliance]] = {}
    for stage, row in rows:
        since = bounds[row["bucket"] - 1]
        counts = (Compliance(met=row["n"]) if stage == ClockStage.MET
                  else Compliance(breached=row["n"]))
        in_period = since >= period.start
        if row["kind"] == SlaKind.OLA:
            if in_period:
                targets = ola.setdefault(row["team_id"], {t: Compliance() for t in SlaTarget})
                targets[row["target"]] += counts
            continue
        if in_period:
            totals[row["target"]] += counts
        local = since.astimezone(zone).date()
        week = weeks[local - timedelta(days=local.weekday())]
        setattr(week, row["target"], getattr(week, row["target"]) + counts)
    return ClockFigures(
        response=totals[SlaTarget.RESPONSE], resolution=totals[SlaTarget.RESOLUTION],
        ola=[(team, t[SlaTarget.RESPONSE], t[SlaTarget.RESOLUTION]) for team, t in ola.items()],
        weeks=list(weeks.values()))


# --- open incidents now: breached and at risk --------------------------------------------------

@dataclass
class OpenList:
    rows: list[Incident]
    count: int  # capped at COUNT_CAP + 1

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.count > COUNT_CAP else f"{self.count:,}"


LIST_FIELDS = ("number", "title", "priority", "state", "opened_at", "sla_due_at",
               "sla_breached_at", "assignment_team_id", "service_id")


def _open_list(queryset) -> OpenList:
    queryset = queryset.order_by("priority", "opened_at", "id")
    rows = list(queryset.only(*LIST_FIELDS)[:LIST_SIZE])
    count = queryset.values("pk")[:COUNT_CAP + 1].count()
    return OpenList(rows, count)


def open_incidents(filters: Filters, *, now: datetime) -> tuple[OpenList, OpenList]:
    """Open incidents past an SLA target, and those whose nearest SLA due time is within the
    hour (or has passed and the sweep has not flagged it yet): four queries."""
    base = Incident.objects.filter(filters.incident_q(), state__in=OPEN_STATES)
    breached = _open_list(base.filter(sla_breached_at__isnull=False))  # index inc_open_breached
    at_risk = _open_list(base.filter(sla_breached_at__isnull=True,  # index inc_open_sla_due
                                     sla_due_at__lt=now + AT_RISK_WITHIN))
    return breached, at_risk


# --- MTTA and MTTR per priority ---------------------------------------------------------------

class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5) over an interval (FILTER works as for any aggregate)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class Times:
    count: int = 0
    mean: timedelta | None = None
    median: timedelta | None = None

    @property
    def mean_label(self) -> str:
        return duration_label(self.mean)

    @property
    def median_label(self) -> str:
        return duration_label(self.median)


@dataclass(frozen=True)
class PriorityTimes:
    priority: int
    acknowledge: Times
    resolve: Times

    @property
    def label(self) -> str:
        return Priority(self.priority).label

    @property
    def pairs(self) -> tuple:
        return ((self.acknowledge, "acknowledged"), (self.resolve, "resolved"))


def _overall(times: list[Times]) -> Times:
    """The mean over every priority, weighted by its count (the medians do not combine)."""
    count = sum(t.count for t in times)
    if not count:
        return Times()
    total = sum((t.mean * t.count for t in times if t.count), timedelta(0))
    return Times(count, total / count)


def response_times(filters: Filters) -> tuple[list[PriorityTimes], Times, Times]:
    """MTTA and MTTR per priority (mean, and median up to MEDIAN_MAX_DAYS), and their means
    overall: one query."""
    period = filters.period
    acked = Q(acknowledged_at__gte=period.start, acknowledged_at__lt=period.end)
    resolved = Q(resolved_at__gte=period.start, resolved_at__lt=period.end)
    to_ack = F("acknowledged_at") - F("opened_at")
    to_resolve = F("resolved_at") - F("opened_at")
    figures = {
        "ack_n": Count("pk", filter=acked),
        "ack_mean": Avg(to_ack, filter=acked, output_field=DurationField()),
        "res_n": Count("pk", filter=resolved),
        "res_mean": Avg(to_resolve, filter=resolved, output_field=DurationField()),
    }
    if period.days <= MEDIAN_MAX_DAYS:
        figures.update(ack_median=Median(to_ack, filter=acked),
                       res_median=Median(to_resolve, filter=resolved))
    # acked | resolved: a BitmapOr when acknowledged_at has an index (resolved_at has one).
    rows = (Incident.objects.filter(filters.incident_q()).filter(acked | resolved)
            .values("priority").annotate(**figures).order_by("priority"))
    found = {row["priority"]: row for row in rows}
    table = []
    for priority in Priority.values:
        row = found.get(priority, {})
        table.append(PriorityTimes(
            priority,
            Times(row.get("ack_n", 0), row.get("ack_mean"), row.get("ack_median")),
            Times(row.get("res_n", 0), row.get("res_mean"), row.get("res_median"))))
    if filters.priority is not None:
        table = [row for row in table if row.priority == filters.priority]
    return (table, _overall([r.acknowledge for r in table]),
            _overall([r.resolve for r in table]))


def duration_label(value: timedelta | None) -> str:
    """"1 h 20 min" (hours, never days: the same as the SLA badges); "—" for nothing."""
    if value is None:
        return "—"
    if abs(value) < timedelta(seconds=30):
        return "< 1 min"
    return ("−" if value < timedelta(0) else "") + human(value)


# --- the page's figures together ---------------------------------------------------------------

@dataclass
class Dashboard:
    clocks: ClockFigures
    breached: OpenList
    at_risk: OpenList
    times: list[PriorityTimes]
    mtta: Times
    mttr: Times


def dashboard(filters: Filters, *, now: datetime) -> Dashboard:
    """Every figure of the page: seven queries, whatever the period and the data."""
    breached, at_risk = open_incidents(filters, now=now)
    times, mtta, mttr = response_times(filters)
    return Dashboard(clock_figures(filters, now=now), breached, at_risk, times, mtta, mttr)


# --- the CSV export's rows ---------------------------------------------------------------------

EXPORT_COLUMNS = ("incident", "priority", "team", "service", "kind", "target", "stage",
                  "started_at", "due_at", "stopped_at", "breached_at", "policy",
                  "policy_version")


class UtcIso(Func):
    """A timestamp as ISO 8601 text in UTC ("2026-03-02T09:05:00Z"), written by PostgreSQL:
    parsing timestamps in Python was two thirds of the export's time. The text sorts as the
    time does."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    output_field = CharField()


TIMES = ("started_at", "due_at", "stopped_at", "breached_at")


def _decided_rows(stage: str, column: str, filters: Filters, chunk_size: int) -> Iterator[tuple]:
    period = filters.period
    return (SlaClock.objects.filter(stage=stage, **{f"{column}__gte": period.start,
                                                    f"{column}__lt": period.end})
            .filter(filters.clock_q())
            .annotate(team_name=Coalesce("team__name", "incident__assignment_team__name"),
                      policy_name=KeyTextTransform("name", "policy_version__terms"),
                      **{f"{name}_iso": UtcIso(name) for name in TIMES})
            .values_list("incident__number", "incident__priority", "team_name",
                         "incident__service__name", "kind", "target", "stage",
                         *(f"{name}_iso" for name in TIMES), "policy_name",
                         "policy_version__number", f"{column}_iso")
            .order_by(column, "pk").iterator(chunk_size=chunk_size))


def decided_clocks(filters: Filters, *, chunk_size: int = 2000) -> Iterator[tuple]:
    """One tuple per clock decided in the period (EXPORT_COLUMNS, times as UTC ISO 8601
    text), in the order they were
    decided, streamed: the met clocks in stopped_at order and the breached ones in breached_at
    order, each read along its index by a server-side cursor, merged as they come.

    The cursors only stream inside a transaction (in autocommit, Django declares them WITH
    HOLD, and PostgreSQL then runs the whole query before the first row), so this holds one
    open, read-only, for as long as the rows are read.
    """
    with transaction.atomic():
        yield from (row[:-1] for row in heapq.merge(
            _decided_rows(ClockStage.MET, "stopped_at", filters, chunk_size),
            _decided_rows(ClockStage.BREACHED, "breached_at", filters, chunk_size),
            key=lambda row: row[-1]))
