"""The demo's problem management: the whole loop is there, told through the services at past
instants, and running the seed again adds nothing."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from incidents.choices import HoldReason, ResolutionCode, State
from incidents.models import Incident, TimelineEntry
from itsm.choices import Role
from itsm.models import User
from problems import services
from problems.choices import Audience, KnowledgeStatus, ProblemEntryKind, ProblemState
from problems.models import (
    Article,
    KnownError,
    Problem,
    ProblemEntry,
    SuggestedProblem,
    WorkaroundApplication,
)

pytestmark = pytest.mark.django_db
PROBLEM_MODELS = (Problem, ProblemEntry, KnownError, Article, WorkaroundApplication,
                  SuggestedProblem)


def seed_demo(incidents):
    out = StringIO()
    call_command("seed_demo", incidents=incidents, stdout=out)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count()
            for model in (*PROBLEM_MODELS, Incident, TimelineEntry)}


def assert_incident_timelines_run_forward(incidents):
    """Every line written after the ones before it, and the last write stamped updated_at."""
    for incident in incidents:
        entries = list(incident.timeline.order_by("id"))
        moments = [e.at for e in entries]
        assert moments == sorted(moments), incident.number
        written = [e.at for e in entries if e.kind not in ("sla", "page")]
        assert abs((incident.updated_at - written[-1]).total_seconds()) < 5, incident.number


def test_seed_demo_shows_the_problem_loop_end_to_end():
    started = timezone.now()
    out = seed_demo(incidents=100)

    nora = User.objects.get(username="problems")
    assert nora.groups.filter(name=Role.PROBLEM_MANAGER).exists() and nora.check_password(
        "problems")
    assert "problems   password: problems" in out

    vpn = Problem.objects.get(state=ProblemState.FIX_IN_PROGRESS)
    assert vpn.number.startswith("PRB") and vpn.created_by == nora
    assert vpn.root_cause and vpn.workaround and vpn.permanent_fix
    assert vpn.change_reference == "CHG0004410"
    assert [w.position for w in vpn.whys.all()] == [1, 2, 3, 4, 5]
    assert all(w.answer for w in vpn.whys.all())
    linked = Incident.objects.filter(problem_link__problem=vpn)
    assert linked.count() >= 4
    assert set(linked.values_list("service__name", flat=True)) == {"Corporate VPN"}
    assert services.awaiting_incidents(vpn).exists()  # work for "resolve linked incidents"
    kinds = set(vpn.timeline.values_list("kind", flat=True))
    assert {ProblemEntryKind.CREATED, ProblemEntryKind.TRANSITION, ProblemEntryKind.WHYS,
            ProblemEntryKind.FIELD_CHANGE, ProblemEntryKind.LINKED,
            ProblemEntryKind.KNOWN_ERROR, ProblemEntryKind.NOTE} <= kinds
    # Backdated: the problem was raised days ago and worked since, never in the future.
    assert vpn.opened_at < started - timedelta(days=5)
    assert not ProblemEntry.objects.filter(at__gt=started).exists()

    known_error = KnownError.objects.get(problem=vpn)
    assert known_error.status == KnowledgeStatus.PUBLISHED
    assert known_error.published_at > known_error.created_at
    application = known_error.applications.get()
    helped = application.incident
    assert helped.state == State.RESOLVED
    assert helped.resolution_code == ResolutionCode.KNOWN_ERROR
    assert helped.problem_link.problem == vpn
    assert application.applied_at > known_error.published_at
    assert_incident_timelines_run_forward(linked)

    statuses = dict(KnownError.objects.values_list("status").annotate(n=Count("id")))
    assert statuses[KnowledgeStatus.PUBLISHED] >= 4
    assert statuses[KnowledgeStatus.DRAFT] == statuses[KnowledgeStatus.RETIRED] == 1
    articles = Article.objects.all()
    assert 6 <= articles.count() <= 8
    assert articles.filter(status=KnowledgeStatus.DRAFT).count() == 1
    assert {Audience.AGENTS, Audience.EVERYONE} <= set(articles.values_list("audience",
                                                                            flat=True))
    assert articles.filter(body__contains="```", steps__contains="1. ").exists()
    assert articles.filter(body__contains="| --- |").exists()

    others = dict(Problem.objects.exclude(pk=vpn.pk).values_list("state", "number"))
    assert set(others) == {ProblemState.NEW, ProblemState.ROOT_CAUSE_ANALYSIS}
    analysed = Problem.objects.get(number=others[ProblemState.ROOT_CAUSE_ANALYSIS])
    answers = [w.answer for w in analysed.whys.all()]
    assert any(answers) and not all(answers)

    assert SuggestedProblem.objects.exists()  # recurrence detection ran once


def test_seed_demo_twice_adds_no_problems():
    seed_demo(incidents=24)
    before = counts()

    seed_demo(incidents=24)

    assert counts() == before


def test_a_demo_loaded_before_problems_gets_them_once():
    seed_demo(incidents=40)
    for model in (WorkaroundApplication, SuggestedProblem, KnownError, Article, Problem):
        model.objects.all().delete()
    held = Incident.objects.filter(state=State.ON_HOLD, hold_reason=HoldReason.AWAITING_PROBLEM)
    already_held = held.count()

    seed_demo(incidents=40)

    assert Problem.objects.count() == 3 and KnownError.objects.count() == 7
    assert held.count() >= already_held
    assert_incident_timelines_run_forward(
        Incident.objects.filter(problem_link__isnull=False))
    before = counts()
    seed_demo(incidents=40)
    assert counts() == before
