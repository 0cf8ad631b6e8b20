"""Shared API plumbing: the one exception handler, a pagination without a full COUNT(*), and
read-only endpoints for the core configuration (teams, services, business calendars)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django_fsm import ConcurrentTransition
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from itsm import clock
from itsm.exceptions import InvalidInput, ServiceError
from itsm.models import BusinessCalendar, Holiday, Service, Team, WorkingInterval, minute_label
from itsm.numbers import MAX_COUNTER, MAX_ID
from itsm.pagination import COUNT_CAP

# --- errors ----------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (documented in the schema)."""

    message = serializers.CharField()
    field_errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def error_responses(record: str = "record",
                    conflict: str = "Impossible in the current state, or a stale `version`."):
    """The error answers of an endpoint for the schema."""
    return {
        400: OpenApiResponse(ErrorSerializer,
                             description="Bad input; `field_errors` names the field."),
        403: OpenApiResponse(ErrorSerializer, description="Not allowed for this user."),
        404: OpenApiResponse(ErrorSerializer, description=f"No such {record} visible to this "
                                                          "user."),
        409: OpenApiResponse(ErrorSerializer, description=conflict),
    }


IF_MATCH = OpenApiParameter(
    "If-Match", location=OpenApiParameter.HEADER, required=False,
    description="The `version` you read (alternative to `version` in the body).",
)


def version_from_if_match(header: str | None) -> int | None:
    """The version an If-Match header carries (`"7"`, `W/"7"` or `7`); None for none or `*`."""
    if not header or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_COUNTER:
        raise InvalidInput.field("version", "If-Match must carry the version number.")
    return int(value)


def _error(message: str, field_errors: dict | None = None, *, status_code: int) -> Response:
    set_rollback()
    return Response({"message": message, "field_errors": field_errors or {}}, status=status_code)


def error_response(message: str, status_code: int) -> JsonResponse:
    """The JSON error body for answers given outside DRF (middleware, error handlers)."""
    return JsonResponse({"message": message, "field_errors": {}}, status=status_code)


def too_large_message() -> str:
    return (f"The request body is too large (the limit is "
            f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes).")


def exception_handler(exc, context):
    """Every error answers `{"message": …, "field_errors": {…}}` with the right status."""
    if isinstance(exc, RequestDataTooBig):
        return _error(too_large_message(), status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, ServiceError):
        return _error(exc.message, exc.field_errors, status_code=exc.status)
    if isinstance(exc, ConcurrentTransition):
        return _error("Someone else changed this record first; reload it.",
                      status_code=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict")
                                         else exc.messages)
    if isinstance(exc, Http404 | PermissionDenied):
        exc = exceptions.NotFound() if isinstance(exc, Http404) else exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors":
                                                                         response.data}
        name, problems = next(iter(errors.items()), ("", [""]))
        first = problems[0] if isinstance(problems, list) and problems else problems
        response.data = {"message": f"Invalid input ({name}: {first}).", "field_errors": errors}
    else:
        response.data = {"message": str(getattr(exc, "detail", exc)), "field_errors": {}}
    return response


# --- input -----------------------------------------------------------------------------------


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id as a JSON integer (or digits, as HTML forms send it); never a float, a boolean or
    a number beyond 64 bits silently turned into some other row."""

    def to_internal_value(self, data):
        digits = isinstance(data, str) and data.isascii() and data.isdigit()
        if isinstance(data, bool) or not (isinstance(data, int) or digits):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= int(data) <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose foreign keys are StrictPrimaryKeyRelatedFields."""

    serializer_related_field = StrictPrimaryKeyRelatedField


def version_field(**kwargs) -> serializers.IntegerField:
    """The incident version a client read: a 400 when it cannot be one, not a 409 later."""
    return serializers.IntegerField(min_value=1, max_value=MAX_COUNTER, **kwargs)


# --- pagination ------------------------------------------------------------------------------


