"""API shapes for incidents: the incident itself, edits, action inputs and the timeline.

Serializers only parse and present; every write goes through `incidents.services`.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from attachments.api import AttachmentSerializer
from incidents.actions import CATALOGUE, TRANSITIONS, available, situation
from incidents.choices import (
    Channel,
    ClockStage,
    HoldReason,
    Priority,
    ResolutionCode,
    State,
)
from incidents.models import Category, Incident, SavedFilter, SlaPolicy, TimelineEntry
from incidents.sla.status import read
from itsm import clock
from itsm.api import StrictModelSerializer, StrictPrimaryKeyRelatedField, version_field
from itsm.models import Service, Team, User

LIFECYCLE_FIELDS = ["state", "hold_reason", "resolution_code", "resolution_notes", "cancel_reason",
                    "opened_at", "acknowledged_at", "resolved_at", "closed_at", "updated_at",
                    "reopen_count", "escalation_tier"]


def _users():
    return User.objects.filter(is_active=True)


class SlaClockSerializer(serializers.Serializer):
    """One target's clock, as stored (the due time is never recomputed on read)."""

    kind = serializers.CharField(source="clock.kind", help_text="sla or ola")
    target = serializers.CharField(source="clock.target", help_text="response or resolution")
    stage = serializers.CharField(source="clock.stage",
                                  help_text="running, paused, met, breached or canceled")
    team = serializers.IntegerField(source="clock.team_id", allow_null=True,
                                    help_text="The team an OLA measures.")
    policy = serializers.CharField(source="clock.policy_version")
    calendar = serializers.CharField(source="clock.calendar")
    target_seconds = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField(source="clock.started_at")
    due_at = serializers.DateTimeField(source="clock.due_at", allow_null=True,
                                       help_text="Empty while paused.")
    time_left_seconds = serializers.SerializerMethodField(
        help_text="Business time left (negative: overdue); empty once stopped.")
    paused_seconds = serializers.SerializerMethodField(help_text="Business time paused so far.")
    breached_at = serializers.DateTimeField(source="clock.breached_at", allow_null=True)
    stopped_at = serializers.DateTimeField(source="clock.stopped_at", allow_null=True)
    warnings_sent = serializers.IntegerField(source="clock.warned")

    def get_target_seconds(self, reading) -> int:
        return int(reading.clock.duration.total_seconds())

    def get_time_left_seconds(self, reading) -> int | None:
        return None if reading.left is None else int(reading.left.total_seconds())

    def get_paused_seconds(self, reading) -> int:
        return int(reading.clock.paused_for.total_seconds())


_stamp = serializers.DateTimeField().to_representation


def _clock_data(reading) -> dict:
    c = reading.clock
    return {
        "kind": c.kind, "target": c.target, "stage": c.stage, "team": c.team_id,
        "policy": str(c.policy_version), "calendar": str(c.calendar),
        "target_seconds": int(c.duration.total_seconds()), "started_at": _stamp(c.started_at),
        "due_at": c.due_at and _stamp(c.due_at),
        "time_left_seconds": None if reading.left is None else int(reading.left.total_seconds()),
        "paused_seconds": int(c.paused_for.total_seconds()),
        "breached_at": c.breached_at and _stamp(c.breached_at),
        "stopped_at": c.stopped_at and _stamp(c.stopped_at), "warnings_sent": c.warned,
    }


