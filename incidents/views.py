"""Browser pages for incidents: queue, intake and detail. Thin: forms in, services do the work."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from attachments.selectors import attach_to_entries
from attachments.services import comment_with_files
from incidents import actions, forms, rules, selectors, services, workspace
from incidents.choices import HoldReason, Level, Priority, SlaKind, State
from incidents.filters import IncidentFilter, View
from incidents.models import Incident, SavedFilter
from incidents.sla.status import headline, readings_for
from itsm import clock
from itsm.exceptions import Conflict, Forbidden, InvalidInput, ServiceError
from itsm.htmx import render_page
from itsm.models import Service
from itsm.numbers import parse_id
from itsm.pagination import COUNT_CAP, paginate
from itsm.templatetags.desk import stamp
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
    if not agent:  # requesters have their own pages, in plain words
        return redirect("portal:list")
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
    counts, saved = (selectors.view_counts(request.user, IncidentFilter, COUNTED_VIEWS)
                     if agent else ({}, []))
    query = params.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "agent": agent, "select": agent,
               "views": [(key, label, counts.get(key)) for key, label in View.CHOICES],
               "current_view": params["view"], "saved": saved, "query": query.urlencode(),
               "current_saved": next((f for f in saved if f.query == query.urlencode()), None),
               "selects": _filter_selects(params, choices, agent=agent),
               "bulk": forms.BulkForm() if agent else None, "cap": selectors.VIEW_COUNT_CAP,
               "bulk_teams": [t for t in choices.teams if t.active]}
    return render_page(request, "incidents/queue.html", context, partial="results")


# The views whose tabs show a count ("Everything" and "Recently resolved" are never short).
COUNTED_VIEWS = [View.MINE, View.TEAMS, View.UNASSIGNED, View.OPEN, View.BREACHING,
                 View.BREACHED]


@login_required
@require_POST
def bulk(request):
    """The queue's bulk bar: one action on the ticked incidents, each through its service;
    back to the same queue with a summary of what was done and what was refused, and why."""
    back = _queue_url(request.POST.get("next", ""))
    if not rules.is_agent(request.user):
        raise Http404("No such page.")
    form = forms.BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(back)
    data = dict(form.cleaned_data)
    action = data.pop("action")
    try:
        result = workspace.incidents_bulk(by=request.user, action=action,
                                         numbers=request.POST.getlist("incident"), **data)
    except InvalidInput as exc:
        messages.error(request, _said(exc))
        return redirect(back)
    if result.done:
        messages.success(request, _bulk_done(action, result.done))
    if result.refused:
        messages.warning(request, f"{len(result.refused)} not changed: " + "; ".join(
            f"{number} — {why}" for number, why in result.refused))
    return redirect(back)


def _bulk_done(action: str, done: list[Incident]) -> str:
    count = f"{len(done)} incident{'s' if len(done) != 1 else ''}"
    first = done[0]
    return {
        "assign": f"Assigned {count} to {first.assignee or first.assignment_team}.",
        "assign_to_me": f"Assigned {count} to you.",
        "hold": f"Put {count} on hold ({first.get_hold_reason_display().lower()}).",
        "resolve": f"Resolved {count}; their callers have been told.",
    }[action] + " " + ", ".join(i.number for i in done[:10]) + ("…" if len(done) > 10 else "")


def _said(error: InvalidInput) -> str:
    """A refused input in one line, for a message above the queue."""
    return " ".join(m for msgs in error.field_errors.values() for m in msgs) or error.message


def _queue_url(url: str) -> str:
    """Back to the queue the bulk bar or a saved filter was used on (never another site)."""
    queue_url = reverse("incidents:queue")
    if url.startswith(queue_url) and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return queue_url


@login_required
@require_POST
def filter_save(request):
    """Name the queue's current filter: it becomes a tab beside the views."""
    back = _queue_url(request.POST.get("next", ""))
    if not rules.is_agent(request.user):
        raise Http404("No such page.")
    try:
        saved = workspace.saved_filter_create(by=request.user, name=request.POST.get("name", ""),
                                             query=request.POST.get("query", ""))
    except InvalidInput as exc:
        messages.error(request, _said(exc))
        return redirect(back)
    messages.success(request, f"Saved “{saved.name}”: it is now a tab beside the views.")
    return redirect(saved.get_absolute_url())


@login_required
@require_POST
def filter_delete(request, pk):
    saved = SavedFilter.objects.filter(pk=pk, owner=request.user).first()
    if saved is None:
        raise Http404("No such filter of yours.")
    workspace.saved_filter_delete(by=request.user, saved_filter=saved)
    messages.success(request, f"Deleted the filter “{saved.name}”.")
    return redirect("incidents:queue")


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
    if not agent:
        return redirect("portal:new")
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
    "assign_to_me": forms.VersionedForm, "escalate": forms.EscalateForm,
    "notify_manager": forms.ReasonForm, "edit": forms.EditForm,
    "override_priority": forms.PriorityForm, "comment": forms.CommentForm,
    "work_note": forms.CommentForm,
}
assert set(FORMS) == set(actions.CATALOGUE), "every catalogue action needs a form here"


