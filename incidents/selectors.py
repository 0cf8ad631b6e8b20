"""Read queries shared by the queue page, the detail page, the API and dashboards."""

import json
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from incidents import rules
from incidents.choices import PUBLIC_KINDS, ClockStage
from incidents.models import Category, Incident, SavedFilter, SlaClock, TimelineEntry
from itsm.models import Service, Team, User


def incidents_visible_to(user) -> QuerySet[Incident]:
    """Agents see every incident; anyone else only those they called in or reported."""
    qs = Incident.objects.all()
    if rules.is_agent(user):
        return qs
    return qs.filter(Q(caller=user) | Q(reported_by=user))


def incident_list(user) -> QuerySet[Incident]:
    """The visible incidents with what an API list row names, in one query.

    Categories are left out: a row carries only their ids, and each join costs the planner
    time on every page.
    """
    return (incidents_visible_to(user)
            .select_related("assignment_team", "assignee", "service", "caller")
            .prefetch_related(_clocks_shown(user)))


def _clocks_shown(user) -> Prefetch:
    """The clocks an API row shows: agents see every clock that counts (one query a page)."""
    clocks = SlaClock.objects.exclude(stage=ClockStage.CANCELED).select_related(
        "calendar", "policy_version")
    if not rules.is_agent(user):
        clocks = clocks.none()
    return Prefetch("clocks", queryset=clocks.order_by("id"))


def queue_rows(user) -> QuerySet[Incident]:
    """Visible incidents joined only to their assignee.

    Team, service and category come from `QueueChoices` instead: joining seven tables costs
    the planner more (20–100 ms at a million rows) than running the query does.
    """
    return incidents_visible_to(user).select_related("assignee")


@dataclass
class QueueChoices:
    """The small configuration tables the queue shows in its filters and rows: one query each."""

    teams: list[Team]
    services: list[Service]
    categories: list[Category]
    assignees: list

    def attach(self, rows: list[Incident]) -> None:
        """Give each row its team, service and categories without another query."""
        teams = {t.pk: t for t in self.teams}
        services = {s.pk: s for s in self.services}
        categories = {c.pk: c for c in self.categories}
        for row in rows:
            row.assignment_team = teams.get(row.assignment_team_id)
            row.service = services.get(row.service_id)
            row.category = categories.get(row.category_id)
            row.subcategory = categories.get(row.subcategory_id)


def queue_choices(user) -> QueueChoices:
    """Teams (marking the user's own, which also primes `rules.team_ids`), services, categories
    and, for agents, the people incidents can be assigned to."""
    membership = Team.members.through.objects.filter(team=OuterRef("pk"), user=user.pk)
    teams = list(Team.objects.annotate(mine=Exists(membership)))
    user._itsm_team_ids = {t.pk for t in teams if t.mine}
    # Services, categories and the people in teams change rarely: kept a few seconds, so a
    # queue refreshing every 10 s does not read them again each time.
    shared = cache.get(CHOICES_KEY)
    if shared is None:
        shared = (list(Service.objects.all()), list(Category.objects.select_related("parent")),
                  list(User.objects.filter(teams__isnull=False).distinct()))
        cache.set(CHOICES_KEY, shared, CHOICES_SECONDS)
    services, categories, assignees = shared
    return QueueChoices(teams=teams, services=services, categories=categories,
                        assignees=assignees if rules.is_agent(user) else [])


CHOICES_KEY = "queue-choices"
CHOICES_SECONDS = 30


def incident_detail(*, user, number: str) -> Incident:
    """One visible incident by number, with the people, team, service and categories it names
    (Incident.DoesNotExist if not visible).

    Four small queries instead of one joining nine tables: planning that join cost more
    (5–10 ms) than running all four.
    """
    incident = (incidents_visible_to(user).select_related("assignment_team__next_tier")
                .order_by().get(number=number))
    team = incident.assignment_team
    people = User.objects.in_bulk({incident.caller_id, incident.reported_by_id,
                                   incident.assignee_id, team and team.manager_id} - {None})
    categories = Category.objects.in_bulk({incident.category_id, incident.subcategory_id} - {None})
    incident.caller = people.get(incident.caller_id)
    incident.reported_by = people.get(incident.reported_by_id)
    incident.assignee = people.get(incident.assignee_id)
    if team:
        team.manager = people.get(team.manager_id)
    incident.category = categories.get(incident.category_id)
    incident.subcategory = categories.get(incident.subcategory_id)
    incident.service = (Service.objects.select_related("owner_team")
                        .filter(pk=incident.service_id).first()) if incident.service_id else None
    return incident


def timeline_for(*, incident: Incident, user) -> QuerySet[TimelineEntry]:
    """The incident's history, newest last; requesters don't see internal work notes."""
    qs = incident.timeline.select_related("actor").order_by("at", "id")
    if not rules.is_agent(user):
        qs = qs.filter(kind__in=PUBLIC_KINDS)
    return qs


def sla_ledger(incident: Incident) -> list:
    """The incident's clocks, newest first, each with its ledger rows (two queries)."""
    return list(incident.clocks.select_related("policy_version", "calendar", "team")
                .prefetch_related("ledger").order_by("-id"))


# Tab counts stop here ("999+"): counting a million rows on every refresh would cost more than
# the page. They are kept a few seconds, once for everyone where a view is the same for all
# (All open, Unassigned, …) and per person for My incidents and My teams.
VIEW_COUNT_CAP = 999
VIEW_COUNT_SECONDS = 15
PERSONAL_VIEWS = {"mine", "teams"}


def _count_key(user, view: str) -> str:
    return f"queue-count:{view}:{user.pk if view in PERSONAL_VIEWS else 'all'}"


def view_counts(user, filterset_class, views: list[str]) -> tuple[dict[str, int], list]:
    """How many incidents each queue view holds (capped at VIEW_COUNT_CAP + 1), and the user's
    saved filters: one query, with a capped subquery for each count not in the cache."""
    cached = cache.get_many([_count_key(user, view) for view in views])
    counts = {view: cached[_count_key(user, view)] for view in views
              if _count_key(user, view) in cached}
    request = type("Request", (), {"user": user})
    parts, params, missing = [], [], [view for view in views if view not in counts]
    for view in missing:
        qs = filterset_class({"view": view}, queryset=incidents_visible_to(user),
                             request=request).qs.order_by().values("pk")[: VIEW_COUNT_CAP + 1]
        try:
            sql, view_params = qs.query.sql_with_params()
        except EmptyResultSet:  # e.g. "My teams" for someone in no team
            parts.append("0")
            continue
        parts.append(f"(SELECT count(*) FROM ({sql}) AS v)")
        params.extend(view_params)
    table = SavedFilter._meta.db_table
    parts.append(f"(SELECT coalesce(json_agg(json_build_array(id, name, query) ORDER BY name, id),"
                 f" '[]') FROM {table} WHERE owner_id = %s)")
    params.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        *fresh, saved = cursor.fetchone()
    fresh = dict(zip(missing, fresh, strict=True))
    cache.set_many({_count_key(user, view): n for view, n in fresh.items()}, VIEW_COUNT_SECONDS)
    if isinstance(saved, str):
        saved = json.loads(saved)
    saved_filters = [SavedFilter(pk=pk, owner=user, name=name, query=query)
                     for pk, name, query in saved]
    return {view: {**counts, **fresh}[view] for view in views}, saved_filters
