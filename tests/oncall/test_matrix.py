"""The escalation matrix: managers told once when a rule's time comes, status updates reminded
once per interval, and the printable sheet with today's names."""

from datetime import datetime, timedelta

import pytest
import time_machine

from incidents import services as incident_services
from incidents.choices import EntryKind, Level
from itsm.models import Notification
from oncall.choices import MatrixKind
from oncall.matrix import matrix_sheet, matrix_tick
from oncall.models import MatrixRule
from tests.factories import make_incident
from tests.oncall.conftest import BERLIN

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


@pytest.fixture
def p1(team, agent, requester):
    with time_machine.travel(TUESDAY, tick=False):
        return make_incident(by=agent, caller=requester, assignment_team=team,
                             impact=Level.HIGH, urgency=Level.HIGH, state="in_progress")


def test_a_p1_open_too_long_tells_the_manager_once(p1, manager, other_agent):
    MatrixRule.objects.create(kind=MatrixKind.HIERARCHICAL, priority=1, after_minutes=30,
                              notify_team_manager=True, role="Team manager")
    MatrixRule.objects.create(kind=MatrixKind.HIERARCHICAL, priority=1, after_minutes=60,
                              role="Head of IT", person=other_agent)
    with time_machine.travel(TUESDAY + timedelta(minutes=29), tick=False):
        assert matrix_tick().told == 0
    with time_machine.travel(TUESDAY + timedelta(minutes=31), tick=False):
        assert matrix_tick().told == 1
        assert matrix_tick().told == 0  # a second run (or a second worker) adds nothing
    assert p1.timeline.filter(kind=EntryKind.NOTIFICATION).count() == 1
    assert Notification.objects.filter(recipient=manager, subject__contains="Needs your "
                                       "attention").count() == 1
    with time_machine.travel(TUESDAY + timedelta(minutes=61), tick=False):
        assert matrix_tick().told == 1
    assert Notification.objects.filter(recipient=other_agent).exists()


def test_an_inactive_person_is_replaced_by_the_alternate(p1, manager, other_agent):
    other_agent.is_active = False
    other_agent.save()
    MatrixRule.objects.create(kind=MatrixKind.HIERARCHICAL, priority=1, after_minutes=10,
                              person=other_agent, alternate=manager)
    with time_machine.travel(TUESDAY + timedelta(minutes=11), tick=False):
        matrix_tick()
    assert Notification.objects.filter(recipient=manager).exists()
    assert not Notification.objects.filter(recipient=other_agent).exists()


def test_a_share_of_the_response_target_tells_the_manager(team, agent, requester, manager):
    MatrixRule.objects.create(kind=MatrixKind.HIERARCHICAL, priority=1, at_response_percent=75,
                              notify_team_manager=True)
    with time_machine.travel(TUESDAY, tick=False):
        make_incident(by=agent, caller=requester, assignment_team=team, impact=Level.HIGH,
                      urgency=Level.HIGH)  # P1: 15 min response on 24×7
    with time_machine.travel(TUESDAY + timedelta(minutes=11), tick=False):
        assert matrix_tick().told == 0
    with time_machine.travel(TUESDAY + timedelta(minutes=12), tick=False):
        assert matrix_tick().told == 1


def test_status_updates_are_reminded_once_per_interval(p1, agent):
    MatrixRule.objects.create(kind=MatrixKind.COMMUNICATION, priority=1, after_minutes=15)
    with time_machine.travel(TUESDAY + timedelta(minutes=16), tick=False):
        assert matrix_tick().reminded == 1
        assert matrix_tick().reminded == 0
    with time_machine.travel(TUESDAY + timedelta(minutes=20), tick=False):
        incident_services.incident_comment(incident=p1, by=agent, body="Vendor engaged.")
    with time_machine.travel(TUESDAY + timedelta(minutes=31), tick=False):
        assert matrix_tick().reminded == 0  # the update 11 minutes ago counts
    with time_machine.travel(TUESDAY + timedelta(minutes=36), tick=False):
        assert matrix_tick().reminded == 1
    reminders = Notification.objects.filter(recipient=agent, subject__startswith="Status update")
    assert reminders.count() == 4  # two reminders, in-app and e-mail each


def test_an_incident_on_hold_gets_no_status_reminders(p1, agent):
    MatrixRule.objects.create(kind=MatrixKind.COMMUNICATION, priority=1, after_minutes=15)
    with time_machine.travel(TUESDAY + timedelta(minutes=1), tick=False):
        incident_services.incident_hold(incident=p1, by=agent, reason="awaiting_change")
    with time_machine.travel(TUESDAY + timedelta(minutes=40), tick=False):
        assert matrix_tick().reminded == 0


def test_the_sheet_resolves_names_from_todays_roster(policy, agent, other_agent):
    with time_machine.travel(TUESDAY, tick=False):
        sheet = matrix_sheet(TUESDAY)
    first = sheet["functional"][0]["steps"][0]
    assert first["people"] == [agent] and first["alternate"] == other_agent
