from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from incidents import services
from incidents.choices import OPEN_STATES, Level, Priority, State
from incidents.models import (
    Category,
    Incident,
    PriorityMatrix,
    RoutingRule,
    SavedFilter,
    SlaClock,
    SlaLedgerEntry,
    SlaPolicy,
    SlaPolicyVersion,
    TimelineEntry,
)
from incidents.sla.engine import human
from incidents.sla.policies import policy_save
from incidents.sla.services import policy_reapply
from itsm.models import DeskSettings, Service


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "parent", "active")
    list_filter = ("active", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "parent__name")
    list_select_related = ("parent",)


class RouteTestForm(forms.Form):
    """An incident's routing fields, as the tester asks for them (all optional, like an
    incident's)."""

    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(parent=None, active=True), required=False,
        empty_label="(none)")
    subcategory = forms.ModelChoiceField(
        queryset=Category.objects.filter(parent__isnull=False, active=True)
        .select_related("parent"), required=False, empty_label="(none)",
        help_text="Optional; it must belong to the category.")
    service = forms.ModelChoiceField(queryset=Service.objects.filter(active=True),
                                     required=False, empty_label="(none)")

    def clean(self):
        data = super().clean()
        category, subcategory = data.get("category"), data.get("subcategory")
        if subcategory is not None and subcategory.parent_id != getattr(category, "pk", None):
            self.add_error("subcategory", f"{subcategory.name} is a subcategory of "
                                          f"{subcategory.parent.name}: choose that category.")
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("position", "category", "service", "team", "active")
    list_display_links = ("category",)
    list_editable = ("position", "active")
    list_filter = ("active", "team")
    list_select_related = ("category__parent", "service", "team")
    autocomplete_fields = ("category", "service", "team")
    change_list_template = "admin/incidents/routingrule/change_list.html"

    def get_urls(self):
        return [path("test/", self.admin_site.admin_view(self.test_view),
                     name="incidents_routingrule_test"), *super().get_urls()]

    def test_view(self, request):
        """Where would an incident with these fields go? Asked of the services incident
        creation uses (`matching_rule`, then `route` for the default team)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RouteTestForm(request.GET or None)
        result = None
        if form.is_bound and form.is_valid():
            fields = {name: form.cleaned_data[name]
                      for name in ("category", "subcategory", "service")}
            rule = services.matching_rule(**fields)
            result = {"rule": rule, "team": services.route(**fields),
                      "default_team": None if rule else DeskSettings.load().default_team}
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "title": "Test routing", "result": result,
                   "desk_settings_url": reverse("admin:itsm_desksettings_changelist")}
        return TemplateResponse(request, "admin/incidents/routingrule/test.html", context)


class PriorityGridForm(forms.Form):
    """The nine cells of the matrix as one form: impact rows × urgency columns."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cells = {(c.impact, c.urgency): c.priority for c in PriorityMatrix.objects.all()}
        for impact in Level:
            for urgency in Level:
                self.fields[f"{impact}_{urgency}"] = forms.TypedChoiceField(
                    choices=Priority.choices, coerce=int, label=f"{impact.label} × {urgency.label}",
                    initial=cells.get((impact.value, urgency.value), Priority.P3),
                )

    def rows(self):
        return [(impact.label, [self[f"{impact}_{urgency}"] for urgency in Level])
                for impact in Level]

    def save(self):
        for impact in Level:
            for urgency in Level:
                PriorityMatrix.objects.update_or_create(
                    impact=impact, urgency=urgency,
                    defaults={"priority": self.cleaned_data[f"{impact}_{urgency}"]},
                )


