"""Paging: pages start from incident events, run the policy as it was, stop on acknowledgement
or resolution, and never send a message twice."""

from datetime import datetime, timedelta

import pytest
import time_machine

from incidents import services as incident_services
from incidents.choices import EntryKind, Level, ResolutionCode, State
from itsm.choices import DeliveryChannel, DeliveryStatus
from itsm.exceptions import Conflict, Forbidden
from itsm.models import Notification
from itsm.notifications import notifications_sweep
from oncall import escalation, services
from oncall.choices import ContactKind, PageState, TargetKind, Urgency
from oncall.models import (
    ContactMethod,
    EscalationStep,
    NotificationRule,
    Page,
    PageNotice,
)
from tests.factories import AgentFactory, make_incident
from tests.oncall.conftest import BERLIN

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)  # the first week: `agent` is on call


@pytest.fixture
def at_tuesday():
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def critical(policy, team, agent, requester, at_tuesday):
    """A P1 of the team, logged on Tuesday 10:00 Berlin: it pages at once."""
    return make_incident(by=agent, caller=requester, assignment_team=team,
                         impact=Level.HIGH, urgency=Level.HIGH, title="Core switch down")


def page_messages(page, **filters):
    return Notification.objects.filter(key__startswith=f"page:{page.pk}:", **filters)


def test_a_p1_pages_the_person_on_call_at_once(critical, agent):
    page = Page.objects.get(incident=critical)
    assert page.state == PageState.ACTIVE and page.step == 0
    assert page.due_at == TUESDAY + timedelta(minutes=5)
    notice = PageNotice.objects.get(page=page)
    assert notice.user == agent and "Service desk on call" in notice.why
    assert set(page_messages(page).values_list("recipient", "channel")) == {
        (agent.pk, DeliveryChannel.IN_APP), (agent.pk, DeliveryChannel.EMAIL)}
    body = page_messages(page).first().body
    assert f"/oncall/ack/{notice.ack_token}/" in body
    entries = critical.timeline.filter(kind=EntryKind.PAGE).values_list("body", flat=True)
    assert any("notified Alice Agent" in body for body in entries)


def test_a_p3_only_notifies_the_team(policy, team, agent, requester, at_tuesday):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             impact=Level.LOW, urgency=Level.LOW)
    assert not Page.objects.filter(incident=incident).exists()


def test_raising_the_priority_to_p1_starts_a_page(policy, team, requester, agent, at_tuesday):
    incident = make_incident(by=agent, caller=requester, assignment_team=team,
                             impact=Level.LOW, urgency=Level.LOW)
    incident_services.incident_update(incident=incident, by=agent, impact=Level.HIGH,
                                      urgency=Level.HIGH)
    assert Page.objects.get(incident=incident).reason.startswith("Priority raised")


def test_the_policy_runs_step_by_step_then_repeats_then_tells_the_manager(
        critical, agent, manager, at_tuesday):
    page = Page.objects.get(incident=critical)
    at_tuesday.shift(timedelta(minutes=5))
    assert services.pages_tick().fired == 1
    page.refresh_from_db()
    assert (page.step, page.repetition) == (1, 0)
    assert page_messages(page, recipient=manager).count() == 2
    at_tuesday.shift(timedelta(minutes=10))
    services.pages_tick()
    page.refresh_from_db()
    assert (page.step, page.repetition) == (0, 1)  # the repeat starts with step 1 again
    assert PageNotice.objects.filter(page=page, user=agent).count() == 2
    at_tuesday.shift(timedelta(minutes=15))
    services.pages_tick()
    page.refresh_from_db()
    assert page.state == PageState.ACTIVE and (page.step, page.repetition) == (1, 1)
    at_tuesday.shift(timedelta(minutes=10))
    services.pages_tick()
    page.refresh_from_db()
    assert page.state == PageState.EXHAUSTED and page.due_at is None
    exhausted = Notification.objects.get(key__startswith=f"page:{page.pk}:exhausted",
                                         channel=DeliveryChannel.EMAIL)
    assert exhausted.recipient == manager and "Page exhausted" in exhausted.subject
    at_tuesday.shift(timedelta(hours=1))
    assert services.pages_tick().fired == 0


def test_a_step_is_not_run_early_nor_twice_nor_with_a_stale_token(critical, at_tuesday):
    page = Page.objects.get(incident=critical)
    token = str(page.token)
    assert not services.page_run_step(page_id=page.pk, token=token)  # not due yet
    at_tuesday.shift(timedelta(minutes=5))
    assert services.page_run_step(page_id=page.pk, token=token)
    count = Notification.objects.count()
    # The same task delivered again, or a second worker with it: nothing happens.
    assert not services.page_run_step(page_id=page.pk, token=token)
    assert services.pages_tick().fired == 0
    assert Notification.objects.count() == count


def test_the_watchdog_runs_a_step_whose_task_was_lost(critical, manager, at_tuesday):
    page = Page.objects.get(incident=critical)
    at_tuesday.shift(timedelta(minutes=6))  # the step task never came
    assert services.pages_tick().fired == 1
    assert PageNotice.objects.filter(page=page, step=1, user=manager).exists()


