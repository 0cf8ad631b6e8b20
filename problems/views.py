"""Pages for problems, known errors and articles. Thin: forms in, services do the work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import rules as incident_rules
from incidents.choices import HoldReason, Priority, State
from incidents.models import Incident
from incidents.selectors import incidents_visible_to
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.htmx import render_page
from itsm.models import Service, Team
from itsm.numbers import parse_id
from itsm.pagination import paginate
from problems import actions, forms, guards, rules, search, selectors, services
from problems.choices import KnowledgeStatus, ProblemState
from problems.filters import ProblemFilter
from problems.models import Article, KnownError, Problem, SuggestedProblem


def _agents_only(request) -> None:
    if not rules.can_view(request.user):
        raise Http404("No such page.")


def _problem_or_404(request, number: str) -> Problem:
    _agents_only(request)
    try:
        return selectors.problem_detail(number.upper())
    except Problem.DoesNotExist as exc:
        raise Http404(f"No problem {number}.") from exc


def _incidents_named(request, numbers) -> list[Incident]:
    """The visible incidents with these numbers, in order; unknown ones are a field error."""
    numbers = [n.strip().upper() for n in numbers if n and n.strip()][:services.MAX_LINKS_AT_ONCE]
    found = {i.number: i for i in incidents_visible_to(request.user).filter(number__in=numbers)}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise InvalidInput.field("incidents", f"No incident {', '.join(missing)}.")
    return [found[n] for n in numbers]


# --- the queue -------------------------------------------------------------------------------

VIEWS = [("open", "Open"), ("mine", "Mine"), ("teams", "My teams"), ("suggested", "Suggested"),
         ("all", "All")]


@login_required
@require_GET
def queue(request):
    """Problems with filters like the incident queue, and the suggested problems."""
    _agents_only(request)
    params = QueryDict(mutable=True)
    for key, values in request.GET.lists():  # "Any" in a select sends an empty value
        if [v for v in values if v]:
            params.setlist(key, [v for v in values if v])
    view = params.get("view") if params.get("view") in dict(VIEWS) else "open"
    context = {"views": VIEWS, "current_view": view, "share": selectors.workaround_share(),
               "manager": rules.can_manage(request.user)}
    if view == "suggested":
        context["suggestions"] = paginate(selectors.open_suggestions(),
                                          page=parse_id(request.GET.get("page", 1)) or 1)
        return render_page(request, "problems/queue.html", context, partial="results")
    rows = selectors.problem_rows()
    if view == "open":  # still being worked, or resolved and waiting to be closed
        rows = rows.exclude(state__in=[*guards.FINISHED, ProblemState.RISK_ACCEPTED])
    elif view == "mine":
        rows = rows.filter(owner=request.user)
    elif view == "teams":
        rows = rows.filter(assignment_team_id__in=incident_rules.team_ids(request.user))
    filterset = ProblemFilter(params, queryset=rows, request=request)
    if filterset.is_valid():
        page = paginate(filterset.qs, page=parse_id(request.GET.get("page", 1)) or 1)
    else:
        page = paginate(Problem.objects.none(), page=1)
    context.update(filter=filterset, page=page, selects=_filter_selects(params),
                   open_suggestions=selectors.open_suggestions().count())
    return render_page(request, "problems/queue.html", context, partial="results")


def _filter_selects(params: QueryDict) -> list[dict]:
    selects = [
        ("state", "State", ProblemState.choices),
        ("priority", "Priority", Priority.choices),
        ("team", "Team", Team.objects.filter(active=True).values_list("pk", "name")),
        ("service", "Service", Service.objects.filter(active=True).values_list("pk", "name")),
    ]
    return [{"name": name, "label": label, "selected": params.get(name, ""),
             "options": [(str(value), text) for value, text in options]}
            for name, label, options in selects]


@login_required
@require_POST
def suggestion_dismiss(request, pk):
    _agents_only(request)
    suggestion = SuggestedProblem.objects.filter(pk=pk).first()
    if suggestion is None:
        raise Http404("No such suggestion.")
    try:
        services.suggestion_dismiss(suggestion=suggestion, by=request.user)
    except (Conflict, Forbidden) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Dismissed “{suggestion.title}”; its incidents will not be "
                                  "suggested again.")
    return redirect(f"{reverse('problems:queue')}?view=suggested")


# --- new problem -----------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    """Log a problem, on its own or from incidents (?incident=INC…, repeated) or a suggestion."""
    _agents_only(request)
    data = request.POST if request.method == "POST" else request.GET
    suggestion = None
    if parse_id(data.get("suggestion", "")):
        suggestion = SuggestedProblem.objects.filter(pk=parse_id(data["suggestion"])).first()
    status, incidents = 200, []
    try:
        incidents = _incidents_named(request, data.getlist("incident"))
    except InvalidInput as exc:
        messages.error(request, exc.message)
        status = 400
    if suggestion is not None:
        incidents += [i for i in suggestion.incidents.order_by("-opened_at")[:200]
                      if i not in incidents]
    first = incidents[0] if incidents else None
    initial = {"title": first.title, "description": first.description,
               "service": first.service_id, "category": first.category_id,
               "impact": first.impact, "urgency": first.urgency} if first else {}
    if suggestion is not None:
        initial["title"] = suggestion.title
    form = forms.ProblemForm(request.POST or None, initial=initial)
    if request.method == "POST" and status == 200 and form.is_valid():
        try:
            problem = services.problem_create(by=request.user, incidents=incidents,
                                              suggestion=suggestion, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except Forbidden as exc:
            messages.error(request, exc.message)
            status = 403
        else:
            linked = f", with {len(problem.links.all())} linked incidents" if incidents else ""
            messages.success(request, f"{problem.number} logged{linked}.")
            return redirect(problem)
    if form.errors:
        status = 400
    return render_page(request, "problems/new.html",
                       {"form": form, "incidents": incidents, "suggestion": suggestion},
                       partial="form", status=status)


# --- detail and actions ----------------------------------------------------------------------

FORMS = {
    **{name: forms.TransitionForm for name in actions.TRANSITIONS},
    "edit": forms.ProblemEditForm, "analysis": forms.AnalysisForm,
    "whys": forms.VersionedForm, "link": forms.LinkForm, "unlink": forms.UnlinkForm,
    "resolve_incidents": forms.ResolveIncidentsForm, "known_error": forms.VersionedForm,
    "note": forms.NoteForm,
}
assert set(FORMS) == set(actions.ACTIONS)
# Actions that are one button on the page: a refusal is a message, not a form's error.
ONE_CLICK = {"unlink", "known_error", *(n for n in actions.TRANSITIONS
                                         if not actions.ACTIONS[n].form)}
WHY_ROWS = 5


def _whys_rows(problem: Problem, posted=None) -> list[tuple[str, str]]:
    """The 5 Whys editor's rows: the chain (or what was posted), then empty rows up to five,
    and always one more to grow it."""
    rows = posted if posted is not None else [(w.question, w.answer) for w in problem.whys.all()]
    rows = list(rows)
    rows += [("", "")] * max(WHY_ROWS - len(rows), 1)
    return rows[:services.MAX_WHYS]


def _detail_context(request, problem: Problem, *, bound: dict | None = None,
                    open_panel: str = "", whys=None) -> dict:
    initial = {"version": problem.version}
    edit = {f: getattr(problem, f) for f in ("title", "description", "impact", "urgency",
                                             "owner")}
    edit.update(service=problem.service_id, category=problem.category_id,
                assignment_team=problem.assignment_team_id)
    analysis = {f: getattr(problem, f) for f in ("root_cause", "contributing_factors",
                                                 "workaround", "permanent_fix",
                                                 "change_reference")}
    panel_forms = {
        "edit": forms.ProblemEditForm(initial={**initial, **edit}),
        "analysis": forms.AnalysisForm(initial={**initial, **analysis}),
        "note": forms.NoteForm(), "link": forms.LinkForm(),
        "resolve_incidents": forms.ResolveIncidentsForm(),
        **{name: forms.TransitionForm(initial=initial) for name in actions.TRANSITIONS},
    }
    panel_forms.update(bound or {})
    allowed = actions.available(problem, request.user)
    linked = selectors.linked_incidents(problem)
    return {
        "problem": problem, "allowed": allowed, "forms": panel_forms, "open_panel": open_panel,
        "transitions": [actions.ACTIONS[n] for n in actions.TRANSITIONS if n in allowed],
        "linked": linked, "awaiting": [i for i in linked if i.state == State.ON_HOLD
                                       and i.hold_reason == HoldReason.AWAITING_PROBLEM],
        "whys": _whys_rows(problem, whys), "timeline": selectors.timeline_for(problem),
        "known_errors": list(problem.known_errors.all()),
        "share": selectors.workaround_share(),
    }


@login_required
@require_GET
def detail(request, number):
    problem = _problem_or_404(request, number)
    return render_page(request, "problems/detail.html", _detail_context(request, problem),
                       partial="problem")


def _run(request, problem: Problem, action: str, data: dict):
    """Call the service behind one action with the form's clean data; returns a message."""
    version = data.pop("version", None)
    by = request.user
    if action in actions.TRANSITIONS:
        original = None
        if data.get("duplicate_of"):
            original = Problem.objects.filter(number=data["duplicate_of"].strip().upper()).first()
            if original is None:
                raise InvalidInput.field("duplicate_of", f"No problem {data['duplicate_of']}.")
        problem = services.problem_transition(problem=problem, by=by, name=action,
                                              version=version, note=data.get("note", ""),
                                              duplicate_of=original)
        return f"{problem.number} is now {problem.get_state_display().lower()}."
    if action in ("edit", "analysis"):
        services.problem_update(problem=problem, by=by, version=version, **data)
        return "Saved."
    if action == "whys":
        pairs = list(zip(request.POST.getlist("question"), request.POST.getlist("answer"),
                         strict=False))
        services.problem_save_whys(problem=problem, by=by, version=version, whys=pairs)
        return "5 Whys saved."
    if action == "link":
        linked = services.problem_link_incidents(
            problem=problem, by=by, incidents=_incidents_named(request, data["incidents"]))
        return f"Linked {', '.join(i.number for i in linked) or 'nothing new'}."
    if action == "unlink":
        incident = Incident.objects.filter(number=data["incident"]).first()
        if incident is None:
            raise InvalidInput.field("incident", f"No incident {data['incident']}.")
        services.problem_unlink_incident(problem=problem, by=by, incident=incident)
        return f"Unlinked {incident.number}."
    if action == "resolve_incidents":
        result = services.problem_resolve_incidents(problem=problem, by=by,
                                                    notes=data.get("notes", ""))
        text = f"Resolved {', '.join(i.number for i in result.incidents) or 'no incident'}"
        if result.refused:
            text += "; not resolved: " + "; ".join(f"{n} ({why})"
                                                   for n, why in result.refused.items())
        return text + "."
    if action == "known_error":
        known_error = services.known_error_from_problem(problem=problem, by=by)
        return f"{known_error.number} drafted from {problem.number}: review and publish it."
    services.problem_note(problem=problem, by=by, body=data["body"])
    return "Note added."


