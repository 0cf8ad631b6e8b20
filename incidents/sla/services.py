"""The stored SLA clocks: kept up to date from incident events, swept for thresholds, verified.

Every write here runs inside a transaction with the incident's clock rows locked
(`select_for_update`), so an event and a sweep, or two sweeps, never both mark one threshold:
each warning and each breach is recorded, and announced, exactly once.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from incidents import events
from incidents.choices import OPEN_STATES, ClockStage, EntryKind, LedgerAction, SlaKind
from incidents.models import Incident, SlaClock, SlaLedgerEntry, SlaPolicy, TimelineEntry
from incidents.sla import engine
from incidents.sla.engine import Clock, Fact, Machine, Situation
from incidents.sla.policies import PolicyBook
from itsm import clock
from itsm.bulk import copy_in, update_many
from itsm.models import BusinessCalendar, Heartbeat, Team, User
from itsm.notifications import Message, notifications_queue_many

SWEEP = "sla_sweep"  # its Heartbeat row: when it last ran and how late


class Calendars:
    """Calendars by id, each read once per unit of work (they carry their cache version)."""

    def __init__(self):
        self._by_id: dict[int, BusinessCalendar] = {}

    def __call__(self, pk: int) -> BusinessCalendar:
        if pk not in self._by_id:
            self._by_id.update(BusinessCalendar.objects.in_bulk())
        return self._by_id[pk]


class LazyBook:
    """The policy versions, read only when a fact needs matching (most events do not)."""

    def __init__(self):
        self._book = None

    def __getattr__(self, name):
        if self._book is None:
            self._book = PolicyBook()
        return getattr(self._book, name)


def _machine() -> Machine:
    return Machine(LazyBook(), Calendars())


# --- stored rows ↔ engine clocks --------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _clock(row: SlaClock) -> Clock:
    terms = row.policy_version.terms
    return Clock(kind=row.kind, target=row.target, team_id=row.team_id,
                 version_id=row.policy_version_id, calendar_id=row.calendar_id,
                 duration=row.duration, started_at=row.started_at,
                 pause_states=tuple(terms["pause_states"]),
                 warn_percents=tuple(terms["warn_percents"]),
                 label=f"{terms['name']} v{row.policy_version.number}", stage=row.stage,
                 pauses=[[_dt(a), _dt(b)] for a, b in row.pauses], paused_for=row.paused_for,
                 due_at=row.due_at, stopped_at=row.stopped_at, breached_at=row.breached_at,
                 warned=row.warned, pk=row.pk)


STORED = ("kind", "target", "team_id", "policy_version_id", "calendar_id", "duration",
          "started_at", "stage", "pauses", "paused_for", "due_at", "stopped_at", "breached_at",
          "warned", "next_check_at")


def _fill(row: SlaClock, c: Clock, machine: Machine) -> SlaClock:
    values = dict(kind=c.kind, target=c.target, team_id=c.team_id,
                  policy_version_id=c.version_id, calendar_id=c.calendar_id,
                  duration=c.duration, started_at=c.started_at, stage=c.stage,
                  pauses=[[_iso(a), _iso(b)] for a, b in c.pauses], paused_for=c.paused_for,
                  due_at=c.due_at, stopped_at=c.stopped_at, breached_at=c.breached_at,
                  warned=c.warned, next_check_at=machine.next_check_at(c))
    for name, value in values.items():
        setattr(row, name, value)
    return row


def _locked_rows(incident_ids) -> list[SlaClock]:
    return list(SlaClock.objects.select_for_update(of=("self",))
                .filter(incident_id__in=incident_ids).select_related("policy_version")
                .order_by("incident_id", "id"))


# --- announcing crossings ---------------------------------------------------------------------

@dataclass(frozen=True)
class Crossing:
    clock: SlaClock
    action: str  # WARNED or BREACHED
    level: int  # WARNED: which warning (1, 2 …)
    at: datetime | None  # BREACHED: the due time that passed


def _crossings(before: Clock | None, after: Clock, row: SlaClock) -> list[Crossing]:
    """Thresholds `after` has crossed that `before` (the stored clock) had not."""
    warned = before.warned if before else 0
    found = [Crossing(row, LedgerAction.WARNED, level, None)
             for level in range(warned + 1, after.warned + 1)]
    if after.breached_at and not (before and before.breached_at):
        found.append(Crossing(row, LedgerAction.BREACHED, 0, after.breached_at))
    return found


def _announce(crossings: list[Crossing], incidents: dict[int, Incident], now: datetime) -> None:
    """Warnings to the assignee (or the team); a breach to the team's manager and the timeline.

    One message per threshold (idempotent keys), so a sweep catching up after downtime sends
    each missed warning and breach once, never a flood and never nothing.
    """
    if not crossings:
        return
    team_ids = {incidents[c.clock.incident_id].assignment_team_id for c in crossings} - {None}
    members: dict[int, list[User]] = {}
    for link in Team.members.through.objects.filter(team_id__in=team_ids).select_related("user"):
        members.setdefault(link.team_id, []).append(link.user)
    messages, breaches = [], []
    for crossing in crossings:
        row, incident = crossing.clock, incidents[crossing.clock.incident_id]
        team = incident.assignment_team
        what = f"{row.get_kind_display()} {row.get_target_display().lower()}"
        subject_tail = f"{incident.number} ({incident.get_priority_display()}): {incident.title}"
        if crossing.action == LedgerAction.WARNED:
            if row.stage not in (ClockStage.RUNNING, ClockStage.BREACHED):
                continue  # met, paused or canceled by the same change: nothing to warn about
            percent = row.policy_version.terms["warn_percents"][crossing.level - 1]
            recipients = ([incident.assignee] if incident.assignee
                          else members.get(incident.assignment_team_id, []))
            subject = f"[{incident.number}] {what} {percent} % used: {incident.title}"
            late = " (noticed late: it has breached since)" if row.breached_at else ""
            body = (f"{percent} % of the {what} time of {subject_tail} is used{late}; it is "
                    f"due {row.due_at:%d %b %Y %H:%M} UTC.")
            key = f"sla:{row.pk}:warn{crossing.level}"
        else:
            recipients = [team.manager if team else None, incident.assignee]
            subject = f"[{incident.number}] {what} breached: {incident.title}"
            body = (f"The {what} target of {subject_tail} was due {crossing.at:%d %b %Y %H:%M} "
                    f"UTC and is breached. Owner: {team or 'no team'} / "
                    f"{incident.assignee or 'unassigned'}.")
            key = f"sla:{row.pk}:breach"
            breaches.append(TimelineEntry(
                incident=incident, kind=EntryKind.SLA, at=now, field="sla",
                new_value=f"{what} breached",
                new_code={"sla": "breached", "clock": row.pk, "due": crossing.at.isoformat()},
                body=f"{row.policy_version}: {row.get_target_display().lower()} within "
                     f"{engine.human(row.duration)} of business time"))
        messages.append(Message(key=key, recipients=recipients, subject=subject, body=body))
    notifications_queue_many(messages)
    copy_in(TimelineEntry, breaches)


# --- writing a unit of work -------------------------------------------------------------------

def _store(incident: Incident, rows: list[SlaClock], before: list[Clock | None],
           after: list[Clock], machine: Machine, notes: list[engine.Note]) -> list[Crossing]:
    """Write `after` over `rows` (same order), the ledger notes, and the incident's SLA fields.

    Returns the thresholds crossed that the stored clocks had not recorded yet; ledger notes of
    a warning or breach already stored are not written twice.
    """
    changed, created, pairs = [], [], []  # pairs: (row, stored clock or None, new clock)
    for index, new in enumerate(after):
        old = before[index] if index < len(before) else None
        if index < len(rows):
            row = rows[index]
            if old is None or old.key() != new.key() or (
                    row.next_check_at != machine.next_check_at(new)):
                changed.append(_fill(row, new, machine))
        else:
            row = _fill(SlaClock(incident=incident), new, machine)
            created.append(row)
        pairs.append((row, old, new))
    SlaClock.objects.bulk_create(created)
    SlaClock.objects.bulk_update(changed, STORED)
    if len(rows) > len(after):  # only a repair can shrink the list
        SlaClock.objects.filter(pk__in=[r.pk for r in rows[len(after):]]).delete()
    row_of = {id(new): (row, old) for row, old, new in pairs}
    ledger = []
    for note in notes:
        row, old = row_of.get(id(note.clock), (None, None))
        if row is None or (old is not None and (
                (note.action == LedgerAction.WARNED and note.level <= old.warned)
                or (note.action == LedgerAction.BREACHED and old.breached_at))):
            continue  # a clock that was replaced meanwhile, or recorded when it happened
        ledger.append(SlaLedgerEntry(clock=row, at=note.at, action=note.action,
                                     reason=note.reason, old_due_at=note.old_due_at,
                                     new_due_at=note.new_due_at, skipped=note.skipped))
    SlaLedgerEntry.objects.bulk_create(ledger)
    _summarise(incident, after)
    return [crossing for row, old, new in pairs for crossing in _crossings(old, new, row)]


def _summarise(incident: Incident, clocks: list[Clock]) -> bool:
    """Keep the incident's queue fields: the nearest SLA due time and the first breach."""
    slas = [c for c in clocks if c.kind == SlaKind.SLA and c.stage != ClockStage.CANCELED]
    due = min((c.due_at for c in slas if c.stage == ClockStage.RUNNING), default=None)
    breached = min((c.breached_at for c in slas if c.breached_at), default=None)
    if (incident.sla_due_at, incident.sla_breached_at) == (due, breached):
        return False
    incident.sla_due_at, incident.sla_breached_at = due, breached
    Incident.objects.filter(pk=incident.pk).update(sla_due_at=due, sla_breached_at=breached)
    return True


