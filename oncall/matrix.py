"""The escalation matrix beyond paging, enforced by the beat (`matrix_tick`, every minute).

Hierarchical rules tell a manager or a named role when an open incident of a priority has gone
unresolved for a while, or has used a share of its response target. Communication rules remind
whoever works an incident that a status update is due, at a cadence per priority. Each rule
fires once per incident (a cadence once per interval): `MatrixNotice` rows are the memory, so
the tick is safe to run twice or on two workers.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Q

from incidents import events as incident_events
from incidents.choices import ClockStage, EntryKind, SlaKind, SlaTarget, State
from incidents.models import OPEN, Incident, SlaClock
from incidents.sla.engine import human
from itsm import clock
from itsm.business_time import business_time_between
from itsm.choices import DeliveryChannel
from itsm.events import publish
from itsm.models import User
from itsm.notifications import Message, notifications_queue_many
from oncall import roster
from oncall.choices import MatrixKind, TargetKind
from oncall.models import EscalationPolicy, MatrixNotice, MatrixRule, Schedule
from oncall.selectors import schedules_loaded, spec

CHANNELS = (DeliveryChannel.IN_APP, DeliveryChannel.EMAIL)


def response_share(clock_row: SlaClock, now: datetime) -> float:
    """How much of a running response target has elapsed, in business time (1.0 = due)."""
    elapsed = business_time_between(clock_row.calendar, clock_row.started_at, now) \
        - clock_row.paused_for
    return elapsed / clock_row.duration if clock_row.duration else 1.0


def _claim(rule: MatrixRule, incident: Incident, slot: int, now: datetime) -> bool:
    """Record that the rule fired for this slot; False when it already had."""
    try:
        with transaction.atomic():
            MatrixNotice.objects.create(rule=rule, incident=incident, slot=slot, at=now)
    except IntegrityError:
        return False
    return True


def _recipients(rule: MatrixRule, incident: Incident) -> list:
    people = []
    if rule.notify_team_manager and incident.assignment_team and \
            incident.assignment_team.manager:
        people.append(incident.assignment_team.manager)
    person = rule.person if rule.person and rule.person.is_active else rule.alternate
    if person:
        people.append(person)
    return people


def _hierarchical(rule: MatrixRule, incidents: list[Incident], now: datetime) -> int:
    told = 0
    shares = {}
    if rule.at_response_percent:
        running = SlaClock.objects.filter(
            incident__in=incidents, target=SlaTarget.RESPONSE, stage=ClockStage.RUNNING,
            kind=SlaKind.SLA).select_related("calendar")
        shares = {c.incident_id: response_share(c, now) for c in running}
    for incident in incidents:
        age = now - incident.opened_at
        late = rule.after_minutes is not None and age >= timedelta(minutes=rule.after_minutes)
        risky = rule.at_response_percent and \
            shares.get(incident.pk, 0) * 100 >= rule.at_response_percent
        if not (late or risky) or not _claim(rule, incident, 0, now):
            continue
        why = (f"open for {human(age)}" if late else
               f"{rule.at_response_percent}% of the response target used")
        for person in _recipients(rule, incident):
            publish(incident_events.ManagerNotified(
                incident=incident, at=now, manager=person,
                reason=f"Escalation matrix ({rule.role or 'manager'}): "
                       f"{incident.get_priority_display()} {why}."))
            told += 1
    return told


def _communication(rule: MatrixRule, incidents: list[Incident], now: datetime) -> int:
    if not rule.after_minutes:
        return 0  # "at resolution": the resolution notice is the update
    # On hold, the incident waits for someone else (a caller, a vendor, a change): no cadence.
    incidents = [i for i in incidents if i.state != State.ON_HOLD]
    cadence = timedelta(minutes=rule.after_minutes)
    last = dict(Incident.objects.filter(pk__in=[i.pk for i in incidents]).annotate(
        last=Max("timeline__at", filter=Q(timeline__kind=EntryKind.COMMENT))
    ).values_list("pk", "last"))
    messages = []
    for incident in incidents:
        since = last.get(incident.pk) or incident.opened_at
        if now - since < cadence:
            continue
        slot = int((now - incident.opened_at) / cadence)
        if not _claim(rule, incident, slot, now):
            continue
        people = [incident.assignee] if incident.assignee else \
            list(incident.assignment_team.members.all()) if incident.assignment_team else []
        messages += [Message(f"matrix:{rule.pk}:{incident.pk}:{slot}", people,
                             f"Status update due: {incident.number} {incident.title}",
                             f"{incident.get_priority_display()} incidents get a public update "
                             f"every {rule.after_minutes} min; the last was "
                             f"{human(now - since)} ago.",
                             channel=channel) for channel in CHANNELS]
    notifications_queue_many(messages)
    return len(messages) // len(CHANNELS)


@dataclass(frozen=True)
class MatrixResult:
    told: int
    reminded: int


def matrix_tick() -> MatrixResult:
    """Apply every matrix rule to the open incidents of its priority."""
    now, told, reminded = clock.now(), 0, 0
    for rule in MatrixRule.objects.select_related("person", "alternate"):
        with transaction.atomic():
            incidents = list(Incident.objects.filter(OPEN, priority=rule.priority)
                             .select_related("assignment_team__manager", "assignee")
                             .order_by("opened_at")[:1000])
            if rule.kind == MatrixKind.HIERARCHICAL:
                told += _hierarchical(rule, incidents, now)
            else:
                reminded += _communication(rule, incidents, now)
    return MatrixResult(told, reminded)


# --- the printable sheet ---------------------------------------------------------------------

def _on_call(schedule_id: int | None, at: datetime, loaded: dict) -> tuple:
    """(who is on call now, who takes over next) in a schedule, as user ids."""
    schedule = loaded.get(schedule_id)
    if schedule is None:
        return None, None
    value = spec(schedule)
    now = roster.on_call(value, at)
    later = roster.final_shifts(value, now.end if now else at, at + timedelta(days=14))
    following = next((s for s in later if not now or s.user != now.user), None)
    return now, following


def matrix_sheet(at: datetime) -> dict:
    """The escalation matrix's three dimensions with today's names and numbers."""
    policies = list(EscalationPolicy.objects.filter(active=True)
                    .select_related("team__manager", "team__next_tier")
                    .prefetch_related("steps__users", "steps__team__members", "services")
                    .order_by("team__tier", "team__name", "name"))
    schedule_ids = {step.schedule_id for p in policies for step in p.steps.all()
                    if step.schedule_id}
    loaded = {s.pk: s for s in schedules_loaded(Schedule.objects.filter(pk__in=schedule_ids),
                                                at, at + timedelta(days=14))}
    shifts = {pk: _on_call(pk, at, loaded) for pk in schedule_ids}
    users = User.objects.in_bulk({shift.user for pair in shifts.values() for shift in pair
                                  if shift})
    functional = []
    for policy in policies:
        steps = []
        for step in policy.steps.all():
            row = {"step": step, "people": [], "alternate": None, "schedule": None}
            if step.schedule_id:
                now, following = shifts[step.schedule_id]
                row["schedule"] = loaded.get(step.schedule_id)
                row["people"] = [users[now.user]] if now else []
                row["alternate"] = users[following.user] if following else None
            elif step.target in (TargetKind.TEAM, TargetKind.ROUND_ROBIN) and step.team:
                row["people"] = list(step.team.members.all())
            else:
                row["people"] = list(step.users.all())
            steps.append(row)
        functional.append({"policy": policy, "steps": steps})
    rules = list(MatrixRule.objects.select_related("person", "alternate")
                 .order_by("priority", "after_minutes"))
    return {"at": at, "functional": functional,
            "hierarchical": [r for r in rules if r.kind == MatrixKind.HIERARCHICAL],
            "communication": [r for r in rules if r.kind == MatrixKind.COMMUNICATION]}
