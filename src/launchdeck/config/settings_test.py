"""Settings for the test suite: the production settings with a fixed key, fast hashing and plain static files."""

import os

os.environ.setdefault("LAUNCHDECK_SECRET_KEY", "test-only-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("LAUNCHDECK_DATABASE_URL", "sqlite:///:memory:")

from launchdeck.config.settings import *  # noqa: F403
from launchdeck.config.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
ALLOWED_HOSTS = ["*"]
