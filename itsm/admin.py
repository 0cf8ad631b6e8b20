import contextlib
import re
from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from rest_framework.authtoken.models import TokenProxy

from itsm import business_time, calendars, clock
from itsm.choices import Weekday
from itsm.exceptions import InvalidInput
from itsm.models import (
    ApiToken,
    BusinessCalendar,
    DeskSettings,
    Heartbeat,
    Holiday,
    Notification,
    Service,
    Team,
    User,
    WorkingInterval,
    minute_label,
)
from itsm.notifications import notifications_retry
from itsm.schedule import job_description, job_label, runs_label

# DRF's plain-text tokens are no longer accepted (itsm.authentication reads ApiToken): an
# "Auth Token" page would only make keys that do not work.
with contextlib.suppress(NotRegistered):
    admin.site.unregister(TokenProxy)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Service desk", {"fields": ("time_zone", "phone")}),
    ]
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
    list_filter = ("groups", "is_staff", "is_active", "teams")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "manager", "next_tier", "member_count", "active")
    list_filter = ("tier", "active")
    search_fields = ("name", "email", "members__username")
    autocomplete_fields = ("manager", "next_tier")
    filter_horizontal = ("members",)

    @admin.display(description="members")
    def member_count(self, team):
        return team.members.count()


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "criticality", "owner_team", "active")
    list_filter = ("criticality", "active", "owner_team")
    search_fields = ("name", "description")
    autocomplete_fields = ("owner_team",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: what went out, what waits for a retry and what failed, and why."""

    list_display = ("subject", "address", "channel", "status", "attempts", "created_at",
                    "sent_at", "short_error")
    list_filter = ("status", "channel")
    search_fields = ("subject", "address", "recipient__username", "key")
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ("recipient",)
    show_full_result_count = False
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # delivery state changes through the outbox service only

    @admin.display(description="last error")
    def short_error(self, note):
        return note.last_error[:80]

    @admin.action(description="Retry the selected failed notifications now",
                  permissions=["view"])
    def retry(self, request, queryset):
        retried = notifications_retry(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{retried} failed notification(s) queued again; "
                                   "others were not failed.", messages.SUCCESS)


class DeskSettingsForm(forms.ModelForm):
    class Meta:
        model = DeskSettings
        fields = ("default_team",)

    def clean_default_team(self):
        team = self.cleaned_data["default_team"]
        if team is not None and not team.active and "default_team" in self.changed_data:
            raise ValidationError(f"{team} is inactive: incidents would stay unassigned. "
                                  "Choose an active team.")
        return team


@admin.register(DeskSettings)
class DeskSettingsAdmin(admin.ModelAdmin):
    """One row: its list is the row's own form (made on first visit)."""

    form = DeskSettingsForm  # a plain select: the autocomplete widget fails on a bogus id

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        row, _ = DeskSettings.objects.get_or_create(pk=1)
        return redirect("admin:itsm_desksettings_change", row.pk)

    def has_add_permission(self, request):
        return False  # the one row is made by the list page

    def has_delete_permission(self, request, obj=None):
        return False


# The beat's jobs in plain words: what each does and how often (itsm.schedule), not task paths.
admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    list_display = ("job", "what_it_does", "runs", "enabled", "last_run_at")
    list_display_links = ("job",)
    list_select_related = ("interval", "crontab", "solar", "clocked")
    ordering = ("name",)

    @admin.display(description="job", ordering="name")
    def job(self, task):
        return job_label(task)

    @admin.display(description="what it does")
    def what_it_does(self, task):
        return job_description(task)

    @admin.display(description="runs")
    def runs(self, task):
        return runs_label(task)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "seen_at")

    def has_add_permission(self, request):
        return False  # written by the heartbeat task only


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Who has an API token and when it was last used; deleting one revokes it. The key itself
    is not stored, and the admin does not show even its hash."""

    list_display = ("prefix", "user", "created_at", "last_used_at")
    search_fields = ("prefix", "user__username")
    fields = ("user", "prefix", "created_at", "last_used_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False  # made by their owner on the profile page, the only place a key is shown

    def has_change_permission(self, request, obj=None):
        return False


# --- Business calendars ---------------------------------------------------------------------
# Every save through these pages ends in one calendar_changed (itsm.calendars), which bumps the
# calendar's version and tells the SLA clocks on it to re-derive their deadlines.


class MinuteField(forms.Field):
    """A time of day typed as HH:MM and stored as minutes after midnight; 24:00 only as an end."""

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        kwargs.setdefault("widget", forms.TextInput(
            attrs={"size": 5, "maxlength": 5, "placeholder": "HH:MM"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return minute_label(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = "" if value is None else str(value).strip()
        if not value:
            return None
        match = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", value)
        if not match:
            raise ValidationError("Enter a time as HH:MM, for example 08:30.", code="invalid")
        minute = int(match[1]) * 60 + int(match[2])
        latest = 1440 if self.end_of_day else 1439
        if int(match[2]) > 59 or minute > latest:
            raise ValidationError(f"{value} is not a time of day: use 00:00 to "
                                  f"{minute_label(latest)}.", code="out_of_range")
        return minute


class WorkingIntervalForm(forms.ModelForm):
    start_minute = MinuteField(label="start")
    end_minute = MinuteField(label="end", end_of_day=True,
                             help_text="24:00 = the end of the day.")

    class Meta:
        model = WorkingInterval
        fields = ("weekday", "start_minute", "end_minute")

    def clean(self):
        data = super().clean()
        start, end = data.get("start_minute"), data.get("end_minute")
        if start is not None and end is not None and end <= start:
            self.add_error("end_minute", f"The end ({minute_label(end)}) must be after the "
                                         f"start ({minute_label(start)}).")
        return data


class WorkingIntervalFormSet(BaseInlineFormSet):
    def clean(self):
        """No two intervals of a weekday overlap (touching, 12:30 then 12:30, is fine)."""
        super().clean()
        week = defaultdict(list)
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if form.errors or not data or (self.can_delete and self._should_delete_form(form)):
                continue
            week[data["weekday"]].append((data["start_minute"], data["end_minute"]))
        errors = []
        for weekday, intervals in sorted(week.items()):
            for (start, end), (next_start, next_end) in pairwise(sorted(intervals)):
                if next_start < end:
                    errors.append(f"{Weekday(weekday).label}: {minute_label(start)}–"
                                  f"{minute_label(end)} overlaps {minute_label(next_start)}–"
                                  f"{minute_label(next_end)}.")
        if errors:
            raise ValidationError(errors)


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    form = WorkingIntervalForm
    formset = WorkingIntervalFormSet
    extra = 1


class HolidayForm(forms.ModelForm):
    closed_from_minute = MinuteField(label="closed from", required=False,
                                     help_text="Empty: from 00:00.")
    closed_until_minute = MinuteField(label="closed until", required=False, end_of_day=True,
                                      help_text="Empty: until 24:00.")

    class Meta:
        model = Holiday
        fields = ("calendar", "date", "name", "closed_from_minute", "closed_until_minute")

    def clean(self):
        data = super().clean()
        closed_from = data.get("closed_from_minute") or 0
        closed_until = data.get("closed_until_minute")
        if closed_until is not None and closed_until <= closed_from:
            self.add_error("closed_until_minute",
                           f"Closed until {minute_label(closed_until)} must be after closed "
                           f"from {minute_label(closed_from)}.")
        return data


class HolidayFormSet(BaseInlineFormSet):
    def clean(self):
        """One holiday per date, counting the rows the inline does not show.

        The inline leaves out old holidays, and Django does not validate the unique constraint
        through the calendar foreign key of an inline: without this a clash is an
        IntegrityError.
        """
        super().clean()
        if self.instance.pk is None:
            return
        rows = {form.cleaned_data["date"]: form for form in self.forms
                if not form.errors and form.cleaned_data.get("date")
                and not (self.can_delete and self._should_delete_form(form))}
        shown = [form.instance.pk for form in self.forms if form.instance.pk]
        taken = (Holiday.objects.filter(calendar=self.instance, date__in=list(rows))
                 .exclude(pk__in=shown).values_list("date", flat=True))
        for day in taken:
            rows[day].add_error("date", f"The calendar already has a holiday on {day:%Y-%m-%d}"
                                        " (see Holidays).")


class HolidayInline(admin.TabularInline):
    """The calendar's holidays from a year ago on; older ones are under Holidays."""

    model = Holiday
    form = HolidayForm
    formset = HolidayFormSet
    fields = ("date", "name", "closed_from_minute", "closed_until_minute")
    extra = 1
    verbose_name_plural = "holidays (from a year ago on; all of them are under Holidays)"

    def get_queryset(self, request):
        since = timezone.localdate(clock.now()) - timedelta(days=365)
        return super().get_queryset(request).filter(date__gte=since)