# --- from events ------------------------------------------------------------------------------

def fact_of(event) -> Fact | None:
    """The fact an incident event is to its clocks (None: nothing the clocks care about)."""
    incident = event.incident
    if isinstance(event, events.Created):
        return Fact(event.at, engine.CREATED)
    if isinstance(event, events.Transitioned):
        return Fact(event.at, engine.STATE, state=event.to_state)
    if isinstance(event, events.FieldChanged):
        if event.field not in engine.MATCHED_FIELDS:
            return None
        return Fact(event.at, engine.FIELD, field=event.field, value=_code(event.new))
    if isinstance(event, events.Assigned):
        return Fact(event.at, engine.OWNER, team=incident.assignment_team_id,
                    assignee=incident.assignee_id)
    return None


def _code(value):
    return getattr(value, "pk", value)


def clocks_on_event(event) -> None:
    """Apply one incident event to the incident's stored clocks (the subscriber's work)."""
    fact = fact_of(event)
    if fact is None:
        return
    incident = event.incident
    if fact.kind in engine.REMATCHING:
        clocks_rederive(incident, now=event.at, from_timeline_index=-1)
        return
    rows = _locked_rows([incident.pk])
    before = [_clock(row) for row in rows]
    clocks = [_clock(row) for row in rows]
    sit = Situation(opened_at=incident.opened_at, state=incident.state,
                    priority=incident.priority, service=incident.service_id,
                    category=incident.category_id, team=incident.assignment_team_id,
                    assignee=incident.assignee_id)
    if isinstance(event, events.Transitioned):
        sit.state = event.from_state
    if isinstance(event, events.Assigned):
        sit.team, sit.assignee = _code(event.old_team), _code(event.old_assignee)
        sit.team_since = max((c.started_at for c in clocks
                              if c.kind == SlaKind.OLA and c.team_id == sit.team), default=None)
    machine = _machine()
    machine.step(sit, clocks, fact)
    crossings = _store(incident, rows, before, clocks, machine, machine.notes)
    _announce(crossings, {incident.pk: incident}, event.at)