@login_required
@require_POST
def act(request, number, action):
    """Run one action from the problem page; re-render the problem in place."""
    if action not in FORMS:
        raise Http404("No such action.")
    problem = _problem_or_404(request, number)
    form = FORMS[action](request.POST)
    status, bound, open_panel, whys = 200, {}, "", None
    if form.is_valid():
        try:
            text = _run(request, problem, action, dict(form.cleaned_data))
        except InvalidInput as exc:
            if action in ONE_CLICK:  # no form on the page to show it on: say it on top
                status = 400
                messages.error(request, exc.message)
            else:
                form.add_service_errors(exc)
        except (Conflict, Forbidden) as exc:
            status = exc.status
            messages.error(request, exc.message)
        else:
            messages.success(request, text)
            if not request.htmx:
                return redirect(problem)
    if form.errors:
        status, bound, open_panel = 400, {action: form}, action
        if action == "whys":
            whys = list(zip(request.POST.getlist("question"), request.POST.getlist("answer"),
                            strict=False))
    problem = _problem_or_404(request, number)
    context = _detail_context(request, problem, bound=bound, open_panel=open_panel, whys=whys)
    return render_page(request, "problems/detail.html", context, partial="problem",
                       status=status)


# --- suggestions while working ---------------------------------------------------------------