@admin.register(PriorityMatrix)
class PriorityMatrixAdmin(admin.ModelAdmin):
    """Shown and edited as a 3 × 3 grid instead of a list of rows."""

    def has_add_permission(self, request):
        return False  # the nine cells always exist; the grid edits them

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("", self.admin_site.admin_view(self.grid_view),
                     name="incidents_prioritymatrix_changelist"), *super().get_urls()]

    def grid_view(self, request):
        if not self.has_view_permission(request):
            return redirect("admin:index")
        form = PriorityGridForm(request.POST or None)
        if request.method == "POST" and self.has_change_permission(request) and form.is_valid():
            form.save()
            messages.success(request, "Priority matrix saved. New and edited incidents use it.")
            return redirect("admin:incidents_prioritymatrix_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": "Priority matrix (impact × urgency)", "urgencies": list(Level),
                   "can_change": self.has_change_permission(request)}
        return TemplateResponse(request, "admin/incidents/priority_matrix.html", context)


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    fields = ("at", "kind", "actor", "field", "old_value", "new_value", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-mostly: the lifecycle and assignment change only through the desk's services."""

    list_display = ("number", "title", "state", "priority", "assignment_team", "assignee",
                    "opened_at")
    list_filter = ("state", "priority", "channel", "assignment_team")
    search_fields = ("number", "title")
    list_select_related = ("assignment_team", "assignee")
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    inlines = [TimelineInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Incident._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# --- SLA and OLA ----------------------------------------------------------------------------

class PercentsField(forms.CharField):
    """Warning thresholds typed as "75, 90": whole percentages between 1 and 99, ascending."""

    def prepare_value(self, value):
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return []
        try:
            percents = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError("Type whole percentages separated by commas, "
                                        "e.g. 75, 90.") from exc
        if any(not 1 <= p <= 99 for p in percents) or percents != sorted(set(percents)):
            raise forms.ValidationError("Each between 1 and 99, ascending, no repeats.")
        return percents


class SlaPolicyForm(forms.ModelForm):
    pause_states = forms.MultipleChoiceField(
        choices=[(s.value, s.label) for s in State if s.value in OPEN_STATES], required=False,
        widget=forms.CheckboxSelectMultiple, help_text="The clock stops in these states.")
    warn_percents = PercentsField(required=False, help_text="e.g. 75, 90 (share of the business "
                                                            "time used).")

    class Meta:
        model = SlaPolicy
        fields = ["name", "kind", "position", "active", "priority", "service", "category",
                  "team", "response_minutes", "response_calendar", "resolution_minutes",
                  "resolution_calendar", "pause_states", "warn_percents"]

    def clean(self):
        data = super().clean()
        targets = 0
        for target in ("response", "resolution"):
            minutes, calendar = data.get(f"{target}_minutes"), data.get(f"{target}_calendar")
            if minutes == 0:
                self.add_error(f"{target}_minutes", "A target needs at least one minute.")
            elif minutes and calendar is None:
                self.add_error(f"{target}_calendar", "Which calendar does this target count on?")
            targets += bool(minutes)
        if not targets and not self.errors:
            raise forms.ValidationError("Give a response target, a resolution target or both.")
        return data


class PolicyVersionInline(admin.TabularInline):
    model = SlaPolicyVersion
    fields = ("number", "valid_from", "valid_until", "terms")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Policies in matching order; a save snapshots a new version, running clocks keep theirs."""

    form = SlaPolicyForm
    list_display = ("name", "kind", "position", "priority", "service", "category", "team",
                    "response", "resolution", "active", "version")
    list_display_links = ("name",)
    list_filter = ("kind", "active", "priority")
    list_select_related = ("service", "category", "team", "response_calendar",
                           "resolution_calendar")
    autocomplete_fields = ("service", "category", "team")
    inlines = [PolicyVersionInline]
    actions = ["reapply"]
    fieldsets = [
        (None, {"fields": ("name", "kind", "position", "active")}),
        ("Matches (empty = any)", {"fields": ("priority", "service", "category", "team")}),
        ("Targets", {"fields": (("response_minutes", "response_calendar"),
                                ("resolution_minutes", "resolution_calendar"),
                                "pause_states", "warn_percents")}),
    ]

    @admin.display(description="response")
    def response(self, policy):
        return _target(policy.response_minutes, policy.response_calendar)

    @admin.display(description="resolution")
    def resolution(self, policy):
        return _target(policy.resolution_minutes, policy.resolution_calendar)

    def save_model(self, request, obj, form, change):
        policy_save(obj)

    @admin.action(description="Re-apply to open incidents (replace their clocks)")
    def reapply(self, request, queryset):
        changed = sum(policy_reapply(policy=policy, by=request.user) for policy in queryset)
        self.message_user(request, f"Re-applied: the clocks of {changed} open incident(s) now "
                                   "follow the current version.", messages.SUCCESS)


def _target(minutes, calendar) -> str:
    return f"{human(timedelta(minutes=minutes))} on {calendar}" if minutes else "—"


class LedgerInline(admin.TabularInline):
    model = SlaLedgerEntry
    fields = ("at", "action", "reason", "old_due_at", "new_due_at", "skipped")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SlaClock)
class SlaClockAdmin(admin.ModelAdmin):
    """Clocks are kept by the incident's events and the sweep; here they are read, never edited
    (fix a wrong one with `manage.py check_slas --verify --repair`)."""

    list_display = ("incident", "kind", "target", "team", "stage", "due_at", "breached_at",
                    "policy_version")
    list_filter = ("kind", "target", "stage")
    search_fields = ("incident__number",)
    list_select_related = ("incident", "team", "policy_version")
    show_full_result_count = False
    inlines = [LedgerInline]
    readonly_fields = [f.name for f in SlaClock._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    """People's named queue filters (they make and delete them on the queue page)."""

    list_display = ["name", "owner", "query", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username", "owner__first_name", "owner__last_name"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["owner"]
