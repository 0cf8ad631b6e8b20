import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from incidents import services
from incidents.choices import State
from incidents.models import Incident, TimelineEntry
from itsm.demo import catalog
from itsm.models import Notification, Team, User

pytestmark = pytest.mark.django_db


def seed_demo(incidents=24):
    out = StringIO()
    call_command("seed_demo", incidents=incidents, stdout=out)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count()
            for model in (User, Team, Incident, TimelineEntry, Notification)}


def assert_timestamps_agree(incidents):
    now = timezone.now()
    assert not incidents.filter(
        Q(acknowledged_at__lt=F("opened_at")) | Q(resolved_at__lt=F("acknowledged_at"))
        | Q(closed_at__lt=F("opened_at")) | Q(updated_at__lt=F("opened_at"))
        | Q(updated_at__gt=now) | Q(opened_at__gt=now)
    ).exists()
    done = incidents.filter(state__in=[State.RESOLVED, State.CLOSED])
    assert not done.filter(Q(resolved_at=None) | Q(acknowledged_at=None)
                           | Q(resolution_code="")).exists()
    assert not incidents.filter(state=State.CLOSED, closed_at=None).exists()
    assert not incidents.filter(state__in=[State.NEW, State.IN_PROGRESS, State.ON_HOLD],
                                closed_at__isnull=False).exists()
    assert not incidents.filter(state=State.NEW, acknowledged_at__isnull=False).exists()
    assert not incidents.filter(state=State.ON_HOLD, hold_reason="").exists()


def test_seed_demo_creates_the_printed_logins():
    out = seed_demo()

    for login, password, role in catalog.LOGINS:
        user = User.objects.get(username=login)
        assert user.check_password(password)
        assert user.groups.filter(name=role).exists()
        assert f"{login:<10} password: {password}" in out
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert User.objects.get(username="agent").teams.filter(name="Service Desk").exists()


def test_seed_demo_builds_the_organisation():
    seed_demo(incidents=0)

    desk = Team.objects.get(name="Service Desk")
    assert desk.tier == 1 and desk.manager.username == "manager"
    assert desk.next_tier.tier == 2 and desk.next_tier.next_tier.tier == 3
    assert not Team.objects.filter(manager=None).exists()
    assert Team.objects.filter(tier=3).count() == 2


def test_seed_demo_works_incidents_into_every_state_through_the_services():
    seed_demo()

    assert set(Incident.objects.values_list("state", flat=True)) == set(State.values)
    # Every incident starts with the entry incident_create writes; work leaves more.
    assert Incident.objects.annotate(
        created=Count("timeline", filter=Q(timeline__kind="created"))
    ).filter(created=1).count() == 24
    kinds = set(TimelineEntry.objects.values_list("kind", flat=True))
    assert {"created", "transition", "assignment", "comment", "work_note"} <= kinds


def test_seed_demo_spreads_a_consistent_history_over_the_last_30_days():
    started = timezone.now()
    seed_demo(incidents=60)

    incidents = Incident.objects.all()
    assert_timestamps_agree(incidents)
    oldest = incidents.order_by("opened_at").first().opened_at
    assert started - timedelta(days=31) < oldest < started - timedelta(days=10)
    for incident in incidents.prefetch_related("timeline"):
        entries = sorted(incident.timeline.all(), key=lambda e: e.id)
        moments = [e.at for e in entries]
        assert moments == sorted(moments), incident.number
        assert incident.opened_at <= moments[0] < incident.opened_at + timedelta(seconds=5)
        assert moments[-1] <= started
        # The last write stamps updated_at and the last entry within the same step (the SLA
        # sweep's breach entries and the demo pages' lines are the system's notes, not writes
        # of the incident).
        written = [e.at for e in entries if e.kind not in ("sla", "page")]
        assert abs(incident.updated_at - written[-1]) < timedelta(seconds=5)
        if incident.resolved_at:
            resolved = [e.at for e in entries if e.new_value == "Resolved"]
            assert incident.resolved_at == pytest.approx(resolved[-1], abs=timedelta(seconds=1))


