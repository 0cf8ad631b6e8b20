"""Pages for long lists (queues, KEDB, rosters): offset pages whose count is capped, so a list
over a million rows costs two cheap queries. Shared by every app's pages; the API's version is
`itsm.api.CappedCountPagination`."""

from dataclasses import dataclass

from django.db.models import QuerySet

# A page shows "1–50 of 1,000+" instead of counting a million rows on every load.
COUNT_CAP = 1000
# Page numbers beyond this show an empty page (and keep offsets inside PostgreSQL's integers).
MAX_PAGE = 100_000


@dataclass
class Page:
    rows: list
    number: int
    per_page: int
    has_next: bool
    count: int  # capped at cap + 1
    cap: int = COUNT_CAP

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
        return f"{self.cap:,}+" if self.count > self.cap else f"{self.count:,}"


def paginate(qs: QuerySet, *, page: int, per_page: int = 50, cap: int = COUNT_CAP) -> Page:
    """Offset pages with a count bounded by `cap`: two queries whatever the table size."""
    page = min(max(1, page), MAX_PAGE)
    offset = (page - 1) * per_page
    rows = list(qs[offset: offset + per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if page == 1 and not has_next:
        count = len(rows)
    else:
        count = qs.order_by()[: cap + 1].count()
    return Page(rows=rows, number=page, per_page=per_page, has_next=has_next, count=count,
                cap=cap)
