"""Recurrence detection: clusters of recent incidents without a problem become suggested
problems for problem managers (beat job, `problems.tasks.detect_recurrence`).

A cluster is suggested once. Every incident belongs to at most one suggestion (a unique
column), so later runs only add new incidents to an open suggestion of the same cluster; a
dismissed suggestion keeps its incidents, so they never come back. Runs hold an advisory lock:
a second worker running at the same time does nothing.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef

from incidents.choices import State
from incidents.models import Incident
from itsm import clock
from itsm.events import publish
from problems import events
from problems.choices import OPEN_PROBLEM_STATES, ClusterBasis, SuggestionStatus
from problems.models import (
    Problem,
    ProblemLink,
    RecurrenceSettings,
    SuggestedProblem,
    SuggestionMember,
)

ANALYZE_AFTER = 10_000  # claimed rows after which the member table's statistics are renewed
LOCK = 0x50524231  # pg_try_advisory_xact_lock key: one detection at a time ("PRB1")


@dataclass
class Detection:
    created: list = field(default_factory=list)
    grown: list = field(default_factory=list)
    skipped: bool = False  # another run held the lock, or detection is off


def _claim(suggestion: SuggestedProblem, incident_ids) -> int:
    """Add incidents not yet in any suggestion; returns how many were added."""
    added = SuggestionMember.objects.bulk_create(
        [SuggestionMember(suggestion=suggestion, incident_id=pk) for pk in incident_ids],
        ignore_conflicts=True)
    return len(added)


def _candidates(config: RecurrenceSettings, now):
    """Incidents of the window with no problem and in no suggestion yet (anti-joins)."""
    claimed = SuggestionMember.objects.filter(incident_id=OuterRef("pk"))
    linked = ProblemLink.objects.filter(incident_id=OuterRef("pk"))
    return (Incident.objects.filter(opened_at__gte=now - timedelta(days=config.window_days))
            .exclude(state=State.CANCELED).filter(~Exists(claimed), ~Exists(linked)))


@transaction.atomic
def detect_recurrence() -> Detection:
    """Find clusters (same service and category, then similar titles) and suggest them."""
    result = Detection()
    config = RecurrenceSettings.load()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK])
        locked = cursor.fetchone()[0]
    if not config.active or not locked:
        result.skipped = True
        return result
    now = clock.now()
    _by_service_and_category(config, now, result)
    _by_similar_titles(config, now, result)
    if result.created:
        publish(events.ProblemsSuggested(at=now, suggestions=result.created))
    return result


def _by_service_and_category(config, now, result: Detection) -> None:
    """New suggestions for the pairs with enough unclaimed incidents, then every open
    suggestion of a pair claims its pair's unclaimed incidents, in one statement."""
    groups = (_candidates(config, now).filter(service__isnull=False, category__isnull=False)
              .values("service_id", "category_id").annotate(n=Count("id"), first=Min("id"))
              .order_by())
    open_ = {(s.service_id, s.category_id): s for s in SuggestedProblem.objects.filter(
        status=SuggestionStatus.OPEN, basis=ClusterBasis.SERVICE_CATEGORY)}
    # A problem already being worked on that service and category is where such incidents
    # belong: agents link them there rather than raise another problem.
    worked = set(Problem.objects.filter(state__in=OPEN_PROBLEM_STATES).values_list(
        "service_id", "category_id"))
    for group in groups:
        key = (group["service_id"], group["category_id"])
        if key in open_ or key in worked or group["n"] < config.min_incidents:
            continue
        first = Incident.objects.select_related("service", "category").get(pk=group["first"])
        open_[key] = SuggestedProblem.objects.create(
            basis=ClusterBasis.SERVICE_CATEGORY, service_id=key[0], category_id=key[1],
            title=f"Recurring {first.category} incidents on {first.service}",
            created_at=now, updated_at=now)
        result.created.append(open_[key])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO problems_suggestionmember (suggestion_id, incident_id) "
            "SELECT s.id, i.id FROM incidents_incident i "
            "JOIN problems_suggestedproblem s ON s.status = %s AND s.basis = %s "
            " AND s.service_id = i.service_id AND s.category_id = i.category_id "
            "WHERE i.opened_at >= %s AND i.state <> %s "
            " AND NOT EXISTS (SELECT 1 FROM problems_problemlink l WHERE l.incident_id = i.id) "
            " AND NOT EXISTS (SELECT 1 FROM problems_suggestionmember m "
            "                 WHERE m.incident_id = i.id) "
            "ON CONFLICT (incident_id) DO NOTHING RETURNING suggestion_id",
            [SuggestionStatus.OPEN, ClusterBasis.SERVICE_CATEGORY,
             now - timedelta(days=config.window_days), State.CANCELED])
        gained = [pk for (pk,) in cursor.fetchall()]
        if len(gained) > ANALYZE_AFTER:  # the planner must know the members from here on
            cursor.execute("ANALYZE problems_suggestionmember")
        gained = set(gained)
    created = {s.pk for s in result.created}
    grown = [s for s in open_.values() if s.pk in gained and s.pk not in created]
    SuggestedProblem.objects.filter(pk__in=[s.pk for s in grown]).update(updated_at=now)
    result.grown.extend(grown)


