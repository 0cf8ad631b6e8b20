"""Large, realistic incident tables for benchmarks: rows generated here, loaded with COPY.

Each batch takes its numbers from `incident_number_seq` (so they never collide with incidents
logged meanwhile), streams its rows with COPY and commits. Python builds the next rows while
PostgreSQL stores the previous ones, which keeps both cores busy. Nothing is dropped or
disabled: every index and constraint is maintained as the rows arrive.
"""

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction

from incidents import services
from incidents.choices import Channel, HoldReason, Level, Priority, ResolutionCode, State
from incidents.models import Category, Incident, PriorityMatrix, SlaClock, TimelineEntry
from itsm import clock
from itsm.choices import Criticality, Role
from itsm.demo import catalog
from itsm.demo.catalog import fill
from itsm.demo.reference import Cast, load_cast
from itsm.models import BusinessCalendar, Service, Team, User

# The share of each state in a long-running desk's table (percent).
STATE_SHARES = {State.NEW: 10, State.IN_PROGRESS: 15, State.ON_HOLD: 5, State.RESOLVED: 20,
                State.CLOSED: 48, State.CANCELED: 2}
# Mean hours to acknowledge and to resolve, by priority.
ACK_HOURS = {1: 0.1, 2: 0.4, 3: 2.0, 4: 6.0}
WORK_HOURS = {1: 4, 2: 12, 3: 30, 4: 60}
HISTORY_DAYS = 730
# Writes a row in this state has seen (create + transitions + assignment): its `version`.
VERSIONS = {State.NEW: 1, State.IN_PROGRESS: 3, State.ON_HOLD: 4, State.RESOLVED: 4,
            State.CLOSED: 5, State.CANCELED: 2}
COLUMNS = (
    "number", "title", "description", "caller_id", "reported_by_id", "channel", "service_id",
    "category_id", "subcategory_id", "impact", "urgency", "priority", "priority_override_reason",
    "assignment_team_id", "assignee_id", "escalation_tier", "state", "hold_reason",
    "resolution_code", "resolution_notes", "cancel_reason", "opened_at", "acknowledged_at",
    "resolved_at", "closed_at", "updated_at", "reopen_count", "version",
)
FIRST_NAMES = ["James", "Mary", "Ahmed", "Chen", "Sara", "Lars", "Aisha", "Pedro", "Yuki",
               "Ingrid", "Kofi", "Marta", "Raj", "Elif", "Tomas", "Nora", "Diego", "Leila",
               "Piotr", "Hana", "Ben", "Amara", "Jonas", "Rosa", "Ivan", "Maya", "Oscar",
               "Priya", "Luca", "Freya", "Karim", "Alice", "Mehmet", "Sofia", "Ethan", "Anya",
               "Bruno", "Clara", "Dev", "Greta"]
LAST_NAMES = ["Smith", "Müller", "Nowak", "Rossi", "Dubois", "Jensen", "Kaya", "Silva", "Ito",
              "Okafor", "Novak", "Berg", "Haddad", "Wong", "Garcia", "Ivanova", "Brown",
              "Lindholm", "Costa", "Meyer", "Nakamura", "Mensah", "Kowalczyk", "Fontaine",
              "Popescu", "Horvath", "Schultz", "Moreau", "Virtanen", "Yilmaz", "Khan", "Lopez",
              "Bauer", "Hughes", "Sato", "Mazur", "Ferreira", "Keller", "Dahl", "Reyes"]


@dataclass
class TeamInfo:
    id: int
    tier: int
    members: list[int]
    next_tier: "TeamInfo | None" = None


@dataclass
class Kind:
    """A scenario resolved to ids, with pools of filled-in texts to draw rows from."""

    category_id: int
    subcategory_id: int
    service_id: int
    criticality: int
    routed: TeamInfo  # where the routing rules send it
    specialist: TeamInfo  # who usually fixes it
    impact_table: list[str]
    titles: list[str]
    alerts: list[str]
    fixes: list[str]


def ensure_callers(count: int) -> list[int]:
    """At least `count` requesters to call in incidents (created once, unusable passwords)."""
    group = Group.objects.get(name=Role.REQUESTER)
    existing = list(group.user_set.values_list("pk", flat=True))
    missing = count - len(existing)
    if missing > 0:
        password = make_password(None)
        taken = set(User.objects.values_list("username", flat=True))
        new = []
        for i in range(len(existing), count):
            first = FIRST_NAMES[i % len(FIRST_NAMES)]
            last = LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
            username = f"{first}.{last}{i // 1600 or ''}".lower()
            if username in taken:
                username = f"{username}.{i}"
            new.append(User(username=username, first_name=first, last_name=last,
                            email=f"{username}@example.com", password=password))
        with transaction.atomic():
            created = User.objects.bulk_create(new)
            User.groups.through.objects.bulk_create(
                User.groups.through(user_id=u.pk, group_id=group.pk) for u in created)
        existing += [u.pk for u in created]
    return existing


