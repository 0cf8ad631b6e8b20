from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Upper
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents import rules
from incidents.choices import (
    ACTIVE_STAGES,
    OPEN_STATES,
    PUBLIC_KINDS,
    Channel,
    ClockStage,
    EntryKind,
    HoldReason,
    LedgerAction,
    Level,
    Priority,
    ResolutionCode,
    SlaKind,
    SlaTarget,
    State,
)
from itsm import clock
from itsm.choices import Tier
from itsm.models import BusinessCalendar, Service, Team

OPEN = Q(state__in=OPEN_STATES)
DONE = Q(state__in=[State.RESOLVED, State.CLOSED])


class Category(models.Model):
    """Category › subcategory taxonomy (two levels: a subcategory has a parent)."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", limit_choices_to={"parent": None})
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["parent__name", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name",
                                    nulls_distinct=False),
        ]

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.parent_id and self.parent.parent_id:
            raise ValidationError({"parent": "Subcategories cannot have subcategories."})


class PriorityMatrix(models.Model):
    """One cell of the impact × urgency → priority grid."""

    impact = models.CharField(max_length=10, choices=Level)
    urgency = models.CharField(max_length=10, choices=Level)
    priority = models.PositiveSmallIntegerField(choices=Priority)

    class Meta:
        verbose_name = "priority matrix cell"
        verbose_name_plural = "priority matrix"
        constraints = [
            models.UniqueConstraint(fields=["impact", "urgency"], name="priority_matrix_cell"),
        ]

    def __str__(self):
        return f"{self.get_impact_display()} impact × {self.get_urgency_display()} urgency"


class RoutingRule(models.Model):
    """Category and/or service → default assignment team; the lowest position that matches wins."""

    position = models.PositiveIntegerField(default=100, db_index=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routing_rules")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False) | Q(service__isnull=False),
                name="routing_rule_matches_something",
                violation_error_message="A rule needs a category, a service or both.",
            ),
        ]

    def __str__(self):
        what = " + ".join(str(x) for x in (self.category, self.service) if x)
        return f"{what} → {self.team}"


class Incident(ConcurrentTransitionMixin, models.Model):
    """An unplanned interruption or degradation of a service, worked through its lifecycle.

    The state only changes through the transitions below, called by `incidents.services`.
    `version` is bumped on every write so stale edits are refused (optimistic concurrency).
    """

    number = models.CharField(max_length=16, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="incidents_called")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="incidents_reported")
    channel = models.CharField(max_length=12, choices=Channel, default=Channel.WEB)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    subcategory = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    impact = models.CharField(max_length=10, choices=Level, default=Level.MEDIUM)
    urgency = models.CharField(max_length=10, choices=Level, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority, default=Priority.P3)
    priority_override_reason = models.CharField(max_length=300, blank=True,
                                                help_text="Set when a manager overrode the matrix.")
    assignment_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="incidents")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="incidents_assigned")
    escalation_tier = models.PositiveSmallIntegerField(choices=Tier, default=Tier.L1)
    state = FSMField(max_length=12, choices=State, default=State.NEW, protected=True)
    hold_reason = models.CharField(max_length=20, choices=HoldReason, blank=True)
    resolution_code = models.CharField(max_length=20, choices=ResolutionCode, blank=True)
    resolution_notes = models.TextField(blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)  # set by the services, from the clock
    reopen_count = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    # Kept by the SLA clocks (incidents.sla), for the queue: the nearest deadline of a running
    # SLA clock, and when the first SLA target was breached.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    # On hold: when to remind whoever works it (cleared once the reminder is on the timeline).
    follow_up_at = models.DateTimeField(null=True, blank=True)
    # The lifecycle position of the state, so "sort by state" reads new → canceled off an index.
    state_rank = models.GeneratedField(
        expression=Case(*(When(state=s, then=Value(rank)) for rank, s in enumerate(State)),
                        default=Value(9)),
        output_field=models.PositiveSmallIntegerField(), db_persist=True)

    class Meta:
        ordering = ["priority", "opened_at"]
        permissions = [
            ("override_priority", "Can override the computed priority"),
            ("work_any_incident", "Can work incidents of any team"),
            ("view_sla_dashboard", "Can see the SLA dashboard"),
        ]
        # Partial indexes serve the queue's views in their default order (priority, age).
        indexes = [
            models.Index(fields=["priority", "opened_at"], condition=OPEN, name="inc_open_prio"),
            models.Index(fields=["assignment_team", "priority", "opened_at"], condition=OPEN,
                         name="inc_open_team_prio"),
            models.Index(fields=["assignee", "priority", "opened_at"], condition=OPEN,
                         name="inc_open_assignee_prio"),
            models.Index(fields=["priority", "opened_at"], condition=OPEN & Q(assignee=None),
                         name="inc_open_unassigned_prio"),
            models.Index(fields=["-resolved_at"], condition=DONE, name="inc_recently_resolved"),
            models.Index(fields=["caller", "-opened_at"], name="inc_caller"),
            # Every sort the queue and the API offer, ties broken by id (filters.SORTS).
            models.Index(fields=["opened_at", "id"], name="inc_opened"),
            models.Index(fields=["updated_at", "id"], name="inc_updated"),
            models.Index(fields=["priority", "id"], name="inc_priority"),
            models.Index(fields=["state", "opened_at", "id"], name="inc_state"),
            models.Index(fields=["state_rank", "opened_at", "id"], name="inc_state_rank"),
            # The open views sorted by state: the whole-table index would first skip the
            # closed and canceled ones when sorting backwards.
            models.Index(fields=["state_rank", "opened_at", "id"], condition=OPEN,
                         name="inc_open_state_rank"),
            models.Index(fields=["title", "id"], name="inc_title"),
            models.Index(fields=["follow_up_at"], condition=Q(follow_up_at__isnull=False),
                         name="inc_follow_up"),
            models.Index(fields=["resolved_at", "id"], name="inc_resolved"),
            models.Index(fields=["assignment_team", "opened_at"], name="inc_team"),
            models.Index(fields=["assignee", "opened_at"], name="inc_assignee"),
            models.Index(fields=["state", "resolved_at"], name="inc_state_resolved"),
            models.Index(fields=["acknowledged_at"], name="inc_acknowledged"),  # MTTA
            # The share resolved with a known error's workaround (problems.selectors), counted
            # from the index alone.
            models.Index(fields=["resolved_at"], include=["resolution_code"], condition=DONE,
                         name="inc_done_resolution_code"),
            # "Breaching soon", sorting by time to breach, and "Breached".
            models.Index(fields=["sla_due_at", "id"], name="inc_sla_due"),
            models.Index(fields=["priority", "opened_at"],
                         condition=OPEN & Q(sla_breached_at__isnull=False),
                         name="inc_open_breached"),
            # Free-text search on the title with ILIKE '%…%' needs a trigram index.
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="inc_title_trgm"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("incidents:detail", args=[self.number])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # Transitions change only this row's fields; services save, log and notify.
    @transition(state, source=State.NEW, target=State.IN_PROGRESS, permission=rules.can_work)
    def acknowledge(self, *, at):
        self.acknowledged_at = self.acknowledged_at or at

    @transition(state, source=State.IN_PROGRESS, target=State.ON_HOLD, permission=rules.can_work)
    def hold(self, *, reason: HoldReason):
        self.hold_reason = reason

    @transition(state, source=State.ON_HOLD, target=State.IN_PROGRESS, permission=rules.can_work)
    def resume(self):
        self.hold_reason = ""

    @transition(state, source=State.IN_PROGRESS, target=State.RESOLVED, permission=rules.can_work)
    def resolve(self, *, at, code: ResolutionCode, notes: str):
        self.resolved_at = at
        self.resolution_code = code
        self.resolution_notes = notes

    @transition(state, source=State.RESOLVED, target=State.CLOSED,
                permission=rules.can_work_or_is_caller)
    def close(self, *, at):
        self.closed_at = at

    @transition(state, source=State.RESOLVED, target=State.IN_PROGRESS,
                permission=rules.can_work_or_is_caller)
    def reopen(self):
        self.reopen_count += 1
        self.resolved_at = None
        self.resolution_code = ""
        self.resolution_notes = ""

    @transition(state, source=OPEN_STATES, target=State.CANCELED, permission=rules.can_work)
    def cancel(self, *, at, reason: str):
        self.closed_at = at
        self.cancel_reason = reason
        self.hold_reason = ""


class TimelineEntry(models.Model):
    """One append-only line of an incident's history: who did what, when, from what to what.

    Written by the timeline subscriber, one row per incident event. `old_value`/`new_value`
    are what people read ("In progress"); `from_state`/`to_state` and `old_code`/`new_code` are
    the raw values ("in_progress", priority 2, {"team": 3, "assignee": 7}), so metrics and
    reviews can be computed from the timeline alone.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=EntryKind)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, help_text="Empty for the system.")
    at = models.DateTimeField(db_index=True)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    from_state = models.CharField(max_length=12, choices=State, blank=True)
    to_state = models.CharField(max_length=12, choices=State, blank=True)
    old_code = models.JSONField(null=True, blank=True)
    new_code = models.JSONField(null=True, blank=True)
    body = models.TextField(blank=True)
    event_id = models.UUIDField(null=True, blank=True, unique=True, editable=False,
                                help_text="The event this row records (empty before events).")

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["incident", "at", "id"], name="timeline_incident_at")]

    def __str__(self):
        return f"{self.incident_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Timeline entries are append-only.")
        super().save(*args, **kwargs)

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_KINDS


