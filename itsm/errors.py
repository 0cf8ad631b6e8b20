"""Error answers outside the views: JSON under /api/ (the API's one error body), pages elsewhere.

Django calls the handlers below when DEBUG is off; `api_not_found` is a route, so an unknown
address under /api/ answers JSON with DEBUG on too.
"""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from itsm.api import error_response, too_large_message


def _api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if isinstance(exception, RequestDataTooBig):
        if _api(request):
            return error_response(too_large_message(), 413)
        response = defaults.bad_request(request, exception)
        response.status_code = 413
        return response
    if _api(request):
        return error_response("Bad request.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _api(request):
        return error_response("You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _api(request):
        return error_response("Server error; it has been logged.", 500)
    return defaults.server_error(request)


def api_not_found(request, path=""):
    return error_response(f"No API endpoint at {request.path}.", 404)
