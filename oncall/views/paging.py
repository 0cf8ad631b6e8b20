"""Pages for escalation: policies, the dry run, the matrix, pages and acknowledging them."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import rules
from incidents.choices import Priority
from incidents.models import Incident
from itsm import clock
from itsm.exceptions import ServiceError
from itsm.models import Team
from oncall import escalation, services
from oncall import matrix as escalation_matrix
from oncall.choices import PageState
from oncall.forms import PolicyForm, steps_formset
from oncall.models import EscalationPolicy, Page, PageNotice


def _agents_only(request) -> None:
    if not rules.is_agent(request.user):
        raise PermissionDenied("On-call pages are for agents.")


def _back(request, fallback: str):
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_GET
def policies(request):
    """The escalation policies, step by step, with a dry run link each."""
    _agents_only(request)
    rows = (EscalationPolicy.objects.select_related("team")
            .prefetch_related("services", "steps__users", "steps__schedule", "steps__team")
            .order_by("team__name", "name"))
    return render(request, "oncall/paging/policies.html", {"policies": rows})


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, pk=None):
    """Managers keep the escalation matrix here: a policy and its steps on one page."""
    if not request.user.has_perm("oncall.change_escalationpolicy"):
        raise PermissionDenied("Only managers and admins change escalation policies.")
    policy = get_object_or_404(EscalationPolicy, pk=pk) if pk else None
    data = request.POST if request.method == "POST" else None
    form = PolicyForm(data, instance=policy)
    steps = steps_formset(data, instance=policy or EscalationPolicy(), prefix="steps")
    if data is not None and form.is_valid() and steps.is_valid():
        try:
            saved = services.policy_save(form=form, steps=steps, by=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{saved.name} saved. Pages already running keep the "
                                      "policy they started with.")
            return redirect("oncall:policies")
    return render(request, "oncall/paging/policy_edit.html",
                  {"form": form, "steps": steps, "policy": policy},
                  status=400 if data is not None else 200)


class DryRunForm(forms.Form):
    policy = forms.ModelChoiceField(EscalationPolicy.objects.select_related("team"),
                                    required=False, empty_label="— the team's policy —")
    team = forms.ModelChoiceField(Team.objects.filter(active=True), required=False,
                                  empty_label="—")
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int,
                                      initial=Priority.P1)
    at = forms.DateTimeField(required=False, label="Paging at",
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                        format="%Y-%m-%dT%H:%M"),
                             help_text="In your time zone. Empty: now.")

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("policy") is None:
            team = data.get("team")
            if team is None:
                raise forms.ValidationError("Choose a policy, or a team.")
            data["policy"] = escalation.policy_for(team, None)
            if data["policy"] is None:
                self.add_error("team", f"{team} has no active escalation policy.")
        return data


@login_required
@require_GET
def dry_run(request):
    """Who would be paged, when and how, for a policy and an instant: the same code as live."""
    _agents_only(request)
    form = DryRunForm(request.GET or None)
    result, status = None, 200
    if request.GET:
        if form.is_valid():
            result = escalation.dry_run(policy=form.cleaned_data["policy"],
                                        priority=form.cleaned_data["priority"],
                                        at=form.cleaned_data["at"] or clock.now())
        else:
            status = 400
    return render(request, "oncall/paging/dry_run.html", {"form": form, "result": result},
                  status=status)


@login_required
@require_GET
def matrix(request):
    """The escalation matrix on one printable page, names resolved from today's roster."""
    _agents_only(request)
    return render(request, "oncall/paging/matrix.html", escalation_matrix.matrix_sheet(clock.now()))


@login_required
@require_GET
def pages(request):
    """Pages running now, and the last day's."""
    _agents_only(request)
    since = clock.now() - timedelta(days=1)
    rows = (Page.objects.filter(state=PageState.ACTIVE) | Page.objects.filter(
        started_at__gte=since)).select_related("incident", "team", "acknowledged_by") \
        .order_by("-started_at")[:100]
    return render(request, "oncall/paging/pages.html", {"pages": rows})


@login_required
@require_POST
def acknowledge(request, pk):
    page = get_object_or_404(Page.objects.select_related("incident"), pk=pk)
    try:
        services.page_acknowledge(page=page, by=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Page acknowledged: {page.incident.number} is yours to "
                                  "work; nobody else will be paged.")
    return _back(request, page.incident.get_absolute_url())


@login_required
@require_POST
def page_team(request, number):
    """Page a team by hand from the incident page."""
    _agents_only(request)
    incident = get_object_or_404(Incident, number=number.upper())
    if not rules.can_view(incident, request.user):
        raise Http404("No such incident.")
    team = Team.objects.filter(pk=request.POST.get("team") or None).first() \
        if (request.POST.get("team") or "").isdigit() else None
    try:
        if team is None:
            raise ServiceError("Choose a team to page.")
        services.page_start(incident=incident, by=request.user,
                            reason=request.POST.get("reason", ""), team=team, manual=True)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Paging {team}: their on-call person is being notified.")
    return redirect(incident)


@require_http_methods(["GET", "POST"])
def ack_link(request, token):
    """The link in a page message. GET only shows what it is (mail scanners follow links);
    the button POSTs. No login needed: the token is the secret, and it works once."""
    notice = (PageNotice.objects.select_related("page__incident", "page__team", "user")
              .filter(ack_token=token).first())
    if notice is None:
        raise Http404("This acknowledgement link is not valid.")
    done = error = None
    if request.method == "POST":
        try:
            services.page_acknowledge_by_token(token=token)
            done = True
        except ServiceError as exc:
            error = exc.message
        notice.refresh_from_db()
        notice.page.refresh_from_db()
    return render(request, "oncall/paging/ack.html",
                  {"notice": notice, "page": notice.page, "done": done, "error": error},
                  status=409 if error else 200)
