"""SLA and OLA clocks: attached, paused, re-matched and stopped by the incident's events."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from incidents import services
from incidents.choices import ClockStage, EntryKind, SlaKind
from incidents.models import SlaClock, SlaLedgerEntry, SlaPolicy
from incidents.sla.policies import policy_save
from incidents.sla.services import clocks_sweep, clocks_verify, policy_reapply
from itsm.calendars import ALWAYS_OPEN, OFFICE_HOURS
from itsm.models import BusinessCalendar, Holiday, Notification
from tests.factories import AgentFactory, TeamFactory, make_incident

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; tests run with TIME_ZONE=UTC


@pytest.fixture
def at():
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        yield traveller


def clock_of(incident, target, kind=SlaKind.SLA, **filters):
    """The incident's newest clock for a target."""
    return (SlaClock.objects.filter(incident=incident, kind=kind, target=target, **filters)
            .exclude(stage=ClockStage.CANCELED).order_by("-id").first())


def p1(by, **fields):
    return make_incident(by=by, impact="high", urgency="high", **fields)


def test_a_p1_gets_15_minutes_to_respond_and_4_hours_to_resolve(at, agent, team):
    incident = p1(agent, assignment_team=team)
    response, resolution = clock_of(incident, "response"), clock_of(incident, "resolution")
    assert response.due_at == MONDAY_9 + timedelta(minutes=15)
    assert resolution.due_at == MONDAY_9 + timedelta(hours=4)
    assert response.calendar.name == resolution.calendar.name == ALWAYS_OPEN
    assert response.policy_version.terms["name"] == "P1 default"
    incident.refresh_from_db()
    assert incident.sla_due_at == MONDAY_9 + timedelta(minutes=15)
    # The first warning (75 % of 15 min) is the sweep's next look.
    assert response.next_check_at == MONDAY_9 + timedelta(minutes=11, seconds=15)


def test_a_p3_counts_business_hours_only(agent, team):
    # Friday 16:00: 4 business hours are 1.5 h on Friday (until 17:30) and 2.5 h on Monday,
    # which starts at 08:30 and breaks for lunch 12:30–13:30.
    with time_machine.travel(datetime(2026, 3, 6, 16, 0, tzinfo=UTC), tick=False):
        incident = make_incident(by=agent, assignment_team=team)
    response = clock_of(incident, "response")
    assert response.calendar.name == OFFICE_HOURS
    assert response.due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
    # 75 % of 4 h = 3 h in: 1.5 h Friday + 1.5 h Monday from 08:30 = 10:00 on Monday, in hours.
    assert response.next_check_at == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


def test_acknowledging_meets_the_response_target(at, agent, team):
    incident = p1(agent, assignment_team=team)
    at.shift(timedelta(minutes=5))
    services.incident_acknowledge(incident=incident, by=agent)
    response = SlaClock.objects.get(incident=incident, kind=SlaKind.SLA, target="response")
    assert response.stage == ClockStage.MET
    assert response.stopped_at == MONDAY_9 + timedelta(minutes=5)
    assert response.next_check_at is None
    assert [e.action for e in response.ledger.all()] == ["attached", "met"]


def test_on_hold_pauses_and_resuming_moves_the_due_time_by_the_paused_time(at, agent, team):
    incident = p1(agent, assignment_team=team, state="in_progress")
    at.shift(timedelta(minutes=30))
    incident = services.incident_hold(incident=incident, by=agent, reason="awaiting_vendor")
    resolution = clock_of(incident, "resolution")
    assert resolution.stage == ClockStage.PAUSED and resolution.due_at is None
    incident.refresh_from_db()
    assert incident.sla_due_at is None  # nothing is running down
    at.shift(timedelta(hours=2))
    services.incident_resume(incident=incident, by=agent)
    resolution.refresh_from_db()
    assert resolution.stage == ClockStage.RUNNING
    assert resolution.paused_for == timedelta(hours=2)
    assert resolution.due_at == MONDAY_9 + timedelta(hours=6)
    resumed = resolution.ledger.get(action="resumed")
    assert resumed.new_due_at == MONDAY_9 + timedelta(hours=6)
    assert "2 h" in resumed.reason


