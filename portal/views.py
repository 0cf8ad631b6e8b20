"""The requester portal's pages: my requests, a new request, and one request's conversation.

Thin: forms in, `portal.services` (composing `incidents.services`) does the work. Actions
work as plain posts (post/redirect/get) and, with htmx, re-render the request in place.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attachments.selectors import attach_to_entries
from incidents.choices import OPEN_STATES, State
from incidents.models import Incident
from itsm.exceptions import InvalidInput, ServiceError
from itsm.htmx import render_page
from itsm.numbers import parse_id
from itsm.pagination import paginate
from portal import forms, selectors, services
from portal.conversation import conversation, waiting_question
from portal.status import request_status

PER_PAGE = 20
SHOWN_FORMS = ("reply_form", "reopen_form")  # forms whose errors the page shows in place
TAB_LABELS = [("open", "Open"), ("solved", "Solved"), ("all", "All")]


def _request_or_404(request, number: str) -> Incident:
    try:
        return selectors.request_detail(request.user, number=number)
    except Incident.DoesNotExist as exc:
        raise Http404("No such request of yours.") from exc


@login_required
@require_GET
def request_list(request):
    """My requests: one tab of them, newest activity first."""
    tab = request.GET.get("tab", "")
    if tab not in selectors.TABS:
        tab = selectors.DEFAULT_TAB
    page = paginate(selectors.request_list(request.user, tab=tab),
                    page=parse_id(request.GET.get("page", 1)) or 1, per_page=PER_PAGE)
    for row in page.rows:
        row.status = request_status(row)
    has_any = bool(page.rows) or selectors.requests_of(request.user).exists()
    return render_page(request, "portal/list.html",
                       {"page": page, "tab": tab, "tabs": TAB_LABELS, "has_any": has_any})


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    """Log a request in plain words; the desk works out how urgent it is."""
    form = forms.RequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.request_create(by=request.user, files=request.FILES.getlist(
                "files"), **form.incident_fields())
        except ServiceError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"Thanks — we've got it. Your request number is "
                                      f"{incident.number}.")
            return redirect("portal:detail", number=incident.number)
    return render_page(request, "portal/new.html", {"form": form},
                       status=400 if form.errors else 200)


def _detail_context(request, incident: Incident, **forms_) -> dict:
    entries = attach_to_entries(selectors.request_timeline(incident, request.user))
    status = request_status(incident)
    return {
        "incident": incident,
        "status": status,
        "lines": conversation(entries, incident=incident, viewer=request.user),
        "question": waiting_question(entries, incident=incident) if status.waiting_on_you
        else "",
        "can_reply": incident.state in OPEN_STATES,
        "solved": incident.state == State.RESOLVED,
        "finished": incident.state in (State.CLOSED, State.CANCELED),
        "reply_form": forms_.get("reply_form") or forms.ReplyForm(),
        "reopen_form": forms_.get("reopen_form") or forms.ReopenForm(
            initial={"version": incident.version}),
        "reopen_open": "reopen_form" in forms_,
    }


@login_required
@require_GET
def detail(request, number):
    """One request: what's happening, the conversation, and what the requester can do now."""
    incident = _request_or_404(request, number)
    return render_page(request, "portal/detail.html", _detail_context(request, incident),
                       partial="request")


def _act(request, number: str, form_class, form_key: str, run, done: str):
    """Run one requester action from the request page, then show the request as it now is."""
    incident = _request_or_404(request, number)
    form = form_class(request.POST)
    if form_class is forms.ReplyForm and request.FILES.getlist("files"):
        form.fields["body"].required = False  # the files say it: "Attached screenshot.png"
    status, bound = 200, {}
    if form.is_valid():
        try:
            run(incident, form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except ServiceError as exc:  # refused or stale: say why, show the latest
            status = exc.status
            messages.warning(request, exc.message)
        else:
            messages.success(request, done)
            if not request.htmx:
                return redirect("portal:detail", number=incident.number)
    if form.errors:
        status, bound = 400, {form_key: form}
        if form_key not in SHOWN_FORMS:  # a tampered hidden field: nothing to show in place
            messages.warning(request, "That didn't work — please try again.")
    incident = _request_or_404(request, number)  # fresh: what everyone now sees
    return render_page(request, "portal/detail.html",
                       _detail_context(request, incident, **bound), partial="request",
                       status=status)


@login_required
@require_POST
def reply(request, number):
    """Post a reply; a request waiting for it goes back to the team."""
    return _act(request, number, forms.ReplyForm, "reply_form",
                lambda incident, data: services.request_reply(
                    incident=incident, by=request.user, body=data["body"],
                    files=request.FILES.getlist("files")),
                "Thanks — your reply is with us.")


@login_required
@require_POST
def confirm(request, number):
    """"Yes, close it": the requester confirms the fix."""
    return _act(request, number, forms.VersionedForm, "confirm_form",
                lambda incident, data: services.request_confirm(
                    incident=incident, by=request.user, version=data["version"]),
                "Great — we've closed your request. Thanks for letting us know.")


@login_required
@require_POST
def reopen(request, number):
    """"No, it's still broken": the request goes back to the team with the requester's note."""
    return _act(request, number, forms.ReopenForm, "reopen_form",
                lambda incident, data: services.request_reopen(
                    incident=incident, by=request.user, note=data["note"],
                    version=data["version"]),
                "Sorry it's still not right — we're on it again.")