# --- replay -----------------------------------------------------------------------------------

def facts_of(entries) -> list[Fact]:
    """The facts an incident's timeline rows record, in order."""
    facts = []
    for e in entries:
        if e.kind == EntryKind.CREATED:
            facts.append(Fact(e.at, engine.CREATED))
        elif e.kind == EntryKind.TRANSITION and e.to_state:
            facts.append(Fact(e.at, engine.STATE, state=e.to_state))
        elif e.kind == EntryKind.FIELD_CHANGE and e.field in engine.MATCHED_FIELDS:
            facts.append(Fact(e.at, engine.FIELD, field=e.field, value=e.new_code))
        elif e.kind in (EntryKind.ASSIGNMENT, EntryKind.ESCALATION) and e.new_code:
            facts.append(Fact(e.at, engine.OWNER, team=e.new_code.get("team"),
                              assignee=e.new_code.get("assignee")))
        elif e.kind == EntryKind.SLA and (e.new_code or {}).get("sla") == "reapply":
            facts.append(Fact(e.at, engine.REAPPLY))
    return facts


def situation_at_creation(incident: Incident, entries) -> Situation:
    """The incident as it was logged: today's values, walked back through later changes."""
    values = {"priority": incident.priority, "service": incident.service_id,
              "category": incident.category_id, "team": incident.assignment_team_id,
              "assignee": incident.assignee_id}
    for e in reversed(entries):
        if e.kind == EntryKind.FIELD_CHANGE and e.field in engine.MATCHED_FIELDS:
            values[e.field] = e.old_code
        elif e.kind in (EntryKind.ASSIGNMENT, EntryKind.ESCALATION) and e.old_code:
            values["team"], values["assignee"] = e.old_code.get("team"), e.old_code.get("assignee")
        elif e.kind == EntryKind.CREATED and e.new_code:
            for name in ("priority", "team", "assignee"):
                values[name] = e.new_code.get(name, values[name])
    return Situation(opened_at=incident.opened_at, **values)


