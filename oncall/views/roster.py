"""Roster pages: who is on call now, a schedule's timeline with overrides and swaps, my shifts
and contact methods, and the iCalendar feeds. Thin: forms in, `oncall.services` writes,
`oncall.selectors` and `oncall.roster` read.

Times are shown, and typed into forms, in the viewer's zone (`itsm.middleware` activates
it); the timeline's day columns are the viewer's days too.
"""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from incidents import rules
from itsm import clock
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import User
from oncall import feeds, roster, selectors, services
from oncall.choices import SwapState
from oncall.forms import LOCAL_FORMATS, ContactMethodForm, OverrideForm, RuleForm, SwapForm
from oncall.models import (
    ContactMethod,
    LayerMember,
    NotificationRule,
    Override,
    Schedule,
    ShiftSwap,
)
from oncall.timeline import (
    GEOMETRY,
    Timeline,
    colours,
    local_midnight,
    span_text,
    timeline_rows,
)

MY_WEEKS = 4
NEXT_LOOKAHEAD = timedelta(days=14)  # how far "who is next" looks past the current shift
START_RANGE = timedelta(days=3 * 366)  # a ?start= further than this from today is ignored


def _agents_only(request) -> None:
    user = request.user
    if not (rules.is_agent(user) or rules.has_perm(user, "oncall.view_schedule")):
        raise PermissionDenied("On-call rosters are for agents and managers.")


def _duration(delta: timedelta) -> str:
    hours = round(delta.total_seconds() / 3600)
    if hours < 48:
        return f"{hours} h"
    days, rest = divmod(hours, 24)
    return f"{days} d {rest} h" if rest else f"{days} d"


# --- who is on call now ----------------------------------------------------------------------

def _next_shift(value: roster.Schedule, shift: roster.Shift | None,
                at: datetime) -> roster.Shift | None:
    """Who takes over after `shift` (or, when nobody is on call, who comes first)."""
    after = shift.end if shift else at
    upcoming = roster.final_shifts(value, after, after + NEXT_LOOKAHEAD)
    return upcoming[0] if upcoming else None


@login_required
@require_GET
def now(request):
    """Who is on call now, for every team: name, phone, until when, why, and who is next."""
    _agents_only(request)
    at = clock.now()
    teams = selectors.teams_on_call(at=at)
    nexts = {}
    for row in teams:
        for entry in row["schedules"]:
            nexts[entry["schedule"].pk] = _next_shift(selectors.spec(entry["schedule"]),
                                                      entry["shift"], at)
    overrides = {o.pk: o for row in teams for e in row["schedules"]
                 for o in e["schedule"].overrides.all()}
    people = selectors.people([s.user for s in nexts.values() if s]
                              + [o.replaces_id for o in overrides.values() if o.replaces_id])
    for row in teams:
        for entry in row["schedules"]:
            if entry["shift"]:
                entry["why"] = feeds.why_text(entry["shift"], overrides, people)
            upcoming = nexts[entry["schedule"].pk]
            entry["next"] = upcoming
            entry["next_user"] = people.get(upcoming.user) if upcoming else None
            # Nobody between this shift's end and the next one's start: say so.
            after = entry["shift"].end if entry["shift"] else at
            entry["gap_before_next"] = bool(upcoming and upcoming.start > after)
    uncovered = sum(1 for row in teams for e in row["schedules"] if e["shift"] is None)
    return render(request, "oncall/roster/now.html",
                  {"teams": teams, "at": at, "uncovered": uncovered})


# --- the schedule's timeline -----------------------------------------------------------------

def _range(request) -> tuple[int, date, bool]:
    """Weeks shown (2, or 4 when asked) and the first day; odd values fall back quietly."""
    weeks = 4 if request.GET.get("weeks") == "4" else 2
    today = timezone.localdate()
    try:
        asked = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        asked = None
    if asked is None or abs(asked - today) > START_RANGE:
        return weeks, today, False
    return weeks, asked, True


def _local_input(value: datetime) -> str:
    return timezone.localtime(value).strftime(LOCAL_FORMATS[0])


