"""Read queries for attachments, restricted to the user in one place (pages, API, downloads).

An attachment is visible with its incident (`incidents.selectors.incidents_visible_to`), and
an internal one to agents only.
"""

from collections.abc import Iterable
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from attachments.models import Attachment
from incidents import rules
from incidents.choices import EntryKind
from incidents.models import Incident, TimelineEntry
from incidents.selectors import incidents_visible_to

CONVERSATION = (EntryKind.COMMENT, EntryKind.WORK_NOTE)  # the entries files are posted with


def visible_to(user) -> QuerySet[Attachment]:
    qs = Attachment.objects.all()
    if rules.is_agent(user):
        return qs
    return qs.filter(incident__in=incidents_visible_to(user), internal=False)


def for_incident(incident: Incident, user) -> QuerySet[Attachment]:
    """The incident's attachments this user may see, oldest first."""
    return (visible_to(user).filter(incident=incident)
            .select_related("incident", "uploaded_by"))  # the model's order: oldest first


def by_id_for(user, pk: UUID | str) -> Attachment:
    """One attachment if the user may see it; Http404 alike for "no such" and "not yours"."""
    try:
        return visible_to(user).select_related("incident", "uploaded_by").get(pk=pk)
    except (Attachment.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such attachment.") from None


def for_entries(entries: Iterable[TimelineEntry]) -> dict[int, list[Attachment]]:
    """The attachments of these timeline entries by entry id, in one query (none if no entry
    is a comment or work note). The caller has already chosen entries the user may see, and
    an attachment always shares its entry's visibility (`services.attach`)."""
    ids = [entry.pk for entry in entries if entry.kind in CONVERSATION]
    found: dict[int, list[Attachment]] = {}
    if ids:
        for attachment in Attachment.objects.filter(entry__in=ids):  # oldest first
            found.setdefault(attachment.entry_id, []).append(attachment)
    return found


def attach_to_entries(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """Give each entry its `attachment_list` (what `{% entry_attachments %}` shows), in one
    query; returns the entries as a list, so pass it on rather than the queryset."""
    entries = list(entries)
    found = for_entries(entries)
    for entry in entries:
        entry.attachment_list = found.get(entry.pk, [])
    return entries
