"""Reads: schedules as `oncall.roster` values, who is on call, shifts, pages.

Loading a schedule is three queries whatever their number (layers with members and
restrictions, overrides in the window asked about); the roster arithmetic is pure.
"""

from datetime import datetime, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db.models import Func, IntegerField, OuterRef, Prefetch, Q
from django.db.models.functions import Coalesce

from itsm import clock
from itsm.models import Team, User
from oncall import roster
from oncall.choices import PageState
from oncall.models import Layer, LayerMember, Override, Page, Restriction, Schedule

# The longest override `oncall.services` accepts; overrides are loaded for the window asked
# about widened by this much on each side, so a shift that runs into the window is seen whole.
LONGEST_OVERRIDE = timedelta(days=92)
OVERRIDE_MARGIN = LONGEST_OVERRIDE


def _layer(layer: Layer) -> roster.Layer:
    return roster.Layer(
        id=layer.pk, name=layer.name, level=layer.level,
        participants=tuple(m.user_id for m in layer.members.all()),
        turn=roster.Turn(layer.turn), length=layer.length, start=layer.starts_at,
        until=layer.ends_at,
        windows=tuple(roster.Window(r.weekday, r.start_minute, r.end_minute)
                      for r in layer.restrictions.all()),
    )


def _override(row: Override) -> roster.Override:
    return roster.Override(id=row.pk, user=row.user_id, start=row.starts_at, end=row.ends_at,
                           note=row.note, replaces=row.replaces_id)


def schedules_loaded(queryset, start: datetime, end: datetime) -> list[Schedule]:
    """Schedules with what the roster needs between `start` and `end`, in four queries."""
    overrides = Override.objects.filter(starts_at__lt=end + OVERRIDE_MARGIN,
                                        ends_at__gt=start - OVERRIDE_MARGIN)
    return list(queryset.select_related("team").prefetch_related(
        Prefetch("layers", Layer.objects.prefetch_related(
            Prefetch("members", LayerMember.objects.order_by("position", "id")),
            "restrictions")),
        Prefetch("overrides", overrides),
    ))


def spec(schedule: Schedule) -> roster.Schedule:
    """The schedule as the roster's value (its layers and overrides must be prefetched)."""
    return roster.Schedule(
        id=schedule.pk, name=schedule.name, time_zone=str(schedule.time_zone),
        layers=tuple(_layer(layer) for layer in schedule.layers.all()),
        overrides=tuple(_override(row) for row in schedule.overrides.all()),
    )


# Rosters read from the database, per process: schedule id → (version, the span its overrides
# were read for, the roster). A roster changes rarely and is read on every page and step, so
# `roster_specs` reads only the versions and reloads what changed (`oncall.signals` bumps them).
_cached: dict[int, tuple[int, datetime, datetime, roster.Schedule]] = {}
CACHE_SPAN = timedelta(days=150)  # overrides read around the instant asked: a month of reuse


def roster_specs(schedule_ids, start: datetime, end: datetime) -> dict[int, roster.Schedule]:
    """The schedules as roster values, with their overrides from `start - OVERRIDE_MARGIN` to
    `end + OVERRIDE_MARGIN`: from memory when the schedule's version is the one cached (one
    query), else from the database (three more)."""
    versions = dict(Schedule.objects.filter(pk__in=list(schedule_ids))
                    .values_list("pk", "version"))
    wanted_from, wanted_to = start - OVERRIDE_MARGIN, end + OVERRIDE_MARGIN
    found, stale = {}, []
    for pk, version in versions.items():
        hit = _cached.get(pk)
        if hit and hit[0] == version and hit[1] <= wanted_from and wanted_to <= hit[2]:
            found[pk] = hit[3]
        else:
            stale.append(pk)
    if stale:
        span_from, span_to = start - CACHE_SPAN, end + CACHE_SPAN
        for pk, value in _load_specs(stale, span_from, span_to).items():
            _cached[pk] = (versions[pk], span_from, span_to, value)
            found[pk] = value
    return found


