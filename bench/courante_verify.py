"""Time of `beffroi watch courante-verify` over a large main courante.

    .venv/bin/python bench/courante_verify.py [--lines 20000]

Builds, in a database of its own (a temporary directory), an activation with ``--lines``
main courante lines whose digests are journaled 100 lines an entry (as if each had been
changed through Beffroi), then times the check. Prints the seconds, lines a second and
the counts.
"""

from __future__ import annotations

import argparse
import time

from bench_db import scratch_database, watch_room


def build(n: int) -> None:
    from django.utils import timezone

    from beffroi.core import journal
    from beffroi.watch import courante_verify
    from beffroi.watch.models import LogEntry

    _, activation = watch_room("Crue")
    now = timezone.now()
    LogEntry.objects.bulk_create(
        LogEntry(
            activation=activation, number=i, at=now, channel="telephone", category="routes",
            commune_code="85128", commune_name="Luçon",
            text=f"Ligne {i:06d} : route coupée à Luçon, appel de la mairie",
        )
        for i in range(1, n + 1)
    )  # fmt: skip
    pks = list(LogEntry.objects.filter(activation=activation).values_list("pk", flat=True))
    for i in range(0, n, 100):
        lines = LogEntry.objects.filter(pk__in=pks[i : i + 100])
        journal.append("watch.log.status", seal=courante_verify.content_seal(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=20000)
    args = parser.parse_args()
    with scratch_database("courante"):
        from beffroi.watch import courante_verify

        build(args.lines)
        t0 = time.perf_counter()
        report = courante_verify.check()
        took = time.perf_counter() - t0
        print(
            f"check {took:6.1f} s  {report.checked / took:,.0f} lines/s  checked {report.checked}, "
            f"intact {report.intact}, findings {len(report.findings)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
