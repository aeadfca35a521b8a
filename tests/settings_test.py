"""Settings for the test suite: production settings with plain HTTP (the test
client speaks HTTP) and a data dir of its own.  `manage check --deploy` is
tested separately with the real production settings."""

import os
from pathlib import Path

os.environ.setdefault("BEFFROI_HTTPS", "0")
os.environ.setdefault(
    "BEFFROI_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

from beffroi.settings import *  # noqa: F403

# Argon2 is deliberately slow; tests create many accounts (production keeps Argon2,
# checked in tests/test_smoke_settings.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
