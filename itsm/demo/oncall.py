"""The demo's on-call: rosters per team, escalation policies, the matrix, and two pages.

Seeded after the incident history (a history written with paging policies in place would have
paged for every past P1), and on a database whose demo predates on-call. Idempotent: nothing
is added once a demo schedule exists.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max

from incidents.choices import Priority, State
from incidents.models import Incident
from itsm import clock
from itsm.demo.reference import Cast
from oncall.choices import ContactKind, MatrixKind, SwapState, TargetKind, TurnKind, Urgency
from oncall.models import (
    ContactMethod,
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    MatrixRule,
    NotificationRule,
    Override,
    Schedule,
    ShiftSwap,
)

MARKER = "Network Operations on call"
# Which teams page, and how their rosters turn.
ROSTERS = {
    "Service Desk": TurnKind.DAILY,
    "Network Operations": TurnKind.WEEKLY,
    "Server & Storage": TurnKind.WEEKLY,
    "Database Administration": TurnKind.WEEKLY,
    "Applications Support": TurnKind.WEEKLY,
    "Infrastructure Engineering": TurnKind.WEEKLY,
}


def _monday_morning(now: datetime, zone: ZoneInfo, weeks_back: int) -> datetime:
    local = now.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday() + 7 * weeks_back)
    return datetime.combine(monday, time(9, 0), tzinfo=zone)


def _layer(schedule, name, level, members, turn, start, windows=()) -> Layer:
    layer = Layer.objects.create(schedule=schedule, name=name, level=level, turn=turn,
                                 starts_at=start)
    LayerMember.objects.bulk_create(LayerMember(layer=layer, user=user, position=i)
                                    for i, user in enumerate(members))
    for weekday, start_minute, end_minute in windows:
        layer.restrictions.create(weekday=weekday, start_minute=start_minute,
                                  end_minute=end_minute)
    return layer


def seed_oncall(cast: Cast, *, pages_at: datetime | None = None) -> bool:
    """Rosters, policies and the matrix for the demo organisation; False if already there.

    The demo's two pages start at `pages_at` (the history's last instant; default now).
    """
    if Schedule.objects.filter(name=MARKER).exists():
        return False
    now = clock.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    start = _monday_morning(now, zone, weeks_back=3)
    for number, user in enumerate(cast.users.values()):
        if not user.phone and user.groups.filter(name__in=["Agent", "Manager"]).exists():
            user.phone = f"+44 20 7946 {100 + number:04d}"
            user.save(update_fields=["phone"])
    schedules = {}
    for team_name, turn in ROSTERS.items():
        team = cast.teams[team_name]
        members = cast.members(team)
        schedule = Schedule.objects.create(
            name=f"{team_name} on call", team=team, time_zone=settings.TIME_ZONE,
            description=f"Who answers {team_name}'s pages.")
        _layer(schedule, "Primary", 1, members, turn, start)
        schedules[team_name] = schedule
    # Network Operations: a business-hours layer on top (the team lead takes the day shift),
    # an override next week and a shift offered for swap.
    network = schedules["Network Operations"]
    lead = cast.users["helen.park"]
    _layer(network, "Business hours", 2, [lead], TurnKind.WEEKLY, start,
           windows=[(day, 9 * 60, 17 * 60) for day in range(5)])
    lina, marco = cast.users["lina.okafor"], cast.users["marco.rossi"]
    next_week = _monday_morning(now, zone, weeks_back=-1)
    Override.objects.create(schedule=network, user=marco, replaces=lina,
                            starts_at=next_week + timedelta(days=2),
                            ends_at=next_week + timedelta(days=3), note="Lina at a conference")
    ShiftSwap.objects.create(schedule=network, requested_by=lina, state=SwapState.OPEN,
                             starts_at=next_week + timedelta(days=5),
                             ends_at=next_week + timedelta(days=6), note="Family weekend")
    # Vendor Support: weekdays only, so its weekends are gaps the roster shows in red.
    vendor = Schedule.objects.create(name="Vendor Support on call",
                                     team=cast.teams["Vendor Support"],
                                     time_zone=settings.TIME_ZONE,
                                     description="Vendor hotline hours: weekdays only.")
    _layer(vendor, "Weekdays", 1, cast.members(cast.teams["Vendor Support"]), TurnKind.DAILY,
           start, windows=[(day, 8 * 60, 18 * 60) for day in range(5)])
    for team_name, schedule in schedules.items():
        team = cast.teams[team_name]
        policy = EscalationPolicy.objects.create(name=f"{team_name} paging", team=team,
                                                 repeat=1)
        EscalationStep.objects.create(policy=policy, position=0, target=TargetKind.SCHEDULE,
                                      schedule=schedule, wait_minutes=5)
        EscalationStep.objects.create(policy=policy, position=1, target=TargetKind.TEAM,
                                      team=team, wait_minutes=10)
        if team.manager:
            step = EscalationStep.objects.create(policy=policy, position=2,
                                                 target=TargetKind.USERS, wait_minutes=15)
            step.users.add(team.manager)
    _seed_matrix(cast)
    _seed_ladder(cast)
    _seed_pages(cast, pages_at or now)
    return True


def _seed_matrix(cast: Cast) -> None:
    head, deputy = cast.users["manager"], cast.users["ravi.shah"]
    MatrixRule.objects.bulk_create([
        MatrixRule(kind=MatrixKind.HIERARCHICAL, priority=Priority.P1, after_minutes=30,
                   at_response_percent=75, role="Team manager", notify_team_manager=True),
        MatrixRule(kind=MatrixKind.HIERARCHICAL, priority=Priority.P1, after_minutes=60,
                   role="Head of IT", person=head, alternate=deputy),
        MatrixRule(kind=MatrixKind.HIERARCHICAL, priority=Priority.P2, after_minutes=120,
                   role="Team manager", notify_team_manager=True),
        MatrixRule(kind=MatrixKind.COMMUNICATION, priority=Priority.P1, after_minutes=15),
        MatrixRule(kind=MatrixKind.COMMUNICATION, priority=Priority.P2, after_minutes=60),
        MatrixRule(kind=MatrixKind.COMMUNICATION, priority=Priority.P3),
    ])


def _seed_ladder(cast: Cast) -> None:
    """The demo agent's ladder: in-app at once, e-mail after 2 minutes for pages."""
    agent = cast.users["agent"]
    in_app = ContactMethod.objects.create(user=agent, kind=ContactKind.IN_APP, label="This desk")
    mail = ContactMethod.objects.create(user=agent, kind=ContactKind.EMAIL,
                                        address="agent@example.com", label="Work e-mail")
    NotificationRule.objects.bulk_create([
        NotificationRule(user=agent, urgency=Urgency.HIGH, delay_minutes=0, method=in_app),
        NotificationRule(user=agent, urgency=Urgency.HIGH, delay_minutes=2, method=mail),
        NotificationRule(user=agent, urgency=Urgency.LOW, delay_minutes=0, method=in_app),
    ])


