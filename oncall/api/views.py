"""On-call endpoints (agents only): thin views over `oncall.selectors`, the pure roster and
`oncall.services`."""

import re

import django_filters as filters
from django.core.validators import RegexValidator
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from itsm import clock
from itsm.api import AgentsOnly, CappedCountPagination, error_responses
from itsm.numbers import IdFilter, parse_id
from oncall import roster, selectors, services
from oncall.api.serializers import (
    EscalationPolicySerializer,
    OverrideInput,
    OverrideSerializer,
    PageResolveInput,
    PageSerializer,
    ScheduleSerializer,
    ShiftsQuery,
    ShiftsSerializer,
)
from oncall.choices import PageState
from oncall.models import EscalationPolicy, EscalationStep, Override, Page, PageNotice, Schedule

ERRORS = error_responses(conflict="Impossible in the page's current state.")
TRUE_FALSE = [("true", "Yes"), ("false", "No")]
INCIDENT_NUMBER = RegexValidator(re.compile(r"^INC\d{7,10}$", re.IGNORECASE),
                                 "An incident number, like INC0000001.")


class OnCallViewSet(viewsets.GenericViewSet):
    """What every on-call endpoint shares: agents only, capped pages, ids in addresses."""

    permission_classes = [AgentsOnly]
    pagination_class = CappedCountPagination

    def get_id(self) -> int:
        """The id in the address; anything that cannot be one is a 404, never a lookup."""
        pk = parse_id(self.kwargs["pk"])
        if pk is None:
            raise exceptions.NotFound()
        return pk

    def get_object(self):
        self.get_id()
        return super().get_object()


# --- schedules -------------------------------------------------------------------------------


class ScheduleFilter(filters.FilterSet):
    team = IdFilter(field_name="team_id", label="Team")

    class Meta:
        model = Schedule
        fields = ["team"]


