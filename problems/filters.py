"""One FilterSet per list, shared by the pages, their filter forms and the API."""

import re

import django_filters as filters
from django.contrib.postgres.search import SearchQuery
from django.db.models import Case, IntegerField, Q, Value, When

from incidents.choices import Priority
from itsm.numbers import IdFilter
from problems.choices import LIFECYCLE, ArticleKind, Audience, KnowledgeStatus, ProblemState
from problems.models import SEARCH_CONFIG, Article, KnownError, Problem
from problems.search import words

# A search box is for a few words; a longer value is a 400, not a slow query.
MAX_SEARCH = 200


def number_pattern(prefix: str) -> re.Pattern:
    """PRB0000012, prb12 or plain 12 (then possibly a word of a title too)."""
    return re.compile(rf"^({prefix})?0*(\d{{1,10}})$", re.IGNORECASE)


def by_number_or(queryset, value: str, prefix: str, pattern: re.Pattern, words_filter):
    """A number and nothing else finds that record; bare digits may also be words."""
    value = value.strip()
    match = pattern.match(value)
    if match and match.group(1):
        return queryset.filter(number=f"{prefix}{int(match.group(2)):07d}")
    if match:
        return queryset.filter(Q(number=f"{prefix}{int(match.group(2)):07d}")
                               | words_filter(value))
    return queryset.filter(words_filter(value)) if value else queryset


def _title_words(value: str) -> Q:
    """Every word in the title (each an ILIKE the title's trigram index serves)."""
    found = words(value) or [value]
    condition = Q()
    for word in found:
        condition &= Q(title__icontains=word)
    return condition


def _text_search(value: str) -> Q:
    """All the words in the record's weighted text (its GIN-indexed tsvector), or the title."""
    return (Q(search=SearchQuery(value, search_type="plain", config=SEARCH_CONFIG))
            | Q(title__icontains=value))


# The id (after the queue's own order for priority and state) breaks ties in the sort's
# direction (see `qs`). States sort in lifecycle order, not by their codes: problems are
# few enough next to incidents that the CASE costs nothing an index would save.
PROBLEM_SORTS = (
    ("number", "number"),
    ("priority", "priority"),
    ("state", "state"),
    ("opened_at", "opened"),
    ("updated_at", "updated"),
)
PROBLEM_TIES = {"state": ["priority", "opened_at", "id"], "priority": ["opened_at", "id"]}
PROBLEM_DEFAULT_ORDER = ["priority", "opened_at", "id"]  # most urgent, oldest first
STATE_RANK = Case(*(When(state=state, then=Value(rank)) for rank, state in enumerate(LIFECYCLE)),
                  output_field=IntegerField())
PRB = number_pattern("PRB")


class ProblemFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_text", max_length=MAX_SEARCH,
                           label="Number or words in the title")
    # distinct=False: an IN over one column cannot duplicate rows.
    state = filters.MultipleChoiceFilter(choices=ProblemState.choices, distinct=False)
    priority = filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    # Ids, not model choices: validating a choice costs a query per filter.
    team = IdFilter(field_name="assignment_team_id", label="Team")
    owner = IdFilter(field_name="owner_id", label="Owner")
    service = IdFilter(field_name="service_id", label="Service")
    category = IdFilter(field_name="category_id", label="Category")
    ordering = filters.OrderingFilter(fields=PROBLEM_SORTS, label="Sort")

    class Meta:
        model = Problem
        fields = ["q", "state", "priority", "team", "owner", "service", "category"]

    def filter_text(self, queryset, name, value):
        return by_number_or(queryset, value, "PRB", PRB, _title_words)

    @property
    def qs(self):
        qs = super().qs
        data = getattr(self.form, "cleaned_data", {})  # unbound filters have none
        if data.get("ordering"):
            order = list(qs.query.order_by)
            sign = "-" if order[-1].startswith("-") else ""
            ties = PROBLEM_TIES.get(order[-1].lstrip("-"), ["id"])
            if any(o.lstrip("-") == "state" for o in order):
                qs = qs.annotate(state_rank=STATE_RANK)
                order = [o.replace("state", "state_rank") if o.lstrip("-") == "state" else o
                         for o in order]
            return qs.order_by(*order, *(sign + field for field in ties))
        return qs.order_by(*PROBLEM_DEFAULT_ORDER)


KNOWLEDGE_SORTS = (("number", "number"), ("updated_at", "updated"),
                   ("published_at", "published"))


class KnowledgeFilter(filters.FilterSet):
    """What the known-error and article lists share: text, status, where they apply."""

    q = filters.CharFilter(method="filter_text", max_length=MAX_SEARCH,
                           label="Number or words")
    status = filters.MultipleChoiceFilter(choices=KnowledgeStatus.choices, distinct=False)
    # One value over a many-to-many: its through table holds each pair once, so no duplicates.
    service = IdFilter(field_name="services", label="Service")
    category = IdFilter(field_name="categories", label="Category")
    ordering = filters.OrderingFilter(fields=KNOWLEDGE_SORTS, label="Sort")

    prefix = ""
    pattern = None

    def filter_text(self, queryset, name, value):
        return by_number_or(queryset, value, self.prefix, self.pattern, _text_search)

    @property
    def qs(self):
        qs = super().qs
        data = getattr(self.form, "cleaned_data", {})
        if data.get("ordering"):
            order = list(qs.query.order_by)
            sign = "-" if order[-1].startswith("-") else ""
            return qs.order_by(*order, f"{sign}id")
        return qs.order_by("-updated_at", "-id")  # the newest edits first


class KnownErrorFilter(KnowledgeFilter):
    prefix, pattern = "KE", number_pattern("KE")

    class Meta:
        model = KnownError
        fields = ["q", "status", "service", "category"]


class ArticleFilter(KnowledgeFilter):
    prefix, pattern = "KB", number_pattern("KB")
    kind = filters.MultipleChoiceFilter(choices=ArticleKind.choices, distinct=False)
    audience = filters.MultipleChoiceFilter(choices=Audience.choices, distinct=False)

    class Meta:
        model = Article
        fields = ["q", "status", "kind", "audience", "service", "category"]
