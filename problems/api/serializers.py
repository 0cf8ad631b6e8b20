"""API shapes for problems, known errors, articles and suggestions.

Serializers only parse and present; every write goes through `problems.services`. Records are
named by their numbers (PRB…, KE…, KB…, INC…) in addresses and bodies alike. Errors stay flat
(`{"field": ["message"]}`), lists included: a bad item is named in the field's message.
"""

import re

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from incidents.choices import Level, Priority
from incidents.models import Category, Incident
from incidents.selectors import incidents_visible_to
from itsm.api import StrictModelSerializer, StrictPrimaryKeyRelatedField, version_field
from itsm.exceptions import ServiceError
from itsm.models import Service, Team, User
from itsm.numbers import MAX_ID
from problems import guards
from problems.choices import ProblemState
from problems.models import (
    Article,
    KnownError,
    Problem,
    ProblemEntry,
    WorkaroundApplication,
)
from problems.services import EDITABLE_FIELDS, MAX_LINKS_AT_ONCE

MAX_ANSWER = 10000
MAX_WHYS_SENT = 100  # empty pairs are dropped by the service, which allows MAX_WHYS
MAX_NOTE = 2000


def parse_number(value, prefix: str) -> str | None:
    """A record number (PRB0000001, any case) from outside, or None when it cannot be one."""
    if not isinstance(value, str):
        return None
    value = value.strip().upper()
    return value if re.fullmatch(rf"{prefix}\d{{7,13}}", value) else None


