"""The one place a view decides between the whole page and one of its HTMX partials."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page(request, template: str, context: dict, *, partial: str | None = None,
                status: int = 200) -> HttpResponse:
    """The whole page, or only `partial` of it when htmx asks; caches keep the two apart."""
    if partial and request.htmx and not request.htmx.boosted:
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
