"""The portal's small template helpers."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def status_pill(status):
    """A request's status word as a coloured pill (`portal.status.Status`)."""
    return format_html('<span class="portal-status portal-status-{}" data-testid="status">{}'
                       '</span>', status.tone, status.word)
