"""Incident endpoints: thin views that parse input with serializers and call the services."""

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents import selectors, services
from incidents.api.serializers import (
    AssignInput,
    CategorySerializer,
    CloseInput,
    CommentInput,
    HoldInput,
    IncidentSerializer,
    IncidentUpdateSerializer,
    NotifyManagerInput,
    ReasonInput,
    ReopenInput,
    ResolveInput,
    TimelineEntrySerializer,
    VersionInput,
)
from incidents.choices import EntryKind
from incidents.filters import IncidentFilter
from incidents.models import Category, Incident
from itsm.api import CappedCountPagination, ErrorSerializer
from itsm.exceptions import InvalidInput

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; `field_errors` names the field."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for this user."),
    404: OpenApiResponse(ErrorSerializer, description="No such incident visible to this user."),
    409: OpenApiResponse(ErrorSerializer,
                         description="Impossible in the current state, or a stale `version`."),
}
IF_MATCH = OpenApiParameter(
    "If-Match", location=OpenApiParameter.HEADER, required=False,
    description="The incident `version` you read (alternative to `version` in the body).",
)


def acts(summary: str, request=VersionInput, **extra):
    """Schema for an action on one incident: its input, the updated incident, the errors."""
    return extend_schema(summary=summary, request=request, parameters=[IF_MATCH],
                         responses={200: IncidentSerializer, **ERRORS}, **extra)


def _version_from_if_match(header: str | None) -> int | None:
    if not header or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput.field("version", "If-Match must carry the incident version number.")
    return int(value)