def _default_pause_states():
    return [State.ON_HOLD]


def _default_warnings():
    return [75, 90]


class SlaPolicy(models.Model):
    """Response and resolution targets for the incidents it matches; the lowest position wins.

    Edited in the admin; every save is snapshotted as a new `SlaPolicyVersion` (through
    `incidents.sla.policy_save`), and clocks keep the version they started with.
    """

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=3, choices=SlaKind, default=SlaKind.SLA)
    position = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(choices=Priority, null=True, blank=True,
                                                help_text="Empty: any priority.")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT,
                                help_text="Empty: any service.")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"parent": None},
                                 help_text="Empty: any category.")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                             help_text="Empty: any team (for an OLA: the team holding it).")
    response_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business minutes to the first acknowledgement.")
    response_calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    resolution_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Business minutes to resolution.")
    resolution_calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    pause_states = ArrayField(models.CharField(max_length=12, choices=State),
                              default=_default_pause_states, blank=True,
                              help_text="The clock stops while the incident is in these states.")
    warn_percents = ArrayField(models.PositiveSmallIntegerField(), default=_default_warnings,
                               blank=True, help_text="Warn when this share of the business "
                                                     "time is used, e.g. 75, 90.")
    version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["kind", "position", "id"]
        verbose_name = "SLA / OLA policy"
        verbose_name_plural = "SLA / OLA policies"

    def __str__(self):
        return f"{self.get_kind_display()} {self.name}"