class IncidentSerializer(StrictModelSerializer):
    """An incident as the API shows it; also the input for creating one.

    The state and every lifecycle timestamp are read-only: they change through the transition
    endpoints only. `available_transitions` lists what the requesting user may do now.
    """

    url = serializers.SerializerMethodField()
    caller = StrictPrimaryKeyRelatedField(queryset=_users(), required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    service = StrictPrimaryKeyRelatedField(queryset=Service.objects.filter(active=True),
                                                 required=False, allow_null=True)
    assignment_team = StrictPrimaryKeyRelatedField(queryset=Team.objects.filter(active=True),
                                                         required=False, allow_null=True)
    assignee = StrictPrimaryKeyRelatedField(queryset=_users(), required=False,
                                                  allow_null=True)
    caller_name = serializers.CharField(source="caller", read_only=True)
    service_name = serializers.CharField(source="service", read_only=True, default=None)
    assignment_team_name = serializers.CharField(source="assignment_team", read_only=True,
                                                 default=None)
    assignee_name = serializers.CharField(source="assignee", read_only=True, default=None)
    # Methods, not `source="get_state_display"`: DRF inspects a callable source's signature on
    # every row, which was a quarter of a 200-row list's time.
    state_display = serializers.SerializerMethodField()
    priority_display = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    clocks = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = ["url", "number", "title", "description", "caller", "caller_name",
                  "reported_by", "channel", "service", "service_name", "category", "subcategory",
                  "impact", "urgency", "priority", "priority_display", "priority_override_reason",
                  "assignment_team", "assignment_team_name", "assignee", "assignee_name",
                  "state_display", *LIFECYCLE_FIELDS, "version", "available_transitions",
                  "available_actions", "sla_due_at", "sla_breached_at", "clocks"]
        read_only_fields = ["number", "reported_by", "priority", "priority_override_reason",
                            *LIFECYCLE_FIELDS, "version", "sla_due_at", "sla_breached_at"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, incident) -> str:
        # The list's address once per response, not a URL reversal per row.
        if "incident_url" not in self.context:
            self.context["incident_url"] = self.context["request"].build_absolute_uri(
                reverse("api:incident-list"))
        return f"{self.context['incident_url']}{incident.number}/"

    def get_state_display(self, incident) -> str:
        return State(incident.state).label

    def get_priority_display(self, incident) -> str:
        return Priority(incident.priority).label

    def get_available_transitions(self, incident) -> list[str]:
        allowed = self._allowed(incident)
        return [name for name in TRANSITIONS if name in allowed]

    def get_available_actions(self, incident) -> list[str]:
        """Every catalogue action the requesting user may take now (transitions included)."""
        allowed = self._allowed(incident)
        return [name for name in CATALOGUE if name in allowed]

    @extend_schema_field(SlaClockSerializer(many=True))
    def get_clocks(self, incident) -> list[dict]:
        """The SLA and OLA clocks (agents only; callers get an empty list)."""
        if not self.context["request"].user.is_agent:
            return []
        now = self.context.setdefault("now", clock.now())
        if "clocks" in getattr(incident, "_prefetched_objects_cache", {}):
            clocks = incident.clocks.all()  # a list page: one query for all its rows
        else:  # one incident, just changed by an action
            clocks = (incident.clocks.exclude(stage=ClockStage.CANCELED)
                      .select_related("calendar", "policy_version").order_by("id"))
        # Plain dicts in SlaClockSerializer's shape: its fields per clock were most of a list's
        # time (two clocks a row).
        return [_clock_data(read(c, c.calendar, now)) for c in clocks]

    def _allowed(self, incident) -> set[str]:
        # Both fields ask, for every row of a list: answer once per situation.
        user = self.context["request"].user
        cache = self.context.setdefault("allowed", {})
        key = situation(incident, user)
        if key not in cache:
            cache[key] = available(incident, user)
        return cache[key]


class IncidentUpdateSerializer(StrictModelSerializer):
    """An edit of the descriptive fields, optionally with a manager's priority override.

    Send `version` (or an `If-Match` header) with the version you read: a stale edit gets 409.
    """

    caller = StrictPrimaryKeyRelatedField(queryset=_users(), required=False)
    service = StrictPrimaryKeyRelatedField(queryset=Service.objects.filter(active=True),
                                                 required=False, allow_null=True)
    priority_override_reason = serializers.CharField(max_length=300, required=False)
    version = version_field(required=False)

    class Meta:
        model = Incident
        fields = ["title", "description", "caller", "channel", "service", "category",
                  "subcategory", "impact", "urgency", "priority", "priority_override_reason",
                  "version"]
        extra_kwargs = {"priority": {"required": False}}

    def validate(self, attrs):
        priority = attrs.get("priority")
        if priority is not None and priority == self.instance.priority:
            attrs.pop("priority")  # a round-tripped value is not an override
        elif priority is not None and not attrs.get("priority_override_reason"):
            raise serializers.ValidationError(
                {"priority_override_reason": ["Say why the priority is overridden."]}
            )
        if "priority" not in attrs:
            attrs.pop("priority_override_reason", None)
        return attrs


# --- action inputs ---------------------------------------------------------------------------


class VersionInput(serializers.Serializer):
    """Optional optimistic-concurrency guard shared by every action."""

    version = version_field(
        required=False,
        help_text="The version you read; if the incident changed since, the answer is 409.",
    )


class HoldInput(VersionInput):
    reason = serializers.ChoiceField(choices=HoldReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000,
                                 help_text="Awaiting the caller: the question they are asked.")
    follow_up_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When to remind whoever works it (on the timeline), if still on hold.")


class ResolveInput(VersionInput):
    code = serializers.ChoiceField(choices=ResolutionCode.choices)
    notes = serializers.CharField()


class CloseInput(VersionInput):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReopenInput(VersionInput):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInput(VersionInput):
    """Cancel: a reason is required."""

    reason = serializers.CharField()


class EscalateInput(ReasonInput):
    team = StrictPrimaryKeyRelatedField(
        queryset=Team.objects.filter(active=True), required=False, allow_null=True, default=None,
        help_text="The team to hand it to; by default the service's owner team when another "
                  "team holds it, else the next tier.")


class NotifyManagerInput(serializers.Serializer):
    reason = serializers.CharField(help_text="What the manager should know.")


class AssignInput(VersionInput):
    team = StrictPrimaryKeyRelatedField(queryset=Team.objects.filter(active=True),
                                              required=False, allow_null=True)
    assignee = StrictPrimaryKeyRelatedField(queryset=_users(), required=False,
                                                  allow_null=True)

    def validate(self, attrs):
        if attrs.get("team") is None and attrs.get("assignee") is None:
            raise serializers.ValidationError({"team": ["Choose a team or an assignee."]})
        return attrs


class CommentInput(serializers.Serializer):
    body = serializers.CharField()
    internal = serializers.BooleanField(
        default=False, help_text="An internal work note, hidden from the caller (agents only)."
    )


# --- timeline --------------------------------------------------------------------------------


class TimelineEntrySerializer(serializers.ModelSerializer):
    """One line of an incident's history."""

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor_name = serializers.SerializerMethodField()
    internal = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField(
        help_text="The files posted with this comment or work note.")

    class Meta:
        model = TimelineEntry
        fields = ["id", "kind", "kind_display", "actor", "actor_name", "at", "field",
                  "old_value", "new_value", "from_state", "to_state", "old_code", "new_code",
                  "body", "internal", "attachments"]
        read_only_fields = fields

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, entry) -> list:
        files = getattr(entry, "attachment_list", None)  # attach_to_entries: one query a list
        if files is None:
            files = list(entry.attachments.order_by("position"))
        return AttachmentSerializer(files, many=True, context=self.context).data

    def get_actor_name(self, entry) -> str:
        return str(entry.actor) if entry.actor_id else "System"

    def get_internal(self, entry) -> bool:
        return not entry.is_public


class CategorySerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "parent", "full_name", "active"]


class SlaPolicySerializer(serializers.ModelSerializer):
    """An SLA or OLA policy as it is now; `version` is the one new clocks get."""

    class Meta:
        model = SlaPolicy
        fields = ["id", "name", "kind", "position", "active", "priority", "service", "category",
                  "team", "response_minutes", "response_calendar", "resolution_minutes",
                  "resolution_calendar", "pause_states", "warn_percents", "version"]
        read_only_fields = fields


# --- saved filters and bulk ------------------------------------------------------------------

class SavedFilterSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedFilter
        fields = ["id", "name", "query", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"query": {"help_text": "The queue's query string, e.g. "
                                               "`view=open&priority=1`."}}


class BulkInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["assign", "assign_to_me", "hold", "resolve"])
    incidents = serializers.ListField(child=serializers.CharField(max_length=16),
                                      allow_empty=False, max_length=100)
    team = StrictPrimaryKeyRelatedField(queryset=Team.objects.filter(active=True),
                                        required=False, allow_null=True, default=None)
    assignee = StrictPrimaryKeyRelatedField(queryset=_users(), required=False, allow_null=True,
                                            default=None)
    reason = serializers.ChoiceField(choices=HoldReason.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    code = serializers.ChoiceField(choices=ResolutionCode.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs):
        needs = {"hold": ["reason"], "resolve": ["code", "notes"]}.get(attrs["action"], [])
        missing = {name: ["This field is required."] for name in needs if not attrs.get(name)}
        if attrs["action"] == "assign" and not (attrs.get("team") or attrs.get("assignee")):
            missing["team"] = ["Choose a team or an assignee."]
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class BulkResultSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.CharField(), help_text="Incident numbers.")
    refused = serializers.ListField(child=serializers.DictField(),
                                    help_text='[{"number": …, "reason": …}]')