def test_editing_the_policy_does_not_change_a_page_in_flight(critical, policy, other_agent,
                                                             at_tuesday):
    page = Page.objects.get(incident=critical)
    policy.steps.filter(position=1).delete()
    step = EscalationStep.objects.create(policy=policy, position=1, target=TargetKind.USERS)
    step.users.add(other_agent)
    at_tuesday.shift(timedelta(minutes=5))
    services.pages_tick()
    assert not PageNotice.objects.filter(page=page, user=other_agent).exists()
    assert PageNotice.objects.filter(page=page, step=1).get().user.username == "maria"


def test_acknowledging_stops_the_page_and_acknowledges_the_incident(critical, agent,
                                                                   at_tuesday):
    page = Page.objects.get(incident=critical)
    later = ContactMethod.objects.create(user=agent, kind=ContactKind.EMAIL,
                                         address="alice.pager@example.com")
    NotificationRule.objects.create(user=agent, urgency=Urgency.HIGH, delay_minutes=0,
                                    method=ContactMethod.objects.create(
                                        user=agent, kind=ContactKind.IN_APP))
    NotificationRule.objects.create(user=agent, urgency=Urgency.HIGH, delay_minutes=2,
                                    method=later)
    at_tuesday.shift(timedelta(minutes=5))
    services.pages_tick()  # step 2 (the manager), then the repeat of step 1 is 10 min away
    at_tuesday.shift(timedelta(minutes=10))
    services.pages_tick()  # the repeat reaches Alice through her ladder: e-mail in 2 minutes
    held = page_messages(page, address="alice.pager@example.com").get()
    assert held.status == DeliveryStatus.PENDING
    services.page_acknowledge(page=page, by=agent)
    page.refresh_from_db()
    critical.refresh_from_db()
    assert page.state == PageState.ACKNOWLEDGED and page.acknowledged_by == agent
    assert critical.state == State.IN_PROGRESS and critical.assignee == agent
    assert critical.acknowledged_at == TUESDAY + timedelta(minutes=15)
    held.refresh_from_db()
    assert held.status == DeliveryStatus.CANCELED  # the e-mail two minutes later never goes
    at_tuesday.shift(timedelta(minutes=30))
    assert services.pages_tick().fired == 0
    with pytest.raises(Conflict, match="Already acknowledged by Alice"):
        services.page_acknowledge(page=page, by=agent)


def test_acknowledging_the_incident_stops_its_page(critical, agent):
    incident_services.incident_acknowledge(incident=critical, by=agent)
    page = Page.objects.get(incident=critical)
    assert page.state == PageState.ACKNOWLEDGED and page.acknowledged_by == agent


def test_resolving_the_incident_ends_its_page(critical, agent, at_tuesday):
    incident_services.incident_acknowledge(incident=critical, by=agent)
    services.page_start(incident=critical, by=agent, reason="Need the network team",
                        manual=True)
    incident_services.incident_resolve(incident=critical, by=agent, code=ResolutionCode.FIXED,
                                       notes="Replaced the line card.")
    assert Page.objects.filter(incident=critical, state=PageState.ACTIVE).count() == 0
    assert Page.objects.filter(incident=critical, state=PageState.RESOLVED).count() == 1


def test_a_manual_page_says_why_it_cannot_start(critical, agent, requester, l2_team):
    with pytest.raises(Conflict, match="already being paged"):
        services.page_start(incident=critical, by=agent, reason="again", manual=True)
    with pytest.raises(Forbidden):
        services.page_start(incident=critical, by=requester, reason="help", manual=True)
    page = Page.objects.get(incident=critical)
    services.page_acknowledge(page=page, by=agent)
    with pytest.raises(Exception, match="has no escalation policy"):
        services.page_start(incident=critical, by=agent, reason="L2 please", team=l2_team,
                            manual=True)


def test_requesters_cannot_acknowledge(critical, requester):
    with pytest.raises(Forbidden):
        services.page_acknowledge(page=Page.objects.get(incident=critical), by=requester)


def test_round_robin_takes_turns_between_pages(team, agent, other_agent, requester, policy,
                                               at_tuesday):
    policy.steps.all().delete()
    EscalationStep.objects.create(policy=policy, target=TargetKind.ROUND_ROBIN, team=team)
    first, second = (make_incident(by=agent, caller=requester, assignment_team=team,
                                   impact=Level.HIGH, urgency=Level.HIGH) for _ in range(2))
    notified = {PageNotice.objects.get(page__incident=i).user for i in (first, second)}
    assert notified == {agent, other_agent}


