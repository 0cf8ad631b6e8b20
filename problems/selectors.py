"""Read queries of the problem, known-error and article pages (and the API)."""

from datetime import timedelta

from django.contrib.postgres.search import SearchRank, TrigramSimilarity
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Value

from incidents.choices import ResolutionCode, State
from incidents.models import Incident
from incidents.rules import is_agent
from itsm import clock
from problems.choices import Audience, KnowledgeStatus, SuggestionStatus
from problems.models import Article, KnownError, Problem, ProblemEntry, SuggestedProblem
from problems.search import text_query

SHARE_DAYS = 30
SHARE_CACHE_SECONDS = 300


def problem_rows() -> QuerySet[Problem]:
    """Problems with what a queue row names, and their linked-incident count, in one query."""
    return (Problem.objects.select_related("owner", "assignment_team", "service")
            .annotate(incident_count=Count("links")))


def problem_detail(number: str) -> Problem:
    return (Problem.objects.select_related("owner", "assignment_team", "service", "category",
                                           "duplicate_of", "created_by")
            .prefetch_related("whys", "known_errors").get(number=number))


def linked_incidents(problem: Problem) -> list[Incident]:
    return list(Incident.objects.filter(problem_link__problem=problem)
                .select_related("assignment_team", "assignee").order_by("-opened_at"))


def timeline_for(problem: Problem) -> QuerySet[ProblemEntry]:
    return problem.timeline.select_related("actor").order_by("at", "id")


def workaround_share(days: int = SHARE_DAYS) -> dict:
    """Incidents resolved in the last `days` days, and the share resolved with a known error's
    workaround (resolution code "workaround (known error)").

    Counted from one index alone, and kept for five minutes: at a million incidents a month
    holds some 200,000 resolutions, 60 ms to count on every page.
    """
    key = f"problems:workaround-share:{days}"
    share = cache.get(key)
    if share is None:
        since = clock.now() - timedelta(days=days)
        counts = Incident.objects.filter(
            state__in=[State.RESOLVED, State.CLOSED], resolved_at__gte=since,
        ).aggregate(resolved=Count("*"), with_workaround=Count(  # columns of the index only
            "resolution_code", filter=Q(resolution_code=ResolutionCode.KNOWN_ERROR)))
        resolved = counts["resolved"]
        share = {**counts, "days": days,
                 "percent": round(100 * counts["with_workaround"] / resolved) if resolved else 0}
        cache.set(key, share, SHARE_CACHE_SECONDS)
    return share


def open_suggestions() -> QuerySet[SuggestedProblem]:
    return (SuggestedProblem.objects.filter(status=SuggestionStatus.OPEN)
            .select_related("service", "category").annotate(incident_count=Count("members"))
            .order_by("-updated_at"))


def knowledge_visible_to(model, user) -> QuerySet:
    """Agents see every known error and article; others only published articles for everyone
    (and no known errors at all)."""
    if is_agent(user):
        return model.objects.all()
    if model is KnownError:
        return model.objects.none()
    return model.objects.filter(status=KnowledgeStatus.PUBLISHED, audience=Audience.EVERYONE)


def knowledge_search(queryset: QuerySet, text: str) -> QuerySet:
    """Records matching the words (full-text, best first) or, for a number, that record."""
    text = (text or "").strip()
    if not text:
        return queryset
    prefix = "KE" if queryset.model is KnownError else "KB"
    if text.upper().startswith(prefix) and text[2:].isdigit():
        return queryset.filter(number=f"{prefix}{int(text[2:]):07d}")
    query = text_query(text)
    if query is None:
        return queryset.none()
    # The title's trigram matches as a subquery, so each test uses its own GIN index (with an
    # OR in one WHERE the planner scans the table, see `search.best`).
    by_title = queryset.model.objects.filter(title__trigram_similar=text).values("pk")
    return (queryset.filter(Q(search=query) | Q(pk__in=by_title))
            .annotate(score=SearchRank(F("search"), query, normalization=Value(32))
                      + TrigramSimilarity("title", text))
            .order_by("-score", "-updated_at"))


def article_detail(user, number: str) -> Article:
    return knowledge_visible_to(Article, user).prefetch_related("services", "categories").get(
        number=number)


def known_error_detail(user, number: str) -> KnownError:
    return (knowledge_visible_to(KnownError, user).select_related("problem", "created_by")
            .prefetch_related("services", "categories").get(number=number))
