"""One FilterSet for the queue page, its filter form and the API."""

import re

import django_filters as filters
from django.db.models import Q

from incidents import rules
from incidents.choices import OPEN_STATES, Priority, State
from incidents.models import Incident

NUMBER = re.compile(r"^(INC)?0*(\d{1,10})$", re.IGNORECASE)


class View:
    """The queue's saved views: each a filter and a default order."""

    MINE = "mine"
    TEAMS = "teams"
    UNASSIGNED = "unassigned"
    OPEN = "open"
    RESOLVED = "resolved"
    ALL = "all"
    CHOICES = [
        (MINE, "My incidents"),
        (TEAMS, "My teams"),
        (UNASSIGNED, "Unassigned"),
        (OPEN, "All open"),
        (RESOLVED, "Recently resolved"),
        (ALL, "Everything"),
    ]
    ORDER = {RESOLVED: ["-resolved_at", "-id"], ALL: ["-opened_at", "-id"]}
    DEFAULT_ORDER = ["priority", "opened_at", "id"]


# Only indexed columns: sorting a million rows by an unindexed one takes seconds.
SORTS = (
    ("number", "number"),
    ("priority", "priority"),
    ("state", "state"),
    ("opened_at", "opened"),
    ("updated_at", "updated"),
    ("resolved_at", "resolved"),
)


class IncidentFilter(filters.FilterSet):
    view = filters.ChoiceFilter(choices=View.CHOICES, method="filter_view", empty_label=None,
                                label="View")
    q = filters.CharFilter(method="filter_text", label="Search")
    # distinct=False: an IN over one column cannot duplicate rows, and DISTINCT would sort them all.
    state = filters.MultipleChoiceFilter(choices=State.choices, distinct=False)
    priority = filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    # Ids, not model choices: validating a choice costs a query per filter on every refresh.
    team = filters.NumberFilter(field_name="assignment_team_id", label="Team")
    assignee = filters.NumberFilter(field_name="assignee_id", label="Assignee")
    service = filters.NumberFilter(field_name="service_id", label="Service")
    # Intake always sets the category of a subcategory, so this covers both levels.
    category = filters.NumberFilter(field_name="category_id", label="Category")
    ordering = filters.OrderingFilter(fields=SORTS, label="Sort")

    class Meta:
        model = Incident
        fields = ["view", "q", "state", "priority", "team", "assignee", "service", "category"]

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
        if value == View.RESOLVED:
            return queryset.filter(state__in=[State.RESOLVED, State.CLOSED],
                                   resolved_at__isnull=False)
        return queryset

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
            qs = qs.order_by(*qs.query.order_by, "id")  # stable pages when values tie
        else:
            qs = qs.order_by(*View.ORDER.get(data.get("view"), View.DEFAULT_ORDER))
        return qs
