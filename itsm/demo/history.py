"""A few hundred demo incidents, each worked through `incidents.services` like a real one.

Each story plans its steps, spreads them over the last 30 days, and runs every step with the
clock frozen at the step's planned instant (`itsm.clock.frozen_at`): the services stamp the
past time themselves, so the timelines are exactly what the services would have written.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from random import Random

from django.conf import settings

from incidents import actions, services
from incidents.choices import Channel, HoldReason, Level, ResolutionCode, State
from incidents.models import Incident
from itsm import clock
from itsm.demo import catalog
from itsm.demo.catalog import fill
from itsm.demo.reference import Cast
from itsm.models import Team, User

HORIZON = timedelta(days=30)
# Final states of the demo incidents, with their weights.
FINAL_STATES = {State.NEW: 12, State.IN_PROGRESS: 18, State.ON_HOLD: 7, State.RESOLVED: 13,
                State.CLOSED: 43, State.CANCELED: 7}
# Minutes until an agent picks an incident up, by priority.
ACK_MINUTES = {1: (2, 10), 2: (5, 30), 3: (15, 240), 4: (30, 600)}

# How far back the last step of an incident lies, in hours, by its final state. Resolved ones
# stay inside the auto-close window so the sweep doesn't close them the moment the demo starts.
LAST_STEP_HOURS = {State.NEW: (0.1, 48), State.IN_PROGRESS: (0.2, 96),
                   State.ON_HOLD: (1, 240), State.RESOLVED: (1, 60),
                   State.CLOSED: (1, 29 * 24), State.CANCELED: (1, 29 * 24)}


def seed_history(*, cast: Cast, count: int, rng: Random, now: datetime | None = None) -> int:
    """Create `count` incidents with believable histories; every state appears when count ≥ 6."""
    now = now or clock.now()
    states, weights = list(FINAL_STATES), list(FINAL_STATES.values())
    for i in range(count):
        final = states[i] if i < len(states) else rng.choices(states, weights)[0]
        Story(cast=cast, rng=rng, final=final, now=now).tell()
    return count


class Story:
    """One incident from logging to its final state: a plan of steps, then the telling."""

    def __init__(self, *, cast: Cast, rng: Random, final: State, now: datetime):
        self.cast, self.rng, self.final, self.now = cast, rng, final, now
        self.scenario = rng.choices(catalog.SCENARIOS, [s.weight for s in catalog.SCENARIOS])[0]
        self.incident: Incident | None = None
        self.steps: list[tuple[float, Callable]] = []  # (minutes after the previous step, step)

    # --- planning ------------------------------------------------------------------------

    def step(self, minutes: tuple[float, float], action, *args) -> None:
        self.steps.append((self.rng.uniform(*minutes), lambda: action(*args)))

    def tell(self) -> Incident:
        fields = self.intake()
        priority = services.priority_for(impact=fields["impact"], urgency=fields["urgency"],
                                         service=fields.get("service"))
        self.step((0, 0), self.create, fields)
        self.plan(priority)
        for at, action in zip(self.schedule(), (a for _, a in self.steps), strict=True):
            with clock.frozen_at(at):
                action()
        return self.incident

    def plan(self, priority: int) -> None:
        rng, final = self.rng, self.final
        if final == State.NEW:
            if rng.random() < 0.3:
                self.step((30, 600), self.comment, "caller")
            return
        if final == State.CANCELED and rng.random() < 0.5:
            self.step((20, 300), self.cancel)
            return
        self.step(ACK_MINUTES[priority], self.transition, "acknowledge")
        if rng.random() < 0.5:
            self.step((5, 60), self.comment, "agent")
        if rng.random() < 0.7:
            self.step((10, 90), self.hand_over)
            self.step((5, 120), self.take)
        if rng.random() < 0.3:
            self.step((30, 600), self.comment, "caller")
        for _ in range(rng.randint(1, 2)):
            self.step((20, 300), self.comment, "note")
        if priority <= 2 and rng.random() < 0.5:
            self.step((5, 30), self.notify_manager)
        if rng.random() < 0.12:
            self.step((60, 600), self.escalate)
            self.step((10, 180), self.take)
            self.step((60, 900), self.comment, "note")
        self.plan_work(priority)

    def plan_work(self, priority: int) -> None:
        rng, final = self.rng, self.final
        if final == State.CANCELED:
            self.step((30, 600), self.cancel)
            return
        if final == State.ON_HOLD or rng.random() < 0.2:
            self.step((30, 300), self.hold)
            if final == State.ON_HOLD:
                return
            self.step((120, 2880), self.transition, "resume")
        if final == State.IN_PROGRESS:
            return
        self.step((10, 120) if priority == 1 else (30, 1440), self.resolve)
        if rng.random() < 0.08:
            self.step((60, 1440), self.transition, "reopen", "caller")
            self.step((30, 300), self.comment, "note")
            self.step((60, 1440), self.resolve)
        if final == State.CLOSED:
            if rng.random() < 0.4:
                self.step((30, 600), self.transition, "close", "caller")
            else:
                days = settings.INCIDENT_AUTO_CLOSE_DAYS * 24 * 60
                self.step((days + 5, days + 60), self.auto_close)

    def schedule(self) -> list[datetime]:
        """The steps' moments: the last one some hours ago, the first within the horizon."""
        offsets, total = [], 0.0
        for minutes, _ in self.steps:
            total += minutes
            offsets.append(total)
        last = self.now - timedelta(hours=self.rng.uniform(*LAST_STEP_HOURS[self.final]))
        first = max(last - timedelta(minutes=total),
                    self.now - HORIZON + timedelta(hours=self.rng.uniform(0, 12)))
        span = min(timedelta(minutes=total), self.now - timedelta(minutes=5) - first)
        scale = span / timedelta(minutes=total) if total else 0
        return [first + timedelta(minutes=offset * scale) for offset in offsets]

    # --- the people ----------------------------------------------------------------------

    def members(self, team: Team | None) -> list[User]:
        return self.cast.members(team or self.cast.teams[catalog.MARKER_TEAM])

    def worker(self) -> User:
        """Who acts now: the assignee, else someone of the team (often the demo `agent`)."""
        if self.incident.assignee_id:
            return self.incident.assignee
        members = self.members(self.incident.assignment_team)
        demo_agent = self.cast.users["agent"]
        if demo_agent in members and self.rng.random() < 0.4:
            return demo_agent
        return self.rng.choice(members)

    def pick_caller(self) -> User:
        if self.rng.random() < 0.2:
            return self.cast.users["requester"]
        return self.rng.choice(self.cast.requesters)

    # --- the steps -----------------------------------------------------------------------

    def intake(self) -> dict:
        rng, scenario = self.rng, self.scenario
        caller = self.pick_caller()
        fields = {
            "caller": caller,
            "service": self.cast.services[scenario.service],
            "category": self.cast.categories[(scenario.category, None)],
            "subcategory": self.cast.categories[(scenario.category, scenario.subcategory)],
            "impact": rng.choices(Level.values, catalog.IMPACT_WEIGHTS.get(
                scenario.category, catalog.DEFAULT_IMPACT_WEIGHTS))[0],
            "urgency": rng.choices(Level.values, catalog.URGENCY_WEIGHTS)[0],
        }
        detail = " ".join(fill(d, rng) for d in rng.sample(catalog.DETAILS, 2))
        if scenario.alerts and rng.random() < 0.35:
            by = self.cast.monitoring
            fields.update(caller=by, channel=Channel.MONITORING, impact=Level.MEDIUM,
                          urgency=rng.choice([Level.HIGH, Level.MEDIUM]),
                          title=fill(rng.choice(scenario.alerts), rng),
                          description=f"Trigger fired at {fill('{time}', rng)} UTC. "
                                      "Auto-created from the monitoring alert.")
        else:
            channel = rng.choices([Channel.WEB, Channel.EMAIL, Channel.PHONE], [50, 20, 30])[0]
            by = caller if channel == Channel.WEB else self.rng.choice(
                self.members(self.cast.teams[catalog.MARKER_TEAM]))
            lead = {Channel.WEB: "", Channel.EMAIL: "By e-mail: ",
                    Channel.PHONE: f"{caller.first_name} called the desk. "}[channel]
            fields.update(channel=channel, title=fill(rng.choice(scenario.titles), rng),
                          description=f"{lead}{detail}\n\n{caller.get_full_name()}, "
                                      f"{self._department(caller)}")
            if channel == Channel.WEB and rng.random() < 0.1:
                # Requesters sometimes skip the classification: nothing routes it.
                fields.update(service=None, category=None, subcategory=None)
        fields["by"] = by
        return fields

    def _department(self, user: User) -> str:
        spec = next((s for s in catalog.USERS if s.username == user.username), None)
        return spec.department if spec and spec.department else "Operations"

    def create(self, fields: dict) -> None:
        self.incident = services.incident_create(**fields)

    def caller(self) -> User | None:
        """The caller, when a person (alerts have the monitoring account as caller)."""
        caller = self.incident.caller
        return None if caller == self.cast.monitoring else caller

    def transition(self, name: str, actor: str = "worker") -> None:
        by = (actor == "caller" and self.caller()) or self.worker()
        params = {"reason": self.rng.choice(catalog.CALLER_COMMENTS)} if name == "reopen" else {}
        self.incident = actions.TRANSITIONS[name](incident=self.incident, by=by, **params)

    def comment(self, who: str) -> None:
        if who == "caller" and self.caller():
            by, body = self.caller(), self.rng.choice(catalog.CALLER_COMMENTS)
        elif who == "agent":
            by, body = self.worker(), self.rng.choice(catalog.AGENT_COMMENTS)
        else:
            by, body = self.worker(), fill(self.rng.choice(catalog.WORK_NOTES), self.rng)
        services.incident_comment(incident=self.incident, by=by, body=body,
                                  internal=who == "note")

    def hand_over(self) -> None:
        """L1 passes the incident to the specialist team when it isn't already there."""
        specialist = self.cast.teams[self.scenario.specialist]
        if self.incident.assignment_team_id in (None, specialist.pk):
            return
        by = self.worker()
        services.incident_comment(incident=self.incident, by=by, internal=True,
                                  body=f"Triage done; passing to {specialist}.")
        self.incident = services.incident_assign(incident=self.incident, by=by, team=specialist)

    def take(self) -> None:
        if self.incident.assignee_id is None:
            self.incident = services.incident_assign_to_me(incident=self.incident,
                                                           by=self.worker())

    def escalate(self) -> None:
        team = self.incident.assignment_team
        if team is None or team.next_tier_id is None:
            return
        self.incident = services.incident_escalate(
            incident=self.incident, by=self.worker(), reason=self.rng.choice(catalog.ESCALATIONS))

    def notify_manager(self) -> None:
        services.incident_notify_manager(
            incident=self.incident, by=self.worker(),
            reason=f"{self.incident.get_priority_display()} on "
                   f"{self.incident.service or 'an unclassified service'}; customers affected.")

    def hold(self) -> None:
        reason = self.rng.choice(HoldReason.values)
        by = self.worker()
        services.incident_comment(incident=self.incident, by=by, internal=True,
                                  body=catalog.HOLD_REASONS[reason])
        self.incident = services.incident_hold(incident=self.incident, by=by, reason=reason)

    def resolve(self) -> None:
        code = self.rng.choices(ResolutionCode.values, [60, 15, 5, 10, 7, 3])[0]
        self.incident = services.incident_resolve(
            incident=self.incident, by=self.worker(), code=code,
            notes=fill(self.rng.choice(self.scenario.fixes), self.rng))

    def cancel(self) -> None:
        reason = self.rng.choice(catalog.CANCEL_REASONS)
        self.incident = services.incident_cancel(incident=self.incident, by=self.worker(),
                                                 reason=reason)

    def auto_close(self) -> None:
        self.incident = services.incident_close(
            incident=self.incident, by=None,
            note=f"Closed automatically {settings.INCIDENT_AUTO_CLOSE_DAYS} days after resolution.")
