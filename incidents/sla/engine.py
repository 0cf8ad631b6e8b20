"""The SLA clocks as a pure state machine: facts in, clocks and ledger notes out.

A *fact* is one thing that happened to an incident, as the clocks see it (created, state
changed, a matched field changed, owner changed, policy re-applied). `Machine.step` applies one
fact to an incident's clocks. The subscriber feeds it each new event's fact; `replay` feeds it
the whole timeline from scratch. Both therefore agree, which `check_slas --verify` checks.

Rules:
- created → an SLA clock per target of the first matching SLA policy, from `opened_at`, and the
  OLA clocks of the team holding it;
- leaving "new" meets the response target; resolved meets the resolution target; reopened
  runs it again, and the time spent resolved does not count;
- entering a pause state (the policy's; default on hold) pauses, leaving it resumes, and the due
  time moves out by the business time spent paused;
- a priority, service or category change re-matches, measured from the original start
  (retroactive): clocks of another policy version are replaced by the new version's;
- an OLA clock runs while its team holds the incident: a hand-off stops it (met, unless it had
  already breached) and the new team's OLA clocks start with their full time; its response
  target is met when someone of the team takes the incident (an assignee) or acknowledges it;
- a running clock whose due time passes is breached at that due time; warnings are the
  policy's percentages of the *business* time, so they fall inside working hours;
- canceled → every clock still counting is canceled.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from incidents.choices import (
    ACTIVE_STAGES,
    OPEN_STATES,
    ClockStage,
    LedgerAction,
    SlaKind,
    SlaTarget,
    State,
)
from incidents.sla.policies import PolicyBook, targets_of
from itsm.business_time import add_business_time, business_time_between, closures_between

ZERO = timedelta(0)

# Fact kinds.
CREATED, STATE, FIELD, OWNER, REAPPLY = "created", "state", "field", "owner", "reapply"
MATCHED_FIELDS = ("priority", "service", "category")
REMATCHING = (FIELD, REAPPLY)  # these need the incident's history: the subscriber replays


@dataclass(frozen=True)
class Fact:
    at: datetime
    kind: str
    state: str = ""  # STATE: the new state
    field: str = ""  # FIELD: priority, service or category
    value: Any = None  # FIELD: the new raw value (a priority, an id or None)
    team: int | None = None  # OWNER: the new team and assignee ids
    assignee: int | None = None


@dataclass
class Situation:
    """The incident as its clocks see it, at the latest fact applied."""

    opened_at: datetime
    state: str = State.NEW
    priority: int | None = None
    service: int | None = None
    category: int | None = None
    team: int | None = None
    assignee: int | None = None
    team_since: datetime | None = None
    assigned_at: datetime | None = None
    states: list[tuple[datetime, str]] = field(default_factory=list)  # (since, state), in order

    def state_at(self, at: datetime) -> str:
        earlier = [state for t, state in self.states if t <= at]
        return earlier[-1] if earlier else self.state


@dataclass
class Clock:
    kind: str
    target: str
    team_id: int | None
    version_id: int
    calendar_id: int
    duration: timedelta
    started_at: datetime
    pause_states: tuple[str, ...] = ()
    warn_percents: tuple[int, ...] = ()
    label: str = ""
    stage: str = ClockStage.RUNNING
    pauses: list[list[datetime | None]] = field(default_factory=list)
    paused_for: timedelta = ZERO
    due_at: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    warned: int = 0
    pk: int | None = None

    def key(self) -> tuple:
        """What a stored clock and its replay must agree on."""
        return (self.kind, self.target, self.team_id, self.version_id, self.calendar_id,
                self.duration, self.started_at, self.stage,
                [list(p) for p in self.pauses], self.paused_for, self.due_at,
                self.stopped_at, self.breached_at, self.warned)

    @property
    def active(self) -> bool:
        return self.stage in ACTIVE_STAGES


@dataclass
class Note:
    """One ledger row to write: what happened to `clock`, why, and how the due time moved."""

    clock: Clock
    at: datetime
    action: str
    reason: str
    old_due_at: datetime | None = None
    new_due_at: datetime | None = None
    skipped: list = field(default_factory=list)
    level: int = 0  # WARNED: which warning (1, 2 …)


def human(delta: timedelta) -> str:
    """5400 s → "1 h 30 min". Hours, never days: a business day is not 24 hours."""
    minutes = round(abs(delta.total_seconds()) / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


class Machine:
    """Applies facts to clocks, with the policies (`PolicyBook`) and calendars given."""

    def __init__(self, book: PolicyBook, calendar: Callable[[int], Any]):
        self.book = book
        self.calendar = calendar  # calendar id → BusinessCalendar / WorkingTime
        self.notes: list[Note] = []

    # --- one fact --------------------------------------------------------------------------

    def step(self, sit: Situation, clocks: list[Clock], fact: Fact) -> None:
        at = fact.at
        for clock in clocks:
            self.advance(clock, at)
        if fact.kind == CREATED:
            sit.states.append((sit.opened_at, sit.state))
            sit.team_since = sit.opened_at if sit.team else None
            sit.assigned_at = sit.opened_at if sit.assignee else None
            clocks += self.attach(sit, SlaKind.SLA, start=sit.opened_at, at=at)
            if sit.team:
                clocks += self.attach(sit, SlaKind.OLA, start=sit.opened_at, at=at)
        elif fact.kind == STATE:
            for clock in clocks:
                self.on_state(clock, sit.state, fact.state, at)
            sit.state = fact.state
            sit.states.append((at, fact.state))
        elif fact.kind == OWNER:
            self.on_owner(sit, clocks, fact)
        elif fact.kind in REMATCHING:
            if fact.kind == FIELD:
                setattr(sit, fact.field, fact.value)
            reason = (f"{fact.field.capitalize()} changed" if fact.kind == FIELD
                      else "Policy re-applied")
            clocks += self.rematch(sit, clocks, SlaKind.SLA, sit.opened_at, at, reason)
            if sit.team and sit.state in OPEN_STATES:
                clocks += self.rematch(sit, clocks, SlaKind.OLA, sit.team_since, at, reason)

    def on_owner(self, sit: Situation, clocks: list[Clock], fact: Fact) -> None:
        at = fact.at
        if fact.team != sit.team:
            for clock in clocks:
                if (clock.kind == SlaKind.OLA and clock.team_id == sit.team
                        and clock.stopped_at is None and clock.stage != ClockStage.CANCELED):
                    self.stop(clock, at, "Handed to another team")
            sit.team, sit.team_since = fact.team, at
        if fact.assignee != sit.assignee:
            sit.assignee, sit.assigned_at = fact.assignee, at if fact.assignee else None
        if fact.team and not any(c.kind == SlaKind.OLA and c.team_id == fact.team
                                 and c.started_at == sit.team_since for c in clocks):
            if sit.state in OPEN_STATES:
                clocks += self.attach(sit, SlaKind.OLA, start=at, at=at)
        elif fact.assignee:
            for clock in clocks:
                if self._taken(clock, sit):
                    self.stop(clock, at, "Taken by an assignee")

    def _taken(self, clock: Clock, sit: Situation) -> bool:
        return (clock.kind == SlaKind.OLA and clock.target == SlaTarget.RESPONSE and clock.active
                and clock.team_id == sit.team and sit.assignee is not None)

    # --- attaching and re-matching -----------------------------------------------------------

    def attach(self, sit: Situation, kind: str, *, start: datetime, at: datetime) -> list[Clock]:
        """New clocks of the policy matching now, counted from `start` through what followed."""
        team = sit.team if kind == SlaKind.OLA else None
        version = self.book.match(at, kind, priority=sit.priority, service_id=sit.service,
                                  category_id=sit.category, team_id=sit.team)
        if version is None:
            return []
        clocks = []
        for target in targets_of(version):
            clock = Clock(kind=kind, target=target.target, team_id=team,
                          version_id=target.version_id, calendar_id=target.calendar_id,
                          duration=timedelta(minutes=target.minutes), started_at=start,
                          pause_states=target.pause_states, warn_percents=target.warn_percents,
                          label=target.label)
            self._reschedule(clock)
            self.note(clock, start, LedgerAction.ATTACHED,
                      f"{target.label}: {target.target} within {human(clock.duration)} "
                      f"of business time", None)
            self._catch_up(clock, sit, start, at)
            clocks.append(clock)
        return clocks

    def _catch_up(self, clock: Clock, sit: Situation, start: datetime, at: datetime) -> None:
        """Take a clock that starts in the past through the states the incident went through."""
        state = sit.state_at(start)
        if state in clock.pause_states:
            self.pause(clock, start, state)
        if clock.kind == SlaKind.SLA and clock.target == SlaTarget.RESPONSE and state != State.NEW:
            self.stop(clock, start, "Already acknowledged")
        changes = [(t, s) for t, s in sit.states if start < t <= at]
        if clock.kind == SlaKind.OLA and sit.assigned_at and start <= sit.assigned_at <= at:
            changes.append((sit.assigned_at, None))  # None: taken by an assignee
        for t, new in sorted(changes, key=lambda change: change[0]):
            self.advance(clock, t)
            if new is None:
                if self._taken(clock, sit):
                    self.stop(clock, t, "Taken by an assignee")
            else:
                self.on_state(clock, state, new, t)
                state = new
        self.advance(clock, at)

    def rematch(self, sit: Situation, clocks: list[Clock], kind: str, start: datetime,
                at: datetime, reason: str) -> list[Clock]:
        """Replace this kind's clocks when another policy version matches now (retroactive)."""
        current = [c for c in clocks if c.kind == kind and c.stage != ClockStage.CANCELED
                   and (kind == SlaKind.SLA or (c.team_id == sit.team and c.started_at == start))]
        version = self.book.match(at, kind, priority=sit.priority, service_id=sit.service,
                                  category_id=sit.category, team_id=sit.team)
        if version is None and not current:
            return []
        if version is not None and current and all(c.version_id == version.pk for c in current):
            return []
        successor = f"{version.terms['name']} v{version.number}" if version else "no policy"
        for clock in current:
            old_due = clock.due_at
            self.close_pause(clock, at)
            clock.stage, clock.stopped_at, clock.due_at = ClockStage.CANCELED, at, None
            self.note(clock, at, LedgerAction.REPLACED, f"{reason}: replaced by {successor}",
                      old_due)
        return self.attach(sit, kind, start=start, at=at) if version is not None else []

    # --- one clock ---------------------------------------------------------------------------

    def on_state(self, clock: Clock, old: str, new: str, at: datetime) -> None:
        if new == State.CANCELED:
            if clock.active:
                self.close_pause(clock, at)
                old_due = clock.due_at
                clock.stage, clock.stopped_at, clock.due_at = ClockStage.CANCELED, at, None
                self.note(clock, at, LedgerAction.CANCELED, "Incident canceled", old_due)
            elif clock.stage == ClockStage.BREACHED and clock.stopped_at is None:
                clock.stopped_at = at
            return
        if clock.target == SlaTarget.RESPONSE and old == State.NEW and new != State.NEW:
            self.stop(clock, at, "Acknowledged")
            return
        if clock.target == SlaTarget.RESOLUTION and new == State.RESOLVED:
            self.stop(clock, at, "Resolved")
        elif clock.target == SlaTarget.RESOLUTION and old == State.RESOLVED and new in OPEN_STATES:
            self.reopen(clock, at)
        if clock.active and new in clock.pause_states and old not in clock.pause_states:
            self.pause(clock, at, new)
        elif clock.stage == ClockStage.PAUSED and new not in clock.pause_states:
            self.resume(clock, at, old)

    def stop(self, clock: Clock, at: datetime, why: str) -> None:
        """The target was reached (met), or the breached clock stops counting."""
        if clock.stage == ClockStage.BREACHED and clock.stopped_at is None:
            clock.stopped_at = at
            self.note(clock, at, LedgerAction.MET, f"{why}, after the breach", clock.due_at)
        elif clock.active:
            self.close_pause(clock, at)
            old_due = clock.due_at
            clock.stage, clock.stopped_at = ClockStage.MET, at
            self.note(clock, at, LedgerAction.MET, f"{why} in time", old_due)
            clock.due_at = old_due

    def reopen(self, clock: Clock, at: datetime) -> None:
        if clock.stopped_at is None or clock.stage not in (ClockStage.MET, ClockStage.BREACHED):
            return
        resolved_at, clock.stopped_at = clock.stopped_at, None
        if clock.stage == ClockStage.BREACHED:
            self.note(clock, at, LedgerAction.REOPENED, "Reopened: still breached", clock.due_at)
            return
        old_due = clock.due_at
        clock.stage = ClockStage.RUNNING
        clock.pauses.append([resolved_at, at])
        spent = business_time_between(self.calendar(clock.calendar_id), resolved_at, at)
        clock.paused_for += spent
        self._reschedule(clock)
        self.note(clock, at, LedgerAction.REOPENED,
                  f"Reopened: runs again; the {human(spent)} of business time it spent "
                  f"resolved does not count", old_due, skipped=[self._pause_label(resolved_at, at)])

    def pause(self, clock: Clock, at: datetime, state: str) -> None:
        if clock.stage != ClockStage.RUNNING:
            return
        old_due = clock.due_at
        clock.stage = ClockStage.PAUSED
        clock.pauses.append([at, None])
        clock.due_at = None
        self.note(clock, at, LedgerAction.PAUSED,
                  f"{State(state).label}: the clock stops", old_due)

    def resume(self, clock: Clock, at: datetime, state: str) -> None:
        since = self.close_pause(clock, at)
        clock.stage = ClockStage.RUNNING
        self._reschedule(clock)
        spent = business_time_between(self.calendar(clock.calendar_id), since, at)
        self.note(clock, at, LedgerAction.RESUMED,
                  f"{human(at - since)} {State(state).label.lower()} "
                  f"({human(spent)} of business time): due moves out by that",
                  None, skipped=[self._pause_label(since, at)])

    def close_pause(self, clock: Clock, at: datetime) -> datetime | None:
        """End the open pause (if any): its business time is added to `paused_for`."""
        if not clock.pauses or clock.pauses[-1][1] is not None:
            return None
        since = clock.pauses[-1][0]
        clock.pauses[-1][1] = at
        clock.paused_for += business_time_between(self.calendar(clock.calendar_id), since, at)
        return since

    def advance(self, clock: Clock, at: datetime) -> None:
        """Cross every threshold of a running clock that lies at or before `at`."""
        if clock.stage != ClockStage.RUNNING:
            return
        while clock.warned < len(clock.warn_percents):
            threshold = self.warning_at(clock, clock.warned)
            if threshold > at or threshold >= clock.due_at:
                break
            clock.warned += 1
            percent = clock.warn_percents[clock.warned - 1]
            self.note(clock, threshold, LedgerAction.WARNED,
                      f"{percent} % of the business time used", clock.due_at,
                      level=clock.warned)
        if clock.due_at <= at:
            clock.stage, clock.breached_at = ClockStage.BREACHED, clock.due_at
            self.note(clock, clock.due_at, LedgerAction.BREACHED,
                      "Due time passed while the clock ran", clock.due_at)

    # --- times -------------------------------------------------------------------------------

    def _reschedule(self, clock: Clock) -> None:
        clock.due_at = add_business_time(self.calendar(clock.calendar_id), clock.started_at,
                                         clock.duration + clock.paused_for)

    def warning_at(self, clock: Clock, level: int) -> datetime:
        share = clock.duration * clock.warn_percents[level] / 100
        return add_business_time(self.calendar(clock.calendar_id), clock.started_at,
                                 share + clock.paused_for)

    def next_check_at(self, clock: Clock) -> datetime | None:
        """When the sweep must look at this clock next: its next warning, else its due time."""
        if clock.stage != ClockStage.RUNNING:
            return None
        if clock.warned < len(clock.warn_percents):
            return min(self.warning_at(clock, clock.warned), clock.due_at)
        return clock.due_at

    def note(self, clock: Clock, at: datetime, action: str, reason: str,
             old_due: datetime | None, *, skipped: list | None = None, level: int = 0) -> None:
        skipped = list(skipped or [])
        if clock.due_at is not None and clock.due_at != old_due and action in (
                LedgerAction.ATTACHED, LedgerAction.RESUMED, LedgerAction.REOPENED):
            cal = self.calendar(clock.calendar_id)
            skipped += [{"closed": str(day), "name": name}
                        for day, name in closures_between(cal, clock.started_at, clock.due_at)]
        self.notes.append(Note(clock, at, action, reason, old_due, clock.due_at, skipped, level))

    @staticmethod
    def _pause_label(since: datetime, until: datetime) -> dict:
        return {"paused": [since.isoformat(), until.isoformat()]}


def replay(sit: Situation, facts: list[Fact], machine: Machine,
           clocks: list[Clock] | None = None) -> list[Clock]:
    """The clocks an incident's facts give, from nothing (or from `clocks`)."""
    clocks = [] if clocks is None else clocks
    for fact in facts:
        machine.step(sit, clocks, fact)
    return clocks


def settled(clocks: list[Clock], machine: Machine, at: datetime) -> list[tuple]:
    """The clocks as they stand at `at` (thresholds crossed), for comparing two versions."""
    copies = [replace(c, pauses=[list(p) for p in c.pauses]) for c in clocks]
    scratch = Machine(machine.book, machine.calendar)  # its notes are thrown away
    for clock in copies:
        scratch.advance(clock, at)
    return [clock.key() for clock in copies]
