"""Start Django for a CLI command, turning configuration mistakes into one clear line."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn


class Fatal(SystemExit):
    """Exit with one line on stderr and a non-zero code, no traceback."""

    def __init__(self, message: str, code: int = 2) -> None:
        print(f"beffroi: {message}", file=sys.stderr)
        super().__init__(code)


def fail(message: str, code: int = 2) -> NoReturn:
    raise Fatal(message, code)


def setup_django(*, read_only: bool = False) -> None:
    """Start Django; read_only for the commands that only read: nothing is created
    (no data directory, key or database file), see require_beffroi_database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.settings")
    from beffroi import config
    from beffroi.config import ConfigError

    if read_only:
        config.read_only = True
    try:
        import django

        django.setup()
    except ConfigError as exc:
        fail(str(exc))


def check_database() -> None:
    from django.db import connection
    from django.db.utils import Error

    _owner_only_sqlite_file()  # before the first connection, which would make it 0644
    try:
        connection.ensure_connection()
    except Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        settings_db = connection.settings_dict
        where = settings_db.get("NAME") or "?"
        if connection.vendor != "sqlite":
            host = settings_db.get("HOST") or "localhost"
            where = f"{host}:{settings_db.get('PORT') or 5432}/{where}"
        fail(f"cannot open the database {where} (from DATABASE_URL): {detail}")


def _owner_only_sqlite_file() -> None:
    """Make the SQLite database file owner-only if it does not exist yet. Called by the
    commands that will write (check_database, migrate), never when the configuration loads,
    so that a command refused at start-up or one that only reads leaves nothing behind."""
    from django.db import connection

    from beffroi import config

    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor == "sqlite" and name and name != ":memory:" and "mode=memory" not in name:
        config.create_sqlite_file(Path(name))


# pg_advisory_lock's key for "migrations in progress": any fixed 64-bit number no other
# tool on the same database is likely to use ("beffroi" in ASCII, truncated).
MIGRATION_LOCK_KEY = 0x62656666726F69


@contextmanager
def migration_lock() -> Iterator[None]:
    """Hold, for the duration, the lock that lets one process at a time migrate.

    `serve` and `worker` both migrate when they start, and two services started together
    (or restarted after an upgrade) raced: on a fresh PostgreSQL database the second
    failed to create django_migrations. The second now waits, then finds nothing to do.
    PostgreSQL: a session-level advisory lock, released if the process dies. SQLite: an
    exclusive flock on a file beside the database (the database's own locks are per
    transaction, and migrate is many transactions).
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or not name or name == ":memory:" or "mode=memory" in name:
        yield  # one process owns an in-memory database; nothing to serialise
        return
    import fcntl

    _owner_only_sqlite_file()
    fd = os.open(f"{name}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def require_beffroi_database(*, needs_key: bool = False) -> None:
    """For a read-only command: a migrated Beffroi database, reached without creating
    anything, or one line and exit 2.

    Run from another directory without the services' environment (cron starts in $HOME),
    BEFFROI_DATA_DIR's default ./var names nobody's data: before this check, `journal
    verify` there made a new key and an empty database, then printed a traceback.
    needs_key: the command reads pseudonyms or digests, which a made-up key would all
    show as altered.
    """
    from pathlib import Path

    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils.translation import gettext as _

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = Path(str(db.get("NAME") or ""))
        where = str(settings.DATA_DIR if name == settings.DATA_DIR / "beffroi.sqlite3" else name)
    else:
        where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"
    missing = _(
        "Aucune base Beffroi dans %(where)s : définissez BEFFROI_DATA_DIR ou DATABASE_URL."
    ) % {"where": where}
    # SQLite creates a missing file on connecting: look before.
    if connection.vendor == "sqlite" and not name.is_file():
        fail(missing)
    check_database()
    if "core_journalentry" not in connection.introspection.table_names():
        fail(missing)
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        fail(
            _(
                "La base Beffroi de %(where)s n'est pas à jour pour cette version : "
                "lancez « beffroi manage migrate » (docs/operations.md, « Upgrading »)."
            )
            % {"where": where}
        )
    if _newer_migrations(executor):
        fail(
            _("La base Beffroi de %(where)s est plus récente que cette version de Beffroi.")
            % {"where": where}
        )
    if needs_key and settings.CONFIG.ephemeral_key and not os.environ.get("BEFFROI_PSEUDONYM_KEY"):
        fail(
            _(
                "Aucune clé secrète : ni BEFFROI_SECRET_KEY, ni BEFFROI_PSEUDONYM_KEY, ni "
                "le fichier %(path)s ; donnez à la commande l'environnement des services."
            )
            % {"path": settings.DATA_DIR / "secret_key"}
        )


def _newer_migrations(executor: Any) -> list[tuple[str, str]]:
    """Migrations of Beffroi's own apps that the database has applied and this code does
    not know: a newer version migrated it (migration_plan sees only the code's graph).
    Only those numbered past the app's last migration on disk count, so that the rows a
    squash leaves behind once its replaced files are deleted are not taken for them."""
    from django.apps import apps

    ours = {c.label for c in apps.get_app_configs() if c.name.startswith("beffroi.")}
    known = set(executor.loader.disk_migrations)
    last: dict[str, int] = {}
    for app, name in known:
        if app in ours and name[:4].isdigit():
            last[app] = max(last.get(app, 0), int(name[:4]))
    return sorted(
        (app, name)
        for app, name in executor.loader.applied_migrations
        if app in ours
        and (app, name) not in known
        and name[:4].isdigit()
        and int(name[:4]) > last.get(app, 0)
    )


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    with migration_lock():
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("createcachetable", verbosity=verbosity)


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                "(another server may be using it; choose another with --port)"
            )
