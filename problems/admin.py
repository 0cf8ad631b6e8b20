"""Problems, the known-error database, articles and recurrence detection in the Django admin.

Thin, as for incidents and on-call: every save goes through `problems.services` (so numbers,
versions, priorities and the problem's timeline are what the desk's own pages write), the
lifecycle is read-only here (it moves on the problem page), timelines are read-only, and
publishing, retiring and dismissing are actions that call the services record by record.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.utils.text import capfirst

from incidents.models import Category
from itsm.exceptions import ServiceError
from itsm.models import User
from problems import guards, rules, services
from problems.choices import KnowledgeStatus
from problems.models import (
    Article,
    KnownError,
    Problem,
    ProblemEntry,
    ProblemLink,
    RecurrenceSettings,
    SuggestedProblem,
    SuggestionMember,
    Why,
    WorkaroundApplication,
)

STALE = ("{number} was changed by someone else while you were editing it: reload the page to "
         "see the latest version, then make your change again.")


def _agents():
    """Active agents (who may own a problem), by name: the service refuses anyone else."""
    agent = Q(groups__permissions__codename="view_incident",
              groups__permissions__content_type__app_label="incidents")
    return (User.objects.filter(Q(is_superuser=True) | agent, is_active=True).distinct()
            .order_by("first_name", "last_name", "username"))


def _adopt(instance, saved) -> None:
    """Make the admin's instance the row the service saved (its pk, number, state, version).

    Written through `__dict__`: the state field is protected against assignment.
    """
    instance.__dict__.update({f.attname: getattr(saved, f.attname)
                              for f in saved._meta.concrete_fields})
    instance._state.adding, instance._state.db = False, saved._state.db


class VersionedAdminForm(forms.ModelForm):
    """Carries the version the page showed, so a save over someone else's change is refused."""

    seen_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version

    def clean(self):
        data = super().clean()
        seen = data.get("seen_version")
        if self.instance.pk and seen is not None and seen != self.instance.version:
            raise forms.ValidationError(STALE.format(number=self.instance.number))
        return data


class ServiceSavesMixin:
    """A refusal the form could not foresee (a race, a guard) is shown, and nothing is kept.

    The admin's change view runs in one transaction; the service error leaves it, so it rolls
    back whatever part of the save went through, and the page reloads with the message.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return redirect(request.get_full_path())


def _saved_by_services(formsets) -> None:
    """The services wrote the inlines' rows: the admin's history message names none of them
    (it reads what `formset.save()` would have recorded)."""
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class PartInline(admin.TabularInline):
    """Rows of a record, written by the record's own services: seen with the record."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(f"problems.view_{self.parent_model._meta.model_name}")


class ReadOnlyInline(PartInline):
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _may_edit(request, problem) -> bool:
    """Whys and links are edited with the problem, until it is finished."""
    return request.user.has_perm("problems.change_problem") and (
        problem is None or problem.state not in guards.FINISHED)


# --- problems --------------------------------------------------------------------------------

class WhyForm(forms.ModelForm):
    position = forms.IntegerField(min_value=1, required=False,
                                  help_text="Order; empty = after the others.")

    class Meta:
        model = Why
        fields = ("position", "question", "answer")
        widgets = {"answer": forms.Textarea(attrs={"rows": 2, "cols": 60})}


class WhyInline(PartInline):
    """The 5 Whys, in order; saved as one chain by `services.problem_save_whys`."""

    model = Why
    form = WhyForm
    extra = 1
    ordering = ("position",)
    max_num = services.MAX_WHYS

    def has_add_permission(self, request, obj=None):
        return _may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return _may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _may_edit(request, obj)


