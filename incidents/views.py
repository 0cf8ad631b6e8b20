"""Browser pages for incidents: queue, intake and detail. Thin: forms in, services do the work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from incidents import actions, forms, rules, selectors, services
from incidents.choices import Level, Priority, SlaKind, State
from incidents.filters import IncidentFilter, View
from incidents.models import Incident
from incidents.sla.status import headline, readings_for
from itsm import clock
from itsm.exceptions import Conflict, Forbidden, InvalidInput, ServiceError
from itsm.htmx import render_page
from itsm.models import Service
from itsm.numbers import parse_id
from itsm.pagination import COUNT_CAP, paginate
from problems import services as problem_services
from problems.models import KnownError

SLA_KINDS = (SlaKind.SLA, SlaKind.OLA)


def _incident_or_404(request, number: str) -> Incident:
    try:
        return selectors.incident_detail(user=request.user, number=number.upper())
    except Incident.DoesNotExist as exc:
        raise Http404(f"No incident {number} that you can see.") from exc


# --- queue -----------------------------------------------------------------------------------

@login_required
@require_GET
def queue(request):
    """The incident queue: saved views, filters, sorting, pages; refreshes itself."""
    agent = rules.is_agent(request.user)
    choices = selectors.queue_choices(request.user)
    params = QueryDict(mutable=True)
    for key, values in request.GET.lists():  # "Any" in a select sends an empty value
        if [v for v in values if v]:
            params.setlist(key, [v for v in values if v])
    if not agent:
        params["view"] = View.ALL  # requesters only ever see their own incidents
    elif not params.get("view"):
        params["view"] = View.TEAMS if rules.team_ids(request.user) else View.OPEN
    filterset = IncidentFilter(params, queryset=selectors.queue_rows(request.user),
                               request=request)
    page_number = parse_id(request.GET.get("page", 1)) or 1
    if filterset.is_valid():
        # A text search counts fewer matches: each one costs a trigram index probe.
        cap = 200 if params.get("q") else COUNT_CAP
        page = paginate(filterset.qs, page=page_number, cap=cap)
    else:
        page = paginate(Incident.objects.none(), page=1)
    choices.attach(page.rows)
    readings = readings_for(page.rows, clock.now())
    for row in page.rows:
        row.sla = headline(readings[row.pk])
    context = {"filter": filterset, "page": page, "views": View.CHOICES, "agent": agent,
               "select": agent and request.user.has_perm("problems.add_problem"),
               "current_view": params["view"],
               "selects": _filter_selects(params, choices, agent=agent)}
    return render_page(request, "incidents/queue.html", context, partial="results")


def _filter_selects(params: QueryDict, choices: selectors.QueueChoices, *,
                    agent: bool) -> list[dict]:
    """The queue's filter dropdowns, built from lists already loaded (no query per select)."""
    selects = [
        ("state", "State", State.choices),
        ("priority", "Priority", Priority.choices),
        ("team", "Team", [(t.pk, t.name) for t in choices.teams]),
        ("assignee", "Assignee", [(u.pk, str(u)) for u in choices.assignees]),
        ("service", "Service", [(s.pk, s.name) for s in choices.services]),
        ("category", "Category", [(c.pk, c.name) for c in choices.categories
                                  if c.parent_id is None]),
    ]
    return [
        {"name": name, "label": label, "selected": params.get(name, ""),
         "options": [(str(value), text) for value, text in options]}
        for name, label, options in selects
        if agent or name not in ("team", "assignee")
    ]


