"""The timeline is complete and append-only; stale versions are refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import selectors, services
from incidents.choices import HoldReason, Level, ResolutionCode, State
from incidents.models import Incident, TimelineEntry
from itsm.choices import Role
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import Notification
from tests.factories import (
    UserFactory,
    make_incident,
)
from tests.incidents.helpers import PARAMS, fresh, snapshot

pytestmark = pytest.mark.django_db


# --- the timeline ----------------------------------------------------------------------------

def test_the_timeline_records_a_whole_life_in_order(team, agent, requester, manager):
    start = timezone.now()
    incident = make_incident(by=agent, caller=requester, assignment_team=team)
    services.incident_update(incident=incident, by=agent, title="Mail down, whole building",
                             urgency=Level.HIGH)
    incident = services.incident_acknowledge(incident=incident, by=agent)
    services.incident_comment(incident=incident, by=agent, body="Looking at the relay.")
    services.incident_comment(incident=incident, by=agent, body="Relay disk full.",
                              internal=True)
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_VENDOR)
    services.incident_resume(incident=incident, by=agent)
    services.incident_resolve(incident=incident, by=agent, code=ResolutionCode.FIXED,
                              notes="Freed disk space.")
    services.incident_close(incident=incident, by=requester)

    lines = [(e.kind, e.field, e.old_value, e.new_value, e.actor.username)
             for e in fresh(incident).timeline.all()]
    assert lines == [
        ("created", "", "", "P3 – Moderate", "alice"),
        ("field_change", "title", "Mail is down for the finance floor",
         "Mail down, whole building", "alice"),
        ("field_change", "urgency", "Medium", "High", "alice"),
        ("field_change", "priority", "P3 – Moderate", "P2 – High", "alice"),
        ("transition", "state", "New", "In progress", "alice"),
        ("assignment", "assignment", "Service Desk / —", "Service Desk / Alice Agent", "alice"),
        ("comment", "", "", "", "alice"),
        ("work_note", "", "", "", "alice"),
        ("transition", "state", "In progress", "On hold", "alice"),
        ("transition", "state", "On hold", "In progress", "alice"),
        ("transition", "state", "In progress", "Resolved", "alice"),
        ("transition", "state", "Resolved", "Closed", "rick"),
    ]
    times = list(fresh(incident).timeline.values_list("at", flat=True))
    assert times == sorted(times)
    assert start <= times[0] and times[-1] <= timezone.now()


def test_an_edit_that_changes_nothing_writes_nothing(team_incident, agent):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    services.incident_update(incident=incident, by=agent, title=incident.title,
                             impact=incident.impact)
    assert snapshot(incident) == before


def test_requesters_do_not_see_work_notes_on_the_timeline(team_incident, agent, requester):
    incident = team_incident("in_progress")
    services.incident_comment(incident=incident, by=agent, body="We are on it.")
    services.incident_comment(incident=incident, by=agent, body="Blame the vendor.",
                              internal=True)
    seen_by_requester = [e.body for e in selectors.timeline_for(incident=incident,
                                                                user=requester)]
    seen_by_agent = [e.body for e in selectors.timeline_for(incident=incident, user=agent)]
    assert "We are on it." in seen_by_requester
    assert "Blame the vendor." not in seen_by_requester
    assert "Blame the vendor." in seen_by_agent


def test_a_public_comment_tells_the_caller_but_a_work_note_does_not(team_incident, agent,
                                                                   requester):
    incident = team_incident("in_progress")
    services.incident_comment(incident=incident, by=agent, body="Secret", internal=True)
    assert not Notification.objects.filter(recipient=requester).exists()
    services.incident_comment(incident=incident, by=agent, body="Try again now?")
    assert Notification.objects.get(recipient=requester).body.endswith("Try again now?")


def test_an_empty_comment_is_refused(team_incident, agent):
    incident = team_incident("in_progress")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as err:
        services.incident_comment(incident=incident, by=agent, body="   ")
    assert set(err.value.field_errors) == {"body"}
    assert snapshot(incident) == before


def test_timeline_entries_cannot_be_changed(team_incident):
    entry = team_incident("new").timeline.get()
    entry.body = "Nothing happened here."
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    assert TimelineEntry.objects.get(pk=entry.pk).body != "Nothing happened here."


# --- optimistic concurrency ------------------------------------------------------------------

@pytest.mark.parametrize("call", ["transition", "update", "assign", "escalate", "override"])
def test_a_stale_version_is_a_conflict_and_changes_nothing(team_incident, agent, manager, team,
                                                           call):
    incident = team_incident("in_progress")
    seen = incident.version
    services.incident_comment(incident=incident, by=agent, body="unrelated")  # no version bump
    services.incident_update(incident=incident, by=agent, title="Someone else was quicker")
    before = snapshot(incident)

    actions = {
        "transition": lambda: services.incident_resolve(incident=incident, by=agent,
                                                        version=seen, **PARAMS["resolve"]),
        "update": lambda: services.incident_update(incident=incident, by=agent, version=seen,
                                                   impact=Level.HIGH),
        "assign": lambda: services.incident_assign(incident=incident, by=agent, team=team,
                                                   assignee=None, version=seen),
        "escalate": lambda: services.incident_escalate(incident=incident, by=agent,
                                                       reason="Help", version=seen),
        "override": lambda: services.incident_override_priority(
            incident=incident, by=manager, priority=1, reason="CEO", version=seen),
    }
    with pytest.raises(Conflict, match="changed by someone else"):
        actions[call]()
    assert snapshot(incident) == before


def test_the_current_version_is_accepted(team_incident, agent):
    incident = team_incident("in_progress")
    services.incident_update(incident=incident, by=agent, title="Edited once")
    current = fresh(incident).version
    services.incident_resolve(incident=incident, by=agent, version=current, **PARAMS["resolve"])
    assert fresh(incident).version == current + 1


def test_each_write_bumps_the_version_once(team_incident, agent):
    incident = team_incident("new")
    start = fresh(incident).version
    services.incident_update(incident=incident, by=agent, title="New title")
    assert fresh(incident).version == start + 1


def test_an_old_resolution_can_be_closed_by_an_agent_a_week_later(team_incident, agent):
    incident = team_incident("resolved")
    Incident.objects.filter(pk=incident.pk).update(
        resolved_at=timezone.now() - timedelta(days=7))
    services.incident_close(incident=incident, by=agent)
    assert fresh(incident).state == State.CLOSED


def test_a_user_with_no_role_is_treated_as_a_requester(team_incident):
    nobody = UserFactory(username="nobody", role=None)
    incident = services.incident_create(by=nobody, title="Who am I")
    assert incident.caller == nobody
    with pytest.raises(Forbidden):
        services.incident_acknowledge(incident=incident, by=nobody)


def test_an_admin_works_any_incident(team_incident):
    admin = UserFactory(username="root", role=Role.ADMIN, is_superuser=True)
    incident = services.incident_acknowledge(incident=team_incident("new"), by=admin)
    assert fresh(incident).state == State.IN_PROGRESS


def test_the_creation_entry_records_who_owned_the_incident_from_the_start(agent, team,
                                                                          requester):
    by_team = services.incident_create(by=agent, title="A", assignment_team=team)
    by_person = services.incident_create(by=agent, title="B", assignee=agent, channel="phone")
    unrouted = services.incident_create(by=requester, title="C")
    assert [i.timeline.get().body for i in (by_team, by_person, unrouted)] == [
        "Logged via Web, assigned to Service Desk",
        "Logged via Phone, assigned to Service Desk / Alice Agent",
        "Logged via Web",
    ]


@pytest.mark.parametrize("action", ["comment", "work_note", "notify_manager"])
def test_conversation_marks_the_incident_active_without_a_version_bump(team_incident, agent,
                                                                      action):
    incident = team_incident("in_progress")
    Incident.objects.filter(pk=incident.pk).update(
        updated_at=timezone.now() - timedelta(hours=1))
    before = fresh(incident)
    {
        "comment": lambda: services.incident_comment(incident=incident, by=agent, body="Hi"),
        "work_note": lambda: services.incident_comment(incident=incident, by=agent, body="Hm",
                                                       internal=True),
        "notify_manager": lambda: services.incident_notify_manager(incident=incident, by=agent,
                                                                   reason="Look"),
    }[action]()
    after = fresh(incident)
    assert after.updated_at > before.updated_at + timedelta(minutes=59)
    assert after.version == before.version  # a form open elsewhere can still be saved


def test_a_closed_incident_cannot_be_edited(team_incident, agent):
    incident = team_incident("closed")
    before = snapshot(incident)
    with pytest.raises(Conflict, match="reopen it"):
        services.incident_update(incident=incident, by=agent, title="Too late")
    assert snapshot(incident) == before


@pytest.mark.parametrize(("state", "who", "expected"), [
    (State.NEW, "agent", {"acknowledge", "cancel"}),
    (State.IN_PROGRESS, "agent", {"hold", "resolve", "cancel"}),
    (State.ON_HOLD, "agent", {"resume", "cancel"}),
    (State.RESOLVED, "agent", {"close", "reopen"}),
    (State.CLOSED, "manager", set()),
    (State.CANCELED, "manager", set()),
    (State.IN_PROGRESS, "other_agent", set()),
    (State.IN_PROGRESS, "manager", {"hold", "resolve", "cancel"}),
    (State.IN_PROGRESS, "requester", set()),
    (State.RESOLVED, "requester", {"close", "reopen"}),
    (State.RESOLVED, "stranger", set()),
])
def test_the_buttons_offered_match_what_the_services_allow(team_incident, request, other_team,
                                                           state, who, expected):
    user = request.getfixturevalue(who)
    incident = fresh(team_incident(state))
    offered = {t.name for t in incident.get_available_user_state_transitions(user)}
    assert offered == expected


def test_a_resolved_incident_cannot_be_reprioritised(agent, team, manager, requester):
    from tests.factories import make_incident

    incident = make_incident(by=agent, caller=requester, assignment_team=team, state="resolved")
    with pytest.raises(Conflict):
        services.incident_override_priority(incident=incident, by=manager, priority=1,
                                            reason="Too late")
    incident.refresh_from_db()
    assert incident.priority_override_reason == ""
