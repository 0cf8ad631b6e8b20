"""API shapes for on-call: schedules and who is on call, shifts, overrides, escalation policies
and pages.

Serializers only parse and present; every write goes through `oncall.services`. People on a
schedule are presented from a `users` dict in the context (loaded once per response by the
view), so a list never queries per row.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.choices import Priority
from itsm import clock
from itsm.api import StrictPrimaryKeyRelatedField
from itsm.models import User, minute_label
from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Layer,
    Override,
    Page,
    PageNotice,
    Restriction,
    Schedule,
)

# The roster adds weeks of margin around the instants asked about; these bounds keep every
# such sum far from datetime's limits (year 1 and 9999), where it would overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
LONGEST_RANGE = timedelta(days=92)
DEFAULT_RANGE = timedelta(days=14)
NAIVE_NOTE = ("An ISO 8601 instant; one without an offset is read in the site's time zone "
              f"({settings.TIME_ZONE}), where a local time the clock skips is refused and one "
              "it repeats means its first occurrence.")


def person(user) -> dict | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


def ref(row) -> dict | None:
    """A related row as {id, name} (its `name` field)."""
    return None if row is None else {"id": row.pk, "name": row.name}


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NamedRefSerializer(serializers.Serializer):
    """A team, schedule or service by id and name."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class OnCallContactSerializer(PersonRefSerializer):
    """The on-call person with the ways to reach them by hand."""

    phone = serializers.CharField()
    email = serializers.CharField()


# --- input -----------------------------------------------------------------------------------


class InstantField(serializers.DateTimeField):
    """An instant from a client: naive ones in the site's zone, within EARLIEST..LATEST."""

    default_error_messages = {"range": "Must be between 1970 and 2999.",
                              "skipped": "The clocks skip this local time in {zone}."}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", NAIVE_NOTE)
        super().__init__(**kwargs)

    def default_timezone(self):
        # The site's zone, not the one the middleware activated for a signed-in user: the
        # same naive text means the same instant for every client.
        return ZoneInfo(settings.TIME_ZONE)

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            # ZoneInfo gives a skipped wall time (02:30 at spring-forward) an offset rather
            # than refusing it; an instant that does not read back as the same wall time is one.
            zone = self.default_timezone()
            try:
                back = value.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
            except OverflowError:
                self.fail("overflow")
            if back.replace(tzinfo=None) != value:
                self.fail("skipped", zone=zone.key)
        return super().enforce_timezone(value)

    def to_internal_value(self, value):
        instant = super().to_internal_value(value)
        if not EARLIEST <= instant < LATEST:
            self.fail("range")
        return instant


class ShiftsQuery(serializers.Serializer):
    """The range of `GET /schedules/{id}/shifts/`."""

    start = InstantField(required=False, help_text=f"{NAIVE_NOTE} Default: now.")
    end = InstantField(required=False,
                       help_text=f"{NAIVE_NOTE} Default: 14 days after `start`; at most 92 "
                                 "days after it.")

    def validate(self, attrs):
        start = attrs.get("start") or clock.now()
        end = attrs.get("end") or start + DEFAULT_RANGE
        if end <= start:
            raise serializers.ValidationError({"end": ["Must be after the start."]})
        if end - start > LONGEST_RANGE:
            raise serializers.ValidationError({"end": ["At most 92 days after the start."]})
        return {"start": start, "end": end}


