"""On-call: schedules (layers, restrictions, overrides, swaps), how people are reached,
escalation policies (the escalation matrix) and the pages they run.

Who is on call is computed, never stored: `oncall.roster` turns a schedule's rows into shifts.
A page stores only what the beat needs (its step, the step's token and due time) and the
policy as it was when the page started (`snapshot`), so editing a policy never changes a page
in flight.
"""

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from timezone_field import TimeZoneField

from incidents.choices import Priority
from itsm import clock
from itsm.choices import Weekday
from itsm.models import minute_label
from oncall.choices import (
    ContactKind,
    MatrixKind,
    PageState,
    SwapState,
    TargetKind,
    TurnKind,
    Urgency,
)

User = settings.AUTH_USER_MODEL


def new_secret() -> str:
    return secrets.token_urlsafe(24)


# --- schedules -------------------------------------------------------------------------------

class Schedule(models.Model):
    """A roster: layers of rotations in one time zone, and overrides on top of them."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey("itsm.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="schedules")
    time_zone = TimeZoneField(max_length=64, default="UTC",
                              help_text="Hand-offs and restrictions are in this zone.")
    description = models.TextField(blank=True)
    feed_token = models.CharField(max_length=64, unique=True, default=new_secret,
                                  editable=False, help_text="Secret of the iCalendar feed URL.")
    version = models.PositiveIntegerField(
        default=1, editable=False,
        help_text="Goes up on every change of the schedule, its layers or its overrides, so "
                  "rosters cached in memory (oncall.selectors) know they are stale.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Layer(models.Model):
    """One rotation: participants take turns of a fixed length from `starts_at`."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField(
        default=1, help_text="Higher layers win where they cover (1 is the bottom).")
    turn = models.CharField(max_length=8, choices=TurnKind, default=TurnKind.WEEKLY)
    length = models.PositiveSmallIntegerField(
        default=1, help_text="For 'every N days/hours': N. Ignored for daily and weekly.")
    starts_at = models.DateTimeField(
        help_text="The first hand-off; its local time is the hand-off time of every turn.")
    ends_at = models.DateTimeField(null=True, blank=True)
    participants = models.ManyToManyField(User, through="LayerMember", related_name="+")

    class Meta:
        ordering = ["schedule", "-level"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "level"], name="layer_level_unique",
                                    violation_error_message="Each layer needs its own level."),
            models.CheckConstraint(condition=Q(length__gte=1), name="layer_length_positive"),
        ]

    def __str__(self):
        return f"{self.schedule}: {self.name}"


class LayerMember(models.Model):
    """A participant of a layer, in turn order."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["layer", "position", "id"]

    def __str__(self):
        return f"{self.position + 1}. {self.user}"


class Restriction(models.Model):
    """A window a layer is active in (local time); a layer without any is active always."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="restrictions")
    weekday = models.PositiveSmallIntegerField(choices=Weekday, null=True, blank=True,
                                               help_text="Empty: every day.")
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField(
        help_text="Before the start: the window runs past midnight into the next day.")

    class Meta:
        ordering = ["layer", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_minute__lt=1440, end_minute__lte=1440, end_minute__gte=1)
                & ~Q(start_minute=F("end_minute")),
                name="restriction_in_day",
                violation_error_message="A window starts and ends at different times of day.",
            ),
        ]

    def __str__(self):
        day = self.get_weekday_display() if self.weekday is not None else "Every day"
        return f"{day} {minute_label(self.start_minute)}–{minute_label(self.end_minute)}"


class Override(models.Model):
    """Someone covers from `starts_at` to `ends_at`, over every layer."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="overrides")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    replaces = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="Who gave the shift away (a swap).")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["schedule", "starts_at"]
        indexes = [models.Index(fields=["schedule", "ends_at"], name="override_schedule_end")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="override_ends_after_start",
                                   violation_error_message="An override ends after it starts."),
        ]

    def __str__(self):
        return f"{self.user} on {self.schedule}"


class ShiftSwap(models.Model):
    """A request to give away part of one's shift; taking it creates an override."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="swaps")
    requested_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=8, choices=SwapState, default=SwapState.OPEN)
    taken_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    override = models.OneToOneField(Override, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="swap")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="swap_ends_after_start",
                                   violation_error_message="A swap ends after it starts."),
        ]

    def __str__(self):
        return f"{self.requested_by}'s shift on {self.schedule}"


# --- reaching people -------------------------------------------------------------------------

class ContactMethod(models.Model):
    """One way to reach a person: in-app, an e-mail address, or an Apprise URL."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=8, choices=ContactKind)
    address = models.CharField(
        max_length=500, blank=True,
        help_text="The e-mail address, or the Apprise URL (e.g. tgram://token/chat, "
                  "msteams://…, json://host/path). Empty for in-app.")
    label = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["user", "kind", "id"]

    def __str__(self):
        return self.label or self.get_kind_display()


class NotificationRule(models.Model):
    """A rung of a person's ladder: for this urgency, use this method this long after a page."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_rules")
    urgency = models.CharField(max_length=4, choices=Urgency, default=Urgency.HIGH)
    delay_minutes = models.PositiveSmallIntegerField(default=0)
    method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")

    class Meta:
        ordering = ["user", "urgency", "delay_minutes", "id"]

    def __str__(self):
        return f"{self.get_urgency_display()}: {self.method} after {self.delay_minutes} min"


