"""One FilterSet for the queue page, its filter form and the API."""

import re
from datetime import timedelta

import django_filters as filters
from django.db.models import Q

from incidents import rules
from incidents.choices import OPEN_STATES, Priority, SlaKind, State
from incidents.models import Incident, SlaPolicy
from itsm import clock
from itsm.numbers import IdFilter

NUMBER = re.compile(r"^(INC)?0*(\d{1,10})$", re.IGNORECASE)


class View:
    """The queue's saved views: each a filter and a default order."""

    MINE = "mine"
    TEAMS = "teams"
    UNASSIGNED = "unassigned"
    OPEN = "open"
    BREACHING = "breaching"
    BREACHED = "breached"
    RESOLVED = "resolved"
    ALL = "all"
    CHOICES = [
        (MINE, "My incidents"),
        (TEAMS, "My teams"),
        (UNASSIGNED, "Unassigned"),
        (OPEN, "All open"),
        (BREACHING, "Breaching soon"),
        (BREACHED, "Breached"),
        (RESOLVED, "Recently resolved"),
        (ALL, "Everything"),
    ]
    ORDER = {RESOLVED: ["-resolved_at", "-id"], ALL: ["-opened_at", "-id"],
             BREACHING: ["sla_due_at", "id"]}
    SOON = timedelta(hours=1)  # "Breaching soon": an SLA due within the hour
    DEFAULT_ORDER = ["priority", "opened_at", "id"]  # the work views: most urgent, oldest first


# Only columns with an index on (column, id) — the id breaks ties in the same direction — so
# any sort of a million rows reads one page of an index instead of sorting them all.
# The state sort breaks its ties by age: (state, opened_at, id) also serves a state filter
# listed newest first.
# The state sorts in lifecycle order (new → canceled) through its generated rank. Service, team
# and assignee sort by name: their small tables join, then the top of the page is sorted.
TIE_BREAKERS = {"state_rank": ["opened_at", "id"],
                "assignee__first_name": ["assignee__last_name", "id"]}
SORTS = (
    ("number", "number"),
    ("priority", "priority"),
    ("title", "title"),
    ("state_rank", "state"),
    ("service__name", "service"),
    ("assignment_team__name", "team"),
    ("assignee__first_name", "assignee"),
    ("opened_at", "opened"),
    ("updated_at", "updated"),
    ("resolved_at", "resolved"),
    ("sla_due_at", "sla"),  # time to breach (incidents without a running SLA come last)
)


class IncidentFilter(filters.FilterSet):
    view = filters.ChoiceFilter(choices=View.CHOICES, method="filter_view", empty_label=None,
                                label="View")
    q = filters.CharFilter(method="filter_text", label="Search")
    # distinct=False: an IN over one column cannot duplicate rows, and DISTINCT would sort them all.
    state = filters.MultipleChoiceFilter(choices=State.choices, distinct=False)
    priority = filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    # Ids, not model choices: validating a choice costs a query per filter on every refresh.
    team = IdFilter(field_name="assignment_team_id", label="Team")
    assignee = IdFilter(field_name="assignee_id", label="Assignee")
    service = IdFilter(field_name="service_id", label="Service")
    # Intake always sets the category of a subcategory, so this covers both levels.
    category = IdFilter(field_name="category_id", label="Category")
    ordering = filters.OrderingFilter(fields=SORTS, label="Sort")
    # A choice, not a BooleanFilter: that one reads "maybe" as "no filter" instead of an error.
    breached = filters.ChoiceFilter(choices=[("true", "Yes"), ("false", "No")],
                                    method="filter_breached", label="SLA breached")
    breaching_within = filters.NumberFilter(method="filter_breaching_within", min_value=0,
                                            max_value=366 * 24 * 60,
                                            label="Open, SLA due within (minutes)")

    class Meta:
        model = Incident
        fields = ["view", "q", "state", "priority", "team", "assignee", "service", "category",
                  "breached", "breaching_within"]

    def filter_view(self, queryset, name, value):
        if NUMBER.match((self.form.cleaned_data.get("q") or "").strip()):
            return queryset  # looking up a number finds it whatever the view
        user = self.request.user
        if value == View.MINE:
            return queryset.filter(assignee=user, state__in=OPEN_STATES)
        if value == View.TEAMS:
            return queryset.filter(assignment_team_id__in=rules.team_ids(user),
                                   state__in=OPEN_STATES)
        if value == View.UNASSIGNED:
            return queryset.filter(assignee=None, state__in=OPEN_STATES)
        if value == View.OPEN:
            return queryset.filter(state__in=OPEN_STATES)
        if value == View.BREACHING:
            return queryset.filter(state__in=OPEN_STATES, sla_due_at__lte=clock.now() + View.SOON)
        if value == View.BREACHED:
            return queryset.filter(state__in=OPEN_STATES, sla_breached_at__isnull=False)
        if value == View.RESOLVED:
            return queryset.filter(state__in=[State.RESOLVED, State.CLOSED],
                                   resolved_at__isnull=False)
        return queryset

    def filter_breached(self, queryset, name, value):
        return queryset.filter(sla_breached_at__isnull=value != "true")

    def filter_breaching_within(self, queryset, name, value):
        due_by = clock.now() + timedelta(minutes=float(value))
        return queryset.filter(state__in=OPEN_STATES, sla_due_at__lte=due_by)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        match = NUMBER.match(value)
        if match and match.group(1):  # "INC12…": a number and nothing else
            return queryset.filter(number=f"INC{int(match.group(2)):07d}")
        if match:  # bare digits: a number, or words like "500" in a title
            return queryset.filter(Q(number=f"INC{int(match.group(2)):07d}")
                                   | Q(title__icontains=value))
        return queryset.filter(title__icontains=value) if value else queryset

    @property
    def qs(self):
        qs = super().qs
        data = getattr(self.form, "cleaned_data", {})  # unbound filters have none
        if data.get("ordering"):
            order = list(qs.query.order_by)
            sign = "-" if order[-1].startswith("-") else ""
            ties = TIE_BREAKERS.get(order[-1].lstrip("-"), ["id"])
            qs = qs.order_by(*order, *(sign + field for field in ties))
        else:  # no view (the API's plain list) is everything, newest first
            qs = qs.order_by(*View.ORDER.get(data.get("view") or View.ALL, View.DEFAULT_ORDER))
        return qs


class SlaPolicyFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=SlaKind.choices)
    active = filters.BooleanFilter()
    priority = filters.ChoiceFilter(choices=Priority.choices)
    team = IdFilter(field_name="team_id", label="Team")

    class Meta:
        model = SlaPolicy
        fields = ["kind", "active", "priority", "team"]