class PublicHolidaysForm(forms.Form):
    country = forms.CharField(max_length=3, help_text="ISO code: GB, US, DE, FR, IN, AU…")
    subdivision = forms.CharField(max_length=10, required=False,
                                  help_text="Optional region: ENG or SCT for GB, NY for US…")
    year = forms.IntegerField(min_value=calendars.YEARS.start,
                              max_value=calendars.YEARS.stop - 1)


class IcsImportForm(forms.Form):
    file = forms.FileField(label=".ics file", help_text="An iCalendar feed, at most 1 MB. "
                           "All-day events close whole days, timed events part of a day.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > calendars.MAX_ICS_BYTES:
            raise ValidationError("The file is larger than 1 MB.")
        return upload


class TryItForm(forms.Form):
    """Read in the calendar's zone (the view activates it)."""

    start = forms.DateTimeField(help_text="Local time in the calendar's zone, "
                                          "e.g. 2026-12-24 11:00.")
    duration = forms.CharField(label="Business duration", required=False,
                               help_text="H:MM, e.g. 4:00 or 40:00: when is it due?")
    end = forms.DateTimeField(required=False, help_text="How much business time from start "
                                                        "to here?")

    def clean_duration(self):
        value = self.cleaned_data["duration"].strip()
        if not value:
            return None
        match = re.fullmatch(r"([0-9]{1,5}):([0-5][0-9])", value)
        if not match:
            raise ValidationError("Enter hours and minutes as H:MM, for example 4:00.")
        return timedelta(hours=int(match[1]), minutes=int(match[2]))


def _add_service_errors(form: forms.Form, error: InvalidInput) -> None:
    """Show a service's InvalidInput on the form: on its field if the form has one."""
    if not error.field_errors:
        form.add_error(None, error.message)
    for name, messages_ in error.field_errors.items():
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone", "always_open", "week", "holidays_ahead")
    search_fields = ("name",)
    fields = ("name", "time_zone", "always_open", "description", "version")
    readonly_fields = ("version",)
    inlines = [WorkingIntervalInline, HolidayInline]
    change_form_template = "admin/itsm/businesscalendar/change_form.html"

    def get_queryset(self, request):
        today = timezone.localdate(clock.now())
        ahead = Q(holidays__date__gte=today, holidays__date__lt=today + timedelta(days=365))
        return (super().get_queryset(request).prefetch_related("intervals")
                .annotate(holidays_ahead=Count("holidays", filter=ahead)))

    @admin.display(description="week")
    def week(self, calendar):
        return calendars.week_summary(calendar)

    @admin.display(description="holidays in the next 12 months",
                   ordering="holidays_ahead")
    def holidays_ahead(self, calendar):
        return calendar.holidays_ahead

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "try_form": TryItForm()}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change or form.has_changed() or any(f.has_changed() for f in formsets):
            calendars.calendar_changed(form.instance, by=request.user)

    # Deleting a calendar publishes nothing: clocks PROTECT the calendars they run on, so a
    # calendar that can be deleted has no deadlines to move.

    def get_urls(self):
        tool = self.admin_site.admin_view
        return [
            path("<path:object_id>/holidays/generate/", tool(self.generate_view),
                 name="itsm_businesscalendar_holidays_generate"),
            path("<path:object_id>/holidays/import/", tool(self.import_view),
                 name="itsm_businesscalendar_holidays_import"),
            path("<path:object_id>/try/", tool(self.try_view),
                 name="itsm_businesscalendar_try"),
            *super().get_urls(),
        ]

    def _calendar_for(self, request, object_id, *, change: bool):
        calendar = self.get_object(request, unquote(object_id))
        if calendar is None:
            raise Http404("No such business calendar.")
        allowed = (self.has_change_permission(request, calendar) if change
                   else self.has_view_permission(request, calendar))
        if not allowed:
            raise PermissionDenied
        return calendar

    def _render_tool(self, request, calendar, form, title, **extra):
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "original": calendar, "title": title, "form": form, **extra}
        return TemplateResponse(request, "admin/itsm/businesscalendar/tool.html", context)

    def _back_to_calendar(self, calendar):
        return redirect("admin:itsm_businesscalendar_change", calendar.pk)

    def generate_view(self, request, object_id):
        """Add a country's public holidays of a year (itsm.calendars.holidays_generate)."""
        calendar = self._calendar_for(request, object_id, change=True)
        year = timezone.localdate(clock.now()).year
        form = PublicHolidaysForm(request.POST or None, initial={"year": year})
        if request.method == "POST" and form.is_valid():
            try:
                added = calendars.holidays_generate(calendar, **form.cleaned_data,
                                                    by=request.user)
            except InvalidInput as error:
                _add_service_errors(form, error)
            else:
                self.message_user(request, f"{added} public holiday(s) added to “{calendar}”; "
                                           "dates it already had were left as they were.",
                                  messages.SUCCESS)
                return self._back_to_calendar(calendar)
        return self._render_tool(request, calendar, form, "Add public holidays",
                                 submit_label="Add holidays")

    def import_view(self, request, object_id):
        """Import holidays from an .ics feed (itsm.calendars.holidays_import_ics)."""
        calendar = self._calendar_for(request, object_id, change=True)
        form = IcsImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                added = calendars.holidays_import_ics(
                    calendar, form.cleaned_data["file"].read(), by=request.user)
            except InvalidInput as error:
                _add_service_errors(form, error)
            else:
                self.message_user(request, f"{added} holiday(s) imported into “{calendar}”; "
                                           "dates it already had were left as they were.",
                                  messages.SUCCESS)
                return self._back_to_calendar(calendar)
        return self._render_tool(request, calendar, form, "Import holidays from .ics",
                                 submit_label="Import", multipart=True)

    def try_view(self, request, object_id):
        """Due time and elapsed business time on this calendar, worked out by the engine."""
        calendar = self._calendar_for(request, object_id, change=False)
        zone = calendar.time_zone
        form = TryItForm(request.GET or None)
        results = None
        with timezone.override(zone):
            if form.is_bound and form.is_valid():
                results = self._try(calendar, form)
        return self._render_tool(request, calendar, form, "Try it", submit_label="Work it out",
                                 method="get", results=results, zone=zone)

    @staticmethod
    def _try(calendar, form) -> list[tuple[str, str]] | None:
        start, duration, end = (form.cleaned_data[name] for name in ("start", "duration", "end"))
        zone = calendar.time_zone
        rows = []
        try:
            if duration is not None:
                due = business_time.add_business_time(calendar, start, duration)
                closed = business_time.closures_between(calendar, start, due)
                rows.append(("due", f"{due.astimezone(zone):%a %Y-%m-%d %H:%M:%S %Z} "
                                    f"({due:%Y-%m-%d %H:%M} UTC)"))
                rows.append(("holidays on the way", ", ".join(
                    f"{day:%a %d %b} {name}" for day, name in closed) or "none"))
            if end is not None:
                spent = business_time.business_time_between(calendar, start, end)
                rows.append(("business time from start to end", _duration_label(spent)))
        except ValueError as error:
            form.add_error(None, str(error))
            return None
        if not rows:
            form.add_error(None, "Give a business duration, an end, or both.")
            return None
        return rows


