"""Read queries shared by the queue page, the detail page, the API and dashboards."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from incidents import rules
from incidents.choices import PUBLIC_KINDS
from incidents.models import Incident, TimelineEntry

# A page shows "1–50 of 1,000+" instead of counting a million rows on every load.
COUNT_CAP = 1000


def incidents_visible_to(user) -> QuerySet[Incident]:
    """Agents see every incident; anyone else only those they called in or reported."""
    qs = Incident.objects.all()
    if rules.is_agent(user):
        return qs
    return qs.filter(Q(caller=user) | Q(reported_by=user))


def incident_list(user) -> QuerySet[Incident]:
    """The visible incidents with what a list row shows, in one query."""
    return incidents_visible_to(user).select_related(
        "assignment_team", "assignee", "service", "category", "subcategory", "caller"
    )


def incident_detail(*, user, number: str) -> Incident:
    """One visible incident by number (Incident.DoesNotExist if not visible)."""
    return incident_list(user).select_related("reported_by").get(number=number)


def timeline_for(*, incident: Incident, user) -> QuerySet[TimelineEntry]:
    """The incident's history, newest last; requesters don't see internal work notes."""
    qs = incident.timeline.select_related("actor").order_by("at", "id")
    if not rules.is_agent(user):
        qs = qs.filter(kind__in=PUBLIC_KINDS)
    return qs


@dataclass
class Page:
    rows: list
    number: int
    per_page: int
    has_next: bool
    count: int  # capped at COUNT_CAP + 1

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.count > COUNT_CAP else f"{self.count:,}"


def paginate(qs: QuerySet, *, page: int, per_page: int = 50) -> Page:
    """Offset pages with a bounded count: two queries whatever the table size."""
    page = max(1, page)
    offset = (page - 1) * per_page
    rows = list(qs[offset: offset + per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if page == 1 and not has_next:
        count = len(rows)
    else:
        count = qs.order_by()[: COUNT_CAP + 1].count()
    return Page(rows=rows, number=page, per_page=per_page, has_next=has_next, count=count)
