from datetime import timedelta

from itsm import clock
from itsm.choices import DeliveryStatus
from itsm.models import Heartbeat, Notification

STALE_AFTER = timedelta(minutes=3)
# Beat writes last_run_at only when it syncs its schedule (celery's sync_every, 3 minutes), so a
# healthy beat sending the heartbeat every minute can show a run up to 4 minutes old.
BEAT_STALE_AFTER = timedelta(minutes=5)
# The sweep runs every 30 s: three missed runs mean the SLA clocks are not being watched.
SLA_SWEEP_STALE_AFTER = timedelta(minutes=2)


def background_status() -> dict:
    """When beat last sent the heartbeat and when a worker last ran it."""
    from django_celery_beat.models import PeriodicTask

    now = clock.now()
    worker = Heartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
    beat = (PeriodicTask.objects.filter(task="itsm.tasks.heartbeat")
            .values_list("last_run_at", flat=True).first())

    def describe(seen, stale_after):
        if seen is None:
            return {"alive": False, "last_seen": None}
        return {"alive": now - seen < stale_after, "last_seen": seen.isoformat()}

    sweep = Heartbeat.objects.filter(name="sla_sweep").first()
    sla = describe(sweep and sweep.seen_at, SLA_SWEEP_STALE_AFTER)
    sla["lag_seconds"] = round(sweep.lag.total_seconds(), 1) if sweep and sweep.lag else 0.0
    return {"worker": describe(worker, STALE_AFTER), "beat": describe(beat, BEAT_STALE_AFTER),
            "sla_sweep": sla}


PEOPLE_CANDIDATES = 200


def people_search(text: str, *, agents_only: bool = False, team_id: int | None = None,
                  limit: int = 10):
    """Active people whose name, username or e-mail contain every word of `text`, by name.

    At most PEOPLE_CANDIDATES matches, in no order, are sorted: a LIMIT without ORDER BY lets
    PostgreSQL stop early both ways, through the trigram indexes (itsm.User's Meta) when few
    people match and by scanning when nearly all do. With 100,000 people either takes a few
    milliseconds; with more matches than that the picker asks to type more.
    """
    from django.db.models import Exists, OuterRef, Q

    from itsm.models import Team, User

    people = User.objects.filter(is_active=True)
    for word in text.split()[:4]:
        people = people.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word)
                               | Q(username__icontains=word) | Q(email__icontains=word))
    if agents_only or team_id:
        teams = Team.members.through.objects.filter(user=OuterRef("pk"))
        people = people.filter(Exists(teams.filter(team=team_id) if team_id else teams))
    candidates = people.order_by().values("pk")[:PEOPLE_CANDIDATES]
    return list(User.objects.filter(pk__in=candidates)
                .order_by("first_name", "last_name", "username")[:limit])


INBOX_SIZE = 50
UNREAD_CAP = 99


def _received(user):
    """Messages that reached the person or are on their way: not held back, not withdrawn."""
    return (Notification.objects.filter(recipient=user, due_at__lte=clock.now())
            .exclude(status=DeliveryStatus.CANCELED))


def inbox(user) -> list:
    """The person's latest messages (what the outbox sent or will send them), newest first.

    One row per message: the same message sent in-app and by e-mail (keys differ only in the
    channel) is listed once.
    """
    rows = (_received(user).only("key", "subject", "body", "created_at", "read_at", "status")
            .order_by("-created_at", "-id")[:INBOX_SIZE * 2])
    seen, unique = set(), []
    for row in rows:
        cause = row.key.rsplit(":", 1)[0]
        if cause not in seen:
            seen.add(cause)
            unique.append(row)
    return unique[:INBOX_SIZE]


def unread_count(user) -> int:
    """Unread messages, counted up to UNREAD_CAP + 1 (the badge then says "99+")."""
    unread = _received(user).filter(read_at=None)
    return unread[:UNREAD_CAP + 1].count()
