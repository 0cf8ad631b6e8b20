"""One FilterSet for the queue page, its filter form and the API."""

import re

import django_filters as filters
from django.db.models import Q

from incidents.choices import OPEN_STATES, Priority, State
from incidents.models import Category, Incident
from itsm.models import Service, Team, User

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


SORTS = (
    ("number", "number"),
    ("priority", "priority"),
    ("title", "title"),
    ("state", "state"),
    ("assignment_team__name", "team"),
    ("opened_at", "opened"),
    ("updated_at", "updated"),
    ("resolved_at", "resolved"),
)


class IncidentFilter(filters.FilterSet):
    view = filters.ChoiceFilter(choices=View.CHOICES, method="filter_view", empty_label=None,
                                label="View")
    q = filters.CharFilter(method="filter_text", label="Search")
    state = filters.MultipleChoiceFilter(choices=State.choices)
    priority = filters.MultipleChoiceFilter(choices=Priority.choices)
    team = filters.ModelChoiceFilter(field_name="assignment_team", queryset=Team.objects.all())
    assignee = filters.ModelChoiceFilter(
        queryset=User.objects.filter(teams__isnull=False).distinct()
    )
    service = filters.ModelChoiceFilter(queryset=Service.objects.all())
    category = filters.ModelChoiceFilter(queryset=Category.objects.filter(parent=None),
                                         method="filter_category")
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
            return queryset.filter(assignment_team__members=user, state__in=OPEN_STATES)
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

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category=value) | Q(subcategory__parent=value))

    @property
    def qs(self):
        qs = super().qs
        data = getattr(self.form, "cleaned_data", {})  # unbound filters have none
        if not data.get("ordering"):
            view = data.get("view")
            qs = qs.order_by(*View.ORDER.get(view, View.DEFAULT_ORDER))
        return qs
