"""Suggestions while an incident is worked: published known errors, articles and similar
resolved incidents for what the agent typed, best first.

Known errors and articles are ranked by full-text search (their stored, weighted tsvector,
GIN-indexed) plus the trigram similarity of their title to the typed title (GIN trigram
index), with a small bonus for the incident's service and category. Resolved incidents are
the nearest titles by trigram distance, read from a GiST index in distance order, so a title
shared by thousands of incidents costs the same as a rare one.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    TrigramDistance,
    TrigramSimilarity,
)
from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast

from incidents.choices import State
from incidents.models import Incident
from problems.choices import Audience, KnowledgeStatus
from problems.models import SEARCH_CONFIG, Article, KnownError

WORD = re.compile(r"[^\W_]{2,}")
MAX_WORDS = 24
SIMILAR_INCIDENTS_SCANNED = 30  # nearest titles read, before keeping one per distinct title
SIMILAR_INCIDENT_DISTANCE = 0.7  # trigram distance (1 - similarity) above which it is noise
BONUS = 0.1  # for a record that names the incident's service, and again for its category


@dataclass
class Suggestions:
    known_errors: list = field(default_factory=list)
    articles: list = field(default_factory=list)
    incidents: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.known_errors or self.articles or self.incidents)


def words(text: str) -> list[str]:
    """The distinct words of the text, in order (punctuation and tsquery syntax dropped)."""
    seen = dict.fromkeys(w.lower() for w in WORD.findall(text or ""))
    return list(seen)[:MAX_WORDS]


def _query(text: str) -> SearchQuery | None:
    """Any of the words (stemmed, stop words dropped by the configuration)."""
    found = words(text)
    if not found:
        return None
    return SearchQuery(" | ".join(found), search_type="raw", config=SEARCH_CONFIG)


def _ranked(queryset: QuerySet, *, query: SearchQuery, title: str, service_id,
            category_id) -> QuerySet:
    """Matches of the words or the title, scored: text rank (0–1) + title similarity (0–1)."""
    model = queryset.model
    score = (SearchRank(F("search"), query, normalization=Value(32))
             + TrigramSimilarity("title", title))
    for name, value in (("service", service_id), ("category", category_id)):
        if value:
            through = getattr(model, f"{name}s" if name == "service" else "categories").through
            named = through.objects.filter(**{f"{model._meta.model_name}_id": OuterRef("pk"),
                                              f"{name}_id": value})
            score = score + Cast(Exists(named), FloatField()) * BONUS
    return (queryset.filter(Q(search=query) | Q(title__trigram_similar=title))
            .annotate(score=score).order_by("-score", "-updated_at"))


def suggest(*, text: str, title: str = "", service_id: int | None = None,
            category_id: int | None = None, exclude_incident: int | None = None,
            agent: bool = True, limit: int = 3) -> Suggestions:
    """The best published known errors, articles and resolved incidents for the typed text
    (title and description together); `title` alone is compared by trigram similarity."""
    query = _query(f"{title} {text}")
    title = (title or text or "").strip()[:200]
    if query is None or not title:
        return Suggestions()
    common = {"query": query, "title": title, "service_id": service_id,
              "category_id": category_id}
    published = {"status": KnowledgeStatus.PUBLISHED}
    known_errors = []
    if agent:
        known_errors = list(_ranked(KnownError.objects.filter(**published)
                                    .select_related("problem"), **common)[:limit])
    articles = Article.objects.filter(**published)
    if not agent:
        articles = articles.filter(audience=Audience.EVERYONE)
    articles = list(_ranked(articles, **common)[:limit])
    incidents = similar_incidents(title, exclude=exclude_incident, limit=limit) if agent else []
    return Suggestions(known_errors=known_errors, articles=articles, incidents=incidents)


def similar_incidents(title: str, *, exclude: int | None = None, limit: int = 3) -> list:
    """Resolved or closed incidents with the nearest titles, one per distinct title."""
    nearest = (Incident.objects.filter(state__in=[State.RESOLVED, State.CLOSED])
               .annotate(distance=TrigramDistance("title", title))
               .order_by("distance")
               .only("number", "title", "resolution_code", "resolution_notes", "resolved_at")
               [:SIMILAR_INCIDENTS_SCANNED])
    kept, titles = [], set()
    for incident in nearest:
        key = incident.title.casefold()
        if (incident.distance > SIMILAR_INCIDENT_DISTANCE or incident.pk == exclude
                or key in titles):
            continue
        titles.add(key)
        kept.append(incident)
        if len(kept) == limit:
            break
    return kept
