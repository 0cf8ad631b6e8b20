"""Recurrence detection: clusters of recent incidents without a problem become one suggested
problem each, grow as incidents recur, stay gone once dismissed, and tell problem managers."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from itsm.choices import Role
from itsm.exceptions import Conflict, Forbidden
from itsm.models import Notification
from problems import services
from problems.choices import ClusterBasis, SuggestionStatus
from problems.models import Problem, ProblemLink, RecurrenceSettings, SuggestedProblem
from problems.recurrence import detect_recurrence
from problems.tasks import detect_recurrence as detect_recurrence_task
from tests.factories import CategoryFactory, ServiceFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
# Titles with nothing in common, so only their service and category make them a cluster.
UNRELATED = ["Laptop will not boot", "Badge reader at door 2 is dead", "Monitor flickers",
             "Cannot open the payroll report", "Keyboard types the wrong letters"]
OUTLOOK = ["Outlook keeps crashing on startup", "Outlook keeps crashing at startup",
           "outlook keeps crashing on start up", "Outlook keeps crashing on startup again"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def mail(db):
    return ServiceFactory(name="E-mail")


@pytest.fixture
def hardware(db):
    return CategoryFactory(name="Hardware")


@pytest.fixture
def log(agent, requester, team):
    """`log(title, days_ago=0, **fields)` → an incident opened that long ago."""

    def make(title, days_ago=0, state="new", **fields):
        return make_incident(by=agent, caller=requester, assignment_team=team, title=title,
                             opened_at=NOW - timedelta(days=days_ago), state=state, **fields)

    return make


@pytest.fixture
def cluster(log, mail, hardware):
    """`cluster(n)` → n incidents of E-mail/Hardware with unrelated titles, over the week."""
    return lambda n, start=0: [log(UNRELATED[(start + i) % 5], days_ago=i % 7, service=mail,
                                   category=hardware) for i in range(n)]


def members(suggestion) -> set[int]:
    return set(suggestion.members.values_list("incident_id", flat=True))


def configure(**values) -> None:
    settings = RecurrenceSettings.load()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()


# --- same service and category ---------------------------------------------------------------

def test_three_incidents_of_one_service_and_category_in_a_week_are_one_suggestion(
    cluster, mail, hardware
):
    incidents = cluster(3)

    result = detect_recurrence()

    [suggestion] = SuggestedProblem.objects.all()
    assert result.created == [suggestion] and not result.skipped
    assert (suggestion.basis, suggestion.status, suggestion.service, suggestion.category) == (
        ClusterBasis.SERVICE_CATEGORY, SuggestionStatus.OPEN, mail, hardware)
    assert suggestion.title == "Recurring Hardware incidents on E-mail"
    assert members(suggestion) == {i.pk for i in incidents}
    assert suggestion.created_at == NOW


def test_running_detection_again_suggests_nothing_new(cluster):
    cluster(3)
    detect_recurrence()

    again = detect_recurrence()

    assert again.created == [] and again.grown == []
    assert SuggestedProblem.objects.count() == 1


def test_a_fourth_incident_joins_the_open_suggestion(cluster, log, mail, hardware, frozen):
    incidents = cluster(3)
    detect_recurrence()
    frozen.shift(timedelta(hours=5))
    fourth = log("Docking station has no power", service=mail, category=hardware)

    result = detect_recurrence()

    [suggestion] = SuggestedProblem.objects.all()
    assert result.created == [] and result.grown == [suggestion]
    assert members(suggestion) == {i.pk for i in [*incidents, fourth]}
    assert suggestion.updated_at == NOW + timedelta(hours=5)


def test_two_incidents_are_not_a_cluster(cluster):
    cluster(2)
    assert detect_recurrence().created == []
    assert not SuggestedProblem.objects.exists()


def test_other_services_and_categories_do_not_count_towards_a_cluster(log, mail, hardware):
    log(UNRELATED[0], service=mail, category=hardware)
    log(UNRELATED[1], service=mail, category=hardware)
    log(UNRELATED[2], service=ServiceFactory(name="VPN"), category=hardware)
    log(UNRELATED[3], service=mail, category=CategoryFactory(name="Software"))
    log(UNRELATED[4], service=mail)
    assert not detect_recurrence().created


@pytest.mark.parametrize(("age", "counted"), [
    (timedelta(days=7) - timedelta(minutes=1), True),
    (timedelta(days=7, minutes=1), False),
    (timedelta(days=30), False),
])
def test_only_incidents_of_the_last_seven_days_count(log, mail, hardware, age, counted):
    log(UNRELATED[0], service=mail, category=hardware)
    log(UNRELATED[1], days_ago=1, service=mail, category=hardware)
    log(UNRELATED[2], days_ago=age / timedelta(days=1), service=mail, category=hardware)

    assert bool(detect_recurrence().created) is counted


def test_incidents_linked_to_a_problem_are_not_clustered(cluster, agent):
    incidents = cluster(3)
    # Filed under another service: the cluster's own is not being worked by a problem.
    services.problem_create(by=agent, incidents=incidents[:1], title="Flaky docking stations",
                            service=ServiceFactory(name="Workplace"))

    assert detect_recurrence().created == []

    [fourth] = cluster(1, start=3)
    [suggestion] = detect_recurrence().created
    assert members(suggestion) == {incidents[1].pk, incidents[2].pk, fourth.pk}


def test_canceled_incidents_are_not_clustered(log, mail, hardware):
    log(UNRELATED[0], service=mail, category=hardware)
    log(UNRELATED[1], service=mail, category=hardware)
    log(UNRELATED[2], service=mail, category=hardware, state="canceled")
    assert detect_recurrence().created == []


def test_resolved_incidents_still_recur(log, mail, hardware):
    incidents = [log(title, service=mail, category=hardware, state="resolved")
                 for title in UNRELATED[:3]]
    [suggestion] = detect_recurrence().created
    assert members(suggestion) == {i.pk for i in incidents}


# --- dismissed -------------------------------------------------------------------------------

def test_a_dismissed_suggestions_incidents_are_never_suggested_again(
    cluster, problem_manager, frozen
):
    first = cluster(3)
    [suggestion] = detect_recurrence().created
    services.suggestion_dismiss(suggestion=suggestion, by=problem_manager)

    assert detect_recurrence().created == []
    frozen.shift(timedelta(days=1))
    later = cluster(2, start=3)
    assert detect_recurrence().created == []  # two new ones are not a cluster on their own

    third = cluster(1)
    [new] = detect_recurrence().created
    assert members(new) == {i.pk for i in [*later, *third]}
    assert not members(new) & {i.pk for i in first}
    assert SuggestedProblem.objects.get(pk=suggestion.pk).status == SuggestionStatus.DISMISSED


def test_only_problem_managers_dismiss(cluster, agent, manager):
    cluster(3)
    [suggestion] = detect_recurrence().created
    for who in (agent, manager):
        with pytest.raises(Forbidden):
            services.suggestion_dismiss(suggestion=suggestion, by=who)
    assert SuggestedProblem.objects.get().status == SuggestionStatus.OPEN


def test_dismissing_twice_is_a_conflict(cluster, problem_manager):
    cluster(3)
    [suggestion] = detect_recurrence().created
    services.suggestion_dismiss(suggestion=suggestion, by=problem_manager)
    with pytest.raises(Conflict):
        services.suggestion_dismiss(suggestion=suggestion, by=problem_manager)


# --- similar titles --------------------------------------------------------------------------

def test_similar_titles_cluster_across_services(log):
    incidents = [log(title, days_ago=n, service=ServiceFactory())
                 for n, title in enumerate(OUTLOOK[:3])]

    [suggestion] = detect_recurrence().created

    assert suggestion.basis == ClusterBasis.SIMILAR_TITLES
    assert suggestion.service is None and suggestion.category is None
    assert suggestion.title in OUTLOOK[:3]
    assert members(suggestion) == {i.pk for i in incidents}


def test_the_same_title_three_times_is_a_cluster(log):
    incidents = [log("Teams calls drop after ten minutes") for _ in range(3)]
    [suggestion] = detect_recurrence().created
    assert suggestion.title == "Teams calls drop after ten minutes"
    assert members(suggestion) == {i.pk for i in incidents}


def test_a_similar_title_joins_the_open_similar_title_suggestion(log, frozen):
    first = [log(title) for title in OUTLOOK[:3]]
    detect_recurrence()
    frozen.shift(timedelta(days=2))
    later = log(OUTLOOK[3], service=ServiceFactory())

    result = detect_recurrence()

    [suggestion] = SuggestedProblem.objects.all()
    assert result.created == [] and result.grown == [suggestion]
    assert members(suggestion) == {i.pk for i in [*first, later]}


def test_different_titles_do_not_cluster(log):
    for title in UNRELATED[:4]:
        log(title, service=ServiceFactory())
    assert detect_recurrence().created == []


def test_a_cluster_by_service_and_category_is_not_suggested_again_by_title(log, mail, hardware):
    for title in OUTLOOK[:3]:
        log(title, service=mail, category=hardware)

    [suggestion] = detect_recurrence().created

    assert suggestion.basis == ClusterBasis.SERVICE_CATEGORY
    assert SuggestedProblem.objects.count() == 1


# --- thresholds ------------------------------------------------------------------------------

def test_the_minimum_number_of_incidents_is_honoured(cluster):
    configure(min_incidents=4)
    cluster(3)
    assert detect_recurrence().created == []
    cluster(1, start=3)
    [suggestion] = detect_recurrence().created
    assert suggestion.members.count() == 4


def test_a_lower_minimum_makes_two_a_cluster(cluster):
    configure(min_incidents=2)
    cluster(2)
    assert len(detect_recurrence().created) == 1


def test_the_window_is_honoured(log, mail, hardware):
    configure(window_days=3)
    log(UNRELATED[0], service=mail, category=hardware)
    log(UNRELATED[1], days_ago=2, service=mail, category=hardware)
    log(UNRELATED[2], days_ago=4, service=mail, category=hardware)
    assert detect_recurrence().created == []

    configure(window_days=5)
    assert len(detect_recurrence().created) == 1


def test_the_title_similarity_is_honoured(log):
    configure(title_similarity=0.95)
    for title in OUTLOOK[:3]:
        log(title)
    assert detect_recurrence().created == []

    configure(title_similarity=0.5)
    assert len(detect_recurrence().created) == 1


def test_detection_switched_off_does_nothing(cluster):
    configure(active=False)
    cluster(5)

    result = detect_recurrence()

    assert result.skipped and result.created == []
    assert not SuggestedProblem.objects.exists()
    assert detect_recurrence_task() == {"created": 0, "grown": 0, "skipped": True}


def test_the_task_reports_what_it_did(cluster):
    cluster(3)
    assert detect_recurrence_task() == {"created": 1, "grown": 0, "skipped": False}
    cluster(1, start=3)
    assert detect_recurrence_task() == {"created": 0, "grown": 1, "skipped": False}


# --- notifications ---------------------------------------------------------------------------

def suggestion_notes(suggestion):
    return Notification.objects.filter(key__startswith=f"suggested-problem:{suggestion.pk}:")


def test_problem_managers_hear_of_each_suggestion_once(
    cluster, log, problem_manager, agent, manager
):
    UserFactory(username="paula", role=Role.PROBLEM_MANAGER)
    UserFactory(username="gone", role=Role.PROBLEM_MANAGER, is_active=False)
    cluster(3)
    [by_service] = detect_recurrence().created
    cluster(1, start=3)
    detect_recurrence()  # grows: nothing new to tell
    for title in OUTLOOK[:3]:
        log(title)
    [by_title] = detect_recurrence().created
    detect_recurrence()

    for suggestion in (by_service, by_title):
        notes = suggestion_notes(suggestion)
        assert sorted((n.recipient.username, n.channel) for n in notes) == [
            ("paula", "email"), ("paula", "in_app"), ("petra", "email"), ("petra", "in_app")]
        assert {n.subject for n in notes} == {f"Suggested problem: {suggestion.title}"}
    assert "3 recent incidents" in suggestion_notes(by_service).first().body
    assert not Notification.objects.filter(recipient__in=[agent, manager],
                                           key__startswith="suggested-problem:").exists()


def test_without_problem_managers_the_suggestion_is_still_made(cluster):
    cluster(3)
    assert len(detect_recurrence().created) == 1
    assert not Notification.objects.filter(key__startswith="suggested-problem:").exists()


# --- converting ------------------------------------------------------------------------------

def test_converting_a_suggestion_links_its_incidents_and_marks_it_converted(
    cluster, problem_manager, mail, hardware
):
    incidents = cluster(3)
    [suggestion] = detect_recurrence().created

    problem = services.problem_create(by=problem_manager, suggestion=suggestion,
                                      title="Docking stations lose power")

    assert set(problem.links.values_list("incident_id", flat=True)) == {i.pk for i in incidents}
    assert (problem.service, problem.category) == (mail, hardware)
    row = SuggestedProblem.objects.get(pk=suggestion.pk)
    assert (row.status, row.problem) == (SuggestionStatus.CONVERTED, problem)
    assert detect_recurrence().created == []


def test_a_converted_suggestion_does_not_grow(cluster, problem_manager):
    cluster(3)
    [suggestion] = detect_recurrence().created
    services.problem_create(by=problem_manager, suggestion=suggestion)
    cluster(2, start=3)

    result = detect_recurrence()

    assert result.grown == [] and result.created == []
    assert suggestion.members.count() == 3


def test_a_suggestion_is_converted_once(cluster, problem_manager, agent):
    cluster(3)
    [suggestion] = detect_recurrence().created
    problem = services.problem_create(by=problem_manager, suggestion=suggestion)

    with pytest.raises(Conflict):
        services.problem_create(by=agent, suggestion=suggestion)

    assert {link.problem for link in ProblemLink.objects.all()} == {problem}
    assert Problem.objects.count() == 1
    assert SuggestedProblem.objects.get(pk=suggestion.pk).problem == problem


def test_a_dismissed_suggestion_cannot_be_converted(cluster, problem_manager):
    cluster(3)
    [suggestion] = detect_recurrence().created
    services.suggestion_dismiss(suggestion=suggestion, by=problem_manager)

    with pytest.raises(Conflict):
        services.problem_create(by=problem_manager, suggestion=suggestion)

    assert not Problem.objects.exists()



def test_a_service_and_category_a_problem_already_works_on_is_not_suggested_again(
        problem_manager, cluster, mail, hardware):
    """Those incidents belong to that problem: agents link them there instead."""
    services.problem_create(by=problem_manager, title="Mail hardware fails", service=mail,
                            category=hardware)
    cluster(3)
    assert not [s for s in detect_recurrence().created
                if s.basis == ClusterBasis.SERVICE_CATEGORY]