def _duration_label(duration: timedelta) -> str:
    minutes, seconds = divmod(int(duration.total_seconds()), 60)
    label = f"{minutes // 60}:{minutes % 60:02d}"
    return f"{label}:{seconds:02d}" if seconds else label


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Every holiday of every calendar, past ones too (the calendar page shows the recent)."""

    list_display = ("date", "weekday", "name", "closed", "calendar")
    list_filter = ("calendar",)
    date_hierarchy = "date"
    search_fields = ("name",)
    list_select_related = ("calendar",)
    form = HolidayForm

    @admin.display(description="day")
    def weekday(self, holiday):
        return f"{holiday.date:%a}"

    @admin.display(description="closed")
    def closed(self, holiday):
        return calendars.closed_label(holiday)

    def save_model(self, request, obj, form, change):
        moved_from = form.initial.get("calendar") if change else None
        super().save_model(request, obj, form, change)
        calendars.calendar_changed(obj.calendar, by=request.user)
        if moved_from and moved_from != obj.calendar_id:
            calendars.calendar_changed(BusinessCalendar.objects.get(pk=moved_from),
                                       by=request.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        calendars.calendar_changed(obj.calendar, by=request.user)

    def delete_queryset(self, request, queryset):
        affected = list(BusinessCalendar.objects.filter(
            pk__in=queryset.values("calendar_id")))
        super().delete_queryset(request, queryset)
        for calendar in affected:
            calendars.calendar_changed(calendar, by=request.user)