def test_a_priority_change_re_matches_from_the_original_open_time(at, agent, team):
    incident = make_incident(by=agent, assignment_team=team)  # P3 on office hours
    at.shift(timedelta(minutes=20))
    services.incident_update(incident=incident, by=agent, version=incident.version,
                             impact="high", urgency="high")
    old = SlaClock.objects.filter(incident=incident, stage=ClockStage.CANCELED)
    assert old.count() == 2
    assert all(e.action == "replaced" for c in old for e in c.ledger.filter(action="replaced"))
    response = clock_of(incident, "response")
    assert response.policy_version.terms["priority"] == 1
    assert response.started_at == MONDAY_9
    assert response.due_at == MONDAY_9 + timedelta(minutes=15)  # not 20 minutes from now


def test_a_late_priority_raise_breaches_at_once_and_says_so(at, agent, team, manager):
    incident = make_incident(by=agent, assignment_team=team)
    at.shift(timedelta(minutes=40))
    services.incident_update(incident=incident, by=agent, version=incident.version,
                             impact="high", urgency="high")
    response = clock_of(incident, "response")
    assert response.stage == ClockStage.BREACHED
    assert response.breached_at == MONDAY_9 + timedelta(minutes=15)
    incident.refresh_from_db()
    assert incident.sla_breached_at == MONDAY_9 + timedelta(minutes=15)
    assert Notification.objects.filter(recipient=manager, subject__contains="breached").exists()


def test_resolving_meets_and_reopening_resumes_without_the_resolved_time(at, agent, team):
    incident = p1(agent, assignment_team=team, state="in_progress")
    at.shift(timedelta(hours=1))
    incident = services.incident_resolve(incident=incident, by=agent, code="fixed", notes="ok")
    resolution = clock_of(incident, "resolution")
    assert resolution.stage == ClockStage.MET
    at.shift(timedelta(hours=1))
    services.incident_reopen(incident=incident, by=agent, reason="Still broken")
    resolution.refresh_from_db()
    assert resolution.stage == ClockStage.RUNNING
    assert resolution.due_at == MONDAY_9 + timedelta(hours=5)
    assert resolution.ledger.filter(action="reopened").exists()


def test_canceling_cancels_the_running_clocks(at, agent, team):
    incident = p1(agent, assignment_team=team)
    services.incident_cancel(incident=incident, by=agent, reason="Duplicate")
    stages = set(SlaClock.objects.filter(incident=incident).values_list("stage", flat=True))
    assert stages == {ClockStage.CANCELED}
    incident.refresh_from_db()
    assert incident.sla_due_at is None


def test_editing_a_policy_keeps_running_clocks_until_it_is_re_applied(at, agent, team):
    incident = p1(agent, assignment_team=team, state="in_progress")
    policy = SlaPolicy.objects.get(name="P1 default")
    at.shift(timedelta(minutes=10))
    policy.resolution_minutes = 120
    policy = policy_save(policy)
    assert policy.version == 2
    assert clock_of(incident, "resolution").due_at == MONDAY_9 + timedelta(hours=4)
    later = p1(agent, assignment_team=team)
    assert clock_of(later, "resolution").due_at == MONDAY_9 + timedelta(minutes=130)

    assert policy_reapply(policy=policy) == 1  # only the incident on version 1
    resolution = clock_of(incident, "resolution")
    assert resolution.policy_version.number == 2
    assert resolution.due_at == MONDAY_9 + timedelta(hours=2)
    assert incident.timeline.filter(kind=EntryKind.SLA, new_code__sla="reapply").exists()
    assert clocks_verify() == []


def test_saving_a_policy_unchanged_makes_no_version(agent):
    policy = SlaPolicy.objects.get(name="P2 default")
    assert policy_save(policy).version == 1


def test_first_matching_policy_wins_by_position(at, agent, team):
    calendar = BusinessCalendar.objects.get(name=ALWAYS_OPEN)
    special = policy_save(SlaPolicy(name="Team P1", position=1, priority=1, team=team,
                                    response_minutes=5, response_calendar=calendar,
                                    resolution_minutes=60, resolution_calendar=calendar))
    mine = p1(agent, assignment_team=team)
    theirs = p1(agent, assignment_team=TeamFactory(name="Elsewhere"))
    assert clock_of(mine, "response").policy_version.policy == special
    assert clock_of(theirs, "response").policy_version.terms["name"] == "P1 default"
    special.active = False
    policy_save(special)
    assert clock_of(p1(agent, assignment_team=team), "response").duration == timedelta(
        minutes=15)


