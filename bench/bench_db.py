"""What the bench scripts that time database work share: a throwaway Beffroi database and
a coordinator's activation in it. Imported by scripts run as ``python bench/<name>.py``
(their folder is first on ``sys.path``)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The source tree, and the tests' settings module (``testing_settings``).
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


@contextmanager
def scratch_database(name: str) -> Iterator[None]:
    """Django set up on a migrated SQLite database in a temporary directory, removed after."""
    data = tempfile.mkdtemp(prefix=f"beffroi-bench-{name}-")
    os.environ["BEFFROI_DATA_DIR"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testing_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    try:
        yield
    finally:
        connections.close_all()
        shutil.rmtree(data, ignore_errors=True)


def watch_room(name: str = "Crue", **options: Any) -> tuple[Any, Any]:
    """A coordinator and an activation of a new organisation (``options``: more fields)."""
    from beffroi.core import actions as core
    from beffroi.watch import actions

    org = core.create_organisation("Bench", "bench")
    user = core.create_account("coord-bench", "pw-bench-123456")
    core.set_role(user, org, "coordinator", actor=None)
    activation = actions.create_activation(
        org, name=name, event_type="inondation", actor=user, **options
    )
    return user, activation
