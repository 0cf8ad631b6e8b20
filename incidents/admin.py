from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from incidents.choices import Level, Priority
from incidents.models import Category, Incident, PriorityMatrix, RoutingRule, TimelineEntry


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "parent", "active")
    list_filter = ("active", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "parent__name")
    list_select_related = ("parent",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("position", "category", "service", "team", "active")
    list_display_links = ("category",)
    list_editable = ("position", "active")
    list_filter = ("active", "team")
    list_select_related = ("category__parent", "service", "team")
    autocomplete_fields = ("category", "service", "team")


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
