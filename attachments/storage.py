"""Where attachment files live: `storages["attachments"]` (itsm/settings.py), never under a
served URL; only the attachments views hand files out, after the incident's access check."""

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty


class AttachmentStorage(LazyObject):
    """`storages["attachments"]`, looked up on first use.

    A FileField evaluates its storage callable once, when the model class is made; this proxy
    keeps following STORAGES when it changes afterwards (tests point it at a temporary dir).
    """

    def _setup(self):
        self._wrapped = storages["attachments"]


attachment_storage = AttachmentStorage()


def get_storage() -> AttachmentStorage:
    """The storage callable of `Attachment.file` (named in the migration)."""
    return attachment_storage


@receiver(setting_changed)
def _follow_storages(*, setting, **kwargs):
    if setting == "STORAGES":
        attachment_storage._wrapped = empty