def _shown(value) -> str:
    """A bad value, short enough to quote in a message."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 24 else f"{text[:24]}…"


def _users():
    return User.objects.filter(is_active=True)


def _url(serializer, basename: str, number: str) -> str:
    # The list's address once per response, not a URL reversal per row.
    key = f"{basename}_url"
    if key not in serializer.context:
        serializer.context[key] = serializer.context["request"].build_absolute_uri(
            reverse(f"api:{basename}-list"))
    return f"{serializer.context[key]}{number}/"


# --- fields ----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class NumberRelatedField(serializers.SlugRelatedField):
    """One record named by its number; anything that cannot be one is refused before a query."""

    default_error_messages = {
        "invalid": "Must be a {kind} number, like {example}.",
        "does_not_exist": "There is no {kind} {number}.",
    }

    def __init__(self, *, prefix: str, kind: str, **kwargs):
        self.prefix, self.kind = prefix, kind
        super().__init__(slug_field="number", **kwargs)

    def to_internal_value(self, data):
        number = parse_number(data, self.prefix)
        if number is None:
            self.fail("invalid", kind=self.kind, example=f"{self.prefix}0000001")
        found = self.get_queryset().filter(number=number).first()
        if found is None:
            self.fail("does_not_exist", kind=self.kind, number=number)
        return found


class VisibleIncidentField(NumberRelatedField):
    """An incident the requesting user may see, by number."""

    def __init__(self, **kwargs):
        super().__init__(prefix="INC", kind="incident", **kwargs)

    def get_queryset(self):
        return incidents_visible_to(self.context["request"].user)


class IncidentNumbersField(serializers.ListField):
    """A list of incident numbers → the incidents, in order, once each.

    Every number that is not a visible incident is named in one message.
    """

    child = serializers.CharField(help_text="An incident number, like INC0000001.")
    default_error_messages = {
        "not_a_list": "Expected a list of incident numbers, like [\"INC0000001\"].",
        "unknown": "No such incidents: {numbers}.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_LINKS_AT_ONCE)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        if not self.allow_empty and not data:
            self.fail("empty")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        numbers, bad = [], []
        for item in data:
            number = parse_number(item, "INC")
            if number is None:
                bad.append(_shown(item))
            elif number not in numbers:
                numbers.append(number)
        found = {i.number: i for i in incidents_visible_to(self.context["request"].user)
                 .filter(number__in=numbers)}
        bad += [number for number in numbers if number not in found]
        if bad:
            self.fail("unknown", numbers=", ".join(bad))
        return [found[number] for number in numbers]

    def to_representation(self, data):
        return [incident.number for incident in data]


class WhySerializer(serializers.Serializer):
    """One step of the 5 Whys: a question and its answer."""

    question = serializers.CharField(max_length=300, allow_blank=True, required=False,
                                     default="")
    answer = serializers.CharField(max_length=MAX_ANSWER, allow_blank=True, required=False,
                                   default="")


@extend_schema_field(WhySerializer(many=True))
class WhysField(serializers.Field):
    """The 5 Whys chain as a list of {question, answer}; the first bad step is named."""

    default_error_messages = {
        "not_a_list": "Expected a list of {{\"question\": …, \"answer\": …}}.",
        "too_many": f"At most {MAX_WHYS_SENT} steps.",
        "step": "Why {index}: {message}",
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_WHYS_SENT:
            self.fail("too_many")
        chain = []
        for index, item in enumerate(data, start=1):
            step = WhySerializer(data=item)
            if not step.is_valid():
                name, messages = next(iter(step.errors.items()))
                message = messages[0] if isinstance(messages, list) else messages
                if name != "non_field_errors":
                    message = f"{name}: {message}"
                self.fail("step", index=index, message=message)
            chain.append((step.validated_data["question"], step.validated_data["answer"]))
        return chain

    def to_representation(self, value):
        return [{"question": q, "answer": a} for q, a in value]


# --- problems --------------------------------------------------------------------------------


class ProblemSerializer(serializers.ModelSerializer):
    """A problem as the API shows it.

    The state and its timestamps are read-only: they change through the transition endpoints.
    `available_transitions` lists what the requesting user may do now (names; the endpoints'
    addresses use dashes: `start_fix` is `POST …/start-fix/`).
    """

    url = serializers.SerializerMethodField()
    service_name = serializers.CharField(source="service", read_only=True, default=None)
    category_name = serializers.CharField(source="category", read_only=True, default=None)
    owner_name = serializers.CharField(source="owner", read_only=True, default=None)
    assignment_team_name = serializers.CharField(source="assignment_team", read_only=True,
                                                 default=None)
    state_display = serializers.SerializerMethodField()
    priority_display = serializers.SerializerMethodField()
    duplicate_of = serializers.SlugRelatedField(slug_field="number", read_only=True)
    whys = WhySerializer(many=True, read_only=True)
    incidents = serializers.SerializerMethodField()
    known_errors = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Problem
        fields = ["url", "number", "title", "description", "service", "service_name",
                  "category", "category_name", "impact", "urgency", "priority",
                  "priority_display", "owner", "owner_name", "assignment_team",
                  "assignment_team_name", "state", "state_display", "root_cause",
                  "contributing_factors", "workaround", "permanent_fix", "change_reference",
                  "whys", "incidents", "known_errors", "duplicate_of", "closing_note",
                  "created_by", "opened_at", "resolved_at", "closed_at", "updated_at",
                  "version", "available_transitions"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, problem) -> str:
        return _url(self, "problem", problem.number)

    def get_state_display(self, problem) -> str:
        return ProblemState(problem.state).label

    def get_priority_display(self, problem) -> str:
        return Priority(problem.priority).label

    def get_incidents(self, problem) -> list[str]:
        """The linked incidents' numbers, in the order they were linked."""
        numbers = getattr(problem, "incident_numbers", None)
        if numbers is None:
            numbers = problem.links.order_by("linked_at", "id").values_list("incident__number",
                                                                            flat=True)
        return list(numbers)

    def get_known_errors(self, problem) -> list[str]:
        """The numbers of the known errors recorded from it."""
        numbers = getattr(problem, "known_error_numbers", None)
        if numbers is None:
            numbers = problem.known_errors.order_by("number").values_list("number", flat=True)
        return list(numbers)

    def get_available_transitions(self, problem) -> list[str]:
        """Asked of the guards the services run, so what is offered is what is allowed."""
        user = self.context["request"].user
        allowed = []
        for name, guard in guards.TRANSITIONS.items():
            try:
                guard(problem, user)
            except ServiceError:
                continue
            allowed.append(name)
        return allowed


