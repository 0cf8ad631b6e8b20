import logging
import math
import re
import zoneinfo
from datetime import UTC
from functools import cache

from axes.helpers import get_cool_off
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer

from itsm import clock, services
from itsm.exceptions import InvalidInput
from itsm.forms import ProfileForm, zone_names
from itsm.htmx import render_page
from itsm.models import ApiToken
from itsm.selectors import background_status, inbox, unread_count
from itsm.templatetags.desk import zone_abbreviation

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
    form = ProfileForm(request.POST if action == "profile" else None,
                       initial=_profile_initial(user))
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
            zone = form.cleaned_data["time_zone"]
            messages.success(request, f"Profile saved. Times are shown in {zone}." if zone
                             else "Profile saved.")
            return redirect("profile")
    return _profile_page(request, form, token=ApiToken.objects.filter(user=user).first())


def _profile_initial(user) -> dict:
    return {name: getattr(user, name) for name in services.PROFILE_FIELDS}


def _profile_page(request, form, *, token, new_key=None, status=None):
    context = {"form": form, "token": token, "new_key": new_key, "now": clock.now(),
               "zones": _zone_offsets()}
    return render(request, "itsm/profile.html", context,
                  status=status or (400 if form.errors else 200))


def _zone_offsets() -> list[tuple[str, int, str, str]]:
    """(zone, UTC offset in minutes, abbreviation, label) as of now, for the picker's list:
    the label reads "CET (UTC+01:00)"; static/js/timezone.js writes the hint from the rest."""
    now = clock.now().astimezone(UTC)
    rows = []
    for zone in _zones():
        local = now.astimezone(zone)
        minutes = int(local.utcoffset().total_seconds() // 60)
        hours, rest = divmod(abs(minutes), 60)
        offset = f"UTC{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"
        abbreviation = zone_abbreviation(local)
        label = offset if abbreviation.startswith("UTC") else f"{abbreviation} ({offset})"
        rows.append((zone.key, minutes, abbreviation, label))
    return rows


@cache
def _zones() -> tuple[zoneinfo.ZoneInfo, ...]:
    # Held here: ZoneInfo keeps only a few zones strongly, and reading 600 files from the tz
    # database on every profile page would be most of its time.
    return tuple(zoneinfo.ZoneInfo(name) for name in zone_names())


# The session remembers that the person answered the banner (templates/itsm/_time_zone_prompt
# .html): it is asked once per sign-in while their profile has no zone.
TIME_ZONE_PROMPT_ANSWERED = "time_zone_prompt_answered"


@never_cache
@login_required
@require_POST
def time_zone_prompt(request):
    """The banner's answer: use the browser's zone (saved on the profile) or keep the site's.

    htmx posts it (the banner goes away, or the page reloads in the new zone); a plain form
    post is answered with a redirect back. A zone the tz database does not know is a 400 that
    says so, and nothing is stored.
    """
    choice = request.POST.get("choice")
    if choice == "keep":
        request.session[TIME_ZONE_PROMPT_ANSWERED] = True
        return HttpResponse("") if request.htmx else _back(request)
    zone = request.POST.get("time_zone", "").strip()
    if choice != "use" or zone not in zone_names():
        message = (f"“{zone[:64]}” is not a time zone this desk knows." if choice == "use"
                   else "Choose to use the zone or to keep it.")
        return _time_zone_refused(request, zone, message)
    services.user_update_profile(user=request.user, time_zone=zone)
    request.session[TIME_ZONE_PROMPT_ANSWERED] = True
    messages.success(request, f"Times are now shown in {zone}. Change it on your profile.")
    if request.htmx:  # every time on the page is in the old zone: load it again
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return _back(request)


def _time_zone_refused(request, zone: str, message: str):
    if request.htmx:
        return render_page(request, "itsm/_time_zone_prompt.html", {"message": message},
                           partial="refused", status=400)
    form = ProfileForm({**_profile_initial(request.user), "time_zone": zone})
    form.full_clean()
    form.add_error("time_zone" if zone else None, message)
    return _profile_page(request, form, token=ApiToken.objects.filter(user=request.user).first(),
                         status=400)


def _back(request):
    """To the page the form came from (`next`, when it is on this site), else the queue."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return redirect(target)
    return redirect("incidents:queue")


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
