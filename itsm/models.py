import hashlib

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from timezone_field import TimeZoneField

from itsm import clock
from itsm.choices import Criticality, DeliveryChannel, DeliveryStatus, Tier, Weekday


class User(AbstractUser):
    """A person: requester, agent, manager or admin (by group)."""

    # A ZoneInfo, or None for the site's TIME_ZONE (stored as ""). The field takes its choices
    # from the installed tz database at run time, so a tzdata update needs no migration.
    time_zone = TimeZoneField(max_length=64, blank=True,
                              help_text="Times are shown in this zone; empty = site default.")
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        # The people picker (itsm.selectors.people_search): a trigram index per column finds
        # rare matches; the ordered index stops after ten when nearly everyone matches.
        indexes = [
            *(GinIndex(OpClass(Upper(name), name="gin_trgm_ops"), name=f"user_{name}_trgm")
              for name in ("first_name", "last_name", "username", "email")),
            models.Index(fields=["first_name", "last_name", "username"], name="user_by_name"),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_agent(self) -> bool:
        """Agents, managers and admins work tickets; requesters only see their own."""
        return self.has_perm("incidents.view_incident")


class Team(models.Model):
    """An assignment group, placed in an escalation tier with an optional next tier."""

    name = models.CharField(max_length=100, unique=True)
    email = models.EmailField(blank=True, help_text="Shared mailbox for notifications.")
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    manager = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="managed_teams")
    tier = models.PositiveSmallIntegerField(choices=Tier, default=Tier.L1)
    next_tier = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="previous_tiers",
                                  help_text="Functional escalation goes to this team.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(models.Model):
    """A business service or configuration item that incidents affect."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    owner_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="services")
    criticality = models.PositiveSmallIntegerField(choices=Criticality,
                                                   default=Criticality.BUSINESS_OPERATIONAL)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Notification(models.Model):
    """The outbox: one outbound message, written in the same transaction as its event.

    `key` (event, recipient, channel) makes writing it idempotent. A worker claims a due row
    (compare-and-set on `status`, or SKIP LOCKED in the sweep), sends it, then marks it sent
    if it still holds the claim; failures wait for a later attempt (backoff) until the last,
    then the row is failed. A claim older than the lease is taken back by the sweep, so a
    killed worker or a lost broker message delays a message but never drops it.
    """

    key = models.CharField(max_length=200, unique=True, help_text="event:recipient:channel")
    channel = models.CharField(max_length=20, choices=DeliveryChannel,
                               default=DeliveryChannel.EMAIL)
    recipient = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="notifications")
    address = models.CharField(max_length=500, help_text="Where it goes, as it was when written.")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DeliveryStatus,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    due_at = models.DateTimeField(default=clock.now, help_text="Next attempt not before.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True,
                                   help_text="When the recipient saw it in the desk's list.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep's query: only rows still to deliver, by due time.
            models.Index(fields=["due_at"], name="notification_undelivered",
                         condition=models.Q(status__in=["pending", "sending"])),
            # The header's unread badge and the person's list.
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self):
        return f"{self.subject} → {self.address}"


class Heartbeat(models.Model):
    """Last time a background process proved it was alive (the worker runs the beat's ping)."""

    name = models.CharField(max_length=40, primary_key=True)
    seen_at = models.DateTimeField()
    lag = models.DurationField(null=True, blank=True,
                               help_text="How late the last run started (the SLA sweep).")

    def __str__(self):
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """A person's API key, stored only as its SHA-256: the key itself is shown once, when made.

    The key is 160 random bits, so a plain fast hash is enough (nothing to brute-force); a slow
    password hash would cost every API call. `prefix` lets people and admins tell keys apart.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_token")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class BusinessCalendar(models.Model):
    """When the clock runs: working intervals per weekday and holidays, in the calendar's zone.

    The arithmetic lives in `itsm.business_time`; `version` goes up on every change of the
    calendar, its intervals or its holidays, so cached working times know they are stale.
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = TimeZoneField(max_length=64, default="UTC")
    always_open = models.BooleanField(
        default=False, help_text="24×7: every minute counts (holidays still close it).")
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WorkingInterval(models.Model):
    """One working period of a weekday, in minutes after local midnight; 1440 is 24:00."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE,
                                 related_name="intervals")
    weekday = models.PositiveSmallIntegerField(choices=Weekday)
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_minute__lt=models.F("end_minute"), end_minute__lte=1440),
                name="working_interval_in_day",
                violation_error_message="An interval ends after it starts, at 24:00 at the latest.",
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {minute_label(self.start_minute)}–" \
               f"{minute_label(self.end_minute)}"


class Holiday(models.Model):
    """A date the calendar is closed: the whole day, or from one time to another."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE,
                                 related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=200)
    closed_from_minute = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Part-day: closed from this time (empty: whole day).")
    closed_until_minute = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Part-day: closed until this time (empty: 24:00).")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_one_per_day"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"

    @property
    def closed_minutes(self) -> tuple[int, int]:
        """The closed part of the day, as (from, until) minutes after local midnight."""
        return (self.closed_from_minute or 0,
                1440 if self.closed_until_minute is None else self.closed_until_minute)


def minute_label(minute: int) -> str:
    """420 → "07:00"; 1440 → "24:00"."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


class DeskSettings(models.Model):
    """The desk's own settings: one row (pk 1), edited in the admin."""

    default_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Incidents that no routing rule matches go to this team")

    class Meta:
        verbose_name = verbose_name_plural = "desk settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="desk_settings_one_row",
                                   violation_error_message="The desk has one settings row."),
        ]

    def __str__(self):
        return "Desk settings"

    @classmethod
    def load(cls) -> "DeskSettings":
        """The row, with its default team; an unsaved blank one before anyone saved it (reading
        writes nothing). Not cached: one primary-key read, always current."""
        return (cls.objects.select_related("default_team").filter(pk=1).first()
                or cls(pk=1))

    @property
    def routing_team(self) -> Team | None:
        """The default team while it is active; a deactivated one routes nowhere."""
        team = self.default_team
        return team if team is not None and team.active else None
