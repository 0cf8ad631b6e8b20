"""On-call fixtures: a Berlin team roster and a two-step escalation policy.

`roster`: schedule "Service desk on call" (Europe/Berlin) of `team`, one weekly layer
"Primary" with `agent` then `other_agent`, hand-off Monday 2026-11-30 09:00 local.
`policy`: the team's policy (P1, P2 page): step 1 the schedule's on-call person, wait 5 min;
step 2 `manager` by name, wait 10 min; repeat once.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from oncall.choices import TargetKind, TurnKind
from oncall.models import EscalationPolicy, EscalationStep, Layer, LayerMember, Schedule

BERLIN = ZoneInfo("Europe/Berlin")
HANDOFF = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)  # a Monday


@pytest.fixture
def roster(db, team, agent, other_agent):
    team.members.add(other_agent)
    schedule = Schedule.objects.create(name="Service desk on call", team=team,
                                       time_zone="Europe/Berlin")
    layer = Layer.objects.create(schedule=schedule, name="Primary", level=1,
                                 turn=TurnKind.WEEKLY, starts_at=HANDOFF)
    LayerMember.objects.create(layer=layer, user=agent, position=0)
    LayerMember.objects.create(layer=layer, user=other_agent, position=1)
    return schedule


@pytest.fixture
def policy(db, team, roster, manager):
    policy = EscalationPolicy.objects.create(name="Service desk paging", team=team, repeat=1)
    EscalationStep.objects.create(policy=policy, position=0, target=TargetKind.SCHEDULE,
                                  schedule=roster, wait_minutes=5)
    step = EscalationStep.objects.create(policy=policy, position=1, target=TargetKind.USERS,
                                         wait_minutes=10)
    step.users.add(manager)
    return policy
