"""The queue and board limits an operator may need to move are read from the environment."""

import json
import os
import subprocess
import sys

LIMITS = {
    "BEFFROI_WATCH_MAX_PENDING_EXPORTS": 3,
    "BEFFROI_AUDIT_MAX_PENDING": 3,
    "BEFFROI_CONSULT_MAX_BALLOTS_PER_KEY": 50,
}

_READ = (
    "import json, django; django.setup(); from django.conf import settings; "
    f"print(json.dumps({{k: getattr(settings, k) for k in {sorted(LIMITS)!r}}}))"
)


def _read(tmp_path, **env: str) -> dict[str, int]:
    environ = {k: v for k, v in os.environ.items() if k not in LIMITS}
    environ["DJANGO_SETTINGS_MODULE"] = "beffroi.settings"
    environ["BEFFROI_DATA_DIR"] = str(tmp_path)
    environ.update(env)
    out = subprocess.run(
        [sys.executable, "-c", _READ], env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_limits_have_their_defaults_and_follow_the_environment(tmp_path) -> None:
    assert _read(tmp_path) == LIMITS
    moved = {k: str(v + 4) for k, v in LIMITS.items()}
    assert _read(tmp_path, **moved) == {k: v + 4 for k, v in LIMITS.items()}