def _load_specs(ids: list[int], start: datetime, end: datetime) -> dict[int, roster.Schedule]:
    """Schedules straight from their rows as roster values, in three flat queries (layers carry
    their members and windows as arrays), with the overrides between `start` and `end`."""
    members = LayerMember.objects.filter(layer=OuterRef("pk")).order_by("position", "id")
    windows = Restriction.objects.filter(layer=OuterRef("pk")).order_by("id")
    layers, overrides = {}, {}
    for row in Layer.objects.filter(schedule__in=ids).values_list(
            "schedule", "id", "name", "level", "turn", "length", "starts_at", "ends_at",
            ArraySubquery(members.values("user")),
            ArraySubquery(windows.values(window=Func(
                Coalesce("weekday", -1), "start_minute", "end_minute", function="ARRAY",
                template="%(function)s[%(expressions)s]", output_field=ArrayField(
                    IntegerField()))))):
        schedule, pk, name, level, turn, length, starts_at, ends_at, users, spans = row
        layers.setdefault(schedule, []).append(roster.Layer(
            id=pk, name=name, level=level, participants=tuple(users), turn=roster.Turn(turn),
            length=length, start=starts_at, until=ends_at,
            windows=tuple(roster.Window(None if day < 0 else day, first, last)
                          for day, first, last in spans)))
    for schedule, *row in Override.objects.filter(
            schedule__in=ids, starts_at__lt=end, ends_at__gt=start).values_list(
            "schedule", "id", "user", "starts_at", "ends_at", "note", "replaces"):
        overrides.setdefault(schedule, []).append(roster.Override(*row))
    return {pk: roster.Schedule(id=pk, name=name, time_zone=str(zone),
                                layers=tuple(layers.get(pk, ())),
                                overrides=tuple(overrides.get(pk, ())))
            for pk, name, zone in Schedule.objects.filter(pk__in=ids)
            .values_list("pk", "name", "time_zone")}


def people(ids) -> dict[int, User]:
    return User.objects.in_bulk(set(ids))


def on_call_now(queryset=None, at: datetime | None = None) -> list[tuple[Schedule, roster.Shift
                                                                         | None]]:
    """Every schedule with the shift covering `at` (None: nobody is on call)."""
    at = at or clock.now()
    schedules = schedules_loaded(queryset if queryset is not None else Schedule.objects.all(),
                                 at, at)
    return [(s, roster.on_call(spec(s), at)) for s in schedules]


def teams_on_call(at: datetime | None = None) -> list[dict]:
    """The "who is on call now" page: every active team, its schedules and who holds them."""
    at = at or clock.now()
    now = on_call_now(at=at)
    users = people(shift.user for _, shift in now if shift)
    by_team: dict[int | None, list] = {}
    for schedule, shift in now:
        by_team.setdefault(schedule.team_id, []).append(
            {"schedule": schedule, "shift": shift, "user": users.get(shift.user) if shift
             else None})
    teams = Team.objects.filter(Q(active=True) | Q(pk__in=[k for k in by_team if k]))
    rows = [{"team": team, "schedules": by_team.get(team.pk, [])}
            for team in teams.select_related("manager").order_by("name")]
    if None in by_team:
        rows.append({"team": None, "schedules": by_team[None]})
    return rows


def shifts_of(schedule: Schedule, start: datetime, end: datetime) -> dict:
    """A schedule's timeline between two instants: per layer, the final roster, and gaps."""
    value = spec(schedule)
    layers = [(layer, roster.layer_shifts(layer, value.time_zone, start, end))
              for layer in sorted(value.layers, key=lambda layer: -layer.level)]
    final = roster.final_shifts(value, start, end)
    return {"layers": layers, "final": final, "gaps": roster.gaps(value, start, end)}


def user_shifts(user: User, start: datetime, end: datetime) -> list[tuple[Schedule,
                                                                         roster.Shift]]:
    """The person's shifts on the final roster of every schedule they take part in."""
    mine = Schedule.objects.filter(
        Q(layers__members__user=user) | Q(overrides__user=user, overrides__ends_at__gt=start)
    ).distinct()
    found = []
    for schedule in schedules_loaded(mine, start, end):
        found += [(schedule, shift) for shift in roster.final_shifts(spec(schedule), start, end)
                  if shift.user == user.pk]
    return sorted(found, key=lambda pair: pair[1].start)


def active_page(incident) -> Page | None:
    return (Page.objects.filter(incident=incident, state=PageState.ACTIVE)
            .select_related("team").first())


def pages_of(incident) -> list[Page]:
    """An incident's latest pages, newest first, each with `notified`: the people told, once
    each, in the order they were (for its paging card)."""
    pages = list(Page.objects.filter(incident=incident)
                 .select_related("team", "policy", "acknowledged_by")
                 .prefetch_related("notices__user")[:5])
    for page in pages:
        page.notified = list(dict.fromkeys(notice.user for notice in page.notices.all()))
    return pages