def _prefill(request) -> dict:
    """?from=…&to=… (a click on the final roster) as the override form's initial times."""
    initial = {}
    for param, field in (("from", "starts_at"), ("to", "ends_at")):
        for fmt in LOCAL_FORMATS:
            try:
                initial[field] = datetime.strptime(request.GET.get(param, ""), fmt)
                break
            except ValueError:
                continue
    return initial


def _roster_people(schedule: Schedule):
    """Whom an override may name: the team's members and the layers' participants."""
    # Ids first: an OR across the membership join makes PostgreSQL read every user.
    ids = LayerMember.objects.filter(layer__schedule=schedule).values("user")
    if schedule.team_id:
        ids = ids.union(User.teams.through.objects.filter(team=schedule.team_id)
                        .values("user"))
    return User.objects.filter(pk__in=ids, is_active=True).order_by(
        "first_name", "last_name", "username")


def _schedule_context(request, schedule: Schedule, *, override_form=None, swap_form=None,
                      error: str = "") -> dict:
    weeks, first_day, asked = _range(request)
    start = local_midnight(first_day)
    end = local_midnight(first_day + timedelta(days=7 * weeks))
    at = clock.now()
    loaded = selectors.schedules_loaded(Schedule.objects.filter(pk=schedule.pk), start, end)[0]
    value = selectors.spec(loaded)
    shifts = selectors.shifts_of(loaded, start, end)
    overrides = {row.pk: row for row in loaded.overrides.all()}
    ids = {s.user for _, rows in shifts["layers"] for s in rows}
    ids |= {s.user for s in shifts["final"]} | {o.replaces_id for o in overrides.values()
                                                 if o.replaces_id}
    people = selectors.people(ids)
    editable = services.can_edit_roster(request.user, schedule)
    timeline = Timeline(start, end, colours(value), people)
    keep = {"weeks": weeks, **({"start": first_day.isoformat()} if asked else {})}

    def pick(shift):  # a click on the final roster pre-fills the override form
        query = {**keep, "from": _local_input(shift.start), "to": _local_input(shift.end)}
        return f"?{urlencode(query)}#add-override" if editable else ""

    rows, height = timeline_rows(shifts, timeline, value, overrides, pick)
    now_x = timeline.x(at) if start <= at < end else None

    legend = sorted(({"user": people[u], "colour": c} for u, c in timeline.colours.items()
                     if u in people), key=lambda item: item["colour"])
    if override_form is None:
        override_form = OverrideForm(initial=_prefill(request),
                                     people=_roster_people(schedule))
    return {
        "schedule": loaded, "weeks": weeks, "first_day": first_day, "asked": asked,
        "start": start, "end": end, "rows": rows, "days": timeline.days(timezone.localdate()),
        "now_x": now_x, "height": height, **GEOMETRY, "legend": legend,
        "gaps": [{"start": a, "end": b, "length": _duration(b - a)} for a, b in shifts["gaps"]],
        "overrides": (Override.objects.filter(schedule=schedule, ends_at__gt=at)
                      .select_related("user", "replaces", "created_by")),
        "swaps": (ShiftSwap.objects.filter(schedule=schedule, state=SwapState.OPEN,
                                           ends_at__gt=at).select_related("requested_by")),
        "editable": editable, "override_form": override_form,
        "swap_form": swap_form or SwapForm(), "error": error,
        "query": urlencode(keep),
        "previous": urlencode({**keep, "start": (first_day - timedelta(days=7 * weeks))
                                .isoformat()}),
        "following": urlencode({**keep, "start": (first_day + timedelta(days=7 * weeks))
                                 .isoformat()}),
        "feed_url": request.build_absolute_uri(
            reverse("oncall:schedule-feed", args=[schedule.pk, schedule.feed_token]))
        if editable else "",
    }


def _schedule_page(request, schedule, *, status: int = 200, **forms_and_error):
    context = _schedule_context(request, schedule, **forms_and_error)
    return render(request, "oncall/roster/schedule.html", context, status=status)


