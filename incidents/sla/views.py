"""The managers' SLA dashboard and its CSV export. Thin: the GET form in, `dashboard` reads."""

import csv
from datetime import UTC, date, datetime
from itertools import chain

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from incidents.choices import Priority, SlaTarget
from incidents.sla import charts, dashboard
from itsm import clock
from itsm.htmx import render_page
from itsm.models import Service, Team

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
CUSTOM = "custom"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class DashboardForm(forms.Form):
    """The period (a preset, or custom from/to days in the viewer's zone) and the filters."""

    period = forms.ChoiceField(required=False, choices=[*dashboard.PRESETS.items(),
                                                        (CUSTOM, "Custom dates")])
    team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, error_messages={
        "invalid_choice": "There is no team %(value)s: choose one from the list."})
    service = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                     error_messages={"invalid_choice": "There is no service "
                                                     "%(value)s: choose one from the list."})
    priority = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None,
        choices=[("", "Any priority"), *Priority.choices],
        error_messages={"invalid_choice": "Priority must be 1, 2, 3 or 4, not %(value)s."})

    def __init__(self, data, *, teams, services, now: datetime, zone):
        data = data.copy()
        if not data.get("period"):  # a shared link with dates only is a custom period
            data["period"] = (CUSTOM if data.get("from") or data.get("to")
                              else dashboard.DEFAULT_PRESET)
        super().__init__(data)
        self.now, self.zone = now, zone
        # "from" is a Python keyword, hence added here; the URL keeps the short names.
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = forms.DateField(
                required=False, label=label, input_formats=["%Y-%m-%d"], widget=DateInput(),
                error_messages={"invalid": "Enter a date as YYYY-MM-DD, e.g. 2026-03-02."})
        self.order_fields(["period", "from", "to", "team", "service", "priority"])
        self.fields["team"].choices = [("", "All teams"), *((t.pk, t.name) for t in teams)]
        self.fields["service"].choices = [("", "All services"),
                                          *((s.pk, s.name) for s in services)]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        preset = data["period"]
        if preset != CUSTOM:
            data["period"] = dashboard.period_preset(preset, now=self.now, zone=self.zone)
            return data
        first, last = data.get("from"), data.get("to")
        last = last or self.now.astimezone(self.zone).date()
        if first is None:
            self.add_error("from", "Give the first day of the period.")
            return data
        for name, day in (("from", first), ("to", last)):
            if not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, f"Choose a day from {FIRST_DAY:%Y} to {LAST_DAY:%Y}.")
        if self.errors:
            return data
        if first > last:
            self.add_error("to", f"The period ends ({last:%-d %b %Y}) before it starts "
                                 f"({first:%-d %b %Y}).")
        elif (last - first).days + 1 > dashboard.MAX_PERIOD_DAYS:
            self.add_error("to", f"A period can span at most {dashboard.MAX_PERIOD_DAYS} days; "
                                 f"this one spans {(last - first).days + 1:,}.")
        else:
            data["period"] = dashboard.period_custom(first, last, zone=self.zone)
        return data

    def filters(self) -> dashboard.Filters:
        data = self.cleaned_data
        return dashboard.Filters(period=data["period"], zone=self.zone, team=data["team"],
                                 service=data["service"], priority=data["priority"])


def _form(request, now: datetime) -> DashboardForm:
    """The GET form, checked against the teams and services (two small queries)."""
    return DashboardForm(request.GET, teams=list(Team.objects.only("pk", "name")),
                         services=list(Service.objects.only("pk", "name")), now=now,
                         zone=timezone.get_current_timezone())


