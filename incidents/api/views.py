"""Incident endpoints: thin views that parse input with serializers and call the services."""

from django.db import transaction
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from attachments.selectors import attach_to_entries
from incidents import actions, selectors, services, workspace
from incidents.api.serializers import (
    AssignInput,
    BulkInput,
    BulkResultSerializer,
    CategorySerializer,
    CloseInput,
    CommentInput,
    EscalateInput,
    HoldInput,
    IncidentSerializer,
    IncidentUpdateSerializer,
    NotifyManagerInput,
    ReasonInput,
    ReopenInput,
    ResolveInput,
    SavedFilterSerializer,
    SlaPolicySerializer,
    TimelineEntrySerializer,
    VersionInput,
)
from incidents.choices import EntryKind
from incidents.filters import IncidentFilter, SlaPolicyFilter
from incidents.models import Category, Incident, SavedFilter, SlaPolicy
from itsm.api import (
    IF_MATCH,
    AgentsOnly,
    CappedCountPagination,
    error_responses,
    version_from_if_match,
)

ERRORS = error_responses("incident")


def acts(summary: str, request=VersionInput, **extra):
    """Schema for an action on one incident: its input, the updated incident, the errors."""
    return extend_schema(summary=summary, request=request, parameters=[IF_MATCH],
                         responses={200: IncidentSerializer, **ERRORS}, **extra)


# Input, summary and description of each catalogue action that has its own endpoint.
ENDPOINTS = {
    "acknowledge": (VersionInput, "Acknowledge: start work (new → in progress)",
                    "Start work; an incident nobody owns becomes yours."),
    "hold": (HoldInput, "Put on hold (in progress → on hold)",
             "Pause work for a named reason (awaiting caller, vendor, change or problem)."),
    "resume": (VersionInput, "Resume work (on hold → in progress)",
               "Take work up again after a hold."),
    "resolve": (ResolveInput, "Resolve with a code and notes (in progress → resolved)",
                "Record how it was resolved; the caller is told and may reopen it."),
    "close": (CloseInput, "Close a resolved incident (resolved → closed)",
              "Confirm the resolution (caller or agent); closed incidents stay closed."),
    "reopen": (ReopenInput, "Reopen a resolved incident (resolved → in progress)",
               "The fix did not hold: back to work, counted in `reopen_count`."),
    "cancel": (ReasonInput, "Cancel an open incident, with a reason",
               "Withdraw an incident logged in error or twice."),
    "assign": (AssignInput, "Assign to a team and/or one of its members",
               "Give the incident to a team, and optionally to one of its members."),
    "assign_to_me": (VersionInput, "Take the incident yourself",
                     "Take an open incident; it moves to your team if you are not in its team."),
    "escalate": (EscalateInput, "Functional escalation to another team",
                 "Hand the incident, unassigned, to another team: the one you choose, else the "
                 "service's owner team when another team holds it, else the next tier."),
    "notify_manager": (NotifyManagerInput, "Hierarchical escalation: alert the team's manager",
                       "Alert the assignment team's manager; recorded on the timeline."),
}

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
    inputs = {"update": IncidentUpdateSerializer, "partial_update": IncidentUpdateSerializer,
              "comments": CommentInput, **{name: spec[0] for name, spec in ENDPOINTS.items()}}

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
        return version if version is not None else version_from_if_match(
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

    # --- catalogue actions (endpoints made below, one per `incidents.actions` entry) -----------

    def _act(self, name: str) -> Response:
        spec = actions.CATALOGUE[name]
        incident = self.get_object()  # 404 before 400: don't reveal what cannot be seen
        params = self._parse()
        version = self._version(params)
        if spec.versioned:
            params["version"] = version
        return self._show(spec.service(incident=incident, by=self.request.user, **params))

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
            spec = actions.CATALOGUE["work_note" if params.pop("internal") else "comment"]
            entry = spec.service(incident=incident, by=request.user, **params)
            return Response(TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
        entries = attach_to_entries(selectors.timeline_for(
            incident=incident, user=request.user).filter(
            kind__in=[EntryKind.COMMENT, EntryKind.WORK_NOTE]))
        return Response(TimelineEntrySerializer(entries, many=True,
                                                context={"request": request}).data)

    @extend_schema(summary="One action on many incidents (the queue's bulk bar)",
                   request=BulkInput, responses={200: BulkResultSerializer, 400: ERRORS[400]},
                   description="Each incident goes through the action's own service in its own "
                               "transaction; refusals are listed with their reason and stop "
                               "nothing else. No version check: the incidents are as they are "
                               "now. At most 100.")
    @action(detail=False, methods=["post"], pagination_class=None)
    def bulk(self, request):
        data = BulkInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        action_name, numbers = params.pop("action"), params.pop("incidents")
        result = workspace.incidents_bulk(by=request.user, action=action_name, numbers=numbers,
                                         **params)
        return Response({"done": [i.number for i in result.done],
                         "refused": [{"number": n, "reason": why} for n, why in result.refused]})

    @extend_schema(summary="The incident's history visible to you, oldest first",
                   responses={200: TimelineEntrySerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, number=None):
        """Every event on the incident you may see, oldest first."""
        entries = attach_to_entries(selectors.timeline_for(incident=self.get_object(),
                                                           user=request.user))
        return Response(TimelineEntrySerializer(entries, many=True,
                                                context={"request": request}).data)


@extend_schema(tags=["configuration"])
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The category › subcategory taxonomy."""

    queryset = Category.objects.select_related("parent")
    serializer_class = CategorySerializer
    pagination_class = CappedCountPagination
    filterset_fields = ["active", "parent"]


def _endpoint(name: str):
    """The POST endpoint of one catalogue action, with its schema."""
    body, summary, description = ENDPOINTS[name]

    def endpoint(self, request, number=None):
        return self._act(name)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = description
    endpoint = action(detail=True, methods=["post"], url_path=actions.CATALOGUE[name].slug)(
        endpoint)
    return acts(summary, request=body)(endpoint)


assert set(ENDPOINTS) == {a.name for a in actions.CATALOGUE.values() if a.endpoint}
for _name in ENDPOINTS:  # DRF's router finds them as the viewset's extra actions
    setattr(IncidentViewSet, _name, _endpoint(_name))


@extend_schema(tags=["configuration"])
class SlaPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """SLA and OLA policies in matching order (first match wins); edited in the admin."""

    queryset = SlaPolicy.objects.all()
    serializer_class = SlaPolicySerializer
    permission_classes = [AgentsOnly]
    pagination_class = CappedCountPagination
    filterset_class = SlaPolicyFilter


@extend_schema(tags=["incidents"])
@extend_schema_view(
    list=extend_schema(summary="Your saved queue filters"),
    create=extend_schema(summary="Save a queue filter (a name and the queue's query string)"),
    destroy=extend_schema(summary="Delete one of your saved filters"),
)
class SavedFilterViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
                         viewsets.GenericViewSet):
    """The queue filters you named; each is a tab beside the queue's views."""

    serializer_class = SavedFilterSerializer
    permission_classes = [AgentsOnly]
    pagination_class = None
    queryset = SavedFilter.objects.none()  # the schema's model; get_queryset is per person

    def get_queryset(self):
        return SavedFilter.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = workspace.saved_filter_create(
            by=self.request.user, name=serializer.validated_data["name"],
            query=serializer.validated_data["query"])

    def perform_destroy(self, instance):
        workspace.saved_filter_delete(by=self.request.user, saved_filter=instance)