class CappedCountPagination(LimitOffsetPagination):
    """limit/offset pages that never count more than COUNT_CAP + 1 rows.

    One query fetches the page plus one row (that row says whether there is a next page); the
    count is only queried when it cannot be read off the page, and then capped, so a list over a
    million rows costs two cheap queries. `count_capped` true means "at least `count`".
    """

    default_limit = 50
    max_limit = 200

    def _number(self, request, name: str, default: int, *, least: int) -> int:
        """A query parameter that must be a whole number from `least` up (400 otherwise)."""
        value = request.query_params.get(name)
        if value is None or value == "":
            return default
        if not (value.isascii() and value.isdigit()) or not least <= int(value) <= MAX_COUNTER:
            raise exceptions.ValidationError(
                {name: [f"Must be a whole number from {least} to {MAX_COUNTER}."]})
        return int(value)

    def get_limit(self, request):
        return min(self._number(request, self.limit_query_param, self.default_limit, least=1),
                   self.max_limit)

    def get_offset(self, request):
        return self._number(request, self.offset_query_param, 0, least=0)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(queryset[self.offset: self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        rows = rows[: self.limit]
        if not self.has_next and (rows or self.offset == 0):
            self.count, self.count_capped = self.offset + len(rows), False
        else:
            counted = queryset.order_by()[: COUNT_CAP + 1].count()
            self.count_capped = counted > COUNT_CAP
            self.count = COUNT_CAP if self.count_capped else counted
        return rows

    def get_next_link(self):
        if not self.has_next:
            return None
        url = replace_query_param(self.request.build_absolute_uri(), self.limit_query_param,
                                  self.limit)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_paginated_response(self, data):
        return Response({
            "count": self.count,
            "count_capped": self.count_capped,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"True when there are more than {COUNT_CAP} rows; `count` is then "
                           "a lower bound.",
        }
        response["required"].append("count_capped")
        return response


# --- core configuration (read-only) ----------------------------------------------------------


class TeamSerializer(StrictModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "email", "tier", "next_tier", "manager", "members", "active"]


class PublicTeamSerializer(StrictModelSerializer):
    """What a requester may know of a team: its name, not who is in it."""

    class Meta:
        model = Team
        fields = ["id", "name", "tier", "active"]


class ServiceSerializer(StrictModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description", "owner_team", "criticality", "active"]


@extend_schema(tags=["configuration"])
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Assignment groups, their tier, manager and members."""

    queryset = Team.objects.prefetch_related("members")
    serializer_class = TeamSerializer
    pagination_class = CappedCountPagination
    filterset_fields = ["active", "tier"]

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):  # the schema documents the full shape
            return TeamSerializer
        return TeamSerializer if self.request.user.is_agent else PublicTeamSerializer


@extend_schema(tags=["configuration"])
class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Business services (configuration items) that incidents affect."""

    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    pagination_class = CappedCountPagination
    filterset_fields = ["active", "owner_team", "criticality"]


class AgentsOnly(permissions.BasePermission):
    """The desk's configuration behind the clocks: for agents, managers and admins."""

    message = "Only agents can read this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_agent)


class WorkingIntervalSerializer(serializers.ModelSerializer):
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()

    class Meta:
        model = WorkingInterval
        fields = ["weekday", "start", "end"]

    def get_start(self, interval) -> str:
        return minute_label(interval.start_minute)

    def get_end(self, interval) -> str:
        return minute_label(interval.end_minute)


class HolidaySerializer(serializers.ModelSerializer):
    closed_from = serializers.SerializerMethodField()
    closed_until = serializers.SerializerMethodField()

    class Meta:
        model = Holiday
        fields = ["date", "name", "closed_from", "closed_until"]

    def get_closed_from(self, holiday) -> str:
        return minute_label(holiday.closed_minutes[0])

    def get_closed_until(self, holiday) -> str:
        return minute_label(holiday.closed_minutes[1])


class BusinessCalendarSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField()
    intervals = WorkingIntervalSerializer(many=True, read_only=True)
    holidays = serializers.SerializerMethodField(
        help_text="Closures from a year ago to two years ahead.")

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "time_zone", "always_open", "description", "version",
                  "intervals", "holidays"]

    @extend_schema_field(HolidaySerializer(many=True))
    def get_holidays(self, calendar) -> list:
        return HolidaySerializer(calendar.upcoming_holidays, many=True).data


@extend_schema(tags=["configuration"])
class BusinessCalendarViewSet(viewsets.ReadOnlyModelViewSet):
    """Business calendars: working hours per weekday and holidays, in the calendar's zone."""

    serializer_class = BusinessCalendarSerializer
    permission_classes = [AgentsOnly]
    pagination_class = CappedCountPagination

    def get_queryset(self):
        today = clock.now().date()
        window = Holiday.objects.filter(date__gte=today - timedelta(days=366),
                                        date__lte=today + timedelta(days=731))
        return BusinessCalendar.objects.prefetch_related(
            "intervals", Prefetch("holidays", queryset=window, to_attr="upcoming_holidays"))