@login_required
@require_GET
def suggest(request):
    """The suggestions panel: for typed text (new-incident form) or for an incident's page."""
    if not incident_rules.is_agent(request.user):
        return HttpResponse(status=204)
    incident = None
    number = (request.GET.get("incident") or "").upper()
    if number:
        incident = Incident.objects.filter(number=number).first()
    if incident is not None:
        title, text = incident.title, incident.description
        service_id, category_id = incident.service_id, incident.category_id
    else:
        title, text = request.GET.get("title", "")[:200], request.GET.get("description", "")[:2000]
        service_id = parse_id(request.GET.get("service", ""))
        category_id = parse_id(request.GET.get("category", ""))
    found = search.suggest(text=text, title=title, service_id=service_id,
                           category_id=category_id,
                           exclude_incident=incident.pk if incident else None)
    applied = set()
    if incident is not None:
        applied = set(incident.workarounds_applied.values_list("known_error_id", flat=True))
    return render(request, "problems/_suggestions.html",
                  {"found": found, "incident": incident, "applied": applied,
                   "typed": bool(title or text),
                   "form_id": "" if incident else "incident-form"})


# --- known errors and articles ---------------------------------------------------------------

# kind → (model, create form, edit form, create service, update service); the update service
# takes the record as a keyword named like the kind.
KNOWLEDGE = {
    "known_error": (KnownError, forms.KnownErrorForm, forms.KnownErrorEditForm,
                    services.known_error_create, services.known_error_update),
    "article": (Article, forms.ArticleForm, forms.ArticleEditForm, services.article_create,
                services.article_update),
}


def _record_or_404(request, model, number: str):
    try:
        getter = (selectors.known_error_detail if model is KnownError
                  else selectors.article_detail)
        return getter(request.user, number.upper())
    except model.DoesNotExist as exc:
        raise Http404(f"No {model._meta.verbose_name} {number}.") from exc


