from urllib.parse import unquote_to_bytes

from django.core.exceptions import BadRequest
from django.utils import timezone
from django.views import defaults

from itsm.api import error_response


class UserTimezoneMiddleware:
    """Show times in the signed-in user's own time zone (stored UTC, shown local)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # User.time_zone is a ZoneInfo, or None for the site default.
        zone = request.user.time_zone if request.user.is_authenticated else None
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


class RejectNulMiddleware:
    """A NUL byte in the address is a 400 before any view sees it.

    PostgreSQL text cannot hold one, so any lookup with it would fail as a server error;
    bodies are checked field by field by the forms and serializers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(query):
            message = "The address contains a NUL character."
            if request.path.startswith("/api/"):
                return error_response(message, 400)
            return defaults.bad_request(request, BadRequest(message))
        return self.get_response(request)
