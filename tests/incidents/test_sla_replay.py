"""Property: the stored clocks, kept event by event, equal the replay of the timeline alone.

Random incidents live through random sequences of holds, priority and service changes,
hand-offs, resolutions, reopenings, cancellations, policy edits and sweeps at random instants
(across a weekend and a DST change, on 24×7 and office-hours calendars, with OLAs).
"""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents import services
from incidents.choices import SlaKind
from incidents.models import Incident, SlaClock, SlaPolicy
from incidents.sla.policies import policy_save
from incidents.sla.services import clocks_sweep, clocks_verify, policy_reapply
from itsm import clock
from itsm.calendars import ALWAYS_OPEN, OFFICE_HOURS
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import BusinessCalendar
from tests.factories import ServiceFactory

START = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)  # Friday before Europe's DST change

ACTIONS = ["acknowledge", "hold", "resume", "resolve", "reopen", "cancel", "close", "priority",
           "service", "escalate", "take", "hand_back", "edit_policy", "sweep"]


@pytest.fixture
def world(db, team, l2_team, agent, manager):
    l2_team.members.add(manager)
    team.members.add(manager)
    always = BusinessCalendar.objects.get(name=ALWAYS_OPEN)
    office = BusinessCalendar.objects.get(name=OFFICE_HOURS)
    office.time_zone = "Europe/London"
    office.save()
    for target_team, calendar in ((team, always), (l2_team, office)):
        policy_save(SlaPolicy(name=f"{target_team} OLA", kind=SlaKind.OLA, team=target_team,
                              response_minutes=20, response_calendar=calendar,
                              resolution_minutes=180, resolution_calendar=calendar),
                    at=START - timedelta(days=1))
    return {"team": team, "l2": l2_team, "by": manager,
            "services": [None, ServiceFactory(name="Payroll"), ServiceFactory(name="Mail")]}


def act(world, incident, action, choice):
    by = world["by"]
    incident = Incident.objects.get(pk=incident.pk)
    level = ["high", "medium", "low"][choice % 3]
    steps = {
        "acknowledge": lambda: services.incident_acknowledge(incident=incident, by=by),
        "hold": lambda: services.incident_hold(incident=incident, by=by,
                                               reason="awaiting_vendor"),
        "resume": lambda: services.incident_resume(incident=incident, by=by),
        "resolve": lambda: services.incident_resolve(incident=incident, by=by, code="fixed",
                                                     notes="Fixed"),
        "reopen": lambda: services.incident_reopen(incident=incident, by=by, reason="Back"),
        "cancel": lambda: services.incident_cancel(incident=incident, by=by, reason="Dupe"),
        "close": lambda: services.incident_close(incident=incident, by=by),
        "priority": lambda: services.incident_update(incident=incident, by=by, impact=level,
                                                     urgency=level),
        "service": lambda: services.incident_update(
            incident=incident, by=by, service=world["services"][choice % 3]),
        "escalate": lambda: services.incident_escalate(incident=incident, by=by,
                                                       reason="Needs L2"),
        "take": lambda: services.incident_assign_to_me(incident=incident, by=by),
        "hand_back": lambda: services.incident_assign(incident=incident, by=by,
                                                      team=world["team"]),
        "edit_policy": lambda: _edit_policy(choice),
        "sweep": clocks_sweep,
    }
    with contextlib.suppress(Conflict, Forbidden, InvalidInput):  # not allowed now: go on
        steps[action]()


def _edit_policy(choice):
    policy = SlaPolicy.objects.get(name=f"P{choice % 4 + 1} default")
    policy.resolution_minutes += 30
    policy_save(policy)
    if choice % 2:
        policy_reapply(policy=policy)


steps = st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 11),
                           st.integers(0, 16 * 60)), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=steps, offset=st.integers(0, 4 * 24 * 60), impact=st.sampled_from(
    ["high", "medium", "low"]))
def test_stored_clocks_equal_the_replay_of_the_timeline(world, steps, offset, impact):
    # Each example starts after the last one ended: time never runs backwards for the desk.
    begin = max(START, world.get("ended", START)) + timedelta(minutes=offset)
    with time_machine.travel(begin, tick=False) as moment:
        incident = services.incident_create(by=world["by"], title="Random life",
                                            impact=impact, urgency=impact,
                                            assignment_team=world["team"])
        for action, choice, wait in steps:
            # At least a second apart: a policy edited in the very microsecond of an event is
            # ambiguous (the version applies to events from its valid_from on).
            moment.shift(timedelta(minutes=wait, seconds=1))
            act(world, incident, action, choice)
        moment.shift(timedelta(hours=1))
        everything = Incident.objects.filter(pk=incident.pk)
        assert clocks_verify(incidents=everything) == []
        world["ended"] = clock.now()
    assert SlaClock.objects.filter(incident=incident).exists()