@pytest.fixture
def olas(team, l2_team):
    calendar = BusinessCalendar.objects.get(name=ALWAYS_OPEN)
    for target_team, minutes in ((team, 30), (l2_team, 120)):
        policy_save(SlaPolicy(name=f"{target_team} OLA", kind=SlaKind.OLA, team=target_team,
                              response_minutes=10, response_calendar=calendar,
                              resolution_minutes=minutes, resolution_calendar=calendar))


def test_an_escalated_team_gets_its_own_full_ola(at, agent, team, l2_team, olas):
    incident = p1(agent, assignment_team=team, state="in_progress")
    l1 = clock_of(incident, "resolution", kind=SlaKind.OLA)
    assert l1.team == team and l1.due_at == MONDAY_9 + timedelta(minutes=30)
    at.shift(timedelta(minutes=90))  # L1 breached its 30 minutes meanwhile (no sweep ran)
    services.incident_escalate(incident=incident, by=agent, reason="Needs a network engineer")
    l1.refresh_from_db()
    assert l1.stage == ClockStage.BREACHED and l1.stopped_at == MONDAY_9 + timedelta(minutes=90)
    l2 = clock_of(incident, "resolution", kind=SlaKind.OLA, team=l2_team)
    assert l2.started_at == MONDAY_9 + timedelta(minutes=90)
    assert l2.due_at == MONDAY_9 + timedelta(minutes=210)
    # The L2 response target is met when someone of L2 takes it.
    engineer = AgentFactory(username="nina")
    l2_team.members.add(engineer)
    at.shift(timedelta(minutes=5))
    services.incident_assign_to_me(incident=incident, by=engineer)
    assert SlaClock.objects.get(kind=SlaKind.OLA, team=l2_team, target="response").stage == \
        ClockStage.MET
    assert clocks_verify() == []


# --- the sweep ------------------------------------------------------------------------------

def test_the_sweep_warns_then_breaches_each_once(at, agent, team, manager):
    incident = p1(agent, assignment_team=team, assignee=agent)
    at.shift(timedelta(minutes=12))  # past 75 % of 15 minutes
    assert clocks_sweep().warned == 1
    assert clocks_sweep().warned == 0  # nothing twice
    warning = Notification.objects.get(subject__contains="75 %")
    assert warning.recipient == agent
    at.shift(timedelta(minutes=4))  # past 90 % and the due time
    result = clocks_sweep()
    assert (result.warned, result.breached) == (1, 1)
    assert clocks_sweep().breached == 0
    breach = Notification.objects.get(recipient=manager, subject__contains="breached")
    assert incident.number in breach.subject
    assert incident.timeline.filter(kind=EntryKind.SLA, new_code__sla="breached").count() == 1
    response = clock_of(incident, "response")
    assert response.stage == ClockStage.BREACHED
    assert response.breached_at == MONDAY_9 + timedelta(minutes=15)
    assert list(response.ledger.values_list("action", flat=True)) == [
        "attached", "warned", "warned", "breached"]
    incident.refresh_from_db()
    assert incident.sla_breached_at == MONDAY_9 + timedelta(minutes=15)
    assert incident.sla_due_at == MONDAY_9 + timedelta(hours=4)  # the resolution clock's


def test_warnings_without_an_assignee_go_to_the_team(at, agent, team):
    colleague = AgentFactory(username="colleague")
    team.members.add(colleague)
    p1(agent, assignment_team=team)
    at.shift(timedelta(minutes=12))
    clocks_sweep()
    warned = set(Notification.objects.filter(subject__contains="75 %")
                 .values_list("recipient__username", flat=True))
    assert warned == {"alice", "colleague"}


def test_after_downtime_the_sweep_catches_up_with_one_notice_per_threshold(at, agent, team,
                                                                             manager):
    p1(agent, assignment_team=team, assignee=agent)
    at.shift(timedelta(hours=6))  # the worker was down: both clocks passed every threshold
    result = clocks_sweep()
    assert (result.warned, result.breached) == (4, 2)
    assert result.lag == timedelta(hours=6) - timedelta(minutes=11, seconds=15)
    assert Notification.objects.filter(subject__contains="%").count() == 4
    assert Notification.objects.filter(recipient=manager).count() == 2
    assert clocks_sweep().checked == 0