@extend_schema(tags=["incidents"])
@extend_schema_view(
    list=extend_schema(summary="List visible incidents (same filters as the queue)"),
    retrieve=extend_schema(summary="One incident by number", responses={200: IncidentSerializer,
                                                                        404: ERRORS[404]}),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents by number; state changes only through the action endpoints."""

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    pagination_class = CappedCountPagination
    lookup_field = "number"
    # What each action reads from the request body (also the browsable API's forms).
    inputs = {
        "update": IncidentUpdateSerializer, "partial_update": IncidentUpdateSerializer,
        "acknowledge": VersionInput, "hold": HoldInput, "resume": VersionInput,
        "resolve": ResolveInput, "close": CloseInput, "reopen": ReopenInput,
        "cancel": ReasonInput, "assign": AssignInput, "assign_to_me": VersionInput,
        "escalate": ReasonInput, "notify_manager": NotifyManagerInput, "comments": CommentInput,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return Incident.objects.none()
        # Restricted to the user in one place, shared with the queue page.
        return selectors.incident_list(self.request.user)

    def get_serializer_class(self):
        return self.inputs.get(self.action, IncidentSerializer)

    def _version(self, data: dict) -> int | None:
        """The version the client read: body `version` first, else the If-Match header."""
        version = data.pop("version", None)
        return version if version is not None else _version_from_if_match(
            self.request.headers.get("If-Match"))

    def _parse(self, instance=None, **kwargs) -> dict:
        """The request body, validated by this action's input serializer."""
        data = self.get_serializer(instance, data=self.request.data, **kwargs)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _show(self, incident, status_code=status.HTTP_200_OK) -> Response:
        data = IncidentSerializer(incident, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    # --- create and edit -------------------------------------------------------------------

    @extend_schema(summary="Log an incident", request=IncidentSerializer,
                   responses={201: IncidentSerializer, 400: ERRORS[400], 403: ERRORS[403]})
    def create(self, request):
        incident = services.incident_create(by=request.user, **self._parse())
        response = self._show(incident, status.HTTP_201_CREATED)
        response["Location"] = str(response.data["url"])  # a Hyperlink; servers want str
        return response

    @acts("Edit an incident's descriptive fields (managers may also override the priority)",
          request=IncidentUpdateSerializer)
    def update(self, request, number=None, partial=False):
        incident = self.get_object()
        changes = self._parse(incident, partial=partial)
        version = self._version(changes)
        priority = changes.pop("priority", None)
        reason = changes.pop("priority_override_reason", "")
        # The edit and the override commit together or not at all.
        with transaction.atomic():
            incident = services.incident_update(incident=incident, by=request.user,
                                                version=version, **changes)
            if priority is not None:
                incident = services.incident_override_priority(
                    incident=incident, by=request.user, priority=priority, reason=reason)
        return self._show(incident)

    @acts("Edit some of an incident's descriptive fields", request=IncidentUpdateSerializer)
    def partial_update(self, request, number=None):
        return self.update(request, number, partial=True)

    # --- lifecycle transitions -------------------------------------------------------------

    def _transition(self, name: str) -> Response:
        incident = self.get_object()  # 404 before 400: don't reveal what cannot be seen
        params = self._parse()
        incident = services.TRANSITIONS[name](incident=incident, by=self.request.user,
                                              version=self._version(params), **params)
        return self._show(incident)

    @acts("Acknowledge: start work (new → in progress)")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, number=None):
        """Start work; an incident nobody owns becomes yours."""
        return self._transition("acknowledge")

    @acts("Put on hold (in progress → on hold)", request=HoldInput)
    @action(detail=True, methods=["post"])
    def hold(self, request, number=None):
        """Pause work for a named reason (awaiting caller, vendor, change or problem)."""
        return self._transition("hold")

    @acts("Resume work (on hold → in progress)")
    @action(detail=True, methods=["post"])
    def resume(self, request, number=None):
        """Take work up again after a hold."""
        return self._transition("resume")

    @acts("Resolve with a code and notes (in progress → resolved)", request=ResolveInput)
    @action(detail=True, methods=["post"])
    def resolve(self, request, number=None):
        """Record how it was resolved; the caller is told and may reopen it."""
        return self._transition("resolve")

    @acts("Close a resolved incident (resolved → closed)", request=CloseInput)
    @action(detail=True, methods=["post"])
    def close(self, request, number=None):
        """Confirm the resolution (caller or agent); closed incidents stay closed."""
        return self._transition("close")

    @acts("Reopen a resolved incident (resolved → in progress)", request=ReopenInput)
    @action(detail=True, methods=["post"])
    def reopen(self, request, number=None):
        """The fix did not hold: back to work, counted in `reopen_count`."""
        return self._transition("reopen")

    @acts("Cancel an open incident, with a reason", request=ReasonInput)
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        """Withdraw an incident logged in error or twice."""
        return self._transition("cancel")

    # --- assignment and escalation ---------------------------------------------------------

    @acts("Assign to a team and/or one of its members", request=AssignInput)
    @action(detail=True, methods=["post"])
    def assign(self, request, number=None):
        """Give the incident to a team, and optionally to one of its members."""
        incident, params = self.get_object(), self._parse()
        incident = services.incident_assign(
            incident=incident, by=request.user, version=self._version(params),
            team=params.get("team"), assignee=params.get("assignee"))
        return self._show(incident)

    @acts("Take the incident yourself")
    @action(detail=True, methods=["post"], url_path="assign-to-me")
    def assign_to_me(self, request, number=None):
        """Take the incident; it moves to your team if you are not in its team."""
        incident, params = self.get_object(), self._parse()
        incident = services.incident_assign_to_me(incident=incident, by=request.user,
                                                  version=self._version(params))
        return self._show(incident)

    @acts("Functional escalation to the next-tier team", request=ReasonInput)
    @action(detail=True, methods=["post"])
    def escalate(self, request, number=None):
        """Hand the incident to the next-tier team of its current team."""
        incident, params = self.get_object(), self._parse()
        incident = services.incident_escalate(incident=incident, by=request.user,
                                              version=self._version(params),
                                              reason=params["reason"])
        return self._show(incident)

    @extend_schema(summary="Hierarchical escalation: alert the team's manager",
                   request=NotifyManagerInput, responses={200: IncidentSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="notify-manager")
    def notify_manager(self, request, number=None):
        """Alert the assignment team's manager; recorded on the timeline."""
        incident, params = self.get_object(), self._parse()
        incident = services.incident_notify_manager(incident=incident, by=request.user,
                                                    reason=params["reason"])
        return self._show(incident)

    # --- conversation and history ----------------------------------------------------------

    @extend_schema(methods=["GET"], summary="Comments and work notes visible to you",
                   responses={200: TimelineEntrySerializer(many=True), 404: ERRORS[404]})
    @extend_schema(methods=["POST"], summary="Add a comment or an internal work note",
                   request=CommentInput,
                   responses={201: TimelineEntrySerializer, 400: ERRORS[400], 403: ERRORS[403],
                              404: ERRORS[404]})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request, number=None):
        """Comments (and, for agents, work notes) on the incident, oldest first."""
        incident = self.get_object()
        if request.method == "POST":
            params = self._parse()
            entry = services.incident_comment(incident=incident, by=request.user, **params)
            return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        entries = selectors.timeline_for(incident=incident, user=request.user).filter(
            kind__in=[EntryKind.COMMENT, EntryKind.WORK_NOTE])
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(summary="The incident's history visible to you, oldest first",
                   responses={200: TimelineEntrySerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, number=None):
        """Every event on the incident you may see, oldest first."""
        entries = selectors.timeline_for(incident=self.get_object(), user=request.user)
        return Response(TimelineEntrySerializer(entries, many=True).data)


@extend_schema(tags=["configuration"])
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The category › subcategory taxonomy."""

    queryset = Category.objects.select_related("parent")
    serializer_class = CategorySerializer
    pagination_class = CappedCountPagination
    filterset_fields = ["active", "parent"]
