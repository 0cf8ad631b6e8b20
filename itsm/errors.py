"""Error answers outside the views: JSON under /api/ (the API's one error body), pages elsewhere.

Django calls the handlers below when DEBUG is off; `api_not_found` is a route, so an unknown
address under /api/ answers JSON with DEBUG on too, and `BrandedErrorPagesMiddleware`
(itsm.middleware) calls the 404 and 403 ones with DEBUG on. The pages are templates/404.html,
403.html and 500.html; the last is rendered with no request (it must not need one).
"""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from itsm.api import error_response, too_large_message


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if isinstance(exception, RequestDataTooBig):
        if is_api(request):
            return error_response(too_large_message(), 413)
        response = defaults.bad_request(request, exception)
        response.status_code = 413
        return response
    if is_api(request):
        return error_response("Bad request.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return error_response("You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return error_response("Server error; it has been logged.", 500)
    return defaults.server_error(request)


def api_not_found(request, path=""):
    return error_response(f"No API endpoint at {request.path}.", 404)