# --- intake ----------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    """Log a new incident with only the essential fields."""
    agent = rules.is_agent(request.user)
    form = forms.IncidentForm(request.POST or None, agent=agent)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in {"caller", "channel"}}
        if agent:
            data.update(caller=form.cleaned_data["caller"], channel=form.cleaned_data["channel"])
        try:
            incident = services.incident_create(by=request.user, **data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        else:
            routed = f", assigned to {incident.assignment_team}" if incident.assignment_team else ""
            messages.success(request, f"{incident.number} logged as "
                                      f"{incident.get_priority_display()}{routed}.")
            if agent and request.POST.get("apply"):  # "Log and apply this workaround"
                _apply_workaround(request, incident, request.POST["apply"])
            return redirect(incident)
    status = 400 if form.errors else 200
    return render_page(request, "incidents/new.html", {"form": form}, partial="form",
                       status=status)


def _apply_workaround(request, incident: Incident, number: str) -> None:
    """Apply the known error chosen in the intake form's suggestions to the new incident."""
    known_error = KnownError.objects.filter(number=number.strip().upper()[:16]).first()
    try:
        if known_error is None:
            raise InvalidInput(f"No known error {number[:16]}.")
        problem_services.workaround_apply(known_error=known_error, incident=incident,
                                          by=request.user)
    except ServiceError as exc:
        messages.warning(request, f"The workaround was not applied: {exc.message}")
    else:
        messages.info(request, f"Workaround {known_error.number} applied: resolve the incident "
                               "with it once the caller confirms.")


@login_required
@require_GET
def priority_preview(request):
    """The priority the matrix gives for the chosen impact, urgency and service."""
    impact = request.GET.get("impact") if request.GET.get("impact") in Level.values else "medium"
    urgency = request.GET.get("urgency") if request.GET.get("urgency") in Level.values else "medium"
    service_id = parse_id(request.GET.get("service", ""))
    service = Service.objects.filter(pk=service_id).first() if service_id else None
    priority = services.priority_for(impact=impact, urgency=urgency, service=service)
    return render(request, "incidents/new.html#priority-preview",
                  {"priority": priority, "service": service})


# --- detail and actions ----------------------------------------------------------------------

# Each catalogue action's form on the detail page (the action itself: `incidents.actions`).
FORMS: dict[str, type] = {
    "acknowledge": forms.VersionedForm, "hold": forms.HoldForm, "resume": forms.VersionedForm,
    "resolve": forms.ResolveForm, "close": forms.VersionedForm,
    "reopen": forms.OptionalReasonForm, "cancel": forms.ReasonForm, "assign": forms.AssignForm,
    "assign_to_me": forms.VersionedForm, "escalate": forms.ReasonForm,
    "notify_manager": forms.ReasonForm, "edit": forms.EditForm,
    "override_priority": forms.PriorityForm, "comment": forms.CommentForm,
    "work_note": forms.CommentForm,
}
assert set(FORMS) == set(actions.CATALOGUE), "every catalogue action needs a form here"


def _detail_context(request, incident: Incident, *, bound: dict | None = None,
                    open_panel: str = "") -> dict:
    """Everything the detail page shows; `bound` replaces a form that has errors."""
    user = request.user
    allowed = actions.available(incident, user)
    initial = {
        "assign": {"team": incident.assignment_team_id, "assignee": incident.assignee},
        "override_priority": {"priority": incident.priority},
        "edit": {f: getattr(incident, f) for f in services.EDITABLE_FIELDS},
    }
    # One unbound form per panel; one-click actions carry only the version in their button.
    panel_forms = {name: form(initial={"version": incident.version, **initial.get(name, {})})
                   for name, form in FORMS.items()
                   if form is not forms.VersionedForm and name != "work_note"}
    panel_forms.update(bound or {})
    return {
        "incident": incident,
        "timeline": selectors.timeline_for(incident=incident, user=user),
        "allowed": allowed,
        "transitions": [(a.name, a.label) for a in actions.CATALOGUE.values()
                        if a.transition and a.name in allowed],
        "forms": panel_forms,
        "open_panel": open_panel,
        "sla": (readings_for([incident], clock.now(), kinds=SLA_KINDS)[incident.pk]
                if rules.is_agent(user) else []),
    }


@login_required
@require_GET
def detail(request, number):
    """One incident: header, actions this user may take now, details and the timeline."""
    incident = _incident_or_404(request, number)
    context = _detail_context(request, incident)
    context["load_panel"] = request.GET.get("panel", "")  # an action panel's form, on opening
    return render_page(request, "incidents/detail.html", context, partial="incident")


@login_required
@require_GET
def sla_explain(request, number):
    """Why each clock says what it says: its ledger, newest clock first (agents only)."""
    if not rules.is_agent(request.user):
        raise Http404("No such page.")
    incident = _incident_or_404(request, number)
    return render(request, "incidents/_sla_ledger.html",
                  {"incident": incident, "clocks": selectors.sla_ledger(incident)})


@login_required
@require_POST
def act(request, number, action):
    """Run one catalogue action from the detail page; re-render the incident in place."""
    if action not in FORMS:
        raise Http404("No such action.")
    incident = _incident_or_404(request, number)
    form_class = FORMS[action]
    form = form_class(request.POST, **({"agent": rules.is_agent(request.user)}
                                       if form_class is forms.EditForm else {}))
    status, bound, open_panel = 200, {}, ""
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        if form_class is forms.CommentForm:  # one composer: the checkbox picks the action
            action = "work_note" if data.pop("internal") else "comment"
        spec = actions.CATALOGUE[action]
        if spec.versioned:
            data["version"] = version
        try:
            spec.service(incident=incident, by=request.user, **data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except (Conflict, Forbidden) as exc:
            status = exc.status
            messages.error(request, exc.message)
        else:
            if not request.htmx:
                messages.success(request, f"{incident.number}: {spec.label.lower()} — done.")
                return redirect(incident)
    if form.errors:
        action = "comment" if form_class is forms.CommentForm else action
        status, bound, open_panel = 400, {action: form}, action
    incident = _incident_or_404(request, number)  # fresh: what everyone now sees
    context = _detail_context(request, incident, bound=bound, open_panel=open_panel)
    response = render_page(request, "incidents/detail.html", context, partial="incident",
                           status=status)
    if status == 200:
        trigger_client_event(response, "incident-changed", {"number": incident.number})
    return response
