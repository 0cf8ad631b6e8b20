"""Every write to attachments: checked in full before anything is stored, one transaction each.

Who may attach is the incidents' own rule: a public file is a comment (`guards.comment`), an
internal one a work note (`guards.work_note`). Files are stored while the transaction is open;
if anything fails, the files stored so far are deleted again before the error goes on, so a
refused upload leaves neither rows nor files.
"""

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db import transaction

from attachments import types
from attachments.models import Attachment
from attachments.storage import attachment_storage
from incidents import guards, rules
from incidents import services as incident_services
from incidents.choices import EntryKind
from incidents.models import Incident, TimelineEntry
from itsm import clock
from itsm.exceptions import Forbidden, InvalidInput
from itsm.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """A file that passed every check, with what will be stored about it."""

    file: File
    name: str
    size: int
    content_type: str


def _check(file) -> tuple[Checked | None, str]:
    """One file: (checked, "") or (None, the reason it is refused)."""
    raw = getattr(file, "name", "") or ""
    name = types.clean_name(raw)
    if not name:
        shown = "".join(c for c in str(raw) if c.isprintable())[:60]
        return None, f"{shown!r} is not a usable file name."
    extension = os.path.splitext(name)[1].lower()
    if extension not in types.extensions():
        allowed = ", ".join(types.extensions())
        return None, f"{name}: this type of file cannot be attached (allowed: {allowed})."
    size = file.size
    if size is None or size <= 0:
        return None, f"{name} is empty."
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        return None, (f"{name} is {types.human_size(size)}; the limit is "
                      f"{types.human_size(limit)}.")
    content_type = types.content_type_for(extension)
    file.seek(0)
    head = file.read(types.HEAD_BYTES)
    file.seek(0)
    if not types.looks_like(content_type, head):
        return None, f"{name} is not really a {types.type_label(content_type)}."
    return Checked(file=file, name=name, size=size, content_type=content_type), ""


def files_validate(files: Iterable) -> list[Checked]:
    """Check every file (count, name, type, size, content); InvalidInput naming all problems."""
    files = list(files or [])
    if not files:
        raise InvalidInput.field("files", "Choose a file to attach.")
    most = settings.ATTACHMENT_MAX_FILES
    if len(files) > most:
        raise InvalidInput.field("files", f"Attach at most {most} files at a time "
                                          f"(you chose {len(files)}).")
    checked, problems = [], []
    for file in files:
        ok, problem = _check(file)
        if ok is None:
            problems.append(problem)
        else:
            checked.append(ok)
    if problems:
        raise InvalidInput(" ".join(problems), field_errors={"files": problems})
    return checked


def _guard(incident: Incident, by: User, internal: bool) -> None:
    (guards.work_note if internal else guards.comment)(incident, by)


def _store(*, incident: Incident, by: User, checked: Sequence[Checked], internal: bool,
           entry: TimelineEntry | None) -> list[Attachment]:
    """Write the files, then their rows; on any failure delete the files written so far."""
    at = clock.now()
    attachments: list[Attachment] = []
    try:
        for position, item in enumerate(checked):
            attachment = Attachment(incident=incident, entry=entry, internal=internal,
                                    name=item.name, size=item.size,
                                    content_type=item.content_type, uploaded_by=by,
                                    created_at=at, position=position)
            item.file.seek(0)
            attachment.file.save(item.name, item.file, save=False)
            attachments.append(attachment)
        Attachment.objects.bulk_create(attachments)
    except BaseException:
        _delete_files([a.file.name for a in attachments if a.file.name])
        raise
    return attachments


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            attachment_storage.delete(name)
        except Exception:  # the original error matters more; the file is only an orphan
            log.exception("Could not delete the stored attachment %s", name)


@transaction.atomic
def attach(*, incident: Incident, by: User, files: Iterable, internal: bool,
           entry: TimelineEntry | None = None) -> list[Attachment]:
    """Attach files to an incident, optionally to one of its comments or work notes.

    Every file is checked before any is stored; internal files need a work-note author (an
    agent), public ones someone who may comment. With `entry`, the files share its visibility.
    """
    _guard(incident, by, internal)
    if entry is not None and (entry.incident_id != incident.pk or
                              entry.kind not in (EntryKind.COMMENT, EntryKind.WORK_NOTE) or
                              internal != (entry.kind == EntryKind.WORK_NOTE)):
        raise InvalidInput.field("entry", "Files go with a comment or work note of this "
                                          "incident, and share its visibility.")
    checked = files_validate(files)
    return _store(incident=incident, by=by, checked=checked, internal=internal, entry=entry)


@transaction.atomic
def comment_with_files(*, incident: Incident, by: User, body: str, files: Iterable,
                       internal: bool) -> TimelineEntry:
    """A comment or work note with files, all or nothing; without text it says what was
    attached. The entry comes back with `attachment_list` set."""
    files = list(files or [])
    if not files:
        entry = incident_services.incident_comment(incident=incident, by=by, body=body,
                                                   internal=internal)
        entry.attachment_list = []
        return entry
    _guard(incident, by, internal)  # "not allowed" before "that file is too big"
    checked = files_validate(files)
    body = (body or "").strip() or "Attached " + ", ".join(item.name for item in checked)
    entry = incident_services.incident_comment(incident=incident, by=by, body=body,
                                               internal=internal)
    entry.attachment_list = _store(incident=incident, by=by, checked=checked,
                                   internal=internal, entry=entry)
    return entry


@transaction.atomic
def attachment_delete(*, attachment: Attachment, by: User) -> None:
    """Remove an attachment: its uploader, or an agent who works the incident. The file goes
    once the deletion is committed."""
    attachment = (Attachment.objects.select_for_update().select_related("incident")
                  .filter(pk=attachment.pk).first())
    if attachment is None:  # someone else removed it first: the outcome is the same
        return
    if attachment.uploaded_by_id != by.pk and not rules.can_work(attachment.incident, by):
        raise Forbidden(f"Only whoever attached {attachment.name}, or the team working "
                        f"{attachment.incident.number}, can remove it.")
    name = attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: _delete_files([name]))

