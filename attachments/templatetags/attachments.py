"""Attachments on the incident page: an entry's files, the composer's file picker, the assets.

The timeline's entries should carry `attachment_list`, set for all of them in one query by
`attachments.selectors.attach_to_entries(entries)`; an entry without it costs a query of
its own.
"""

from django import template
from django.conf import settings

from attachments import selectors, types

register = template.Library()


@register.inclusion_tag("attachments/_entry_attachments.html")
def entry_attachments(entry):
    """The entry's files: images as small previews linking to the full image, others as a
    chip with name and size."""
    found = getattr(entry, "attachment_list", None)
    if found is None:
        found = selectors.for_entries([entry]).get(entry.pk, [])
    return {"attachments": found}


@register.inclusion_tag("attachments/_picker.html")
def attachment_input(prefix="attachments", errors=None):
    """The file picker for a form (put it inside the form; `prefix` keeps ids unique on the
    page): a `files` input, a drop zone and the list of chosen files."""
    return {
        "input_id": f"{prefix}-files",
        "accept": types.accept_attribute(),
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "max_files": settings.ATTACHMENT_MAX_FILES,
        "limit": types.human_size(settings.ATTACHMENT_MAX_BYTES),
        "errors": errors or [],
    }


@register.inclusion_tag("attachments/_assets.html")
def attachment_assets():
    """The stylesheet and script, once per page, outside any part htmx swaps."""
    return {}


@register.filter
def human_size(size) -> str:
    return types.human_size(int(size or 0))