# --- escalation policies ---------------------------------------------------------------------

def _paging_priorities():
    return [Priority.P1, Priority.P2]


class EscalationPolicy(models.Model):
    """Ordered steps that page a team's people until someone acknowledges.

    The most specific active policy of the incident's team answers (one naming the incident's
    service before one for all services); `priorities` are the ones that page on their own.
    """

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey("itsm.Team", on_delete=models.CASCADE,
                             related_name="escalation_policies")
    services = models.ManyToManyField("itsm.Service", blank=True, related_name="+",
                                      help_text="Empty: every service of the team.")
    priorities = ArrayField(models.PositiveSmallIntegerField(choices=Priority),
                            default=_paging_priorities, blank=True,
                            help_text="Incidents of these priorities page; others only notify "
                                      "the team.")
    repeat = models.PositiveSmallIntegerField(
        default=1, help_text="Run the steps again this many times before giving up.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["team", "name"]
        verbose_name_plural = "escalation policies"

    def __str__(self):
        return self.name


class EscalationStep(models.Model):
    """Notify these targets, then wait `wait_minutes` for an acknowledgement."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    target = models.CharField(max_length=12, choices=TargetKind, default=TargetKind.SCHEDULE)
    users = models.ManyToManyField(User, blank=True, related_name="+")
    schedule = models.ForeignKey(Schedule, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    team = models.ForeignKey("itsm.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    wait_minutes = models.PositiveSmallIntegerField(default=5)

    class Meta:
        ordering = ["policy", "position", "id"]

    def __str__(self):
        return f"Step {self.position + 1}: {self.get_target_display()}"


class MatrixRule(models.Model):
    """The escalation matrix beyond paging: who is told when (hierarchical), and how often
    the people working an incident post a status update (communication)."""

    kind = models.CharField(max_length=13, choices=MatrixKind)
    priority = models.PositiveSmallIntegerField(choices=Priority)
    after_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Hierarchical: minutes open without resolution. Communication: the cadence; "
                  "empty means at resolution only.")
    at_response_percent = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Hierarchical: or when this share of the response target has elapsed.")
    role = models.CharField(max_length=60, blank=True,
                            help_text="As printed on the matrix, e.g. 'Head of IT'.")
    notify_team_manager = models.BooleanField(
        default=False, help_text="Tell the manager of the incident's team.")
    person = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    alternate = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["kind", "priority", "after_minutes"]

    def __str__(self):
        return f"{self.get_kind_display()} P{self.priority}"


# --- pages -----------------------------------------------------------------------------------

class Page(models.Model):
    """One run of an escalation policy for an incident.

    `step`/`repetition` say where it is; `due_at` is when the next step runs and `token` names
    the current step: a step task carries the token it was scheduled with and does nothing if
    the page has moved on, so a task delivered twice, late, or on two workers fires once.
    """

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE,
                                 related_name="pages")
    policy = models.ForeignKey(EscalationPolicy, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="pages")
    team = models.ForeignKey("itsm.Team", null=True, on_delete=models.SET_NULL, related_name="+")
    snapshot = models.JSONField(help_text="The policy's steps as they were when paging started.")
    urgency = models.CharField(max_length=4, choices=Urgency, default=Urgency.HIGH)
    reason = models.CharField(max_length=300)
    state = models.CharField(max_length=12, choices=PageState, default=PageState.ACTIVE)
    step = models.PositiveSmallIntegerField(default=0)
    repetition = models.PositiveSmallIntegerField(default=0)
    token = models.UUIDField(default=uuid.uuid4, editable=False)
    due_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=clock.now)
    started_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The tick reads only active pages that are due.
            models.Index(fields=["due_at"], condition=Q(state=PageState.ACTIVE),
                         name="page_due"),
            models.Index(fields=["incident", "-started_at"], name="page_incident"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["incident"], condition=Q(state=PageState.ACTIVE),
                                    name="page_one_active_per_incident"),
        ]

    def __str__(self):
        return f"Page {self.pk} for {self.incident_id}"

    @property
    def is_active(self) -> bool:
        return self.state == PageState.ACTIVE


class PageNotice(models.Model):
    """A person notified by one step of one repetition of a page, with their ack link's token.

    Unique per (page, step, repetition, person): a step that runs twice notifies nobody twice.
    """

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="notices")
    step = models.PositiveSmallIntegerField()
    repetition = models.PositiveSmallIntegerField()
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="page_notices")
    why = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=clock.now)
    ack_token = models.CharField(max_length=64, unique=True, default=new_secret,
                                 editable=False)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["page", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["page", "step", "repetition", "user"],
                                    name="page_notice_once"),
        ]

    def __str__(self):
        return f"{self.user} at step {self.step + 1}"


class MatrixNotice(models.Model):
    """A matrix rule that fired for an incident: once per (rule, incident, slot) — slot 0 for a
    hierarchical rule, the n-th interval for a status-update cadence."""

    rule = models.ForeignKey(MatrixRule, on_delete=models.CASCADE, related_name="notices")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE,
                                 related_name="+")
    slot = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "incident", "slot"],
                                               name="matrix_notice_once")]

    def __str__(self):
        return f"{self.rule} for {self.incident_id} ({self.slot})"