class ProblemCreateSerializer(StrictModelSerializer):
    """A new problem, optionally raised from incidents (linked at once).

    Left empty, the title, service and category come from the first incident.
    """

    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    service = StrictPrimaryKeyRelatedField(queryset=Service.objects.filter(active=True),
                                           required=False, allow_null=True, default=None)
    impact = serializers.ChoiceField(choices=Level.choices, default=Level.MEDIUM)
    urgency = serializers.ChoiceField(choices=Level.choices, default=Level.MEDIUM)
    owner = StrictPrimaryKeyRelatedField(queryset=_users(), required=False, allow_null=True,
                                         default=None)
    assignment_team = StrictPrimaryKeyRelatedField(queryset=Team.objects.filter(active=True),
                                                   required=False, allow_null=True,
                                                   default=None)
    incidents = IncidentNumbersField(required=False, default=list,
                                     help_text="Numbers of the incidents it is raised from.")

    class Meta:
        model = Problem
        fields = ["title", "description", "service", "category", "impact", "urgency", "owner",
                  "assignment_team", "incidents"]
        extra_kwargs = {"category": {"required": False, "allow_null": True, "default": None}}


class ProblemUpdateSerializer(StrictModelSerializer):
    """An edit of the descriptive and analysis fields.

    Send `version` (or an `If-Match` header) with the version you read: a stale edit gets 409.
    """

    service = StrictPrimaryKeyRelatedField(queryset=Service.objects.filter(active=True),
                                           required=False, allow_null=True)
    owner = StrictPrimaryKeyRelatedField(queryset=_users(), required=False, allow_null=True)
    assignment_team = StrictPrimaryKeyRelatedField(queryset=Team.objects.filter(active=True),
                                                   required=False, allow_null=True)
    version = version_field(required=False,
                            help_text="The version you read; if it changed since, 409.")

    class Meta:
        model = Problem
        fields = [*EDITABLE_FIELDS, "version"]


class RecordVersionInput(serializers.Serializer):
    """Optional optimistic-concurrency guard shared by the actions."""

    version = version_field(
        required=False,
        help_text="The version you read; if the record changed since, the answer is 409.",
    )


class ProblemCloseInput(RecordVersionInput):
    """Close: an optional note on how it closed."""

    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True,
                                 default="", help_text="How it closed.")


class ProblemNoteInput(RecordVersionInput):
    """Re-analyse, cancel and accept the risk: say why."""

    note = serializers.CharField(max_length=MAX_NOTE)


class ProblemDuplicateInput(RecordVersionInput):
    """Mark a duplicate: of which problem."""

    duplicate_of = NumberRelatedField(prefix="PRB", kind="problem",
                                      queryset=Problem.objects.all(),
                                      help_text="The number of the problem it duplicates.")


class ProblemWhysInput(RecordVersionInput):
    """The 5 Whys chain to store."""

    whys = WhysField(help_text="The whole chain, in order; it replaces the one stored.")


class ProblemLinkInput(serializers.Serializer):
    """Incidents to link."""

    incidents = IncidentNumbersField(allow_empty=False,
                                     help_text="Incident numbers; one linked to another "
                                               "problem moves here.")


class ProblemUnlinkInput(serializers.Serializer):
    """The incident to unlink."""

    incident = VisibleIncidentField(help_text="The number of a linked incident.")


class ResolveIncidentsInput(serializers.Serializer):
    """How the linked incidents are resolved."""

    notes = serializers.CharField(max_length=MAX_ANSWER, required=False, allow_blank=True,
                                  default="", help_text="The resolution notes (default: the "
                                                        "problem's permanent fix).")


class ResolveIncidentsResult(serializers.Serializer):
    """What was resolved, and what was refused and why."""

    resolved = serializers.ListField(child=serializers.CharField(),
                                     help_text="Numbers of the incidents resolved.")
    refused = serializers.DictField(child=serializers.CharField(),
                                    help_text="Incident number → why it was not resolved.")


class ProblemEntrySerializer(serializers.ModelSerializer):
    """One line of a problem's history; `codes` keeps the raw values (states, numbers)."""

    kind_display = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = ProblemEntry
        fields = ["id", "kind", "kind_display", "actor", "actor_name", "at", "field",
                  "old_value", "new_value", "body", "codes"]
        read_only_fields = fields

    def get_kind_display(self, entry) -> str:
        return entry.get_kind_display()

    def get_actor_name(self, entry) -> str:
        return str(entry.actor) if entry.actor_id else "System"


# --- known errors and articles ---------------------------------------------------------------