@login_required
@permission_required("incidents.view_sla_dashboard", raise_exception=True)
@require_GET
def sla_dashboard(request):
    """SLA compliance, breached and at-risk incidents, MTTA/MTTR and the weekly trend."""
    now = clock.now()
    form = _form(request, now)
    context = {"form": form, "zone": timezone.get_current_timezone_name(),
               "target": dashboard.TARGET_PERCENT, "now": now,
               "list_size": dashboard.LIST_SIZE}
    if not form.is_valid():
        return render_page(request, "incidents/sla_dashboard.html", context, status=400)
    filters = form.filters()
    figures = dashboard.dashboard(filters, now=now)
    team_names = dict(form.fields["team"].choices[1:])
    service_names = dict(form.fields["service"].choices[1:])
    for row in [*figures.breached.rows, *figures.at_risk.rows]:
        row.team_name = team_names.get(row.assignment_team_id, "")
        row.service_name = service_names.get(row.service_id, "")
    context.update(
        period=filters.period, figures=figures, median_days=dashboard.MEDIAN_MAX_DAYS,
        medians=filters.period.days <= dashboard.MEDIAN_MAX_DAYS,
        ola=sorted(((team_names.get(team, "No team"), response, resolution)
                    for team, response, resolution in figures.clocks.ola),
                   key=lambda row: row[0].lower()),
        chart=trend_chart(figures.clocks.weeks), latest=week_over_week(figures.clocks.weeks),
        export_query=request.GET.urlencode())
    return render_page(request, "incidents/sla_dashboard.html", context)


# --- the trend --------------------------------------------------------------------------------

def _week_title(week: dashboard.Week, target: str) -> str:
    c = getattr(week, target)
    counts = f"{c.met:,} met, {c.breached:,} breached" if c.decided else "nothing decided"
    return f"Week of {week.start:%-d %b %Y}: {target} {c.label} ({counts})"


def trend_chart(weeks: list[dashboard.Week]):
    """Resolution and response compliance per week, the current week highlighted."""
    targets = (SlaTarget.RESOLUTION, SlaTarget.RESPONSE)
    groups = [charts.Group(
        label="This week" if week.current else f"{week.start:%-d %b}",
        title="\n".join(_week_title(week, t) for t in targets),
        bars=tuple(charts.Bar(t, getattr(week, t).percent, _week_title(week, t))
                   for t in targets),
        highlight=week.current) for week in weeks]
    return charts.percent_bars(
        groups, target=dashboard.TARGET_PERCENT,
        description=f"SLA compliance per week, {len(weeks)} weeks: resolution and response, "
                    f"target {dashboard.TARGET_PERCENT} %")


def week_over_week(weeks: list[dashboard.Week]) -> dict | None:
    """The latest week (the current one, else the period's last) against the week before."""
    if len(weeks) < 2:
        return None
    index = next((i for i, w in enumerate(weeks) if w.current), len(weeks) - 1)
    if index == 0:
        return None
    latest, previous = weeks[index], weeks[index - 1]
    rows = []
    for target in (SlaTarget.RESOLUTION, SlaTarget.RESPONSE):
        now_, before = getattr(latest, target), getattr(previous, target)
        # From the figures shown, so the difference is the one a reader works out.
        delta = (round(now_.shown - before.shown, 1)
                 if now_.shown is not None and before.shown is not None else None)
        rows.append({"target": target.label, "now": now_, "before": before, "delta": delta,
                     "points": abs(delta) if delta is not None else None,
                     "trend": "none" if not delta
                     else "up" if delta > 0 else "down"})
    return {"week": latest, "previous": previous, "rows": rows}


# --- CSV --------------------------------------------------------------------------------------

class _Echo:
    """csv.writer writes each row to this and gets the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """UTC ISO 8601 for times; text that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, str) and value.startswith(INJECTION_STARTS):
        return f"'{value}"
    return "" if value is None else value


@login_required
@permission_required("incidents.view_sla_dashboard", raise_exception=True)
@require_GET
def sla_dashboard_csv(request):
    """Every clock decided in the period, with the filters: streamed, one row per clock."""
    form = _form(request, clock.now())
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" if name != "__all__"
                             else " ".join(errors) for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"Cannot export: {problems}\n",
                                      content_type="text/plain; charset=utf-8")
    filters = form.filters()
    period = filters.period
    writer = csv.writer(_Echo())
    rows = (writer.writerow([_cell(v) for v in row])
            for row in chain([dashboard.EXPORT_COLUMNS], dashboard.decided_clocks(filters)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="sla-clocks-{period.first:%Y-%m-%d}'
                                       f'-to-{period.last:%Y-%m-%d}.csv"')
    return response