@dataclass(frozen=True)
class Panel:
    """An action that opens a dialog: its heading, a line of context and its submit button."""

    name: str
    title: str
    label: str
    intro: str = ""
    button: str = "btn-primary"
    destructive: bool = False


PANELS = [
    Panel("hold", "Put on hold", "Put on hold",
          "The SLA clock pauses while it waits. Awaiting the caller? Ask your question in the "
          "note: they see it on their request and get an e-mail."),
    Panel("resolve", "Resolve", "Resolve", "The caller is told and can reopen it if the fix "
          "did not work.", "btn-success"),
    Panel("reopen", "Reopen", "Reopen", "It goes back to in progress; reopens are counted."),
    Panel("cancel", "Cancel this incident?", "Cancel incident",
          "Canceling withdraws it for good: for incidents logged in error or twice. It cannot "
          "be undone.", "btn-danger", destructive=True),
    Panel("assign", "Reassign", "Reassign", "The assignee list shows the chosen team's members."),
    Panel("escalate", "Hand to another team", "Escalate",
          "It leaves your queue unassigned; the team gets an e-mail with your reason.",
          "btn-warning"),
    Panel("notify_manager", "Notify the manager", "Notify manager",
          "The team's manager is alerted; the incident stays where it is."),
    Panel("override_priority", "Override the priority", "Override priority",
          "The matrix no longer applies to this incident once you override it."),
]

INLINE_LABELS = {"title": "Title", "description": "Description", "caller": "Caller",
                 "channel": "Channel", "service": "Service", "category": "Category",
                 "impact": "Impact", "urgency": "Urgency"}


def _inline_fields(incident: Incident, editable: bool, editing: str,
                   bound: forms.FieldEditForm | None) -> dict:
    """The detail page's fields, each with its value and, for the one being edited, a form."""
    category = " › ".join(c.name for c in (incident.category, incident.subcategory) if c)
    values = {"title": incident.title, "description": incident.description,
              "caller": incident.caller, "channel": incident.get_channel_display(),
              "service": incident.service, "category": category,
              "impact": incident.get_impact_display(), "urgency": incident.get_urgency_display()}
    fields = {}
    for key, label in INLINE_LABELS.items():
        form = None
        if editable and key == editing:
            form = bound or forms.FieldEditForm(only=key, initial={
                "version": incident.version,
                **{name: getattr(incident, name) for name in forms.FieldEditForm.GROUPS[key]}})
        fields[key] = {"label": label, "value": values[key], "editable": editable, "form": form}
    return fields


def _detail_context(request, incident: Incident, *, bound: dict | None = None,
                    open_panel: str = "", editing: str = "", composer_public: bool | None = None,
                    confirmation: dict | None = None) -> dict:
    """Everything the detail page shows; `bound` replaces a form that has errors."""
    user = request.user
    allowed = actions.available(incident, user)
    bound = bound or {}
    initial = {
        "assign": {"team": incident.assignment_team_id, "assignee": incident.assignee},
        "escalate": {"team": services.escalation_target(incident)}
        if "escalate" in allowed else {},
        "override_priority": {"priority": incident.priority},
    }
    # One unbound form per dialog; one-click actions carry only the version in their button.
    panel_forms = {name: form(initial={"version": incident.version, **initial.get(name, {})})
                   for name, form in FORMS.items()
                   if form is not forms.VersionedForm and name not in ("work_note", "edit")}
    panel_forms.update(bound)
    if composer_public is None:  # agents start on the internal note; callers only reply
        composer_public = "work_note" not in allowed
    agent = rules.is_agent(user)
    return {
        "incident": incident,
        "timeline": attach_to_entries(selectors.timeline_for(incident=incident, user=user)),
        "allowed": allowed,
        "transitions": [(a.name, a.label) for a in actions.CATALOGUE.values()
                        if a.transition and a.name in allowed],
        "forms": panel_forms,
        "panels": [p for p in PANELS if p.name in allowed],
        "fields": _inline_fields(incident, "edit" in allowed, editing, bound.get("edit")),
        "open_panel": open_panel,
        "composer_public": composer_public,
        "confirmation": confirmation,
        # An agent who handed it away (or never had it) sees why the buttons are gone.
        "handed_away": agent and incident.is_open and incident.assignment_team_id is not None
        and "assign" not in allowed,
        "sla": (readings_for([incident], clock.now(), kinds=SLA_KINDS)[incident.pk]
                if agent else []),
    }


