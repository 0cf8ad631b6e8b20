"""What a page does, step by step: shared by live paging (`oncall.services`) and the dry run.

A page runs the policy's snapshot (`snapshot`), never the live rows. Each step resolves its
targets at the instant it fires (`Directory.targets`: the on-call person comes from the roster
at that instant), and each person is reached through their ladder for the page's urgency
(`Directory.ladder`). `plan` walks the same methods over future instants: what the dry run
shows is what live paging will do, as long as nobody acknowledges and the roster does not
change.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.choices import Priority
from itsm.choices import DeliveryChannel
from itsm.models import Service, Team, User
from oncall import roster
from oncall.choices import ContactKind, TargetKind, Urgency
from oncall.models import ContactMethod, EscalationPolicy, NotificationRule
from oncall.selectors import roster_specs

CHANNEL_OF = {ContactKind.IN_APP: DeliveryChannel.IN_APP, ContactKind.EMAIL: DeliveryChannel.EMAIL,
              ContactKind.APPRISE: DeliveryChannel.APPRISE}


# --- which policy ----------------------------------------------------------------------------

def policy_for(team: Team | None, service: Service | None) -> EscalationPolicy | None:
    """The team's active policy for this service: one naming it, else one for all services."""
    if team is None:
        return None
    policies = EscalationPolicy.objects.filter(team=team, active=True)
    if service is not None:
        named = policies.filter(services=service).order_by("pk").first()
        if named:
            return named
    return policies.filter(services=None).order_by("pk").first()


def team_to_page(team: Team | None, service: Service | None) -> Team | None:
    """Who answers an incident's page: its team; without one, the service's owner team; else
    the first-tier team that has a policy (the service desk), so no P1 pages nobody."""
    if team is not None:
        return team
    if service is not None and service.owner_team_id:
        return service.owner_team
    return (Team.objects.filter(active=True, escalation_policies__active=True)
            .order_by("tier", "name").first())


def pages_for(policy: EscalationPolicy | None, priority: int) -> bool:
    return policy is not None and priority in policy.priorities


def urgency_for(policy: EscalationPolicy | None, priority: int) -> str:
    return Urgency.HIGH if pages_for(policy, priority) else Urgency.LOW


def snapshot(policy: EscalationPolicy) -> dict:
    """The policy as plain data, frozen into a page when it starts."""
    steps = policy.steps.prefetch_related("users").order_by("position", "id")
    team = policy.team
    return {
        "policy": policy.pk, "name": policy.name, "repeat": policy.repeat,
        "team": team.pk, "manager": team.manager_id,
        "steps": [{"target": step.target, "users": [u.pk for u in step.users.all()],
                   "schedule": step.schedule_id, "team": step.team_id,
                   "wait_minutes": step.wait_minutes} for step in steps],
    }


# --- who, and how ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    user: int
    why: str


@dataclass(frozen=True)
class Rung:
    """One message of a person's ladder: through `channel` to `address`, `delay` after."""

    delay: timedelta
    channel: str
    address: str | None  # None: the channel's own address of the person (their e-mail)
    method: int | None  # the contact method (None: the default ladder)
    label: str


def rung_of(method: ContactMethod, delay: timedelta = timedelta(0)) -> Rung:
    channel = CHANNEL_OF[method.kind]
    label = DeliveryChannel(channel).label
    return Rung(delay, channel, method.address if method.kind != ContactKind.IN_APP else None,
                method.pk, f"{label} · {method.label}" if method.label else label)


