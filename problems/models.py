"""Problems (the causes behind incidents), known errors and knowledge articles.

State changes go through the transitions below, called by `problems.services`; `version` is
bumped on every write so stale edits are refused, as for incidents.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from incidents.choices import Level, Priority
from incidents.models import Category, Incident
from itsm import clock
from itsm.models import Service, Team
from problems import rules
from problems.choices import (
    OPEN_PROBLEM_STATES,
    ArticleKind,
    Audience,
    ClusterBasis,
    KnowledgeStatus,
    ProblemEntryKind,
    ProblemState,
    SuggestionStatus,
)

S = ProblemState
SEARCH_CONFIG = "english"


def _weighted(**fields) -> SearchVector:
    """A tsvector of text columns, each with its weight (A counts most in the ranking)."""
    vectors = [SearchVector(name, weight=weight, config=SEARCH_CONFIG)
               for name, weight in fields.items()]
    combined = vectors[0]
    for vector in vectors[1:]:
        combined = combined + vector
    return combined


class Problem(ConcurrentTransitionMixin, models.Model):
    """The unknown (then known) cause of one or more incidents, worked to a permanent fix."""

    number = models.CharField(max_length=16, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="problems")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", limit_choices_to={"parent": None})
    impact = models.CharField(max_length=10, choices=Level, default=Level.MEDIUM)
    urgency = models.CharField(max_length=10, choices=Level, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority, default=Priority.P3)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="problems_owned")
    assignment_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="problems")
    state = FSMField(max_length=20, choices=ProblemState, default=S.NEW, protected=True)
    root_cause = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    permanent_fix = models.TextField(blank=True)
    change_reference = models.CharField(max_length=60, blank=True,
                                        help_text="The change carrying the fix: CHG0001234.")
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates")
    closing_note = models.TextField(blank=True, help_text="Why it was canceled, accepted or "
                                                          "re-analysed, or how it closed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="problems_created")
    opened_at = models.DateTimeField(default=clock.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=clock.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["priority", "opened_at"]
        permissions = [("manage_problem", "Can manage problems and publish knowledge")]
        indexes = [
            models.Index(fields=["state", "priority", "opened_at"], name="prb_state_prio"),
            models.Index(fields=["updated_at", "id"], name="prb_updated"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="prb_title_trgm"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("problems:detail", args=[self.number])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROBLEM_STATES

    # Transitions change only this row; services check input, save, log and notify.
    @transition(state, source=S.NEW, target=S.ASSESSED, permission=rules.can_manage)
    def assess(self):
        pass

    @transition(state, source=S.ASSESSED, target=S.ROOT_CAUSE_ANALYSIS, permission=rules.can_work)
    def analyze(self):
        pass

    @transition(state, source=S.ROOT_CAUSE_ANALYSIS, target=S.FIX_IN_PROGRESS,
                permission=rules.can_work)
    def start_fix(self):
        pass

    @transition(state, source=S.FIX_IN_PROGRESS, target=S.RESOLVED, permission=rules.can_work)
    def resolve(self, *, at):
        self.resolved_at = at

    @transition(state, source=S.RESOLVED, target=S.CLOSED, permission=rules.can_manage)
    def close(self, *, at, note: str):
        self.closed_at = at
        self.closing_note = note

    @transition(state, source=[S.FIX_IN_PROGRESS, S.RESOLVED, S.RISK_ACCEPTED],
                target=S.ROOT_CAUSE_ANALYSIS, permission=rules.can_work)
    def reanalyze(self, *, note: str):
        self.resolved_at = self.closed_at = None
        self.closing_note = note

    @transition(state, source=OPEN_PROBLEM_STATES, target=S.CANCELED, permission=rules.can_manage)
    def cancel(self, *, at, note: str):
        self.closed_at = at
        self.closing_note = note

    @transition(state, source=[S.NEW, S.ASSESSED, S.ROOT_CAUSE_ANALYSIS], target=S.DUPLICATE,
                permission=rules.can_manage)
    def mark_duplicate(self, *, at, of: "Problem"):
        self.duplicate_of = of
        self.closed_at = at

    @transition(state, source=[S.ASSESSED, S.ROOT_CAUSE_ANALYSIS], target=S.RISK_ACCEPTED,
                permission=rules.can_manage)
    def accept_risk(self, *, at, note: str):
        self.closed_at = at
        self.closing_note = note


class Why(models.Model):
    """One question/answer pair of the problem's 5 Whys chain, in order."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveSmallIntegerField()
    question = models.CharField(max_length=300)
    answer = models.TextField(blank=True)

    class Meta:
        ordering = ["problem", "position"]
        verbose_name = "why"
        verbose_name_plural = "5 Whys"
        constraints = [models.UniqueConstraint(fields=["problem", "position"], name="why_position")]

    def __str__(self):
        return f"Why {self.position}: {self.question}"


class ProblemLink(models.Model):
    """An incident caused by the problem; an incident has at most one problem."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="links")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="problem_link")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["problem", "linked_at", "id"]
        indexes = [models.Index(fields=["problem", "linked_at"], name="prb_link_problem")]

    def __str__(self):
        return f"{self.incident_id} → {self.problem_id}"


class ProblemEntry(models.Model):
    """One append-only line of a problem's history (written by `problems.subscribers`)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=ProblemEntryKind)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, help_text="Empty for the system.")
    at = models.DateTimeField()
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    body = models.TextField(blank=True)
    codes = models.JSONField(null=True, blank=True, help_text="Raw values (states, numbers).")
    event_id = models.UUIDField(unique=True, editable=False)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "problem timeline entries"
        indexes = [models.Index(fields=["problem", "at", "id"], name="prb_timeline_at")]

    def __str__(self):
        return f"{self.problem_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Timeline entries are append-only.")
        super().save(*args, **kwargs)


