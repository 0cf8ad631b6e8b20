"""The one way a stored file is answered, for the pages and the API alike."""

import logging

from django.http import FileResponse, Http404

from attachments.models import Attachment

log = logging.getLogger(__name__)

# The file is never a page: no scripts, no plugins, no forms, even if a browser were to render
# something it should not; images may still show themselves.
FILE_POLICY = "default-src 'none'; img-src 'self'; sandbox"


def file_response(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    """Stream the file with its stored type; shown in the browser only when asked for and
    only for the previewable images, otherwise always a download."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        log.error("Attachment %s: its file %s is missing from storage", attachment.pk,
                  attachment.file.name)
        raise Http404("The file is no longer in storage.") from None
    response = FileResponse(handle, as_attachment=not (inline and attachment.previewable),
                            filename=attachment.name, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = FILE_POLICY  # django-csp keeps a header it finds
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