def test_a_pause_past_the_due_time_is_not_a_breach(at, agent, team):
    incident = p1(agent, assignment_team=team, state="on_hold")
    at.shift(timedelta(hours=8))
    clocks_sweep()
    assert clock_of(incident, "resolution").stage == ClockStage.PAUSED
    assert not Notification.objects.filter(subject__contains="resolution breached").exists()


def test_business_hours_warnings_fall_inside_working_hours(agent, team):
    # P4 (1 business day to respond) logged Friday 17:00: 75 % of 8 h is 6 h of business time,
    # so the warning comes on Monday at 15:00 — never at midnight or on the weekend.
    with time_machine.travel(datetime(2026, 3, 6, 17, 0, tzinfo=UTC), tick=False) as moment:
        incident = make_incident(by=agent, assignment_team=team, impact="low", urgency="low")
        moment.move_to(datetime(2026, 3, 8, 23, 59, tzinfo=UTC))
        assert clocks_sweep().warned == 0
        moment.move_to(datetime(2026, 3, 9, 15, 0, tzinfo=UTC))
        assert clocks_sweep().warned == 1
    warned = SlaLedgerEntry.objects.get(clock__incident=incident, action="warned")
    assert warned.at == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


def test_a_holiday_extends_a_deadline(agent, team):
    office = BusinessCalendar.objects.get(name=OFFICE_HOURS)
    Holiday.objects.create(calendar=office, date=datetime(2026, 3, 9).date(), name="Closed")
    BusinessCalendar.objects.filter(pk=office.pk).update(version=office.version + 1)
    with time_machine.travel(datetime(2026, 3, 6, 16, 0, tzinfo=UTC), tick=False):
        incident = make_incident(by=agent, assignment_team=team)
    response = clock_of(incident, "response")
    assert response.due_at == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    attached = response.ledger.get(action="attached")
    assert {"closed": "2026-03-09", "name": "Closed"} in attached.skipped


def test_the_sweep_records_when_it_ran_and_healthz_reports_the_lag(at, agent, team, client):
    p1(agent, assignment_team=team)
    at.shift(timedelta(minutes=13))
    clocks_sweep()
    body = client.get("/healthz?full=1").json()
    assert body["sla_sweep"]["alive"] is True
    assert body["sla_sweep"]["lag_seconds"] == 105.0


def test_check_slas_runs_one_sweep(at, agent, team, capsys):
    p1(agent, assignment_team=team)
    at.shift(timedelta(minutes=20))
    call_command("check_slas")
    assert "1 breaches" in capsys.readouterr().out


def test_verify_finds_a_tampered_clock_and_repair_restores_it(at, agent, team, capsys):
    incident = p1(agent, assignment_team=team, state="in_progress")
    SlaClock.objects.filter(incident=incident, target="resolution").update(
        due_at=MONDAY_9 + timedelta(hours=9))
    with pytest.raises(SystemExit):
        call_command("check_slas", "--verify")
    assert incident.number in capsys.readouterr().out
    call_command("check_slas", "--verify", "--repair")
    assert clock_of(incident, "resolution").due_at == MONDAY_9 + timedelta(hours=4)
    assert clocks_verify() == []
    assert clock_of(incident, "resolution").ledger.filter(action="recomputed").exists()


def test_the_beat_job_exists_every_30_seconds_and_keeps_admin_edits(db):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from itsm.schedule import sync_beat_schedule

    task = PeriodicTask.objects.get(task="incidents.tasks.check_slas")
    assert (task.interval.every, task.interval.period) == (30, IntervalSchedule.SECONDS)
    task.interval = IntervalSchedule.objects.create(every=90, period=IntervalSchedule.SECONDS)
    task.save()
    sync_beat_schedule()
    task.refresh_from_db()
    assert task.interval.every == 90


def test_a_holiday_added_later_moves_the_open_clocks_on_that_calendar(agent, team):
    from itsm.calendars import calendar_changed

    with time_machine.travel(datetime(2026, 3, 6, 16, 0, tzinfo=UTC), tick=False):
        incident = make_incident(by=agent, assignment_team=team)
        office = BusinessCalendar.objects.get(name=OFFICE_HOURS)
        Holiday.objects.create(calendar=office, date=datetime(2026, 3, 9).date(), name="Closed")
        calendar_changed(office)
    response = clock_of(incident, "response")
    assert response.due_at == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    recomputed = response.ledger.get(action="recomputed")
    assert recomputed.reason == "Calendar Office hours changed"
    assert recomputed.old_due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
    assert clocks_verify() == []