@login_required
@require_GET
def knowledge_list(request, kind):
    """The KEDB (/known-errors/) or the articles, with search and a status filter."""
    model = KNOWLEDGE[kind][0]
    if model is KnownError:
        _agents_only(request)
    rows = selectors.knowledge_visible_to(model, request.user)
    status = request.GET.get("status", "")
    if status in KnowledgeStatus.values:
        rows = rows.filter(status=status)
    query = request.GET.get("q", "")[:200]
    rows = selectors.knowledge_search(rows.order_by("-updated_at", "-id"), query)
    if model is KnownError:
        rows = rows.select_related("problem").annotate(applied=Count("applications"))
    page = paginate(rows, page=parse_id(request.GET.get("page", 1)) or 1)
    return render_page(request, "problems/knowledge_list.html",
                       {"page": page, "q": query, "status": status, "kind": kind,
                        "statuses": KnowledgeStatus.choices,
                        "agent": incident_rules.is_agent(request.user)},
                       partial="results")


@login_required
@require_GET
def knowledge_detail(request, kind, number):
    model = KNOWLEDGE[kind][0]
    record = _record_or_404(request, model, number)
    context = {"record": record, "kind": kind, "agent": incident_rules.is_agent(request.user),
               "manager": rules.can_manage(request.user), "status_form": forms.StatusForm(
                   initial={"version": record.version})}
    if model is KnownError:
        context["applications"] = record.applications.select_related(
            "incident", "applied_by").order_by("-applied_at")[:20]
    return render(request, f"problems/{kind}_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def knowledge_edit(request, kind, number=None):
    """Write a new known error or article (a draft), or edit one."""
    _agents_only(request)
    model, create_form, edit_form, create, update = KNOWLEDGE[kind]
    record = _record_or_404(request, model, number) if number else None
    if record is None:
        form = create_form(request.POST or None)
    else:
        initial = {f: getattr(record, f) for f in create_form.base_fields
                   if f not in ("services", "categories")}
        initial.update(services=list(record.services.all()),
                       categories=list(record.categories.all()), version=record.version)
        form = edit_form(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        try:
            if record is None:
                record = create(by=request.user, **data)
            else:
                record = update(**{kind: record}, by=request.user, version=version, **data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except (Conflict, Forbidden) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{record.number} saved"
                                      f"{' as a draft' if record.status == 'draft' else ''}.")
            return redirect(record)
    return render(request, "problems/knowledge_form.html",
                  {"form": form, "record": record, "kind": kind,
                   "noun": model._meta.verbose_name},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def knowledge_status(request, kind, number):
    model = KNOWLEDGE[kind][0]
    _agents_only(request)
    record = _record_or_404(request, model, number)
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose publish, retire or back to draft.")
        return redirect(record)
    try:
        record = services.knowledge_set_status(record=record, by=request.user,
                                               status=form.cleaned_data["status"],
                                               version=form.cleaned_data["version"])
    except (InvalidInput, Conflict, Forbidden) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{record.number} is now {record.get_status_display().lower()}.")
    return redirect(record)


@login_required
@require_POST
def workaround_apply(request, number):
    """Apply a known error's workaround to an incident, from the incident page's suggestions."""
    _agents_only(request)
    known_error = _record_or_404(request, KnownError, number)
    form = forms.ApplyForm(request.POST)
    incident = None
    if form.is_valid():
        incident = Incident.objects.filter(number=form.cleaned_data["incident"]).first()
    if incident is None:
        raise Http404("No such incident.")
    try:
        services.workaround_apply(known_error=known_error, incident=incident, by=request.user)
    except (Conflict, Forbidden) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Workaround {known_error.number} applied to "
                                  f"{incident.number}. Resolve it with the workaround below.")
    return redirect(incident)


@login_required
@require_POST
def workaround_resolve(request, number):
    """Resolve an incident with an applied workaround (code "workaround (known error)")."""
    _agents_only(request)
    known_error = _record_or_404(request, KnownError, number)
    form = forms.WorkaroundResolveForm(request.POST)
    incident = Incident.objects.filter(number=request.POST.get("incident", "")[:20]).first()
    if incident is None:
        raise Http404("No such incident.")
    if not form.is_valid():
        messages.error(request, "Say what was done (the resolution notes).")
        return redirect(incident)
    try:
        services.workaround_resolve(known_error=known_error, incident=incident, by=request.user,
                                    notes=form.cleaned_data["notes"],
                                    version=form.cleaned_data["version"])
    except (InvalidInput, Conflict, Forbidden) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{incident.number} resolved with the workaround of "
                                  f"{known_error.number}.")
    return redirect(incident)
