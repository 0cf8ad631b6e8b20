"""The one place a view decides between the whole page and one of its HTMX partials."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

PARTIAL_HEADER = "X-Desk-Partial"


def render_page(request, template: str, context: dict, *, partial: str | None = None,
                status: int = 200) -> HttpResponse:
    """The whole page, or only `partial` of it when htmx asks; caches keep the two apart."""
    as_partial = bool(partial and request.htmx and not request.htmx.boosted)
    if as_partial:
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    if as_partial:
        # An answer meant to be swapped in, even with an error status (a form with its
        # errors): static/js/desk.js keeps django-htmx's DEBUG error page from replacing it.
        response[PARTIAL_HEADER] = partial
    patch_vary_headers(response, ["HX-Request"])
    return response