class Directory:
    """Finds the people a step notifies and how to reach them, reading each schedule, team and
    ladder once per run (a tick fires hundreds of steps, a dry run dozens)."""

    def __init__(self):
        self._schedules: dict[int, roster.Schedule | None] = {}
        self._members: dict[int, list[int]] = {}
        self._ladders: dict[tuple[int, str], list[Rung]] = {}
        self._users: dict[int, User] = {}

    def user(self, pk: int) -> User:
        if pk not in self._users:
            self._users[pk] = User.objects.get(pk=pk)
        return self._users[pk]

    def preload_people(self, ids, urgency: str) -> None:
        """Read these people and their ladders for `urgency` in two queries."""
        wanted = set(ids) - self._users.keys()
        self._users.update(User.objects.in_bulk(wanted))
        missing = {pk for pk in ids if (pk, urgency) not in self._ladders}
        rules: dict[int, list[Rung]] = {pk: [] for pk in missing}
        for rule in (NotificationRule.objects.filter(user__in=missing, urgency=urgency)
                     .select_related("method").order_by("delay_minutes", "id")):
            rules[rule.user_id].append(rung_of(rule.method,
                                               timedelta(minutes=rule.delay_minutes)))
        for pk, rungs in rules.items():
            self._ladders[(pk, urgency)] = rungs or self._default_ladder(pk)

    def _default_ladder(self, user_id: int) -> list[Rung]:
        rungs = [Rung(timedelta(0), DeliveryChannel.IN_APP, None, None, "In-app")]
        if self.user(user_id).email:
            rungs.append(Rung(timedelta(0), DeliveryChannel.EMAIL, None, None, "E-mail"))
        return rungs

    def preload(self, steps: list[dict], at: datetime) -> None:
        """Read every schedule these steps name in one go (a tick's batch)."""
        wanted = {s["schedule"] for s in steps if s["schedule"]} - self._schedules.keys()
        if wanted:
            found = roster_specs(wanted, at, at)
            self._schedules.update({pk: found.get(pk) for pk in wanted})

    def _schedule(self, pk: int, at: datetime) -> roster.Schedule | None:
        self.preload([{"schedule": pk}], at)
        return self._schedules[pk]

    def _team_members(self, pk: int | None) -> list[int]:
        if pk not in self._members:
            self._members[pk] = list(
                User.objects.filter(teams=pk, is_active=True).order_by("pk")
                .values_list("pk", flat=True)) if pk else []
        return self._members[pk]

    def targets(self, step: dict, at: datetime, turn: int) -> tuple[list[Target], str]:
        """The people a step notifies if it fires at `at`, and a note when it finds nobody.

        `turn` picks the member for round-robin (the page's number plus its repetition, so
        pages take turns and a repeat moves on to the next person).
        """
        kind = step["target"]
        if kind == TargetKind.USERS:
            targets = [Target(pk, "named in the step") for pk in step["users"]]
        elif kind == TargetKind.SCHEDULE:
            schedule = self._schedule(step["schedule"], at)
            if schedule is None:
                return [], "its schedule was deleted"
            shift = roster.on_call(schedule, at)
            if shift is None:
                return [], f"nobody is on call in {schedule.name}"
            targets = [Target(shift.user, f"on call in {schedule.name}: "
                                          f"{self._why(schedule, shift)}")]
        elif kind == TargetKind.TEAM:
            targets = [Target(pk, "member of the team")
                       for pk in self._team_members(step["team"])]
        else:
            members = self._team_members(step["team"])
            targets = [Target(members[turn % len(members)],
                              f"round-robin: member {turn % len(members) + 1} of "
                              f"{len(members)}")] if members else []
        return targets, "" if targets else "the step names nobody"

    def _why(self, schedule: roster.Schedule, shift: roster.Shift) -> str:
        """The roster's reason with names (it knows only ids): whose turn, or whose override."""
        override = next((o for o in schedule.overrides if o.id == shift.override), None)
        if override is None:
            return shift.why
        text = "override" + (f" ({override.note})" if override.note else "")
        return text + (f", covering for {self.user(override.replaces)}" if override.replaces
                       else "")

    def ladder(self, user_id: int, urgency: str) -> list[Rung]:
        """How a person is reached for a page of this urgency: their rules, else in-app and
        e-mail at once."""
        if (user_id, urgency) not in self._ladders:
            self.preload_people([user_id], urgency)
        return self._ladders[(user_id, urgency)]


# --- the dry run -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    minute: int  # after the page starts
    at: datetime
    step: int  # 0-based
    repetition: int
    user: User | None
    channel: str
    why: str


def plan(frozen: dict, start: datetime, turn: int, urgency: str) -> list[Planned]:
    """Every message the page would send from `start` if nobody acknowledged it."""
    rows, at, directory = [], start, Directory()
    for repetition in range(frozen["repeat"] + 1):
        for index, step in enumerate(frozen["steps"]):
            targets, note = directory.targets(step, at, turn + repetition)
            directory.preload_people([t.user for t in targets], urgency)
            minute = int((at - start).total_seconds() // 60)
            if not targets:
                rows.append(Planned(minute, at, index, repetition, None, "", note))
            for target in targets:
                rows += [Planned(minute + int(rung.delay.total_seconds() // 60),
                                 at + rung.delay, index, repetition,
                                 directory.user(target.user), rung.label, target.why)
                         for rung in directory.ladder(target.user, urgency)]
            at += timedelta(minutes=step["wait_minutes"])
    manager = frozen.get("manager")
    rows.append(Planned(int((at - start).total_seconds() // 60), at, len(frozen["steps"]),
                        frozen["repeat"], User.objects.filter(pk=manager).first(),
                        "In-app and e-mail",
                        "nobody acknowledged: the team manager is told" if manager else
                        "nobody acknowledged, and the team has no manager to tell"))
    return sorted(rows, key=lambda row: (row.at, row.step))


def dry_run(*, policy: EscalationPolicy, priority: int, at: datetime) -> dict:
    """The dry run page's table for `policy` if an incident of `priority` paged at `at`."""
    from oncall.models import Page

    urgency = urgency_for(policy, priority)
    turn = (Page.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    frozen = snapshot(policy)
    return {"policy": policy, "priority": Priority(priority), "at": at, "urgency": urgency,
            "pages": pages_for(policy, priority), "steps": len(frozen["steps"]),
            "rows": plan(frozen, at, turn, urgency)}