class SlaPolicyVersion(models.Model):
    """A policy as it was from `valid_from` to `valid_until`: what matching at an instant reads."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    terms = models.JSONField(help_text="The policy's fields, as saved.")

    class Meta:
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="sla_policy_version"),
        ]

    def __str__(self):
        return f"{self.terms.get('name', self.policy_id)} v{self.number}"


class SlaClock(models.Model):
    """One target of one incident: its due time, stored when it changes and never on read.

    Kept incrementally by `incidents.sla` from the incident's events; `incidents.sla.replay`
    derives the same clock from the timeline alone (`check_slas --verify`).
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=3, choices=SlaKind)
    target = models.CharField(max_length=10, choices=SlaTarget)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text="The team an OLA measures.")
    policy_version = models.ForeignKey(SlaPolicyVersion, on_delete=models.PROTECT,
                                       related_name="clocks")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    duration = models.DurationField(help_text="The target, in business time.")
    started_at = models.DateTimeField()
    stage = models.CharField(max_length=10, choices=ClockStage, default=ClockStage.RUNNING)
    pauses = models.JSONField(default=list, blank=True,
                              help_text="[[from, until], …]; until is empty while paused.")
    paused_for = models.DurationField(help_text="Business time spent paused, so far.")
    due_at = models.DateTimeField(null=True, blank=True, help_text="Empty while paused.")
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    warned = models.PositiveSmallIntegerField(default=0,
                                              help_text="How many warning levels were sent.")
    next_check_at = models.DateTimeField(null=True, blank=True,
                                         help_text="The next warning or the due time.")

    class Meta:
        ordering = ["incident", "id"]
        verbose_name = "SLA clock"
        indexes = [
            # The sweep reads only clocks whose next threshold has passed.
            models.Index(fields=["next_check_at"], condition=Q(next_check_at__isnull=False),
                         name="clock_next_check"),
            # The dashboard counts clocks by when they were decided (index-only scans).
            models.Index(fields=["stopped_at"], include=["kind", "target", "team", "incident"],
                         condition=Q(stage="met"), name="clock_met"),
            models.Index(fields=["breached_at"], include=["kind", "target", "team", "incident"],
                         condition=Q(stage="breached"), name="clock_breached_at"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.get_target_display()} of {self.incident_id}"

    @property
    def is_active(self) -> bool:
        return self.stage in ACTIVE_STAGES


class SlaLedgerEntry(models.Model):
    """Why a clock says what it says: one row per change, with the due time before and after."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="ledger")
    at = models.DateTimeField()
    action = models.CharField(max_length=12, choices=LedgerAction)
    reason = models.TextField()
    old_due_at = models.DateTimeField(null=True, blank=True)
    new_due_at = models.DateTimeField(null=True, blank=True)
    skipped = models.JSONField(default=list, blank=True,
                               help_text="Closed days and pauses the due time was pushed past.")

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "SLA ledger entries"

    def __str__(self):
        return f"{self.clock} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class SavedFilter(models.Model):
    """A person's named queue filter: the query string of the queue, pinned beside the views."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="saved_filters")
    name = models.CharField(max_length=40)
    query = models.CharField(max_length=1000, help_text="The queue's query string.")
    pinned = models.BooleanField(default=True, help_text="Shown as a tab beside the views.")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"],
                                               name="saved_filter_unique_name")]

    def __str__(self):
        return f"{self.name} ({self.owner})"

    def get_absolute_url(self):
        return f"{reverse('incidents:queue')}?{self.query}"
