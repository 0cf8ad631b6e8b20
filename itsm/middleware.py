from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.views import defaults

from itsm import errors
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


class BrandedErrorPagesMiddleware:
    """With DEBUG on, people still get the desk's 404 and 403 pages instead of Django's
    technical ones (with DEBUG off Django calls itsm.errors itself, which renders the same).

    A server error keeps Django's debug page under DEBUG: developers need the traceback. The
    API answers its own errors (JSON), so /api/ is left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # An address that matches no route fails before any view, so process_exception never
        # sees it: Django's technical 404 is the response, with nothing resolved.
        if (response.status_code == 404 and settings.DEBUG and request.resolver_match is None
                and not errors.is_api(request)):
            return errors.page_not_found(request, Http404("There is no page at this address."))
        return response

    def process_exception(self, request, exception):
        if not settings.DEBUG or errors.is_api(request):
            return None
        if isinstance(exception, Http404):
            return errors.page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return errors.permission_denied(request, exception)
        return None
