"""What an operator can fix on the server itself: `beffroi manage check --deploy`'s
warnings, and the mail backend refused when Django starts.

New installs create the data directory 0700 and the SQLite database 0600 (beffroi.config);
an install made before keeps its modes, which nothing changes behind the operator's back:
this check says so instead.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except FileNotFoundError:
        return False


@register(Tags.security, deploy=True)
def data_modes(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    db = settings.DATABASES["default"]
    name = str(db.get("NAME") or "")
    sqlite = db["ENGINE"].endswith("sqlite3") and name not in {"", ":memory:"}
    return mode_warnings(Path(settings.DATA_DIR), Path(name) if sqlite else None)


def mode_warnings(data_dir: Path, sqlite_file: Path | None) -> list[Warning]:
    found: list[Warning] = []
    if _readable_by_others(data_dir):
        found.append(
            Warning(
                f"BEFFROI_DATA_DIR {data_dir} is open to other users "
                f"(mode {stat.S_IMODE(data_dir.stat().st_mode):04o}): it holds the key, "
                "the database and audit uploads.",
                hint=f"chmod 700 {data_dir}",
                id="beffroi.W001",
            )
        )
    files = [data_dir / "secret_key"]
    if sqlite_file is not None:
        files += [sqlite_file, Path(f"{sqlite_file}-wal"), Path(f"{sqlite_file}-shm")]
    loose = [p for p in files if _readable_by_others(p)]
    if loose:
        found.append(
            Warning(
                "Readable by other users: " + ", ".join(str(p) for p in loose) + ".",
                hint="chmod 600 " + " ".join(str(p) for p in loose),
                id="beffroi.W002",
            )
        )
    return found


def check_mail_backend(path: str) -> None:
    """Refuse a ``BEFFROI_EMAIL_BACKEND`` dotted path that does not name a mail backend
    class (``…smtpp.EmailBackend``), when Django starts (``CoreConfig.ready``): Django
    imports it only at the first mail sent, a reset link lost hours later. The settings
    loader refuses bad short names, but cannot import a backend itself: a third-party one
    may read the settings or the apps as it loads."""
    from django.core.mail.backends.base import BaseEmailBackend
    from django.utils.module_loading import import_string

    from beffroi.config import EMAIL_BACKENDS, ConfigError

    names = " or ".join(EMAIL_BACKENDS)
    try:
        backend = import_string(path)
    except ImportError as exc:
        raise ConfigError(
            f"BEFFROI_EMAIL_BACKEND={path!r} cannot be loaded ({exc}): check its spelling, "
            f"or use {names}."
        ) from exc
    if not (isinstance(backend, type) and issubclass(backend, BaseEmailBackend)):
        raise ConfigError(
            f"BEFFROI_EMAIL_BACKEND={path!r} is not a mail backend class "
            f"(django.core.mail.backends.base.BaseEmailBackend): use {names}, or a "
            "backend's dotted path."
        )
