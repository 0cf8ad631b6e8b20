"""Test settings: the production module with fast hashing, in-memory mail and eager tasks."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from itsm.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The test client and the browser tests' live server speak plain HTTP.
SECURE_SSL_REDIRECT = False

# Attachments go to a throw-away directory, never the checkout's var/attachments.
STORAGES["attachments"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": tempfile.mkdtemp(prefix="itsm-attachments-"), "base_url": None},
}
