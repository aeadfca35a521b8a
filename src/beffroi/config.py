"""Read Beffroi's configuration from the environment, with clear errors.

Kept free of Django so the CLI can validate the configuration (and print one
clear line) before Django starts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A configuration problem a person can fix; the message says how."""


# Set by the commands that only read (bootstrap.setup_django(read_only=True)) before the
# settings load: run in the wrong directory, they must not leave a new data directory, key
# and empty database behind (cron starts in $HOME, where ./var is nobody's).
read_only = False


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    # True when read_only found no key to read and made up one it wrote nowhere: a
    # command needing the real key (pseudonyms, digests) must then refuse.
    ephemeral_key: bool = False

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def data_dir() -> Path:
    return Path(os.environ.get("BEFFROI_DATA_DIR") or "./var").resolve()


def ensure_data_dir(path: Path) -> Path:
    try:
        # Owner-only: it holds the database (sessions, pseudonyms, the main courante), the
        # key, and audit uploads with addresses in them. An existing directory keeps its
        # mode; `check --deploy` warns when others can read it (beffroi.ops_checks).
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A probe of its own: processes started together (the server and its worker, two
        # web processes) each removed the other's shared probe and one failed to start.
        with tempfile.TemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"BEFFROI_DATA_DIR={path} is not writable ({exc.strerror}); "
            "choose a folder this user can write to."
        ) from exc
    return path


def check_database_url(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"DATABASE_URL has an unsupported scheme {scheme or '(none)'!r}: "
            "use sqlite:////absolute/path.db or postgres://user:password@host:5432/name."
        )
    if scheme != "sqlite" and not urlsplit(url).path.strip("/"):
        raise ConfigError("DATABASE_URL names no database: add /name after the host.")
    return url


def _secret_key(directory: Path) -> str | None:
    if key := os.environ.get("BEFFROI_SECRET_KEY"):
        return key
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    if read_only:
        return None
    key = secrets.token_urlsafe(50)
    # Create with owner-only permissions: this key signs sessions and pseudonyms.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def sqlite_path(url: str) -> Path | None:
    """The file a sqlite:/// URL names, or None (another engine, or in memory)."""
    if not url.startswith("sqlite:///"):
        return None
    name = url.removeprefix("sqlite:///")
    return Path(name) if name and name != ":memory:" else None


def create_sqlite_file(path: Path) -> None:
    """An empty file, owner-only, where the database will be: SQLite takes an empty file
    as a new database, and makes its -wal and -shm files with the database's mode (under
    the usual umask 022 they were all readable by every local user). Called by the commands
    that migrate, not when the configuration loads, so that a command refused at start-up
    (or one that only reads) leaves no database behind."""
    if not path.parent.is_dir():
        return  # a mistyped path: let SQLite's own error say so at the first connection
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# Short names for BEFFROI_EMAIL_BACKEND (what the README and operations.md say); a Django
# backend's dotted path is taken as it is.
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def email_backend(value: str | None) -> str:
    """BEFFROI_EMAIL_BACKEND as Django wants it. Refused at start-up rather than at the
    first invitation sent (Django's « smtp doesn't look like a module path »)."""
    name = (value or "").strip() or "console"
    if name.lower() in EMAIL_BACKENDS:
        return EMAIL_BACKENDS[name.lower()]
    if "." not in name:
        raise ConfigError(
            f"BEFFROI_EMAIL_BACKEND={name!r} is not a mail backend: use "
            f"{' or '.join(EMAIL_BACKENDS)}, or a Django backend's dotted path."
        )
    return name


def email_tls(starttls: str | None, ssl: str | None) -> tuple[bool, bool]:
    """(STARTTLS, implicit TLS): one or the other, as Django only says when sending."""
    use_tls, use_ssl = truthy(starttls), truthy(ssl)
    if use_tls and use_ssl:
        raise ConfigError(
            "BEFFROI_EMAIL_STARTTLS and BEFFROI_EMAIL_SSL are both set: keep one, "
            "STARTTLS for port 587 or SSL for port 465."
        )
    return use_tls, use_ssl


def load() -> Config:
    directory = data_dir() if read_only else ensure_data_dir(data_dir())
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{directory / 'beffroi.sqlite3'}"
    hosts = os.environ.get("BEFFROI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
    key = _secret_key(directory)
    return Config(
        data_dir=directory,
        database_url=check_database_url(url),
        secret_key=key or secrets.token_urlsafe(50),
        debug=truthy(os.environ.get("BEFFROI_DEBUG")),
        allowed_hosts=[h.strip() for h in hosts.split(",") if h.strip()],
        ephemeral_key=key is None,
    )