@never_cache  # editors see the secret feed URL on it
@login_required
@require_GET
def schedule(request, pk):
    """A schedule's next two (or four) weeks: each layer, the final roster and its gaps;
    overrides and open swaps below, with the forms to add them."""
    _agents_only(request)
    return _schedule_page(request, get_object_or_404(Schedule, pk=pk))


def _refused(request, schedule, exc, **forms):
    """A refused or stale action: the page again with the reason on top, honest status."""
    return _schedule_page(request, schedule, status=exc.status, error=exc.message, **forms)


@login_required
@require_POST
def override_add(request, pk):
    """Put someone on call over every layer; errors re-render the page next to the fields."""
    _agents_only(request)
    schedule = get_object_or_404(Schedule, pk=pk)
    form = OverrideForm(request.POST, people=_roster_people(schedule))
    if form.is_valid():
        try:
            override = services.override_create(schedule=schedule, by=request.user,
                                                 **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except Forbidden as exc:
            return _refused(request, schedule, exc, override_form=form)
        else:
            messages.success(request, f"{override.user} is on call "
                                      f"{span_text(override.starts_at, override.ends_at)}.")
            return redirect("oncall:schedule", pk=schedule.pk)
    return _schedule_page(request, schedule, status=400, override_form=form)


@login_required
@require_POST
def override_delete(request, pk):
    """Remove an override; the layers below show through again."""
    _agents_only(request)
    override = get_object_or_404(Override.objects.select_related("schedule", "user"), pk=pk)
    try:
        services.override_delete(override=override, by=request.user)
    except Forbidden as exc:
        return _refused(request, override.schedule, exc)
    messages.success(request, f"Override of {override.user} removed.")
    return redirect("oncall:schedule", pk=override.schedule_id)


@login_required
@require_POST
def swap_add(request, pk):
    """Offer part of my shift to the team."""
    _agents_only(request)
    schedule = get_object_or_404(Schedule, pk=pk)
    form = SwapForm(request.POST)
    if form.is_valid():
        try:
            services.swap_request(schedule=schedule, by=request.user, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except Forbidden as exc:
            return _refused(request, schedule, exc, swap_form=form)
        else:
            messages.success(request, "Shift offered: a teammate can take it below.")
            return redirect("oncall:schedule", pk=schedule.pk)
    return _schedule_page(request, schedule, status=400, swap_form=form)


@login_required
@require_POST
def swap_act(request, pk, action):
    """Take an offered shift (it becomes my override) or withdraw my offer."""
    _agents_only(request)
    if action not in ("take", "cancel"):
        raise Http404("No such action.")
    swap = get_object_or_404(ShiftSwap.objects.select_related("schedule", "requested_by"),
                             pk=pk)
    try:
        if action == "take":
            services.swap_take(swap=swap, by=request.user)
        else:
            services.swap_cancel(swap=swap, by=request.user)
    except (InvalidInput, Forbidden, Conflict) as exc:
        return _refused(request, swap.schedule, exc)
    if action == "take":
        messages.success(request, f"You cover for {swap.requested_by} "
                                  f"{span_text(swap.starts_at, swap.ends_at)}.")
    else:
        messages.success(request, "Swap offer withdrawn.")
    return redirect("oncall:schedule", pk=swap.schedule_id)


# --- my shifts, contact methods, test notification -------------------------------------------

def _my_context(request, *, contact_form=None, rule_form=None) -> dict:
    user, at = request.user, clock.now()
    methods = list(ContactMethod.objects.filter(user=user))
    shifts = selectors.user_shifts(user, at, at + timedelta(weeks=MY_WEEKS))
    loaded = {schedule.pk: schedule for schedule, _ in shifts}  # overrides prefetched
    overrides = {o.pk: o for schedule in loaded.values() for o in schedule.overrides.all()}
    mine = dict(loaded)
    for schedule in Schedule.objects.filter(layers__members__user=user).distinct():
        mine.setdefault(schedule.pk, schedule)
    people = selectors.people(o.replaces_id for o in overrides.values() if o.replaces_id)
    return {
        "shifts": [{"schedule": schedule, "shift": shift, "length": _duration(
            shift.end - shift.start), "current": shift.start <= at < shift.end,
            "why": feeds.why_text(shift, overrides, people)} for schedule, shift in shifts],
        "weeks": MY_WEEKS,
        "methods": methods,
        "rules": NotificationRule.objects.filter(user=user).select_related("method"),
        "contact_form": contact_form or ContactMethodForm(),
        "rule_form": rule_form or RuleForm(methods=methods),
        "person_feed": request.build_absolute_uri(reverse(
            "oncall:person-feed", args=[user.pk, feeds.person_feed_token(user)])),
        "schedule_feeds": [{"schedule": s, "url": request.build_absolute_uri(reverse(
            "oncall:schedule-feed", args=[s.pk, s.feed_token]))}
            for s in sorted(mine.values(), key=lambda s: s.name)],
    }


@never_cache  # the page shows the secret feed URLs
@login_required
@require_GET
def my_shifts(request):
    """My next four weeks on call, how I am reached, and my calendar feeds."""
    _agents_only(request)
    return render(request, "oncall/roster/me.html", _my_context(request))


@never_cache
@login_required
@require_POST
def contact_method_add(request):
    """Add a way to reach me; a bad address re-renders the page with the error (400)."""
    _agents_only(request)
    form = ContactMethodForm(request.POST)
    if form.is_valid():
        try:
            method = services.contact_method_add(user=request.user, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{method.get_kind_display()} added: "
                                      f"{method.address or method}.")
            return redirect("oncall:me")
    return render(request, "oncall/roster/me.html", _my_context(request, contact_form=form),
                  status=400)


@login_required
@require_POST
def contact_method_delete(request, pk):
    """Remove one of my contact methods (and the notification rules that use it)."""
    _agents_only(request)
    method = get_object_or_404(ContactMethod, pk=pk, user=request.user)
    services.contact_method_delete(method=method, by=request.user)
    messages.success(request, f"{method.get_kind_display()} {method.address} removed.")
    return redirect("oncall:me")


@never_cache
@login_required
@require_POST
def rule_add(request):
    """Add a rung to my ladder; bad input re-renders the page with the error (400)."""
    _agents_only(request)
    form = RuleForm(request.POST, methods=ContactMethod.objects.filter(user=request.user))
    if form.is_valid():
        try:
            services.notification_rule_add(user=request.user, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Rule added.")
            return redirect("oncall:me")
    return render(request, "oncall/roster/me.html", _my_context(request, rule_form=form),
                  status=400)


@login_required
@require_POST
def rule_delete(request, pk):
    _agents_only(request)
    rule = get_object_or_404(NotificationRule, pk=pk, user=request.user)
    services.notification_rule_delete(rule=rule, by=request.user)
    messages.success(request, "Rule removed.")
    return redirect("oncall:me")


@login_required
@require_POST
def test_notification(request):
    """Send myself a test message through every channel a page would use."""
    _agents_only(request)
    sent = services.notification_test(user=request.user)
    messages.success(request, f"Test sent to {sent} channel{'s' if sent != 1 else ''}.")
    return redirect("oncall:me")


# --- iCalendar feeds (no sign-in: the URL's secret is the key) -------------------------------

def _calendar_response(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{feeds.feed_filename(name)}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def schedule_feed(request, pk, token):
    """The schedule's final roster as iCalendar, a week back and 60 days ahead."""
    schedule = feeds.schedule_for_token(pk, token)
    if schedule is None:
        raise Http404("No such feed.")
    return _calendar_response(feeds.schedule_calendar(schedule), f"oncall-{schedule.name}")


@require_GET
def person_feed(request, pk, token):
    """One person's shifts on every schedule, as iCalendar."""
    user = feeds.person_for_token(pk, token)
    if user is None:
        raise Http404("No such feed.")
    return _calendar_response(feeds.person_calendar(user), f"oncall-{user.username}")
