"""Problem, known-error, article and suggestion endpoints: thin views that parse input with
serializers and call `problems.services`.

Problems and known errors are for agents only; requesters may read the published articles
meant for everyone, and ask for suggestions (which then hold only those).
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.rules import is_agent
from itsm.api import (
    IF_MATCH,
    AgentsOnly,
    CappedCountPagination,
    error_responses,
    version_from_if_match,
)
from problems import guards, search, selectors, services
from problems.api.serializers import (
    ArticleSerializer,
    KnownErrorSerializer,
    ProblemCloseInput,
    ProblemCreateSerializer,
    ProblemDuplicateInput,
    ProblemEntrySerializer,
    ProblemLinkInput,
    ProblemNoteInput,
    ProblemSerializer,
    ProblemUnlinkInput,
    ProblemUpdateSerializer,
    ProblemWhysInput,
    RecordVersionInput,
    ResolveIncidentsInput,
    ResolveIncidentsResult,
    SuggestionQuery,
    SuggestionsSerializer,
    WorkaroundApplicationSerializer,
    WorkaroundApplyInput,
    parse_number,
)
from problems.choices import KnowledgeStatus
from problems.filters import ArticleFilter, KnownErrorFilter, ProblemFilter
from problems.models import Article, KnownError, Problem, ProblemLink, Why

ERRORS = error_responses()


class NumberedViewSet(viewsets.GenericViewSet):
    """What every endpoint here shares: records by number, capped pages, parsed bodies."""

    pagination_class = CappedCountPagination
    lookup_field = "number"
    prefix = ""

    def get_object(self):
        """The record in the address; what cannot be a number is a 404 without a query.

        No list filters here: a detail address ignores the list's query parameters.
        """
        number = parse_number(self.kwargs["number"], self.prefix)
        if number is None:
            raise exceptions.NotFound()
        record = get_object_or_404(self.get_queryset(), number=number)
        self.check_object_permissions(self.request, record)
        return record

    def _version(self, data: dict) -> int | None:
        """The version the client read: body `version` first, else the If-Match header."""
        version = data.pop("version", None)
        return version if version is not None else version_from_if_match(
            self.request.headers.get("If-Match"))

    def _parse(self, serializer_class, instance=None, **kwargs) -> dict:
        """The request body, validated by the action's input serializer."""
        data = serializer_class(instance, data=self.request.data,
                                context=self.get_serializer_context(), **kwargs)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _show(self, record, status_code=status.HTTP_200_OK, *, rows=None,
              serializer_class=None) -> Response:
        """The record as a list row shows it (reloaded with what the row needs)."""
        record = (rows if rows is not None else self.get_queryset()).get(pk=record.pk)
        serializer_class = serializer_class or self.serializer_class
        data = serializer_class(record, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        if status_code == status.HTTP_201_CREATED:
            response["Location"] = str(data["url"])  # a Hyperlink; servers want str
        return response


# --- problems --------------------------------------------------------------------------------


def problem_rows():
    """Problems with what the API shows of each, in a constant number of queries."""
    links = ProblemLink.objects.filter(problem=OuterRef("pk")).order_by("linked_at", "id")
    known_errors = KnownError.objects.filter(problem=OuterRef("pk")).order_by("number")
    return (Problem.objects
            .select_related("service", "category", "owner", "assignment_team", "duplicate_of")
            .annotate(incident_numbers=ArraySubquery(links.values("incident__number")),
                      known_error_numbers=ArraySubquery(known_errors.values("number")))
            .prefetch_related(Prefetch("whys", Why.objects.order_by("position"))))


def acts(summary: str, request=RecordVersionInput, response=ProblemSerializer, *,
         versioned: bool = True, **extra):
    """Schema for an action on one problem: its input, the answer, the errors."""
    return extend_schema(summary=summary, request=request,
                         parameters=[IF_MATCH] if versioned else [],
                         responses={200: response, **ERRORS}, **extra)


# Input, summary and description of each lifecycle transition's endpoint.
TRANSITIONS = {
    "assess": (RecordVersionInput, "Assess (new → assessed)",
               "Problem managers confirm the problem is worth working and its priority."),
    "analyze": (RecordVersionInput, "Start root cause analysis (assessed → root cause analysis)",
                "Its owner, team or a problem manager start looking for the cause."),
    "start_fix": (RecordVersionInput, "Start the fix (root cause analysis → fix in progress)",
                  "Needs the root cause recorded."),
    "resolve": (RecordVersionInput, "Resolve (fix in progress → resolved)",
                "Needs the permanent fix described."),
    "close": (ProblemCloseInput, "Close a resolved problem (resolved → closed)",
              "Problem managers confirm the fix held; an optional note says how it closed."),
    "reanalyze": (ProblemNoteInput, "Re-analyse (fix in progress, resolved or risk accepted → root "
                             "cause analysis)",
                  "The cause needs another look; the note says why."),
    "cancel": (ProblemNoteInput, "Cancel an open problem",
               "Problem managers withdraw it; the note says why."),
    "mark_duplicate": (ProblemDuplicateInput, "Mark a duplicate of another problem",
                       "Problem managers close it as a duplicate; its incidents move to the "
                       "problem it duplicates."),
    "accept_risk": (ProblemNoteInput, "Accept the risk (assessed or root cause analysis → risk "
                               "accepted)",
                    "Problem managers decide not to fix it; the note says why and who "
                    "accepted it."),
}
assert set(TRANSITIONS) == set(guards.TRANSITIONS)


@extend_schema(tags=["problems"])
@extend_schema_view(
    list=extend_schema(summary="List problems (same filters as the problem queue)"),
    retrieve=extend_schema(summary="One problem by number",
                           responses={200: ProblemSerializer, 403: ERRORS[403],
                                      404: ERRORS[404]}),
)
class ProblemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, NumberedViewSet):
    """Problems by number (agents only); state changes only through the action endpoints."""

    serializer_class = ProblemSerializer
    filterset_class = ProblemFilter
    permission_classes = [AgentsOnly]
    prefix = "PRB"
    # What each action reads from the request body (also the browsable API's forms).
    inputs = {"create": ProblemCreateSerializer, "update": ProblemUpdateSerializer,
              "partial_update": ProblemUpdateSerializer, "whys": ProblemWhysInput,
              "link": ProblemLinkInput, "unlink": ProblemUnlinkInput,
              "resolve_incidents": ResolveIncidentsInput,
              **{name: spec[0] for name, spec in TRANSITIONS.items()}}

    def get_queryset(self):
        return problem_rows()

    def get_serializer_class(self):
        return self.inputs.get(self.action, ProblemSerializer)

    # --- create and edit -------------------------------------------------------------------

    @extend_schema(summary="Log a problem, optionally raised from incidents",
                   request=ProblemCreateSerializer,
                   responses={201: ProblemSerializer, 400: ERRORS[400], 403: ERRORS[403]})
    def create(self, request):
        data = self._parse(ProblemCreateSerializer)
        problem = services.problem_create(by=request.user, **data)
        return self._show(problem, status.HTTP_201_CREATED)

    @acts("Edit a problem's descriptive and analysis fields", request=ProblemUpdateSerializer)
    def update(self, request, number=None, partial=False):
        problem = self.get_object()  # 404 before 400: don't reveal what cannot be seen
        changes = self._parse(ProblemUpdateSerializer, problem, partial=partial)
        version = self._version(changes)
        problem = services.problem_update(problem=problem, by=request.user, version=version,
                                          **changes)
        return self._show(problem)

    @acts("Edit some of a problem's fields", request=ProblemUpdateSerializer)
    def partial_update(self, request, number=None):
        return self.update(request, number, partial=True)

    # --- lifecycle (endpoints made below, one per transition) ------------------------------

    def _transition(self, name: str) -> Response:
        problem = self.get_object()
        params = self._parse(TRANSITIONS[name][0])
        version = self._version(params)
        problem = services.problem_transition(
            problem=problem, by=self.request.user, name=name, version=version,
            note=params.get("note", ""), duplicate_of=params.get("duplicate_of"))
        return self._show(problem)

    # --- analysis and incidents ------------------------------------------------------------

    @acts("Replace the 5 Whys chain", request=ProblemWhysInput)
    @action(detail=True, methods=["post"], filterset_class=None)
    def whys(self, request, number=None):
        """Save the whole chain of (question, answer) pairs, in order; empty pairs are dropped."""
        problem = self.get_object()
        params = self._parse(ProblemWhysInput)
        problem = services.problem_save_whys(problem=problem, by=request.user,
                                             whys=params["whys"], version=self._version(params))
        return self._show(problem)

    @acts("Link incidents to the problem", request=ProblemLinkInput, versioned=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def link(self, request, number=None):
        """Any agent links incidents to a problem still worked; linked elsewhere, they move."""
        problem = self.get_object()
        params = self._parse(ProblemLinkInput)
        services.problem_link_incidents(problem=problem, by=request.user,
                                        incidents=params["incidents"])
        return self._show(problem)

    @acts("Unlink an incident from the problem", request=ProblemUnlinkInput,
          versioned=False)
    @action(detail=True, methods=["post"], filterset_class=None)
    def unlink(self, request, number=None):
        """Its owner, team or a problem manager take an incident off the problem."""
        problem = self.get_object()
        params = self._parse(ProblemUnlinkInput)
        services.problem_unlink_incident(problem=problem, by=request.user,
                                         incident=params["incident"])
        return self._show(problem)

    @acts("Resolve every linked incident awaiting the problem", request=ResolveIncidentsInput,
          response=ResolveIncidentsResult, versioned=False)
    @action(detail=True, methods=["post"], url_path="resolve-incidents", filterset_class=None)
    def resolve_incidents(self, request, number=None):
        """The fix landed: linked incidents on hold awaiting it are resumed and resolved, each
        through its own lifecycle; one refused never blocks the others."""
        problem = self.get_object()
        params = self._parse(ResolveIncidentsInput)
        event = services.problem_resolve_incidents(problem=problem, by=request.user,
                                                   notes=params["notes"])
        body = {"resolved": [incident.number for incident in event.incidents],
                "refused": event.refused}
        return Response(ResolveIncidentsResult(body).data)

    @extend_schema(summary="Record a known error from the problem", request=None,
                   responses={201: KnownErrorSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="known-error", filterset_class=None)
    def known_error(self, request, number=None):
        """A draft known error with the problem's root cause and workaround."""
        known_error = services.known_error_from_problem(problem=self.get_object(),
                                                        by=request.user)
        return self._show(known_error, status.HTTP_201_CREATED, rows=known_error_rows(),
                          serializer_class=KnownErrorSerializer)

    @extend_schema(summary="The problem's history, oldest first",
                   responses={200: ProblemEntrySerializer(many=True), 403: ERRORS[403],
                              404: ERRORS[404]})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request, number=None):
        """Every event on the problem, oldest first."""
        entries = selectors.timeline_for(self.get_object())
        return Response(ProblemEntrySerializer(entries, many=True).data)


def _transition_endpoint(name: str):
    """The POST endpoint of one lifecycle transition, with its schema."""
    body, summary, description = TRANSITIONS[name]

    def endpoint(self, request, number=None):
        return self._transition(name)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = description
    endpoint = action(detail=True, methods=["post"], url_path=name.replace("_", "-"),
                      filterset_class=None)(endpoint)
    return acts(summary, request=body)(endpoint)


for _name in TRANSITIONS:  # DRF's router finds them as the viewset's extra actions
    setattr(ProblemViewSet, _name, _transition_endpoint(_name))


# --- known errors and articles ---------------------------------------------------------------


def known_error_rows():
    return KnownError.objects.select_related("problem").prefetch_related("services",
                                                                         "categories")


def article_rows():
    return Article.objects.prefetch_related("services", "categories")


class KnowledgeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, NumberedViewSet):
    """What the known-error and article endpoints share: create, edit, publish."""

    def _create(self, create):
        data = self._parse(self.serializer_class)
        data.pop("version", None)  # a new record has none yet
        return self._show(create(by=self.request.user, **data), status.HTTP_201_CREATED)

    def _edit(self, update, name: str):
        record = self.get_object()
        changes = self._parse(self.serializer_class, record, partial=True)
        version = self._version(changes)
        return self._show(update(**{name: record}, by=self.request.user, version=version,
                                 **changes))

    def _set_status(self, value: str) -> Response:
        record = self.get_object()
        params = self._parse(RecordVersionInput)
        return self._show(services.knowledge_set_status(
            record=record, by=self.request.user, status=value, version=self._version(params)))