class KnowledgeRecord(models.Model):
    """What known errors and articles share: a number, a status, where they apply, search."""

    number = models.CharField(max_length=16, unique=True, editable=False)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=KnowledgeStatus, default=KnowledgeStatus.DRAFT)
    services = models.ManyToManyField(Service, blank=True, related_name="+")
    categories = models.ManyToManyField(Category, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_published(self) -> bool:
        return self.status == KnowledgeStatus.PUBLISHED


class KnownError(KnowledgeRecord):
    """A problem whose cause (or at least a workaround) is known: what agents apply."""

    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="known_errors")
    symptoms = models.TextField(help_text="What callers and agents see.")
    root_cause = models.TextField(blank=True)
    workaround = models.TextField()
    search = models.GeneratedField(
        expression=_weighted(title="A", symptoms="B", workaround="C", root_cause="D"),
        output_field=SearchVectorField(), db_persist=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            GinIndex(fields=["search"], name="ke_search"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="ke_title_trgm"),
            models.Index(fields=["status", "-updated_at"], name="ke_status"),
        ]

    def get_absolute_url(self):
        return reverse("problems:known-error", args=[self.number])


class Article(KnowledgeRecord):
    """A knowledge article or runbook, written in Markdown (rendered sanitised)."""

    kind = models.CharField(max_length=10, choices=ArticleKind, default=ArticleKind.ARTICLE)
    audience = models.CharField(max_length=10, choices=Audience, default=Audience.AGENTS)
    symptoms = models.TextField(blank=True)
    body = models.TextField(help_text="Markdown.")
    steps = models.TextField(blank=True, help_text="Markdown: the steps to follow, in order.")
    search = models.GeneratedField(
        expression=_weighted(title="A", symptoms="B", body="C", steps="D"),
        output_field=SearchVectorField(), db_persist=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            GinIndex(fields=["search"], name="article_search"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="article_title_trgm"),
            models.Index(fields=["status", "-updated_at"], name="article_status"),
        ]

    def get_absolute_url(self):
        return reverse("problems:article", args=[self.number])


class WorkaroundApplication(models.Model):
    """A known error's workaround applied to an incident (once per pair)."""

    known_error = models.ForeignKey(KnownError, on_delete=models.CASCADE,
                                    related_name="applications")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE,
                                 related_name="workarounds_applied")
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    applied_at = models.DateTimeField()

    class Meta:
        ordering = ["-applied_at"]
        constraints = [models.UniqueConstraint(fields=["known_error", "incident"],
                                               name="workaround_once")]

    def __str__(self):
        return f"{self.known_error_id} on {self.incident_id}"


class ResolvedTitle(models.Model):
    """Each distinct title of a resolved incident once, with the latest incident resolved under
    it: what "similar resolved incidents" searches (`problems.search`). A title shared by
    thousands of incidents is one row, so a common title costs the search no more than a rare
    one. Kept by `problems.subscribers` when an incident is resolved."""

    key = models.CharField(max_length=200, unique=True, help_text="The title, lower-cased.")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    resolved_at = models.DateTimeField()

    class Meta:
        indexes = [GinIndex(fields=["key"], opclasses=["gin_trgm_ops"], name="resolved_title_trgm")]

    def __str__(self):
        return self.key


class RecurrenceSettings(models.Model):
    """The thresholds of recurrence detection (one row, edited in the admin)."""

    active = models.BooleanField(default=True)
    min_incidents = models.PositiveSmallIntegerField(
        default=3, help_text="Incidents without a problem that make a cluster.")
    window_days = models.PositiveSmallIntegerField(default=7,
                                                   help_text="Looking back this many days.")
    title_similarity = models.FloatField(
        default=0.6, help_text="Trigram similarity (0–1) for titles to count as the same.")
    max_title_scan = models.PositiveIntegerField(
        default=2000, help_text="At most this many recent incidents are compared by title.")

    class Meta:
        verbose_name = verbose_name_plural = "recurrence detection settings"
        constraints = [
            models.CheckConstraint(condition=Q(min_incidents__gte=2), name="recurrence_min_2"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="recurrence_window_1"),
            models.CheckConstraint(condition=Q(title_similarity__gt=0, title_similarity__lte=1),
                                   name="recurrence_similarity_range"),
        ]

    def __str__(self):
        return (f"{self.min_incidents}+ incidents in {self.window_days} days"
                f"{'' if self.active else ' (off)'}")

    @classmethod
    def load(cls) -> "RecurrenceSettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()


class SuggestedProblem(models.Model):
    """A cluster of recurring incidents without a problem, offered to problem managers.

    Each incident belongs to at most one suggestion (`SuggestionMember.incident` is unique),
    so a cluster is suggested once: later runs add new incidents to the open suggestion.
    """

    basis = models.CharField(max_length=20, choices=ClusterBasis)
    title = models.CharField(max_length=200)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    status = models.CharField(max_length=10, choices=SuggestionStatus,
                              default=SuggestionStatus.OPEN)
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    incidents = models.ManyToManyField(Incident, through="SuggestionMember", related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["status", "-updated_at"], name="suggestion_status")]

    def __str__(self):
        return self.title


class SuggestionMember(models.Model):
    suggestion = models.ForeignKey(SuggestedProblem, on_delete=models.CASCADE,
                                   related_name="members")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["suggestion", "incident"]

    def __str__(self):
        return f"{self.incident_id} in {self.suggestion_id}"
