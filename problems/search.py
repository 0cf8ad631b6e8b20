"""Suggestions while an incident is worked: published known errors, articles and similar
resolved incidents for what the agent typed, best first.

Known errors and articles are ranked by full-text search (their stored, weighted tsvector,
GIN-indexed) plus the trigram similarity of their title to the typed title (GIN trigram
index), with a small bonus for the incident's service and category. Resolved incidents are
found among the distinct resolved titles (`ResolvedTitle`, trigram GIN index), so a title
shared by thousands of incidents costs the same as a rare one.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, QuerySet, Value, When

from incidents.choices import State
from problems.choices import Audience, KnowledgeStatus
from problems.models import SEARCH_CONFIG, Article, KnownError, ResolvedTitle

WORD = re.compile(r"[^\W_]{2,}")
MAX_WORDS = 24
RELATIVE_CUTOFF = 0.4  # of the best record's score
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


def text_query(text: str) -> SearchQuery | None:
    """Any of the words (stemmed, stop words dropped by the configuration)."""
    found = words(text)
    if not found:
        return None
    return SearchQuery(" | ".join(found), search_type="raw", config=SEARCH_CONFIG)


def best(queryset: QuerySet, *, query: SearchQuery, title: str, service_id, category_id,
         limit: int) -> list:
    """The records best matching the words or the title, scored: text rank (0–1) + title
    similarity (0–1) + the bonuses.

    Two queries, words then title, each through its own GIN index: as one query with an OR
    the planner prices the trigram test like a comparison and scans the table instead, which
    costs about 10 µs a row.
    """
    model = queryset.model
    score = (SearchRank(F("search"), query, normalization=Value(32))
             + TrigramSimilarity("title", title))
    for name, value in (("service", service_id), ("category", category_id)):
        if value:
            through = getattr(model, f"{name}s" if name == "service" else "categories").through
            named = through.objects.filter(**{f"{model._meta.model_name}_id": OuterRef("pk"),
                                              f"{name}_id": value})
            # PostgreSQL casts no boolean to float: a CASE gives the bonus or nothing.
            score = score + Case(When(Exists(named), then=Value(BONUS)), default=Value(0.0),
                                 output_field=FloatField())
    scored = queryset.annotate(score=score).order_by("-score", "-updated_at", "-id")
    found = {record.pk: record for condition in (Q(search=query),
                                                 Q(title__trigram_similar=title))
             for record in scored.filter(condition)[:limit]}
    ranked = sorted(found.values(), key=lambda r: (-r.score, -r.updated_at.timestamp(), -r.pk))
    # A record far behind the best one matched on a word or two of a long description: noise.
    return [r for r in ranked[:limit] if r.score >= ranked[0].score * RELATIVE_CUTOFF]


def suggest(*, text: str, title: str = "", service_id: int | None = None,
            category_id: int | None = None, exclude_incident: int | None = None,
            agent: bool = True, limit: int = 3) -> Suggestions:
    """The best published known errors, articles and resolved incidents for the typed text
    (title and description together); `title` alone is compared by trigram similarity."""
    query = text_query(f"{title or ''} {text or ''}")
    # A NUL byte is the one character PostgreSQL refuses in text (pasted binary, odd clients).
    title = (title or text or "").replace("\x00", "").strip()[:200]
    if query is None or not title:
        return Suggestions()
    common = {"query": query, "title": title, "service_id": service_id,
              "category_id": category_id, "limit": limit}
    published = {"status": KnowledgeStatus.PUBLISHED}
    known_errors = []
    if agent:
        known_errors = best(KnownError.objects.filter(**published).select_related("problem"),
                            **common)
    articles = Article.objects.filter(**published)
    if not agent:
        articles = articles.filter(audience=Audience.EVERYONE)
    articles = best(articles, **common)
    incidents = similar_incidents(title, exclude=exclude_incident, limit=limit) if agent else []
    return Suggestions(known_errors=known_errors, articles=articles, incidents=incidents)


def title_key(title: str) -> str:
    """How `ResolvedTitle` files a title (as its migration's backfill does)."""
    return title.strip().lower()[:200]


def similar_incidents(title: str, *, exclude: int | None = None, limit: int = 3) -> list:
    """The latest resolved incident of each of the most similar distinct titles (pg_trgm
    similarity of at least its threshold, 0.3, through the GIN trigram index)."""
    key = title_key(title)
    nearest = (ResolvedTitle.objects.filter(key__trigram_similar=key)
               .exclude(incident_id=exclude)
               .annotate(similarity=TrigramSimilarity("key", key))
               .select_related("incident").order_by("-similarity", "-resolved_at")
               [:limit * 2])
    done = (State.RESOLVED, State.CLOSED)  # one reopened since is no example of a fix
    return [row.incident for row in nearest if row.incident.state in done][:limit]