STATUS_ENDPOINTS = {"publish": KnowledgeStatus.PUBLISHED, "retire": KnowledgeStatus.RETIRED,
                    "draft": KnowledgeStatus.DRAFT}
STATUS_SUMMARIES = {"publish": "Publish {} (problem managers)",
                    "retire": "Retire {}: no longer offered (problem managers)",
                    "draft": "Send {} back to draft (problem managers)"}


def _status_endpoint(viewset, name: str, noun: str, a_noun: str):
    """POST …/{number}/publish/ (retire/, draft/) on a known error or an article."""
    value = STATUS_ENDPOINTS[name]

    def endpoint(self, request, number=None):
        return self._set_status(value)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = f"Set the {noun}'s status to {value.label.lower()}."
    endpoint = action(detail=True, methods=["post"], filterset_class=None)(endpoint)
    endpoint = extend_schema(summary=STATUS_SUMMARIES[name].format(a_noun),
                             request=RecordVersionInput, parameters=[IF_MATCH],
                             responses={200: viewset.serializer_class, **ERRORS})(endpoint)
    setattr(viewset, name, endpoint)


@extend_schema(tags=["knowledge"])
@extend_schema_view(
    list=extend_schema(summary="List known errors (the KEDB)"),
    retrieve=extend_schema(summary="One known error by number",
                           responses={200: KnownErrorSerializer, 403: ERRORS[403],
                                      404: ERRORS[404]}),
)
class KnownErrorViewSet(KnowledgeViewSet):
    """Known errors by number (agents only): drafted by agents, published by problem managers."""

    serializer_class = KnownErrorSerializer
    filterset_class = KnownErrorFilter
    permission_classes = [AgentsOnly]
    prefix = "KE"

    def get_queryset(self):
        return known_error_rows()

    def get_serializer_class(self):
        return WorkaroundApplyInput if self.action == "apply" else KnownErrorSerializer

    @extend_schema(summary="Record a known error (as a draft)", request=KnownErrorSerializer,
                   responses={201: KnownErrorSerializer, 400: ERRORS[400], 403: ERRORS[403]})
    def create(self, request):
        return self._create(services.known_error_create)

    @extend_schema(summary="Edit a known error (published ones: problem managers)",
                   parameters=[IF_MATCH], request=KnownErrorSerializer,
                   responses={200: KnownErrorSerializer, **ERRORS})
    def partial_update(self, request, number=None):
        return self._edit(services.known_error_update, "known_error")

    @extend_schema(summary="Apply the workaround to an open incident", request=WorkaroundApplyInput,
                   responses={201: WorkaroundApplicationSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filterset_class=None)
    def apply(self, request, number=None):
        """Record a published workaround on an incident (once); the incident is linked to the
        known error's problem if it has none."""
        known_error = self.get_object()
        params = self._parse(WorkaroundApplyInput)
        application = services.workaround_apply(known_error=known_error,
                                                incident=params["incident"], by=request.user)
        return Response(WorkaroundApplicationSerializer(application).data,
                        status=status.HTTP_201_CREATED)


class ReadOrAgents(permissions.BasePermission):
    """Anyone signed in reads (what the queryset lets them see); agents write."""

    message = "Only agents can do this."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or is_agent(request.user)


@extend_schema(tags=["knowledge"])
@extend_schema_view(
    list=extend_schema(summary="List articles and runbooks (requesters: the public ones)"),
    retrieve=extend_schema(summary="One article by number",
                           responses={200: ArticleSerializer, 404: ERRORS[404]}),
)
class ArticleViewSet(KnowledgeViewSet):
    """Articles and runbooks by number. Requesters see only published ones meant for
    everyone; everything else is for agents."""

    serializer_class = ArticleSerializer
    filterset_class = ArticleFilter
    permission_classes = [ReadOrAgents]
    prefix = "KB"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return article_rows()
        # Restricted to the user in one place, shared with the article pages.
        return selectors.knowledge_visible_to(Article, self.request.user).prefetch_related(
            "services", "categories")

    @extend_schema(summary="Write an article or runbook (as a draft)", request=ArticleSerializer,
                   responses={201: ArticleSerializer, 400: ERRORS[400], 403: ERRORS[403]})
    def create(self, request):
        return self._create(services.article_create)

    @extend_schema(summary="Edit an article (published ones: problem managers)",
                   parameters=[IF_MATCH], request=ArticleSerializer,
                   responses={200: ArticleSerializer, **ERRORS})
    def partial_update(self, request, number=None):
        return self._edit(services.article_update, "article")


for _name in STATUS_ENDPOINTS:
    _status_endpoint(KnownErrorViewSet, _name, "known error", "a known error")
    _status_endpoint(ArticleViewSet, _name, "article", "an article")


# --- suggestions -----------------------------------------------------------------------------


@extend_schema(tags=["knowledge"])
class SuggestionViewSet(viewsets.ViewSet):
    """Known errors, articles and resolved incidents for what is being typed."""

    @extend_schema(
        summary="Suggestions for an incident being logged or worked",
        description="Published known errors, articles and similar resolved incidents for the "
                    "title and text typed so far, best first (a bonus for the service and "
                    "category). Requesters get only articles meant for everyone.",
        parameters=[SuggestionQuery], responses={200: SuggestionsSerializer, 400: ERRORS[400]})
    def list(self, request):
        query = SuggestionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        found = search.suggest(text=params["text"], title=params["title"],
                               service_id=params.get("service"),
                               category_id=params.get("category"),
                               agent=is_agent(request.user))
        body = {"known_errors": found.known_errors, "articles": found.articles,
                "incidents": found.incidents}
        return Response(SuggestionsSerializer(body, context={"request": request}).data)
