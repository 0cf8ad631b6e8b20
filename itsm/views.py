from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.authtoken.models import Token

from itsm import clock, services
from itsm.exceptions import InvalidInput
from itsm.forms import ProfileForm
from itsm.selectors import background_status


@never_cache
@require_GET
def healthz(request):
    """200 when web and database answer; `?full=1` adds worker and beat liveness."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    body = {"status": "ok", "database": "ok", "time": clock.now().isoformat()}
    if request.GET.get("full"):
        body.update(background_status())
    return JsonResponse(body)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """One's own details, display time zone and API token."""
    user = request.user
    initial = {name: getattr(user, name) for name in services.PROFILE_FIELDS}
    form = ProfileForm(request.POST if request.POST.get("action") == "profile" else None,
                       initial=initial)
    if request.POST.get("action") == "token":
        services.user_rotate_api_token(user=user)
        messages.success(request, "New API token created; the old one no longer works.")
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
    token = Token.objects.filter(user=user).first()
    return render(request, "itsm/profile.html", {"form": form, "token": token},
                  status=400 if form.errors else 200)
