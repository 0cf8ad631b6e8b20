"""Attachments go to a temporary directory in every test here (never var/attachments)."""

import pytest


@pytest.fixture(autouse=True)
def attachment_dir(tmp_path, settings):
    """The attachments storage, pointed at a fresh directory; returns that directory."""
    root = tmp_path / "attachments"
    settings.STORAGES = {**settings.STORAGES, "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": root},
    }}
    return root