class LinkForm(forms.ModelForm):
    class Meta:
        model = ProblemLink
        fields = ("incident",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # a link is made or removed, never re-pointed
            self.fields["incident"].disabled = True

    def validate_unique(self):
        """An incident linked to another problem moves here (as the service does it)."""


class LinkInline(PartInline):
    """Incidents caused by the problem: linked and unlinked through the services."""

    model = ProblemLink
    form = LinkForm
    extra = 1
    autocomplete_fields = ("incident",)
    fields = ("incident", "incident_state", "linked_by", "linked_at")
    readonly_fields = ("incident_state", "linked_by", "linked_at")
    verbose_name = "linked incident"
    verbose_name_plural = "linked incidents"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("incident", "linked_by")

    @admin.display(description="state")
    def incident_state(self, link):
        return link.incident.get_state_display() if link.pk else ""

    def has_add_permission(self, request, obj=None):
        return _may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return False  # rows are added or deleted, not re-pointed

    def has_delete_permission(self, request, obj=None):
        return obj is not None and request.user.has_perm("problems.change_problem")


class ProblemTimelineInline(ReadOnlyInline):
    model = ProblemEntry
    fields = ("at", "kind", "actor", "field", "old_value", "new_value", "body")
    readonly_fields = fields
    verbose_name = "timeline entry"
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ProblemAdminForm(VersionedAdminForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].queryset = _agents()


CREATE_FIELDS = ("title", "description", "service", "category", "impact", "urgency", "owner",
                 "assignment_team")
ANALYSIS_FIELDS = ("root_cause", "contributing_factors", "workaround", "permanent_fix",
                   "change_reference")
RECORD_FIELDS = ("created_by", "opened_at", "resolved_at", "closed_at", "updated_at",
                 "duplicate_of", "closing_note", "version")


@admin.register(Problem)
class ProblemAdmin(ServiceSavesMixin, admin.ModelAdmin):
    """Fields, 5 Whys and links are saved through the services (so the timeline records them);
    the state is read-only: the lifecycle is worked on the problem page ("View on site")."""

    form = ProblemAdminForm
    list_display = ("number", "title", "state", "priority", "owner", "assignment_team",
                    "updated")
    list_display_links = ("number", "title")
    list_filter = ("state", "priority", "assignment_team",
                   ("service", admin.RelatedOnlyFieldListFilter),
                   ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("number", "title")
    list_select_related = ("owner", "assignment_team")
    autocomplete_fields = ("service", "assignment_team")
    inlines = [WhyInline, LinkInline, ProblemTimelineInline]

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, problem):
        return problem.updated_at

    def get_fieldsets(self, request, obj=None):
        main = ("number", "title", "description", "state", "priority", ("impact", "urgency"),
                "service", "category", "owner", "assignment_team", "seen_version")
        fieldsets = [
            (None, {"fields": main, "description": "The state changes on the problem page "
                                                   "(View on site), never here."}),
            ("Analysis and fix", {"fields": ANALYSIS_FIELDS}),
        ]
        if obj is not None:
            fieldsets.append(("Record", {"fields": RECORD_FIELDS, "classes": ["collapse"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fixed = ("number", "state", "priority", *RECORD_FIELDS)
        if obj is not None and obj.state in guards.FINISHED:
            return (*fixed, *CREATE_FIELDS, *ANALYSIS_FIELDS)  # finished: nothing to edit
        return fixed

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [WhyInline, LinkInline]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # its timeline goes with it

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {name: data[name] for name in form.changed_data
                       if name in services.EDITABLE_FIELDS}
            if not changes:
                return
            saved = services.problem_update(problem=obj, by=request.user, version=obj.version,
                                            **changes)
        else:
            saved = services.problem_create(
                by=request.user, **{name: data[name] for name in CREATE_FIELDS})
            analysis = {name: data[name] for name in ANALYSIS_FIELDS if data.get(name)}
            if analysis:
                saved = services.problem_update(problem=saved, by=request.user, **analysis)
        _adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        problem = form.instance
        _saved_by_services(formsets)
        for formset in formsets:
            if formset.model is Why:
                self._save_whys(request, problem, formset)
            elif formset.model is ProblemLink:
                self._save_links(request, problem, formset)

    @staticmethod
    def _save_whys(request, problem, formset) -> None:
        if not formset.has_changed():
            return
        rows, deleted = [], set(formset.deleted_forms)
        for index, row in enumerate(formset.forms):
            if row in deleted or not row.cleaned_data:
                continue  # deleted, or an empty extra row
            position = row.cleaned_data.get("position")
            rows.append((position if position is not None else 10_000, index,
                         row.cleaned_data["question"], row.cleaned_data.get("answer", "")))
        chain = [(question, answer) for *_, question, answer in sorted(rows)]
        saved = services.problem_save_whys(problem=problem, by=request.user, whys=chain,
                                           version=problem.version)
        _adopt(problem, saved)

    @staticmethod
    def _save_links(request, problem, formset) -> None:
        deleted = set(formset.deleted_forms)
        for row in deleted:
            if row.instance.pk is not None:
                services.problem_unlink_incident(problem=problem, by=request.user,
                                                 incident=row.instance.incident)
        added = [row.cleaned_data["incident"] for row in formset.forms
                 if row.instance.pk is None and row not in deleted
                 and row.cleaned_data.get("incident")]
        if added:
            services.problem_link_incidents(problem=problem, by=request.user, incidents=added)


# --- known errors and articles ---------------------------------------------------------------

class KnowledgeAdminForm(VersionedAdminForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "categories" in self.fields:
            self.fields["categories"].queryset = Category.objects.filter(parent=None)
            self.fields["categories"].help_text = "Top-level categories."


class KnowledgeAdmin(ServiceSavesMixin, admin.ModelAdmin):
    """What known errors and articles share: numbers and status come from the services;
    the status moves only through the actions (problem managers). Each subclass saves through
    its own services, in `_create(request, data)` and `_update(request, record, version,
    changes)`."""

    form = KnowledgeAdminForm
    list_display = ("number", "title", "status", "updated")
    list_display_links = ("number", "title")
    list_filter = ("status", ("services", admin.RelatedOnlyFieldListFilter))
    search_fields = ("number", "title")
    autocomplete_fields = ("services",)
    actions = ["publish", "retire"]
    record_fields = ("number", "status", "created_by", "created_at", "updated_at",
                     "published_at", "version")
    readonly_fields = record_fields
    fields_for_service: tuple = ()

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, record):
        return record.updated_at

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    def has_manage_permission(self, request) -> bool:
        """Publishing and retiring are for problem managers (and admins)."""
        return rules.can_manage(request.user)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.fields_for_service
                if name in form.cleaned_data}
        for name in ("services", "categories"):
            if name in data:
                data[name] = list(data[name])
        if change:
            changes = {name: data[name] for name in form.changed_data if name in data}
            if not changes:
                return
            saved = self._update(request, obj, obj.version, changes)
        else:
            saved = self._create(request, {**data, **self._extra_create(form)})
        _adopt(obj, saved)

    def _extra_create(self, form) -> dict:
        return {}

    def save_related(self, request, form, formsets, change):
        """Nothing left to save: the service set the services and categories, and the inlines
        are read-only."""
        _saved_by_services(formsets)

    def _set_status(self, request, queryset, status: str, verb: str) -> None:
        done = 0
        for record in queryset:
            try:
                services.knowledge_set_status(record=record, by=request.user, status=status)
            except ServiceError as exc:
                self.message_user(request, f"{record.number} not {verb}: {exc.message}",
                                  messages.WARNING)
            else:
                done += 1
        if done:
            name = self.model._meta.verbose_name if done == 1 else \
                self.model._meta.verbose_name_plural
            self.message_user(request, f"{capfirst(verb)}: {done} {name}.", messages.SUCCESS)

    @admin.action(description="Publish (agents see and apply them)", permissions=["manage"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, KnowledgeStatus.PUBLISHED, "published")

    @admin.action(description="Retire (no longer offered)", permissions=["manage"])
    def retire(self, request, queryset):
        self._set_status(request, queryset, KnowledgeStatus.RETIRED, "retired")


class ApplicationInline(ReadOnlyInline):
    model = WorkaroundApplication
    fields = ("incident", "applied_by", "applied_at")
    readonly_fields = fields
    verbose_name = "incident the workaround was applied to"
    verbose_name_plural = "workaround applied to"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("incident", "applied_by")


@admin.register(KnownError)
class KnownErrorAdmin(KnowledgeAdmin):
    list_display = ("number", "title", "status", "problem", "applied", "updated")
    list_select_related = ("problem",)
    list_filter = ("status", ("services", admin.RelatedOnlyFieldListFilter),
                   ("categories", admin.RelatedOnlyFieldListFilter))
    autocomplete_fields = ("services", "problem")
    inlines = [ApplicationInline]
    fields_for_service = services.KNOWN_ERROR_FIELDS
    fieldsets = [
        (None, {"fields": ("number", "title", "status", "problem", "symptoms", "root_cause",
                           "workaround", "services", "categories", "seen_version")}),
        ("Record", {"fields": ("created_by", "created_at", "updated_at", "published_at",
                               "version"), "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(applied=Count("applications"))

    @admin.display(description="applied", ordering="applied")
    def applied(self, known_error):
        return known_error.applied

    def get_readonly_fields(self, request, obj=None):
        # The problem is named when the known error is recorded; it does not move later.
        return (*self.record_fields, "problem") if obj is not None else self.record_fields

    def _extra_create(self, form) -> dict:
        return {"problem": form.cleaned_data.get("problem")}

    def _create(self, request, data):
        return services.known_error_create(by=request.user, **data)

    def _update(self, request, record, version, changes):
        return services.known_error_update(known_error=record, by=request.user,
                                           version=version, **changes)


@admin.register(Article)
class ArticleAdmin(KnowledgeAdmin):
    list_display = ("number", "title", "kind", "audience", "status", "updated")
    list_filter = ("status", "kind", "audience", ("services", admin.RelatedOnlyFieldListFilter))
    fields_for_service = services.ARTICLE_FIELDS
    fieldsets = [
        (None, {"fields": ("number", "title", "status", ("kind", "audience"), "symptoms",
                           "body", "steps", "services", "categories", "seen_version"),
                "description": "Body and steps are Markdown; pages show them sanitised."}),
        ("Record", {"fields": ("created_by", "created_at", "updated_at", "published_at",
                               "version"), "classes": ["collapse"]}),
    ]

    def _create(self, request, data):
        return services.article_create(by=request.user, **data)

    def _update(self, request, record, version, changes):
        return services.article_update(article=record, by=request.user, version=version,
                                       **changes)


@admin.register(WorkaroundApplication)
class WorkaroundApplicationAdmin(admin.ModelAdmin):
    """Which workaround was applied to which incident: written by `services.workaround_apply`."""

    list_display = ("known_error", "incident", "applied_by", "applied_at")
    list_select_related = ("known_error", "incident", "applied_by")
    search_fields = ("known_error__number", "incident__number")
    date_hierarchy = "applied_at"
    readonly_fields = ("known_error", "incident", "applied_by", "applied_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- recurrence detection --------------------------------------------------------------------

@admin.register(RecurrenceSettings)
class RecurrenceSettingsAdmin(admin.ModelAdmin):
    """One row of thresholds: its list is the row's own form (created with the defaults)."""

    fields = ("active", "min_incidents", "window_days", "title_similarity", "max_title_scan")

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return redirect("admin:problems_recurrencesettings_change", RecurrenceSettings.load().pk)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not RecurrenceSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class MemberInline(ReadOnlyInline):
    model = SuggestionMember
    fields = ("incident", "title", "state", "opened_at")
    readonly_fields = fields
    verbose_name = "incident"
    verbose_name_plural = "incidents in the cluster"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("incident")

    @admin.display(description="title")
    def title(self, member):
        return member.incident.title

    @admin.display(description="state")
    def state(self, member):
        return member.incident.get_state_display()

    @admin.display(description="opened")
    def opened_at(self, member):
        return member.incident.opened_at


@admin.register(SuggestedProblem)
class SuggestedProblemAdmin(admin.ModelAdmin):
    """Clusters found by `problems.recurrence`: read here, dismissed by the action, turned into
    problems on the problems page."""

    list_display = ("title", "basis", "status", "incident_count", "problem", "updated")
    list_filter = ("status", "basis")
    search_fields = ("title",)
    list_select_related = ("problem",)
    readonly_fields = ("title", "basis", "status", "service", "category", "problem",
                       "created_at", "updated_at")
    fields = readonly_fields
    inlines = [MemberInline]
    actions = ["dismiss"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(incident_count=Count("members"))

    @admin.display(description="incidents", ordering="incident_count")
    def incident_count(self, suggestion):
        return suggestion.incident_count

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, suggestion):
        return suggestion.updated_at

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # dismissed instead: its incidents stay claimed, so it is not suggested again

    def has_manage_permission(self, request) -> bool:
        return rules.can_manage(request.user)

    @admin.action(description="Dismiss (not a problem)", permissions=["manage"])
    def dismiss(self, request, queryset):
        done = 0
        for suggestion in queryset:
            try:
                services.suggestion_dismiss(suggestion=suggestion, by=request.user)
            except ServiceError as exc:
                self.message_user(request, f"“{suggestion.title}”: {exc.message}",
                                  messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"Dismissed: {done} suggested problem(s).",
                              messages.SUCCESS)