@login_required
@require_GET
def detail(request, number):
    """One incident: header, actions this user may take now, details and the timeline."""
    incident = _incident_or_404(request, number)
    if not rules.is_agent(request.user):
        return redirect("portal:detail", number=incident.number)
    context = _detail_context(request, incident, editing=request.GET.get("edit", ""))
    context["load_panel"] = request.GET.get("panel", "")  # an action dialog's form, on opening
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
    """Run one catalogue action from the detail page; re-render the incident in place, with a
    line saying what happened (and Undo after a reassignment)."""
    if action not in FORMS:
        raise Http404("No such action.")
    incident = _incident_or_404(request, number)
    only = request.POST.get("only", "") if action == "edit" else ""
    if only and only not in forms.FieldEditForm.GROUPS:
        only = ""
    form_class = FORMS[action]
    if only:
        form = forms.FieldEditForm(request.POST, only=only, agent=rules.is_agent(request.user))
    elif form_class is forms.EditForm:
        form = form_class(request.POST, agent=rules.is_agent(request.user))
    else:
        form = form_class(request.POST)
    files = request.FILES.getlist("files") if form_class is forms.CommentForm else []
    if files:
        form.fields["body"].required = False  # the files say it: "Attached screenshot.png"
    status, bound, open_panel, confirmation = 200, {}, "", None
    composer_public = None
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        if form_class is forms.CommentForm:  # one composer: the mode picks the action
            action = "work_note" if data.pop("internal") else "comment"
            composer_public = action == "comment"
        spec = actions.CATALOGUE[action]
        if spec.versioned:
            data["version"] = version
        before = (incident.assignment_team, incident.assignee, incident.priority)
        try:
            if files:
                result = comment_with_files(incident=incident, by=request.user,
                                            body=data["body"], files=files,
                                            internal=action == "work_note")
            else:
                result = spec.service(incident=incident, by=request.user, **data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except (Conflict, Forbidden) as exc:
            status = exc.status
            messages.error(request, exc.message)
        else:
            after = result if isinstance(result, Incident) else incident
            confirmation = confirm(action, before, after, request.user, data)
            if not request.htmx:
                messages.success(request, confirmation["text"])
                return redirect(incident)
    if form.errors:
        if form_class is forms.CommentForm:
            action, composer_public = "comment", request.POST.get("internal") == "false"
        status, bound = 400, {action: form}
        open_panel = "" if action in ("comment", "edit") else action
    incident = _incident_or_404(request, number)  # fresh: what everyone now sees
    if action == "edit" and form.errors and not only:  # a whole-form post: show it in place
        only = next((key for key, names in forms.FieldEditForm.GROUPS.items()
                     if set(names) & set(form.errors)), "title")
    context = _detail_context(request, incident, bound=bound, open_panel=open_panel,
                              editing=only if form.errors else "",
                              composer_public=composer_public, confirmation=confirmation)
    if confirmation and confirmation.get("undo") and "assign" not in context["allowed"]:
        confirmation.pop("undo")  # handed to a team this user cannot assign from
    response = render_page(request, "incidents/detail.html", context, partial="incident",
                           status=status)
    if status == 200:
        trigger_client_event(response, "incident-changed", {"number": incident.number})
    return response


def confirm(action: str, before: tuple, incident: Incident, user, data: dict) -> dict:
    """What the agent is told after an action, in words ("Assigned to Tom Becker"), with the
    previous owner for Undo after a reassignment."""
    number, caller = incident.number, incident.caller
    old_team, old_assignee, old_priority = before
    owner = incident.assignee or f"anyone in {incident.assignment_team}"
    text = {
        "acknowledge": f"You are working on {number} now"
                       + (" and it is assigned to you." if incident.assignee == user else "."),
        "hold": f"{number} is on hold: {incident.get_hold_reason_display().lower()}."
                + (f" {caller} has your question by e-mail."
                   if data.get("note") and incident.hold_reason == HoldReason.AWAITING_CALLER
                   else "")
                + (f" Follow-up reminder {stamp(incident.follow_up_at)}."
                   if incident.follow_up_at else ""),
        "resume": f"{number} is back in progress.",
        "resolve": f"{number} resolved. {caller} has been told and can reopen it.",
        "close": f"{number} closed.",
        "reopen": f"{number} reopened: back in progress.",
        "cancel": f"{number} canceled.",
        "assign": f"Assigned to {owner}"
                  + (f" ({incident.assignment_team})." if incident.assignee else "."),
        "assign_to_me": "Assigned to you" + (f", in {incident.assignment_team}."
                                            if incident.assignment_team != old_team else "."),
        "escalate": f"Handed to {incident.assignment_team}.",
        "notify_manager": f"{incident.assignment_team and incident.assignment_team.manager} "
                          "has been alerted.",
        "override_priority": f"Priority set to {incident.get_priority_display()}.",
        "comment": f"Reply sent to {caller}.",
        "work_note": "Internal note added.",
    }.get(action)
    if action == "edit":
        changed = [INLINE_LABELS.get(name, name).lower() for name in data if name != "version"]
        text = f"Saved: {', '.join(changed) or 'no changes'}."
        if incident.priority != old_priority:
            text += f" Priority is now {incident.get_priority_display()}."
    undo = None
    if action in ("assign", "assign_to_me") and old_team is not None and (
            (old_team, old_assignee) != (incident.assignment_team, incident.assignee)):
        undo = {"team": old_team.pk, "assignee": old_assignee.pk if old_assignee else ""}
    return {"text": text, "undo": undo}
