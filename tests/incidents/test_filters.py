"""The queue's FilterSet (shared by the list page and the API): views, search and filters."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import selectors
from incidents.choices import Level, State
from incidents.filters import IncidentFilter
from incidents.models import Incident
from tests.factories import CategoryFactory, ServiceFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(rf):
    """`queue(user, **params)` → the incidents the queue shows, in its order."""

    def run(user, **params):
        request = rf.get("/incidents/", params)
        request.user = user
        filterset = IncidentFilter(request.GET, queryset=selectors.incident_list(user),
                                   request=request)
        assert filterset.is_valid(), filterset.errors
        return list(filterset.qs)

    return run


@pytest.fixture
def cast(agent, team, other_agent, other_team, requester):
    """One incident in each situation the views tell apart."""
    mine = make_incident(by=agent, caller=requester, assignment_team=team, state="in_progress",
                         title="Mine, being worked")
    team_new = make_incident(by=agent, assignment_team=team, title="Team's, untouched")
    elsewhere = make_incident(by=other_agent, assignment_team=other_team, state="on_hold",
                              title="Another team's")
    unrouted = make_incident(by=requester, title="Nobody's yet")
    resolved = make_incident(by=agent, assignment_team=team, state="resolved",
                             title="Fixed yesterday")
    closed = make_incident(by=agent, assignment_team=team, state="closed",
                           title="Fixed last week")
    canceled = make_incident(by=agent, assignment_team=team, state="canceled",
                             title="Logged twice")
    Incident.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now() - timedelta(days=1))
    Incident.objects.filter(pk=closed.pk).update(resolved_at=timezone.now() - timedelta(days=7))
    return {"mine": mine, "team_new": team_new, "elsewhere": elsewhere, "unrouted": unrouted,
            "resolved": resolved, "closed": closed, "canceled": canceled}


def names(cast, rows):
    by_pk = {incident.pk: name for name, incident in cast.items()}
    return [by_pk[row.pk] for row in rows]


def test_my_incidents_are_the_open_ones_assigned_to_me(queue, cast, agent):
    assert names(cast, queue(agent, view="mine")) == ["mine"]


def test_my_teams_are_the_open_incidents_of_my_teams(queue, cast, agent):
    assert sorted(names(cast, queue(agent, view="teams"))) == ["mine", "team_new"]


def test_unassigned_are_the_open_incidents_nobody_owns(queue, cast, agent):
    assert sorted(names(cast, queue(agent, view="unassigned"))) == ["team_new", "unrouted"]


def test_all_open_leaves_out_resolved_closed_and_canceled(queue, cast, agent):
    assert sorted(names(cast, queue(agent, view="open"))) == [
        "elsewhere", "mine", "team_new", "unrouted"]


def test_recently_resolved_shows_resolved_and_closed_newest_first(queue, cast, agent):
    assert names(cast, queue(agent, view="resolved")) == ["resolved", "closed"]


def test_the_views_follow_the_user(queue, cast, other_agent):
    assert names(cast, queue(other_agent, view="mine")) == ["elsewhere"]
    assert names(cast, queue(other_agent, view="teams")) == ["elsewhere"]


def test_open_views_sort_by_priority_then_age(queue, agent, team):
    older = make_incident(by=agent, assignment_team=team, title="Older P3")
    urgent = make_incident(by=agent, assignment_team=team, title="P1", impact=Level.HIGH,
                           urgency=Level.HIGH)
    newer = make_incident(by=agent, assignment_team=team, title="Newer P3")
    Incident.objects.filter(pk=older.pk).update(opened_at=timezone.now() - timedelta(hours=3))
    assert [i.pk for i in queue(agent, view="open")] == [urgent.pk, older.pk, newer.pk]


@pytest.mark.parametrize("q", ["INC0000012", "inc0000012", "0012", " INC12 "])
def test_searching_a_number_finds_that_incident(queue, agent, team, q):
    wanted = make_incident(by=agent, assignment_team=team, title="Wanted")
    make_incident(by=agent, assignment_team=team, title="Incident 12 in the title")
    Incident.objects.filter(pk=wanted.pk).update(number="INC0000012")
    assert [i.title for i in queue(agent, q=q)] == ["Wanted"]


def test_bare_digits_find_the_number_and_titles_containing_them(queue, agent, team):
    wanted = make_incident(by=agent, assignment_team=team, title="Wanted")
    make_incident(by=agent, assignment_team=team, title="Incident 12 in the title")
    make_incident(by=agent, assignment_team=team, title="Unrelated")
    Incident.objects.filter(pk=wanted.pk).update(number="INC0000012")
    assert sorted(i.title for i in queue(agent, q="12")) == ["Incident 12 in the title",
                                                               "Wanted"]


def test_searching_text_matches_titles_regardless_of_case(queue, agent, team):
    make_incident(by=agent, assignment_team=team, title="VPN drops every hour")
    make_incident(by=agent, assignment_team=team, title="Printer jams")
    assert [i.title for i in queue(agent, q="vpn DROPS")] == ["VPN drops every hour"]
    assert queue(agent, q="nothing like this") == []


def test_filtering_by_category_includes_its_subcategories(queue, agent, team):
    hardware, software = CategoryFactory(name="Hardware"), CategoryFactory(name="Software")
    laptop = CategoryFactory(name="Laptop", parent=hardware)
    make_incident(by=agent, assignment_team=team, title="Broken dock", category=hardware)
    make_incident(by=agent, assignment_team=team, title="Broken hinge", category=hardware,
                  subcategory=laptop)
    make_incident(by=agent, assignment_team=team, title="Excel crashes", category=software)
    found = queue(agent, category=hardware.pk)
    assert sorted(i.title for i in found) == ["Broken dock", "Broken hinge"]


def test_filters_combine(queue, cast, agent, team):
    payroll = ServiceFactory(name="Payroll")
    match = make_incident(by=agent, assignment_team=team, service=payroll, title="Payroll late",
                          impact=Level.HIGH, urgency=Level.HIGH)
    make_incident(by=agent, assignment_team=team, service=payroll, title="Payroll slow")
    rows = queue(agent, service=payroll.pk, priority=1, state=["new", "in_progress"],
                 team=team.pk)
    assert [i.pk for i in rows] == [match.pk]


def test_several_states_can_be_asked_for(queue, cast, agent):
    rows = queue(agent, state=[State.ON_HOLD, State.CANCELED])
    assert sorted(names(cast, rows)) == ["canceled", "elsewhere"]


def test_the_assignee_filter(queue, cast, agent, other_agent):
    assert names(cast, queue(agent, assignee=other_agent.pk)) == ["elsewhere"]


def test_an_explicit_sort_overrides_the_views_order(queue, cast, agent):
    rows = queue(agent, view="open", ordering="-number")
    assert [r.number for r in rows] == sorted((r.number for r in rows), reverse=True)
    assert len(rows) == 4


def test_an_unknown_value_is_a_form_error_naming_the_field(rf, agent):
    request = rf.get("/incidents/", {"state": "exploded", "view": "everything-ever"})
    request.user = agent
    filterset = IncidentFilter(request.GET, queryset=Incident.objects.all(), request=request)
    assert not filterset.is_valid()
    assert set(filterset.errors) == {"state", "view"}


def test_a_requesters_queue_holds_only_their_own_incidents(queue, cast, requester):
    assert sorted(names(cast, queue(requester))) == ["mine", "unrouted"]
    assert names(cast, queue(requester, q=cast["elsewhere"].number)) == []



def test_an_unbound_filter_lists_without_failing(rf, agent):
    from incidents.filters import IncidentFilter
    from incidents.models import Incident

    request = rf.get("/")
    request.user = agent
    assert list(IncidentFilter(queryset=Incident.objects.all(), request=request).qs) == []
