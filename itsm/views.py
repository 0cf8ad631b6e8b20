from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
    body = {"status": "ok", "database": "ok", "time": timezone.now().isoformat()}
    if request.GET.get("full"):
        body.update(background_status())
    return JsonResponse(body)