@extend_schema(tags=["on-call"])
@extend_schema_view(
    list=extend_schema(summary="Schedules, with who is on call now"),
    retrieve=extend_schema(summary="One schedule, with who is on call now",
                           responses={200: ScheduleSerializer, 404: ERRORS[404]}),
)
class ScheduleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OnCallViewSet):
    """Rosters: their layers (rotations), restrictions and the person on call now."""

    queryset = Schedule.objects.order_by("name", "id")
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilter

    def _present(self, schedules: list[Schedule], **context) -> dict:
        """The context every schedule's shape reads: its people, loaded in one query."""
        ids = {member.user_id for schedule in schedules for layer in schedule.layers.all()
               for member in layer.members.all()}
        ids |= {shift.user for shift in context.get("on_call", {}).values() if shift}
        ids |= {shift.user for shift in context.get("shifts", ())}
        return {**self.get_serializer_context(), **context, "users": selectors.people(ids)}

    def _loaded_now(self, ids: list[int]) -> tuple[list[Schedule], dict]:
        found = selectors.on_call_now(Schedule.objects.filter(pk__in=ids), clock.now())
        order = {pk: place for place, pk in enumerate(ids)}
        found.sort(key=lambda pair: order[pair[0].pk])
        schedules = [schedule for schedule, _ in found]
        return schedules, self._present(schedules, on_call={s.pk: shift for s, shift in found})

    def list(self, request):
        # Page over ids only, then load that page's schedules the way the roster needs them.
        ids = self.paginate_queryset(
            self.filter_queryset(self.get_queryset()).values_list("pk", flat=True))
        schedules, context = self._loaded_now(list(ids))
        data = ScheduleSerializer(schedules, many=True, context=context).data
        return self.get_paginated_response(data)

    def retrieve(self, request, pk=None):
        schedules, context = self._loaded_now([self.get_id()])
        if not schedules:
            raise exceptions.NotFound()
        return Response(ScheduleSerializer(schedules[0], context=context).data)

    @extend_schema(
        summary="The final roster's shifts and gaps in a range",
        description="Who is on call between `start` and `end` (default: the next 14 days, at "
                    "most 92), overrides over layers, cut to the range; `gaps` are the "
                    "stretches nobody covers. Datetimes without an offset are read in the "
                    "site's time zone; answers carry their offset like every time in the API.",
        parameters=[ShiftsQuery],
        responses={200: ShiftsSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def shifts(self, request, pk=None):
        query = ShiftsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        found = selectors.schedules_loaded(Schedule.objects.filter(pk=self.get_id()),
                                           start, end)
        if not found:
            raise exceptions.NotFound()
        value = selectors.spec(found[0])
        shifts = roster.final_shifts(value, start, end)
        body = {"schedule": found[0], "start": start, "end": end, "shifts": shifts,
                "gaps": roster.gaps(value, start, end)}
        context = self._present(found, shifts=shifts)
        return Response(ShiftsSerializer(body, context=context).data)


# --- overrides -------------------------------------------------------------------------------


class OverrideFilter(filters.FilterSet):
    schedule = IdFilter(field_name="schedule_id", label="Schedule")
    user = IdFilter(field_name="user_id", label="Who covers")
    # A choice, not a BooleanFilter: that one reads "maybe" as no filter instead of an error.
    active = filters.ChoiceFilter(choices=TRUE_FALSE, method="filter_active",
                                  label="Not over yet (ends after now)")
    ordering = filters.OrderingFilter(fields=(("starts_at", "starts_at"),
                                              ("ends_at", "ends_at")))

    class Meta:
        model = Override
        fields = ["schedule", "user", "active"]

    def filter_active(self, queryset, name, value):
        now = clock.now()
        return queryset.filter(ends_at__gt=now) if value == "true" else \
            queryset.filter(ends_at__lte=now)


@extend_schema(tags=["on-call"])
@extend_schema_view(
    list=extend_schema(summary="Overrides, earliest first"),
    retrieve=extend_schema(summary="One override",
                           responses={200: OverrideSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="Put someone on call over every layer for a while",
        description="For agents of the schedule's team and managers. Overrides are not edited: "
                    "delete one and create another.",
        request=OverrideInput,
        responses={201: OverrideSerializer, 400: ERRORS[400], 403: ERRORS[403]}),
    destroy=extend_schema(summary="Delete an override",
                          responses={204: None, 403: ERRORS[403], 404: ERRORS[404]}),
)
class OverrideViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OnCallViewSet):
    """Someone covering a schedule from one instant to another, over its layers."""

    queryset = Override.objects.select_related("schedule", "user", "replaces", "created_by") \
        .order_by("starts_at", "id")
    serializer_class = OverrideSerializer
    filterset_class = OverrideFilter

    def get_serializer_class(self):
        return OverrideInput if self.action == "create" else OverrideSerializer

    def create(self, request):
        data = OverrideInput(data=request.data)
        data.is_valid(raise_exception=True)
        override = services.override_create(by=request.user, **data.validated_data)
        override = self.get_queryset().get(pk=override.pk)
        return Response(OverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.override_delete(override=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- escalation policies ---------------------------------------------------------------------


class PolicyFilter(filters.FilterSet):
    team = IdFilter(field_name="team_id", label="Team")
    active = filters.ChoiceFilter(choices=TRUE_FALSE, method="filter_active", label="Active")

    class Meta:
        model = EscalationPolicy
        fields = ["team", "active"]

    def filter_active(self, queryset, name, value):
        return queryset.filter(active=value == "true")


@extend_schema(tags=["on-call"])
@extend_schema_view(
    list=extend_schema(summary="Escalation policies (edited in the admin)"),
    retrieve=extend_schema(summary="One escalation policy",
                           responses={200: EscalationPolicySerializer, 404: ERRORS[404]}),
)
class EscalationPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OnCallViewSet):
    """The escalation matrix: whom each step pages and how long it waits."""

    queryset = EscalationPolicy.objects.select_related("team").prefetch_related(
        "services",
        Prefetch("steps", EscalationStep.objects.select_related("schedule", "team")
                 .prefetch_related("users").order_by("position", "id")),
    ).order_by("team__name", "name", "id")
    serializer_class = EscalationPolicySerializer
    filterset_class = PolicyFilter


# --- pages -----------------------------------------------------------------------------------


class PageFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=PageState.choices, distinct=False)
    incident = filters.CharFilter(method="filter_incident", max_length=16,
                                  validators=[INCIDENT_NUMBER], label="Incident number")
    team = IdFilter(field_name="team_id", label="Team")

    class Meta:
        model = Page
        fields = ["state", "incident", "team"]

    def filter_incident(self, queryset, name, value):
        return queryset.filter(incident__number=value.upper())


@extend_schema(tags=["on-call"])
@extend_schema_view(
    list=extend_schema(summary="Pages, newest first"),
    retrieve=extend_schema(summary="One page", responses={200: PageSerializer, 404: ERRORS[404]}),
)
class PageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OnCallViewSet):
    """Runs of an escalation policy for an incident, and who each step notified."""

    queryset = Page.objects.select_related("incident", "team", "acknowledged_by") \
        .prefetch_related(Prefetch("notices", PageNotice.objects.select_related("user")
                                   .order_by("at", "id"))) \
        .order_by("-started_at", "-id")
    serializer_class = PageSerializer
    filterset_class = PageFilter

    def _show(self, page: Page) -> Response:
        return Response(PageSerializer(self.get_queryset().get(pk=page.pk)).data)

    @extend_schema(summary="Acknowledge: stop the escalation, you have it", request=None,
                   responses={200: PageSerializer, 403: ERRORS[403], 404: ERRORS[404],
                              409: ERRORS[409]})
    @action(detail=True, methods=["post"], filterset_class=None)
    def acknowledge(self, request, pk=None):
        """Stop paging; also acknowledges a new incident you may work."""
        return self._show(services.page_acknowledge(page=self.get_object(), by=request.user))

    @extend_schema(summary="End the page without an acknowledgement", request=PageResolveInput,
                   responses={200: PageSerializer, 400: ERRORS[400], 403: ERRORS[403],
                              404: ERRORS[404], 409: ERRORS[409]})
    @action(detail=True, methods=["post"], filterset_class=None)
    def resolve(self, request, pk=None):
        """End an active page by hand, with an optional note."""
        page = self.get_object()  # 404 before 400
        data = PageResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        return self._show(services.page_resolve(page=page, by=request.user,
                                                note=data.validated_data["note"]))