def test_the_dry_run_is_the_plan_live_paging_follows(policy, agent, manager, at_tuesday):
    result = escalation.dry_run(policy=policy, priority=1, at=TUESDAY)
    plan = [(row.minute, row.step, row.repetition, row.user.username, row.channel)
            for row in result["rows"]]
    assert plan == [
        (0, 0, 0, "alice", "In-app"), (0, 0, 0, "alice", "E-mail"),
        (5, 1, 0, "maria", "In-app"), (5, 1, 0, "maria", "E-mail"),
        (15, 0, 1, "alice", "In-app"), (15, 0, 1, "alice", "E-mail"),
        (20, 1, 1, "maria", "In-app"), (20, 1, 1, "maria", "E-mail"),
        (30, 2, 1, "maria", "In-app and e-mail"),
    ]
    assert "on call in Service desk on call" in result["rows"][0].why
    # A week later the rotation has moved on, and the plan with it.
    later = escalation.dry_run(policy=policy, priority=1, at=TUESDAY + timedelta(days=7))
    assert later["rows"][0].user.username == "oscar"


def test_the_dry_run_shows_a_gap_loudly(policy, roster, at_tuesday):
    roster.layers.all().delete()
    rows = escalation.dry_run(policy=policy, priority=1, at=TUESDAY)["rows"]
    assert rows[0].user is None and "nobody is on call" in rows[0].why


@pytest.mark.django_db
def test_a_failing_apprise_url_is_logged_and_retried(agent):
    # Nothing listens on port 9 of this machine: the webhook fails at once.
    method = ContactMethod.objects.create(user=agent, kind=ContactKind.APPRISE,
                                          address="json://127.0.0.1:9/hook")
    services.notification_test(user=agent, method=method)
    note = Notification.objects.get(recipient=agent, channel=DeliveryChannel.APPRISE)
    notifications_sweep()  # in tests delivery is not enqueued on commit: the sweep sends
    note.refresh_from_db()
    assert note.status == DeliveryStatus.PENDING and note.attempts == 1
    assert note.last_error and note.due_at > note.created_at
    with time_machine.travel(note.due_at + timedelta(seconds=1), tick=False):
        notifications_sweep()
    note.refresh_from_db()
    assert note.attempts == 2


@pytest.mark.django_db
def test_an_unusable_apprise_url_is_refused(agent):
    with pytest.raises(Exception, match="does not recognise"):
        services.contact_method_add(user=agent, kind=ContactKind.APPRISE, address="nope://x")
    assert not ContactMethod.objects.exists()


def test_a_person_without_rules_gets_in_app_and_email(policy, at_tuesday):
    member = AgentFactory(username="nomail", email="")
    rungs = escalation.Directory().ladder(member.pk, Urgency.HIGH)
    assert [r.channel for r in rungs] == [DeliveryChannel.IN_APP]


def test_a_p1_without_a_team_pages_the_service_desk(policy, team, agent, requester,
                                                    at_tuesday):
    incident = make_incident(by=agent, caller=requester, impact=Level.HIGH, urgency=Level.HIGH)
    assert incident.assignment_team is None
    page = Page.objects.get(incident=incident)
    assert page.team == team and PageNotice.objects.get(page=page).user == agent


@pytest.mark.django_db
def test_an_apprise_webhook_receives_the_message(agent):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    method = services.contact_method_add(
        user=agent, kind=ContactKind.APPRISE, address=f"json://127.0.0.1:{server.server_port}/")
    services.notification_test(user=agent, method=method)
    notifications_sweep()
    server.server_close()
    note = Notification.objects.get(recipient=agent, channel=DeliveryChannel.APPRISE)
    assert note.status == DeliveryStatus.SENT and note.attempts == 1
    assert received and received[0]["title"] == "Test notification"


def test_a_changed_roster_is_never_served_from_memory(roster, agent, other_agent, at_tuesday):
    from oncall.selectors import roster_specs

    def who():
        value = roster_specs([roster.pk], TUESDAY, TUESDAY)[roster.pk]
        return escalation.roster.on_call(value, TUESDAY).user

    assert who() == agent.pk  # read once, then from memory
    member = roster.layers.get().members.get(user=agent)
    member.position = 5  # Alice moves behind Oscar, as the admin's inline would save it
    member.save()
    assert who() == other_agent.pk
    services.override_create(schedule=roster, user=agent, by=agent, starts_at=TUESDAY,
                             ends_at=TUESDAY + timedelta(hours=1))
    assert who() == agent.pk
    roster.layers.all().delete()
    roster.overrides.all().delete()
    assert escalation.roster.on_call(roster_specs([roster.pk], TUESDAY, TUESDAY)[roster.pk],
                                     TUESDAY) is None


def test_the_next_step_is_handed_to_a_worker_for_its_due_time(
        policy, team, agent, requester, at_tuesday, monkeypatch,
        django_capture_on_commit_callbacks):
    from oncall.tasks import run_page_step

    scheduled = []
    monkeypatch.setattr(run_page_step, "apply_async",
                        lambda args, eta: scheduled.append((args, eta)))
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_incident(by=agent, caller=requester, assignment_team=team,
                                 impact=Level.HIGH, urgency=Level.HIGH)
    page = Page.objects.get(incident=incident)
    assert scheduled == [((page.pk, str(page.token)), TUESDAY + timedelta(minutes=5))]
    # That task, run at its time, moves the page on; the same message again does nothing.
    at_tuesday.shift(timedelta(minutes=5))
    assert run_page_step(*scheduled[0][0]) is True
    assert run_page_step(*scheduled[0][0]) is False