class OverrideInput(serializers.Serializer):
    """A new override: `user` covers `schedule` from `starts_at` to `ends_at`."""

    schedule = StrictPrimaryKeyRelatedField(queryset=Schedule.objects.all())
    user = StrictPrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True),
                                        help_text="Who covers.")
    starts_at = InstantField()
    ends_at = InstantField(help_text=f"{NAIVE_NOTE} At most 92 days after `starts_at`.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PageResolveInput(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                 help_text="Why the page ends without an acknowledgement.")


# --- schedules -------------------------------------------------------------------------------


class RestrictionSerializer(serializers.ModelSerializer):
    weekday = serializers.IntegerField(allow_null=True,
                                       help_text="0 = Monday … 6 = Sunday; null: every day.")
    start = serializers.SerializerMethodField(help_text="Local time, HH:MM.")
    end = serializers.SerializerMethodField(
        help_text="Local time, HH:MM; at or before the start: on the next day.")

    class Meta:
        model = Restriction
        fields = ["weekday", "start", "end"]
        read_only_fields = fields

    def get_start(self, restriction) -> str:
        return minute_label(restriction.start_minute)

    def get_end(self, restriction) -> str:
        return minute_label(restriction.end_minute)


class LayerSerializer(serializers.ModelSerializer):
    participants = serializers.SerializerMethodField(help_text="In turn order.")
    restrictions = RestrictionSerializer(
        many=True, read_only=True, help_text="When the layer is active; none: always.")

    class Meta:
        model = Layer
        fields = ["id", "name", "level", "turn", "length", "starts_at", "ends_at",
                  "participants", "restrictions"]
        read_only_fields = fields

    @extend_schema_field(PersonRefSerializer(many=True))
    def get_participants(self, layer) -> list[dict]:
        users = self.context["users"]
        return [person(users.get(member.user_id)) for member in layer.members.all()]


class OnCallSerializer(serializers.Serializer):
    """A shift as `on_call_now` shows it."""

    user = serializers.SerializerMethodField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    why = serializers.CharField()

    @extend_schema_field(OnCallContactSerializer)
    def get_user(self, shift) -> dict:
        user = self.context["users"][shift.user]
        return {**person(user), "phone": user.phone, "email": user.email}


class ScheduleSerializer(serializers.ModelSerializer):
    team = serializers.SerializerMethodField()
    time_zone = serializers.CharField(help_text="Hand-offs and restrictions are in this zone.")
    layers = LayerSerializer(many=True, read_only=True, help_text="Highest level first.")
    on_call_now = serializers.SerializerMethodField(
        help_text="The whole shift covering this instant; null: nobody is on call.")

    class Meta:
        model = Schedule
        fields = ["id", "name", "team", "time_zone", "description", "layers", "on_call_now"]
        read_only_fields = fields

    @extend_schema_field(NamedRefSerializer(allow_null=True))
    def get_team(self, schedule) -> dict | None:
        return ref(schedule.team)

    @extend_schema_field(OnCallSerializer(allow_null=True))
    def get_on_call_now(self, schedule) -> dict | None:
        shift = self.context["on_call"].get(schedule.pk)
        return None if shift is None else OnCallSerializer(shift, context=self.context).data


class ShiftSerializer(serializers.Serializer):
    """A stretch of the final roster, half-open: [start, end)."""

    user = serializers.SerializerMethodField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    layer = serializers.IntegerField(allow_null=True, help_text="The layer's id; null: override.")
    override = serializers.IntegerField(allow_null=True, help_text="The override's id, if any.")
    why = serializers.CharField()

    @extend_schema_field(PersonRefSerializer)
    def get_user(self, shift) -> dict:
        return person(self.context["users"][shift.user])


class GapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def to_representation(self, instance):
        start, end = instance  # the roster's gaps are (start, end) pairs
        return super().to_representation({"start": start, "end": end})


class ShiftsSerializer(serializers.Serializer):
    schedule = serializers.IntegerField(source="schedule.pk")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    shifts = ShiftSerializer(many=True)
    gaps = GapSerializer(many=True, help_text="What nobody covers within the range.")


# --- overrides -------------------------------------------------------------------------------


class OverrideSerializer(serializers.ModelSerializer):
    schedule = serializers.SerializerMethodField()
    user = serializers.SerializerMethodField()
    replaces = serializers.SerializerMethodField(help_text="Who gave the shift away (a swap).")
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Override
        fields = ["id", "schedule", "user", "starts_at", "ends_at", "note", "replaces",
                  "created_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(NamedRefSerializer)
    def get_schedule(self, override) -> dict:
        return ref(override.schedule)

    @extend_schema_field(PersonRefSerializer)
    def get_user(self, override) -> dict:
        return person(override.user)

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_replaces(self, override) -> dict | None:
        return person(override.replaces)

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_created_by(self, override) -> dict | None:
        return person(override.created_by)


# --- escalation policies ---------------------------------------------------------------------


class EscalationStepSerializer(serializers.ModelSerializer):
    users = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()

    class Meta:
        model = EscalationStep
        fields = ["position", "target", "wait_minutes", "users", "schedule", "team"]
        read_only_fields = fields

    @extend_schema_field(PersonRefSerializer(many=True))
    def get_users(self, step) -> list[dict]:
        return [person(user) for user in step.users.all()]

    @extend_schema_field(NamedRefSerializer(allow_null=True))
    def get_schedule(self, step) -> dict | None:
        return ref(step.schedule)

    @extend_schema_field(NamedRefSerializer(allow_null=True))
    def get_team(self, step) -> dict | None:
        return ref(step.team)


class EscalationPolicySerializer(serializers.ModelSerializer):
    team = serializers.SerializerMethodField()
    services = serializers.SerializerMethodField(help_text="Empty: every service of the team.")
    priorities = serializers.SerializerMethodField(
        help_text="Incidents of these priorities page; others only notify the team.")
    steps = EscalationStepSerializer(many=True, read_only=True)

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "team", "services", "priorities", "repeat", "active", "steps"]
        read_only_fields = fields

    @extend_schema_field(NamedRefSerializer)
    def get_team(self, policy) -> dict:
        return ref(policy.team)

    # Plain integers: an enum here would give the incidents' PriorityEnum a second name.
    @extend_schema_field({"type": "array", "items": {
        "type": "integer", "minimum": int(min(Priority)), "maximum": int(max(Priority))}})
    def get_priorities(self, policy) -> list[int]:
        return list(policy.priorities)

    @extend_schema_field(NamedRefSerializer(many=True))
    def get_services(self, policy) -> list[dict]:
        return [ref(service) for service in policy.services.all()]


# --- pages -----------------------------------------------------------------------------------


class PageNoticeSerializer(serializers.ModelSerializer):
    """Someone a step notified (never their acknowledgement link)."""

    user = serializers.SerializerMethodField()

    class Meta:
        model = PageNotice
        fields = ["user", "step", "repetition", "why", "at"]
        read_only_fields = fields

    @extend_schema_field(PersonRefSerializer)
    def get_user(self, notice) -> dict:
        return person(notice.user)


class PageSerializer(serializers.ModelSerializer):
    incident = serializers.CharField(source="incident.number", help_text="The incident number.")
    team = serializers.SerializerMethodField()
    policy = serializers.SerializerMethodField(
        help_text="The policy's name as it was when paging started.")
    acknowledged_by = serializers.SerializerMethodField()
    notices = PageNoticeSerializer(many=True, read_only=True)

    class Meta:
        model = Page
        fields = ["id", "incident", "team", "policy", "urgency", "state", "step", "repetition",
                  "due_at", "started_at", "acknowledged_at", "acknowledged_by", "ended_at",
                  "reason", "notices"]
        read_only_fields = fields

    @extend_schema_field(NamedRefSerializer(allow_null=True))
    def get_team(self, page) -> dict | None:
        return ref(page.team)

    def get_policy(self, page) -> str:
        # The snapshot keeps the name even when the policy was renamed or deleted since.
        return page.snapshot.get("name", "")

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_acknowledged_by(self, page) -> dict | None:
        return person(page.acknowledged_by)
