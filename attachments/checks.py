"""Fail loudly on attachment settings that cannot work or would be unsafe."""

from django.conf import settings
from django.core.checks import Error, register

from attachments.types import FORBIDDEN, normal_extension


@register()
def attachment_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    if "attachments" not in settings.STORAGES:
        errors.append(Error('STORAGES has no "attachments" storage.', id="attachments.E001"))
    refused = sorted({normal_extension(e) for e in settings.ATTACHMENT_TYPES} & FORBIDDEN)
    if refused:
        errors.append(Error(f"ATTACHMENT_TYPES names {', '.join(refused)}: browsers run scripts "
                            "in these, so they are never accepted.", id="attachments.E002"))
    for name in ("ATTACHMENT_MAX_BYTES", "ATTACHMENT_MAX_FILES"):
        if getattr(settings, name) < 1:
            errors.append(Error(f"{name} must be at least 1.", id="attachments.E003"))
    return errors
