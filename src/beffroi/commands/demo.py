from __future__ import annotations

import argparse
import os

from beffroi.commands import bootstrap, serve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    serve.add_arguments(parser)
    # None says "not given": with --no-serve the demo prints full links only to an
    # address it was told (run() fills in serve's defaults to serve).
    parser.set_defaults(host=None, port=None)
    parser.add_argument("--no-serve", action="store_true", help="load the demo data and exit")
    parser.add_argument(
        "--public-passwords",
        action="store_true",
        help=(
            "load the demo without BEFFROI_DEBUG=1 (a public demonstration server): its "
            "accounts, a superuser among them, have the password printed in the README"
        ),
    )


def check_allowed(*, public_passwords: bool) -> None:
    """The demo's accounts, the superuser ``admin`` among them, share a password printed
    in the README. Loaded with production settings it handed the instance to anyone who
    read it: it runs with ``BEFFROI_DEBUG=1`` (as ``make run`` sets it) or with
    ``--public-passwords`` said on purpose, and never next to other organisations."""
    from django.conf import settings

    from beffroi.core.demo import ORG_SLUG, PASSWORD
    from beffroi.core.models import Organisation

    if not settings.DEBUG and not public_passwords:
        bootstrap.fail(
            f"the demo creates accounts, a superuser among them, with the published password "
            f"{PASSWORD!r}; it runs with BEFFROI_DEBUG=1 (as `make run` sets it), or pass "
            "--public-passwords to load it on purpose on a public demonstration server"
        )
    if not settings.DEBUG and Organisation.objects.exclude(slug=ORG_SLUG).exists():
        bootstrap.fail(
            "this database holds other organisations than the demo's: the demo's superuser, "
            "whose password is published, would reach them; load the demo into its own "
            "database (BEFFROI_DATA_DIR or DATABASE_URL)"
        )


def _serve_defaults() -> argparse.Namespace:
    scratch = argparse.ArgumentParser(add_help=False)
    serve.add_arguments(scratch)
    return scratch.parse_args([])


def _links_base(args: argparse.Namespace, *, given: bool) -> str | None:
    """Set BEFFROI_DEMO_URL, which the demo's printed links (credential letters, the
    board, the partner link) start with; return a line to print first, if any."""
    if "BEFFROI_DEMO_URL" in os.environ:
        return None
    if not args.no_serve or given:
        # The address it is about to serve (whatever port `make run PORT=…` chose), or
        # the one it was told the instance is served at.
        os.environ["BEFFROI_DEMO_URL"] = f"http://{args.host}:{args.port}"
        return None
    # Loaded for a server started some other way: its address is unknown here, and a
    # link to a guessed port would mislead. Paths are right wherever it is served.
    os.environ["BEFFROI_DEMO_URL"] = ""
    return (
        "links below are paths: put the address this instance is served at in front "
        "(or set BEFFROI_DEMO_URL, or pass --host/--port, to print full links)"
    )


def run(args: argparse.Namespace) -> int:
    given = args.host is not None or args.port is not None
    defaults = _serve_defaults()
    args.host = defaults.host if args.host is None else args.host
    args.port = defaults.port if args.port is None else args.port
    links_note = _links_base(args, given=given)
    bootstrap.setup_django()
    from django.conf import settings

    if not settings.DEBUG and not args.public_passwords:
        check_allowed(public_passwords=False)  # refused before the database is touched
    bootstrap.check_database()
    if not args.no_serve:
        bootstrap.check_port_free(args.host, args.port)
    bootstrap.migrate()
    check_allowed(public_passwords=args.public_passwords)
    from beffroi.core import demo

    if links_note:
        print(links_note, flush=True)
    for line in demo.load():
        print(line, flush=True)
    if args.no_serve:
        return 0
    return serve.serve(args.host, args.port, args.workers, with_worker=not args.no_worker)
