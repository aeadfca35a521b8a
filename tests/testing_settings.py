"""Settings for the test suite: production settings with plain HTTP (the test
client speaks HTTP) and a data dir of its own.  `manage check --deploy` is
tested separately with the real production settings.

Named so that pytest does not collect it as a test module (``*_test.py`` would
be imported a second time, resetting the database settings Django already read).
"""

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

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not SQLite's shared in-memory database: Django's live server would
    # share one in-memory connection between its threads, and two browsers
    # acting at once would collide; with a file each thread has its own
    # connection and waits on the busy timeout, as in production.
    # One file per test run, so two runs at once (two terminals, CI) never meet.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