def test_seed_demo_sends_no_mail_for_its_backdated_history_but_gives_addresses():
    seed_demo()

    # Only the demo's on-call pages notify, as live pages do.
    assert Notification.objects.exclude(key__startswith="page:").count() == 0
    assert User.objects.get(username="agent").email == "agent@example.com"


def test_seed_demo_twice_adds_nothing():
    seed_demo()
    before = counts()

    out = seed_demo()

    assert counts() == before
    assert "already loaded" in out
    assert "agent      password: agent" in out


def test_seed_scale_adds_numbered_incidents_with_consistent_timestamps():
    seed_demo(incidents=6)
    existing = set(Incident.objects.values_list("pk", flat=True))
    out = StringIO()

    call_command("seed_scale", incidents=2000, batch=700, callers=50, stdout=out)

    added = Incident.objects.exclude(pk__in=existing)
    assert added.count() == 2000
    numbers = list(Incident.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) == 2006
    assert all(re.fullmatch(r"INC\d{7,}", n) for n in numbers)
    assert_timestamps_agree(added)
    assert "2,000 incidents" in out.getvalue() and "per second" in out.getvalue()
    # The sequence moved on: the next incident logged by hand gets a fresh number.
    agent = User.objects.get(username="agent")
    assert services.incident_create(by=agent, title="After the load").number not in numbers


def test_seed_scale_follows_the_desk_distribution():
    seed_demo(incidents=0)

    call_command("seed_scale", incidents=2000, callers=50, stdout=StringIO())

    share = {row["state"]: row["n"] / 2000
             for row in Incident.objects.values("state").annotate(n=Count("id"))}
    assert set(share) == set(State.values)
    assert 0.40 < share[State.CLOSED] < 0.56 and 0.05 < share[State.NEW] < 0.15
    priorities = Incident.objects.values("priority").annotate(n=Count("id"))
    low = sum(p["n"] for p in priorities if p["priority"] >= 3)
    assert low > 1400  # skewed toward P3/P4
    # Assignees belong to the team that holds the incident; teams and services are spread.
    members = {(t.pk, u.pk) for t in Team.objects.all() for u in t.members.all()}
    pairs = set(Incident.objects.filter(assignee__isnull=False)
                .values_list("assignment_team", "assignee"))
    assert pairs <= members
    assert Incident.objects.values("assignment_team").distinct().count() >= 5
    assert Incident.objects.values("service").distinct().count() >= 10
    assert Incident.objects.values("caller").distinct().count() >= 40


def test_seed_scale_can_write_the_created_entries():
    seed_demo(incidents=0)

    call_command("seed_scale", incidents=300, timeline=True, callers=30, stdout=StringIO())

    entries = TimelineEntry.objects.filter(kind="created")
    assert entries.count() == 300
    assert not entries.exclude(at=F("incident__opened_at")).exists()
    assert not entries.exclude(actor=F("incident__reported_by")).exists()


def test_seed_demo_gives_clocks_that_equal_their_replay():
    from incidents.models import Incident, SlaClock
    from incidents.sla.services import clocks_verify

    seed_demo(incidents=80)

    stages = set(SlaClock.objects.values_list("stage", flat=True))
    assert {"met", "breached", "running"} <= stages
    assert SlaClock.objects.filter(kind="ola").exists()
    assert clocks_verify(incidents=Incident.objects.all()) == []


def test_seed_scale_gives_every_incident_its_sla_clocks():
    from incidents.models import Incident, SlaClock

    seed_demo(incidents=0)  # so every incident is a scale one
    call_command("seed_scale", incidents=500, callers=30, stdout=StringIO())
    assert SlaClock.objects.count() == 2 * Incident.objects.count() == 1000
    assert not SlaClock.objects.filter(stage="breached", breached_at=None).exists()
    assert not SlaClock.objects.filter(stage="met", stopped_at=None).exists()
    assert all(c.pauses[-1][1] is None for c in SlaClock.objects.filter(stage="paused"))
    running = SlaClock.objects.filter(stage="running")
    assert running.exists() and not running.filter(next_check_at=None).exists()
    assert Incident.objects.filter(state="new", sla_due_at__isnull=False).exists()