def replayed(incident: Incident, entries, machine: Machine) -> list[Clock]:
    """The clocks the incident's timeline alone gives."""
    return engine.replay(situation_at_creation(incident, entries), facts_of(entries), machine)


def _timeline(incident_ids) -> dict[int, list[TimelineEntry]]:
    by_incident: dict[int, list[TimelineEntry]] = {pk: [] for pk in incident_ids}
    for entry in (TimelineEntry.objects.filter(incident_id__in=incident_ids)
                  .exclude(kind__in=[EntryKind.COMMENT, EntryKind.WORK_NOTE,
                                     EntryKind.NOTIFICATION])
                  .only("incident_id", "kind", "at", "field", "to_state", "old_code",
                        "new_code").order_by("incident_id", "at", "id")):
        by_incident[entry.incident_id].append(entry)
    return by_incident


def clocks_rederive(incident: Incident, *, now: datetime, from_timeline_index: int | None,
                    reason: str = "") -> bool:
    """Replace the incident's stored clocks by its replay; True when anything changed.

    `from_timeline_index` -1: the last fact is new (an event being handled): the ledger gets
    what it did. None: a recompute (calendar changed, repair): one ledger row per changed clock.
    """
    rows = _locked_rows([incident.pk])
    before = [_clock(row) for row in rows]
    entries = _timeline([incident.pk])[incident.pk]
    sit = situation_at_creation(incident, entries)
    facts = facts_of(entries)
    machine = _machine()
    if from_timeline_index is None:
        clocks = engine.replay(sit, facts, machine)
        for clock_ in clocks:
            machine.advance(clock_, now)
        # A clock the stored ones lacked gets its whole story; a changed one a single line.
        new = {id(c) for c in clocks[len(before):]}
        machine.notes = [note for note in machine.notes if id(note.clock) in new]
    else:
        clocks = engine.replay(sit, facts[:from_timeline_index], machine)
        machine.notes = []
        engine.replay(sit, facts[from_timeline_index:], machine, clocks)
    if [c.key() for c in clocks] == [c.key() for c in before]:
        return False
    if from_timeline_index is None:
        for index, clock_ in enumerate(clocks):
            old = before[index] if index < len(before) else None
            if old is None or old.key() != clock_.key():
                why = reason if old else f"{reason} (the clock was missing)"
                machine.notes.append(engine.Note(clock_, now, LedgerAction.RECOMPUTED, why,
                                                 old.due_at if old else None, clock_.due_at))
    crossings = _store(incident, rows, before, clocks, machine, machine.notes)
    _announce(crossings, {incident.pk: incident}, now)
    return True


