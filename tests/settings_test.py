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