def _kinds(cast: Cast, rng: random.Random) -> list[Kind]:
    """One Kind per scenario, repeated by weight so a uniform pick follows the weights."""
    teams = {t.pk: TeamInfo(t.pk, t.tier, [u.pk for u in cast.members(t)])
             for t in cast.teams.values()}
    for t in cast.teams.values():
        teams[t.pk].next_tier = teams.get(t.next_tier_id)
    kinds = []
    for s in catalog.SCENARIOS:
        service = cast.services[s.service]
        category = cast.categories[(s.category, None)]
        subcategory = cast.categories[(s.category, s.subcategory)]
        routed = services.route(category=category, subcategory=subcategory, service=service)
        weights = catalog.IMPACT_WEIGHTS.get(s.category, catalog.DEFAULT_IMPACT_WEIGHTS)
        kind = Kind(
            category_id=category.pk, subcategory_id=subcategory.pk, service_id=service.pk,
            criticality=service.criticality,
            routed=teams[(routed or cast.teams[catalog.MARKER_TEAM]).pk],
            specialist=teams[cast.teams[s.specialist].pk],
            impact_table=[v for v, w in zip(Level.values, weights, strict=True) for _ in range(w)],
            titles=sorted({fill(t, rng) for t in s.titles for _ in range(8)}),
            alerts=sorted({fill(t, rng) for t in s.alerts for _ in range(8)}),
            fixes=sorted({fill(t, rng) for t in s.fixes for _ in range(4)}),
        )
        kinds += [kind] * s.weight
    return kinds


class RowMaker:
    """Builds incident rows whose fields and timestamps agree with their state."""

    def __init__(self, *, cast: Cast, callers: list[int], now: datetime, seed: int):
        self.rng = rng = random.Random(seed)
        self.now = now
        self.kinds = _kinds(cast, rng)
        self.callers = callers
        self.desk = [u.pk for u in cast.members(cast.teams[catalog.MARKER_TEAM])]
        self.monitoring = cast.monitoring.pk
        matrix = {(c.impact, c.urgency): c.priority for c in PriorityMatrix.objects.all()}
        self.priority = {
            (impact, urgency, crit): max(1, p - 1) if crit == Criticality.MISSION_CRITICAL else p
            for (impact, urgency), p in matrix.items() for crit in Criticality.values
        }
        self.states = [s for s, share in STATE_SHARES.items() for _ in range(share)]
        self.urgencies = [v for v, w in zip(Level.values, catalog.URGENCY_WEIGHTS, strict=True)
                          for _ in range(w)]
        self.details = sorted({" ".join(fill(d, rng) for d in rng.sample(catalog.DETAILS, 2))
                               for _ in range(300)})
        self.hold_reasons = HoldReason.values
        self.codes = [c for c, w in zip(ResolutionCode.values, [60, 15, 5, 10, 7, 3],
                                        strict=True) for _ in range(w)]
        self.auto_close = timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)

    def rows(self, numbers: list[int]) -> Iterator[tuple]:
        for number in numbers:
            yield self.row(f"INC{number:07d}")

    def row(self, number: str) -> tuple:
        rng, r = self.rng, self.rng.random
        kind = rng.choice(self.kinds)
        state = rng.choice(self.states)
        impact, urgency = rng.choice(kind.impact_table), rng.choice(self.urgencies)
        if kind.alerts and r() < 0.3:
            channel, caller = Channel.MONITORING, self.monitoring
            reporter, title = caller, rng.choice(kind.alerts)
            impact, urgency = Level.MEDIUM, Level.HIGH
            description = "Auto-created from the monitoring alert."
        else:
            channel = rng.choice((Channel.WEB, Channel.WEB, Channel.EMAIL, Channel.PHONE))
            caller = rng.choice(self.callers)
            reporter = caller if channel == Channel.WEB else rng.choice(self.desk)
            title, description = rng.choice(kind.titles), rng.choice(self.details)
        priority = self.priority[(impact, urgency, kind.criticality)]
        team, assignee = self.assignment(kind, state)
        times = self.times(state, priority)
        resolved = state in (State.RESOLVED, State.CLOSED)
        reopened = 1 if resolved and r() < 0.04 else 0
        return (
            number, title, description, caller, reporter, channel, kind.service_id,
            kind.category_id, kind.subcategory_id, impact, urgency, priority, "",
            team.id, assignee, team.tier, state,
            rng.choice(self.hold_reasons) if state == State.ON_HOLD else "",
            rng.choice(self.codes) if resolved else "",
            rng.choice(kind.fixes) if resolved else "",
            rng.choice(catalog.CANCEL_REASONS) if state == State.CANCELED else "",
            *times, reopened, VERSIONS[state] + 2 * reopened,
        )

    def assignment(self, kind: Kind, state: str) -> tuple[TeamInfo, int | None]:
        """The routed team, or the specialists it was handed to, or their next tier."""
        r = self.rng.random
        team = kind.routed
        if state != State.NEW and r() < 0.6:
            team = kind.specialist
        if state != State.NEW and team.next_tier and r() < 0.06:
            team = team.next_tier
        unassigned = (state == State.NEW and r() < 0.65) or (state == State.CANCELED and r() < 0.5)
        return team, None if unassigned or not team.members else self.rng.choice(team.members)

    def times(self, state: str, priority: int) -> tuple:
        """opened, acknowledged, resolved, closed and updated: in order, all in the past."""
        rng, now, hours = self.rng, self.now, timedelta(hours=1)
        ack = hours * rng.expovariate(1 / ACK_HOURS[priority])
        work = hours * (0.2 + rng.expovariate(1 / WORK_HOURS[priority]))
        if state in (State.CLOSED, State.RESOLVED):
            if state == State.CLOSED:
                closed = now - timedelta(days=rng.uniform(0.05, HISTORY_DAYS))
                by_caller = rng.random() < 0.4
                resolved = closed - (hours * rng.uniform(0.5, 48) if by_caller
                                     else self.auto_close + hours * rng.uniform(0.1, 1))
            else:  # still inside the auto-close window
                closed = None
                resolved = now - self.auto_close * rng.uniform(0.01, 0.95)
            acknowledged = resolved - work
            opened = acknowledged - ack
            return opened, acknowledged, resolved, closed, closed or resolved
        if state == State.CANCELED:
            closed = now - timedelta(days=rng.uniform(0.05, HISTORY_DAYS))
            opened = closed - hours * rng.uniform(0.2, 72)
            acknowledged = opened + (closed - opened) * 0.3 if rng.random() < 0.5 else None
            return opened, acknowledged, None, closed, closed
        mean_days = {State.NEW: 0.7, State.IN_PROGRESS: 4, State.ON_HOLD: 10}[state]
        opened = now - timedelta(days=min(rng.expovariate(1 / mean_days), 90) + 0.002)
        if state == State.NEW:
            return opened, None, None, None, opened
        acknowledged = min(opened + ack, opened + (now - opened) * 0.5)
        updated = acknowledged + (now - acknowledged) * rng.random()
        return opened, acknowledged, None, None, updated