def _similar_pairs(titles: list[str], threshold: float) -> list[tuple[int, int]]:
    """Index pairs of titles at least `threshold` similar (pg_trgm), compared in the database."""
    if len(titles) < 2:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH t AS (SELECT i, title FROM unnest(%s::text[]) WITH ORDINALITY AS u(title, i)) "
            "SELECT a.i, b.i FROM t a JOIN t b ON a.i < b.i "
            "AND similarity(a.title, b.title) >= %s", [titles, threshold])
        return [(a - 1, b - 1) for a, b in cursor.fetchall()]


def _by_similar_titles(config, now, result: Detection) -> None:
    """Recent unclaimed incidents grouped by similar titles (the same title counts once), and
    joined to an open similar-title suggestion whose title they resemble."""
    # The most recent incidents of the window, then those already claimed or linked left out:
    # a fixed cost, whatever the statistics of the member table say after a large claim.
    recent = list(Incident.objects.filter(opened_at__gte=now - timedelta(days=config.window_days))
                  .exclude(state=State.CANCELED).order_by("-opened_at")
                  .values_list("id", "title")[:config.max_title_scan])
    ids = [pk for pk, _ in recent]
    taken = {*SuggestionMember.objects.filter(incident_id__in=ids).values_list("incident_id",
                                                                               flat=True),
             *ProblemLink.objects.filter(incident_id__in=ids).values_list("incident_id",
                                                                          flat=True)}
    recent = [(pk, title) for pk, title in recent if pk not in taken]
    open_ = list(SuggestedProblem.objects.filter(status=SuggestionStatus.OPEN,
                                                 basis=ClusterBasis.SIMILAR_TITLES))
    by_title: dict[str, list[int]] = {}
    for pk, title in recent:
        by_title.setdefault(title.strip().casefold(), []).append(pk)
    titles = [s.title.casefold() for s in open_] + list(by_title)
    parent = list(range(len(titles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in _similar_pairs(titles, config.title_similarity):
        parent[root(a)] = root(b)
    clusters: dict[int, list[int]] = {}
    for i in range(len(titles)):
        clusters.setdefault(root(i), []).append(i)
    for members in clusters.values():
        ids = [pk for i in members if i >= len(open_) for pk in by_title[titles[i]]]
        suggestions = [open_[i] for i in members if i < len(open_)]
        if suggestions:
            if _claim(suggestions[0], ids):
                SuggestedProblem.objects.filter(pk=suggestions[0].pk).update(updated_at=now)
                result.grown.append(suggestions[0])
        elif len(ids) >= config.min_incidents:
            common = max((i for i in members), key=lambda i: len(by_title[titles[i]]))
            title = Incident.objects.values_list("title", flat=True).get(
                pk=by_title[titles[common]][0])
            suggestion = SuggestedProblem.objects.create(
                basis=ClusterBasis.SIMILAR_TITLES, title=title[:200], created_at=now,
                updated_at=now)
            _claim(suggestion, ids)
            result.created.append(suggestion)
