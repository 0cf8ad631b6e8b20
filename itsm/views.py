import logging
import math
import re

from axes.helpers import get_cool_off
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer

from itsm import clock, services
from itsm.exceptions import InvalidInput
from itsm.forms import ProfileForm
from itsm.models import ApiToken
from itsm.selectors import background_status, inbox, unread_count

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """200 when web and database answer; `?full=1` adds worker and beat liveness."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
        logger.error("healthz: the database check failed: %s", exc)
        body = {"status": "error", "database": "error"}
        # The error text names hosts, users and databases: for staff only (and the log).
        if _is_staff(request):
            body["detail"] = str(exc)
        return JsonResponse(body, status=503)
    body = {"status": "ok", "database": "ok", "time": clock.now().isoformat()}
    if request.GET.get("full"):
        body.update(background_status())
    return JsonResponse(body)


def _is_staff(request) -> bool:
    try:
        return request.user.is_staff
    except DatabaseError:  # the session and the user live in the database that just failed
        return False


def locked_out(request, response=None, credentials=None):
    """django-axes' answer to a sign-in while the name is locked out on this address (429)."""
    # Every attempt during the lock starts the cool-off again, so it is whole at this moment.
    minutes = math.ceil(get_cool_off(request).total_seconds() / 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema (YAML, or JSON when asked); a refusal is JSON like the rest of the API."""

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(response, "exception", False):
            # The YAML renderer would answer a 401 as a schema document; clients parse JSON.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """One's own details, display time zone and API token (its key is shown once, when made)."""
    user = request.user
    action = request.POST.get("action")
    initial = {name: getattr(user, name) for name in services.PROFILE_FIELDS}
    form = ProfileForm(request.POST if action == "profile" else None, initial=initial)
    if action == "token":
        token, key = services.user_create_api_token(user=user)
        # Rendered, not redirected: only the hash is kept, so this answer is the key's one
        # appearance (never_cache keeps it out of caches and the back button).
        return _profile_page(request, form, token=token, new_key=key)
    if action == "revoke-token":
        if services.user_revoke_api_token(user=user):
            messages.success(request, "API token revoked; it no longer works.")
        return redirect("profile")
    if form.is_bound and form.is_valid():
        try:
            services.user_update_profile(user=user, **form.cleaned_data)
        except InvalidInput as exc:
            for name, errors in exc.field_errors.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, "Profile saved.")
            return redirect("profile")
    return _profile_page(request, form, token=ApiToken.objects.filter(user=user).first())


def _profile_page(request, form, *, token, new_key=None):
    return render(request, "itsm/profile.html",
                  {"form": form, "token": token, "new_key": new_key},
                  status=400 if form.errors else 200)


INCIDENT_NUMBER = re.compile(r"\[(INC\d{7})\]")


@never_cache
@login_required
@require_GET
def notifications(request):
    """The person's messages, newest first; showing them marks them read."""
    rows = inbox(request.user)
    for row in rows:
        found = INCIDENT_NUMBER.search(row.subject)
        row.number = found.group(1) if found else ""
    services.notifications_mark_read(user=request.user)
    return render(request, "itsm/notifications.html", {"rows": rows})


@never_cache
@login_required
@require_GET
def unread_badge(request):
    """The header's bell, loaded after the page (and every minute) so no page waits for it."""
    return render(request, "itsm/unread_badge.html", {"unread": unread_count(request.user),
                                                      "cap": 99})