# --- the beat sweep ---------------------------------------------------------------------------

@dataclass
class SweepResult:
    checked: int = 0
    warned: int = 0
    breached: int = 0
    lag: timedelta = timedelta(0)
    seconds: float = 0.0


def clocks_sweep(*, batch: int = 500, budget: timedelta = timedelta(seconds=25)) -> SweepResult:
    """Cross every threshold that has passed: warnings and breaches, each once.

    Reads only clocks whose `next_check_at` has passed (an index), in batches locked with
    SKIP LOCKED, so two sweeps, or a sweep and an incident event, never take the same clock.
    """
    started, result = time.monotonic(), SweepResult()
    now = clock.now()
    while time.monotonic() - started < budget.total_seconds():
        with transaction.atomic():
            rows = list(SlaClock.objects.select_for_update(of=("self",), skip_locked=True)
                        .filter(next_check_at__lte=now).order_by("next_check_at")
                        .select_related("policy_version", "incident__assignee",
                                        "incident__assignment_team__manager")[:batch])
            if not rows:
                break
            result.lag = max(result.lag, now - rows[0].next_check_at)
            _sweep_batch(rows, now, result)
        if len(rows) < batch:
            break
    result.seconds = time.monotonic() - started
    Heartbeat.objects.update_or_create(name=SWEEP, defaults={"seen_at": now, "lag": result.lag})
    return result


def _sweep_batch(rows: list[SlaClock], now: datetime, result: SweepResult) -> None:
    machine = _machine()
    incidents = {row.incident_id: row.incident for row in rows}
    before = [_clock(row) for row in rows]
    after = [_clock(row) for row in rows]
    for clock_ in after:
        machine.advance(clock_, now)
    by_clock = {id(c): row for c, row in zip(after, rows, strict=True)}
    ledger, crossings = [], []
    for old, new, row in zip(before, after, rows, strict=True):
        _fill(row, new, machine)
        crossings += _crossings(old, new, row)
    for note in machine.notes:
        ledger.append(SlaLedgerEntry(clock=by_clock[id(note.clock)], at=note.at,
                                     action=note.action, reason=note.reason,
                                     old_due_at=note.old_due_at, new_due_at=note.new_due_at))
    update_many(SlaClock, rows, ["stage", "warned", "breached_at", "next_check_at"])
    copy_in(SlaLedgerEntry, ledger)
    breached = {c.clock.incident_id for c in crossings
                if c.action == LedgerAction.BREACHED and c.clock.kind == SlaKind.SLA}
    if breached:
        _refresh_summary(breached, incidents)
    _announce(crossings, incidents, now)
    result.checked += len(rows)
    result.warned += sum(c.action == LedgerAction.WARNED for c in crossings)
    result.breached += sum(c.action == LedgerAction.BREACHED for c in crossings)


