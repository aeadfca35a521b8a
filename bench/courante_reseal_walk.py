"""Cost of the re-seal's check after a leak: every line walked back through its journal.

    .venv/bin/python bench/courante_reseal_walk.py [--lines 10000]

Builds, in a database of its own (a temporary directory), an activation with ``--lines``
main courante lines sealed under an old secret 100 lines an entry (as
``bench/courante_verify.py`` does), then a status change
per line (one entry each, as volunteers make them), then switches the server to a new
secret. Times the re-seal's check (``courante_verify.check`` with the old secret) with
no compromise date (each digest vouches on its own) and with a date between the two
(each line walked back one entry to the digest before). Prints seconds and lines a
second for both.
"""

from __future__ import annotations

import argparse
import time

from bench_db import scratch_database

OLD, NEW = "bench old secret", "bench new secret"


def build(n: int) -> object:
    """``bench/courante_verify.py``'s main courante sealed under OLD (100 lines an entry),
    then a status change per line; returns a time between the two."""
    import courante_verify as plain
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    settings.BEFFROI_PSEUDONYM_KEY = OLD
    plain.build(n)
    leaked = JournalEntry.objects.order_by("-seq").values_list("at", flat=True).first()
    assert leaked is not None
    user = get_user_model().objects.get(username="coord-bench")
    for line in LogEntry.objects.order_by("pk"):
        actions.update_log_status(line, "clos", actor=user)
    settings.BEFFROI_PSEUDONYM_KEY = NEW
    return leaked + timezone.timedelta(microseconds=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10000)
    args = parser.parse_args()
    with scratch_database("reseal"):
        from beffroi.watch import courante_verify

        leaked = build(args.lines)
        for label, since in (("no date", None), ("walked back", leaked)):
            t0 = time.perf_counter()
            report = courante_verify.check(old_secret=OLD, compromised_since=since)  # type: ignore[arg-type]
            took = time.perf_counter() - t0
            stale = sum(len(lines) for lines in report.stale.values())
            print(
                f"{label:12} {took:6.1f} s  {report.checked / took:,.0f} lines/s  "
                f"to re-seal {stale}, unvouched {len(report.unvouched)}, "
                f"findings {len(report.findings)}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