def seed_scale(*, count: int, batch: int, callers: int, timeline: bool, seed: int,
               progress: Callable[[int, float], None] = lambda done, secs: None) -> int:
    """Add `count` incidents in batches of `batch` rows, one transaction each."""
    cast = load_cast()
    maker = RowMaker(cast=cast, callers=ensure_callers(callers), now=clock.now(), seed=seed)
    started, done = time.monotonic(), 0
    while done < count:
        size = min(batch, count - done)
        with transaction.atomic(), connection.cursor() as cursor:
            # Only this transaction's durability: a crash loses the batch, never corrupts.
            cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.execute("SELECT nextval('incident_number_seq') FROM generate_series(1, %s)",
                           [size])
            numbers = [n for (n,) in cursor.fetchall()]
            with cursor.copy(f"COPY {Incident._meta.db_table} ({', '.join(COLUMNS)}) "
                             "FROM STDIN") as copy:
                for row in maker.rows(numbers):
                    copy.write_row(row)
            if timeline:
                _created_entries(cursor, numbers)
        done += size
        progress(done, time.monotonic() - started)
    seed_scale_clocks()
    _refresh_statistics(timeline=timeline)
    return done


def _refresh_statistics(*, timeline: bool) -> None:
    """Fresh planner statistics; VACUUM too (visibility map: index-only counts) when allowed."""
    tables = [Incident, SlaClock, User, User.groups.through, Team, Team.members.through,
              Service, Category, *([TimelineEntry] if timeline else [])]
    names = ", ".join(model._meta.db_table for model in tables)
    # VACUUM cannot run inside a transaction (as in tests); ANALYZE alone then.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {names}")


def _created_entries(cursor, numbers: list[int]) -> None:
    """The 'created' timeline entry of each new row, as incident_create would have written it."""
    priorities = " ".join(f"WHEN {p.value} THEN '{p.label}'" for p in Priority)
    channels = " ".join(f"WHEN '{c.value}' THEN '{c.label}'" for c in Channel)
    cursor.execute(
        "INSERT INTO incidents_timelineentry "
        "(incident_id, kind, actor_id, at, field, old_value, new_value, body, from_state, "
        "to_state, new_code) "
        f"SELECT id, 'created', reported_by_id, opened_at, '', '', CASE priority {priorities} END, "
        f"'Logged via ' || CASE channel {channels} END, '', 'new', "
        "jsonb_build_object('state', 'new', 'priority', priority, 'team', assignment_team_id, "
        "'assignee', assignee_id) "
        "FROM incidents_incident WHERE number = ANY(%s)",
        [[f"INC{n:07d}" for n in numbers]],
    )


