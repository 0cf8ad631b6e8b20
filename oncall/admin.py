"""On-call in the Django admin: rosters, the escalation matrix, people's contact methods.

Pages are read-only here (they move only through `oncall.services`); ending one is an action
that calls the service.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from itsm.admin import MinuteField
from itsm.exceptions import InvalidInput, ServiceError
from oncall import services
from oncall.forms import StepForm, StepFormSet
from oncall.models import (
    ContactMethod,
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    MatrixRule,
    NotificationRule,
    Override,
    Page,
    PageNotice,
    Restriction,
    Schedule,
    ShiftSwap,
)


class RestrictionForm(forms.ModelForm):
    start_minute = MinuteField(label="from")
    end_minute = MinuteField(label="until", end_of_day=True,
                             help_text="Earlier than 'from': runs past midnight.")

    class Meta:
        model = Restriction
        fields = ("weekday", "start_minute", "end_minute")


class RestrictionInline(admin.TabularInline):
    model = Restriction
    form = RestrictionForm
    extra = 0


class MemberInline(admin.TabularInline):
    model = LayerMember
    extra = 1
    autocomplete_fields = ["user"]
    fields = ("position", "user")


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ("name", "schedule", "level", "turn", "length", "starts_at")
    list_filter = ("schedule",)
    inlines = [MemberInline, RestrictionInline]


class LayerInline(admin.TabularInline):
    model = Layer
    extra = 0
    fields = ("name", "level", "turn", "length", "starts_at", "ends_at", "edit")
    readonly_fields = ("edit",)
    show_change_link = True

    @admin.display(description="participants, restrictions")
    def edit(self, layer):
        if not layer.pk:
            return "Save first, then add participants."
        return format_html('<a href="{}">{} participants, {} windows</a>',
                           reverse("admin:oncall_layer_change", args=[layer.pk]),
                           layer.members.count(), layer.restrictions.count())


class OverrideInline(admin.TabularInline):
    model = Override
    extra = 0
    autocomplete_fields = ["user", "replaces"]
    fields = ("user", "starts_at", "ends_at", "note", "replaces")


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "time_zone", "roster")
    list_filter = ("team",)
    search_fields = ("name",)
    inlines = [LayerInline, OverrideInline]

    @admin.display(description="roster")
    def roster(self, schedule):
        return format_html('<a href="{}">timeline</a>',
                           reverse("oncall:schedule", args=[schedule.pk]))


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ("schedule", "user", "starts_at", "ends_at", "replaces", "note")
    list_filter = ("schedule",)
    autocomplete_fields = ["user", "replaces"]
    date_hierarchy = "starts_at"


@admin.register(ShiftSwap)
class ShiftSwapAdmin(admin.ModelAdmin):
    list_display = ("schedule", "requested_by", "starts_at", "ends_at", "state", "taken_by")
    list_filter = ("state", "schedule")
    readonly_fields = ("state", "taken_by", "override")


class StepInline(admin.StackedInline):
    model = EscalationStep
    form = StepForm
    formset = StepFormSet
    extra = 0
    autocomplete_fields = ["users", "schedule", "team"]
    fields = (("position", "target", "wait_minutes"), "schedule", "team", "users")


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "priorities", "repeat", "active", "dry_run")
    list_filter = ("team", "active")
    filter_horizontal = ["services"]
    inlines = [StepInline]

    @admin.display(description="dry run")
    def dry_run(self, policy):
        return format_html('<a href="{}?policy={}">try it</a>', reverse("oncall:dry-run"),
                           policy.pk)


@admin.register(MatrixRule)
class MatrixRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "priority", "after_minutes", "at_response_percent", "role",
                    "notify_team_manager", "person", "alternate")
    list_filter = ("kind", "priority")
    autocomplete_fields = ["person", "alternate"]


class ContactMethodForm(forms.ModelForm):
    class Meta:
        model = ContactMethod
        fields = ("user", "kind", "address", "label")

    def clean(self):
        data = super().clean()
        if data.get("kind"):
            try:
                data["address"] = services.contact_address(data["kind"], data.get("address"))
            except InvalidInput as exc:
                for field, errors in exc.field_errors.items():
                    self.add_error(field, errors)
        return data


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    form = ContactMethodForm
    list_display = ("user", "kind", "label")
    list_filter = ("kind",)
    autocomplete_fields = ["user"]
    search_fields = ("user__username", "user__first_name", "user__last_name")


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ("user", "urgency", "delay_minutes", "method")
    list_filter = ("urgency",)
    autocomplete_fields = ["user", "method"]


class NoticeInline(admin.TabularInline):
    model = PageNotice
    extra = 0
    can_delete = False
    fields = ("step", "repetition", "user", "why", "at", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ("pk", "incident", "team", "state", "step", "repetition", "due_at",
                    "started_at", "acknowledged_by")
    list_filter = ("state", "team")
    search_fields = ("incident__number",)
    inlines = [NoticeInline]
    actions = ["end_pages"]
    readonly_fields = [f.name for f in Page._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description="End the selected pages (stop escalating)")
    def end_pages(self, request, queryset):
        ended = 0
        for page in queryset:
            try:
                services.page_resolve(page=page, by=request.user, note="Ended in the admin.")
                ended += 1
            except ServiceError as exc:
                self.message_user(request, f"Page {page.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{ended} page(s) ended.")