def _seed_pages(cast: Cast, at: datetime) -> None:
    """One page acknowledged on a worked P1/P2 incident and one running on a new one: the
    running one goes on live, step by step, once the worker and beat run."""
    from oncall.services import page_acknowledge, page_start

    urgent = Incident.objects.filter(priority__lte=Priority.P2, assignment_team__in=[
        cast.teams[name] for name in ROSTERS]).select_related("assignment_team")
    running = urgent.filter(state=State.NEW).order_by("-opened_at").first()
    worked = urgent.filter(state=State.IN_PROGRESS).order_by("-opened_at").first()
    if worked is not None:
        # After the incident's own history, and acknowledged three minutes later at most.
        latest = worked.timeline.aggregate(latest=Max("at"))["latest"]
        started = max(at - timedelta(minutes=20), latest or at - timedelta(minutes=20))
        with clock.frozen_at(started):
            page = page_start(incident=worked, by=None, reason="Paged for the demo")
        if page is not None:
            on_call = page.notices.first()
            with clock.frozen_at(min(started + timedelta(minutes=3), max(at, started))):
                page_acknowledge(page=page, by=on_call.user if on_call else cast.users["agent"])
    if running is not None:
        with clock.frozen_at(at):
            page_start(incident=running, by=None, reason="Paged for the demo: waiting for "
                                                         "an answer")