def _refresh_summary(incident_ids: set[int], incidents: dict[int, Incident]) -> None:
    """Recompute the queue fields of incidents whose SLA clocks just breached (two queries)."""
    due, breached = {}, {}
    for incident_id, stage, due_at, breached_at in (
            SlaClock.objects.filter(incident_id__in=incident_ids, kind=SlaKind.SLA)
            .exclude(stage=ClockStage.CANCELED)
            .values_list("incident_id", "stage", "due_at", "breached_at")):
        if stage == ClockStage.RUNNING:
            due[incident_id] = min(filter(None, [due.get(incident_id), due_at]))
        if breached_at:
            breached[incident_id] = min(filter(None, [breached.get(incident_id), breached_at]))
    summary = [incidents[pk] for pk in incident_ids]
    for incident in summary:
        incident.sla_due_at, incident.sla_breached_at = due.get(incident.pk), breached.get(
            incident.pk)
    update_many(Incident, summary, ["sla_due_at", "sla_breached_at"])


# --- verifying, re-applying, recomputing -------------------------------------------------------

@dataclass
class Difference:
    incident: Incident
    stored: list[tuple]
    replayed: list[tuple]


def clocks_verify(*, incidents=None, repair: bool = False, chunk: int = 500) -> list[Difference]:
    """Every incident whose stored clocks differ from the replay of its timeline."""
    now = clock.now()
    if incidents is None:
        incidents = Incident.objects.filter(state__in=OPEN_STATES)
    ids = list(incidents.order_by("pk").values_list("pk", flat=True))
    found = []
    machine = _machine()
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        rows: dict[int, list[SlaClock]] = {pk: [] for pk in part}
        for row in (SlaClock.objects.filter(incident_id__in=part)
                    .select_related("policy_version").order_by("incident_id", "id")):
            rows[row.incident_id].append(row)
        timeline = _timeline(part)
        for incident in Incident.objects.filter(pk__in=part).order_by("pk"):
            stored = engine.settled([_clock(r) for r in rows[incident.pk]], machine, now)
            derived = engine.settled(replayed(incident, timeline[incident.pk], machine),
                                     machine, now)
            machine.notes = []
            if stored != derived:
                found.append(Difference(incident, stored, derived))
    if repair:
        for difference in found:
            with transaction.atomic():
                clocks_rederive(difference.incident, now=now, from_timeline_index=None,
                                reason="Repaired: the stored clock differed from its replay")
    return found


def policy_reapply(*, policy: SlaPolicy, by: User | None = None) -> int:
    """Re-match the open incidents whose clocks use an older version of `policy`.

    Each gets an SLA timeline row (so the replay sees it too) and its clocks re-derived, one
    transaction per incident. Returns how many incidents changed.
    """
    now = clock.now()
    stale = (SlaClock.objects.filter(policy_version__policy=policy,
                                     stage__in=[ClockStage.RUNNING, ClockStage.PAUSED])
             .exclude(policy_version__number=policy.version)
             .values_list("incident_id", flat=True).distinct())
    changed = 0
    for incident_id in list(stale):
        with transaction.atomic():
            incident = Incident.objects.select_for_update().get(pk=incident_id)
            TimelineEntry.objects.create(
                incident=incident, kind=EntryKind.SLA, actor=by, at=now, field="sla",
                new_value=f"{policy.name} v{policy.version} re-applied",
                new_code={"sla": "reapply", "policy": policy.pk})
            changed += clocks_rederive(incident, now=now, from_timeline_index=-1)
    return changed


def _open_on(calendar_id: int):
    return SlaClock.objects.filter(calendar_id=calendar_id,
                                   stage__in=[ClockStage.RUNNING, ClockStage.PAUSED])


def open_clocks_on(calendar_id: int) -> int:
    return _open_on(calendar_id).count()


def calendar_rederive(*, calendar_id: int, reason: str) -> int:
    """Recompute the open incidents' clocks on a calendar that changed (holidays, hours)."""
    now = clock.now()
    ids = _open_on(calendar_id).values_list("incident_id", flat=True).distinct()
    changed = 0
    for incident_id in list(ids):
        with transaction.atomic():
            incident = Incident.objects.select_for_update().get(pk=incident_id)
            changed += clocks_rederive(incident, now=now, from_timeline_index=None,
                                       reason=reason)
    return changed