# Business hours per calendar hour, roughly (8 of every 24 on weekdays only): the scale data's
# office-hours due times are approximate. Exact clocks come from the services (seed_demo).
OFFICE_STRETCH = 4.2


def seed_scale_clocks() -> int:
    """SLA clocks for every incident that has none, in SQL, from its state and timestamps.

    For benchmarks (the dashboard, the sweep): the default SLA policy of each priority; 24×7
    due times exact, office-hours ones stretched by OFFICE_STRETCH instead of walked through
    the calendar, so `check_slas --verify` is not expected to agree on this data.
    """
    from incidents.models import SlaPolicyVersion

    versions = {v.terms["priority"]: v for v in SlaPolicyVersion.objects.filter(
        valid_until=None, terms__kind="sla", policy__name__endswith="default")}
    if not versions:
        return 0
    always = set(BusinessCalendar.objects.filter(always_open=True).values_list("pk", flat=True))

    def minutes(version, target) -> float:
        terms = version.terms
        stretch = 1 if terms[f"{target}_calendar_id"] in always else OFFICE_STRETCH
        return terms[f"{target}_minutes"] * stretch

    cases = {target: " ".join(f"WHEN {p} THEN interval '{minutes(v, target)} minutes'"
                              for p, v in versions.items())
             for target in ("response", "resolution")}
    version_of = " ".join(f"WHEN {p} THEN {v.pk}" for p, v in versions.items())
    calendar_of = {name: " ".join(f"WHEN {p} THEN {v.terms[f'{name}_calendar_id']}"
                                  for p, v in versions.items())
                   for name in ("response", "resolution")}
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
        total = 0
        for target, stop in (("response", "acknowledged_at"), ("resolution", "resolved_at")):
            cursor.execute(f"""
                INSERT INTO incidents_slaclock
                  (incident_id, kind, target, policy_version_id, calendar_id, duration,
                   started_at, stage, pauses, paused_for, due_at, stopped_at, breached_at,
                   warned, next_check_at)
                SELECT id, 'sla', %(target)s, CASE priority {version_of} END,
                       CASE priority {calendar_of[target]} END, duration, opened_at,
                       CASE WHEN state = 'canceled' THEN 'canceled'
                            WHEN stop IS NOT NULL AND stop <= due THEN 'met'
                            WHEN coalesce(stop, %(now)s) > due THEN 'breached'
                            WHEN state = 'on_hold' AND %(target)s = 'resolution' THEN 'paused'
                            ELSE 'running' END,
                       CASE WHEN state = 'on_hold' AND %(target)s = 'resolution'
                                 AND coalesce(stop, %(now)s) <= due
                            THEN jsonb_build_array(jsonb_build_array(updated_at, null))
                            ELSE '[]'::jsonb END,
                       interval '0', due,
                       CASE WHEN state <> 'canceled' THEN stop END,
                       CASE WHEN state <> 'canceled' AND coalesce(stop, %(now)s) > due
                            THEN due END,
                       CASE WHEN state <> 'canceled' AND coalesce(stop, %(now)s) > due
                            THEN 2 ELSE 0 END,
                       CASE WHEN state IN ('new', 'in_progress') AND stop IS NULL
                                 AND due > %(now)s THEN due END
                FROM (SELECT i.id, i.priority, i.state, i.opened_at, i.updated_at,
                             i.{stop} AS stop,
                             CASE i.priority {cases[target]} END AS duration,
                             i.opened_at + CASE i.priority {cases[target]} END AS due
                      FROM incidents_incident i
                      WHERE NOT EXISTS (SELECT 1 FROM incidents_slaclock c
                                        WHERE c.incident_id = i.id AND c.target = %(target)s))
                     AS rows""", {"target": target, "now": now})
            total += cursor.rowcount
        # The queue's fields on the open incidents.
        cursor.execute("""
            UPDATE incidents_incident i SET
              sla_due_at = (SELECT min(due_at) FROM incidents_slaclock c
                            WHERE c.incident_id = i.id AND c.stage = 'running'),
              sla_breached_at = (SELECT min(breached_at) FROM incidents_slaclock c
                                 WHERE c.incident_id = i.id)
            WHERE i.state IN ('new', 'in_progress', 'on_hold')""")
        cursor.execute("UPDATE incidents_slaclock SET due_at = NULL WHERE stage = 'paused'")
    return total