class KnowledgeSerializer(StrictModelSerializer):
    """What known errors and articles share. The same shape creates, edits and shows them.

    `status` changes only through publish, retire and draft. An edit may send `version` (or
    an `If-Match` header): a stale one gets 409.
    """

    url = serializers.SerializerMethodField()
    status_display = serializers.SerializerMethodField()
    services = StrictPrimaryKeyRelatedField(many=True, required=False,
                                            queryset=Service.objects.filter(active=True))
    categories = StrictPrimaryKeyRelatedField(many=True, required=False,
                                              queryset=Category.objects.all())
    version = version_field(required=False,
                            help_text="Edits: the version you read; if it changed since, 409.")
    basename = ""

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, record) -> str:
        return _url(self, self.basename, record.number)

    def get_status_display(self, record) -> str:
        return record.get_status_display()


KNOWLEDGE_READ_ONLY = ["url", "number", "status", "status_display", "created_at", "updated_at",
                       "published_at"]


class KnownErrorSerializer(KnowledgeSerializer):
    """A known error: symptoms, root cause and the workaround agents apply (agents only)."""

    basename = "known-error"
    problem = NumberRelatedField(prefix="PRB", kind="problem", queryset=Problem.objects.all(),
                                 required=False, allow_null=True,
                                 help_text="The problem it comes from (set when it is created).")

    class Meta:
        model = KnownError
        fields = ["url", "number", "title", "status", "status_display", "symptoms",
                  "root_cause", "workaround", "services", "categories", "problem",
                  "created_by", "created_at", "updated_at", "published_at", "version"]
        read_only_fields = [*KNOWLEDGE_READ_ONLY, "created_by"]


class ArticleSerializer(KnowledgeSerializer):
    """A knowledge article or runbook; `body` and `steps` are Markdown source."""

    basename = "article"

    class Meta:
        model = Article
        fields = ["url", "number", "title", "kind", "audience", "status", "status_display",
                  "symptoms", "body", "steps", "services", "categories", "created_at",
                  "updated_at", "published_at", "version"]
        read_only_fields = KNOWLEDGE_READ_ONLY


class WorkaroundApplyInput(serializers.Serializer):
    """The incident the workaround is applied to."""

    incident = VisibleIncidentField(help_text="The number of the open incident it helps.")


class WorkaroundApplicationSerializer(serializers.ModelSerializer):
    """A known error's workaround applied to an incident."""

    known_error = serializers.SlugRelatedField(slug_field="number", read_only=True)
    incident = serializers.SlugRelatedField(slug_field="number", read_only=True)
    applied_by_name = serializers.CharField(source="applied_by", read_only=True)

    class Meta:
        model = WorkaroundApplication
        fields = ["known_error", "incident", "applied_by", "applied_by_name", "applied_at"]
        read_only_fields = fields


# --- suggestions -----------------------------------------------------------------------------


class SuggestionQuery(serializers.Serializer):
    """What the agent (or requester) typed, and where the incident belongs."""

    title = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                  default="")
    text = serializers.CharField(max_length=MAX_ANSWER, required=False, allow_blank=True,
                                 default="", help_text="The description typed so far.")
    service = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                       help_text="A service id: its records rank higher.")
    category = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                        help_text="A category id: its records rank higher.")


class KnownErrorSuggestion(serializers.ModelSerializer):
    """A published known error that may explain the incident."""

    url = serializers.SerializerMethodField()
    problem = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = KnownError
        fields = ["url", "number", "title", "symptoms", "workaround", "problem"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, record) -> str:
        return _url(self, "known-error", record.number)


class ArticleSuggestion(serializers.ModelSerializer):
    """A published article or runbook that may help."""

    url = serializers.SerializerMethodField()
    # Plain text, not the choice: the choice set has one home in the schema (Article).
    kind = serializers.CharField(read_only=True, help_text="article or runbook")

    class Meta:
        model = Article
        fields = ["url", "number", "title", "kind", "symptoms"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, record) -> str:
        return _url(self, "article", record.number)


class IncidentSuggestion(serializers.ModelSerializer):
    """A resolved incident with a similar title, and how it was resolved."""

    class Meta:
        model = Incident
        fields = ["number", "title", "resolution_code", "resolution_notes"]
        read_only_fields = fields


@extend_schema_serializer(many=False)
class SuggestionsSerializer(serializers.Serializer):
    """Best first. Requesters get public articles only (the other lists are empty)."""

    known_errors = KnownErrorSuggestion(many=True, read_only=True)
    articles = ArticleSuggestion(many=True, read_only=True)
    incidents = IncidentSuggestion(many=True, read_only=True)
