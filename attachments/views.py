"""Attachment downloads for the browser: login, the incident's visibility, then the file."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_safe

from attachments import selectors
from attachments.responses import file_response


@login_required
@require_safe
def download(request, pk, name):
    """One file, if its incident (and, for internal files, being an agent) lets you see it;
    `?inline=1` shows an image in the browser. The name in the address is only for people."""
    attachment = selectors.by_id_for(request.user, pk)
    return file_response(attachment, inline=request.GET.get("inline") == "1")
