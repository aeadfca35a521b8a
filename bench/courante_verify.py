"""Time of `beffroi watch courante-verify` over a large main courante.

    .venv/bin/python bench/courante_verify.py [--lines 20000]

Builds, in a database of its own (a temporary directory), an activation with ``--lines``
main courante lines whose digests are journaled 100 lines an entry (as if each had been
changed through Beffroi), then times the check. Prints the seconds, lines a second and
the counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


def build(n: int) -> None:
    from django.utils import timezone

    from beffroi.core import actions as core
    from beffroi.core import journal
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    org = core.create_organisation("Bench", "bench")
    user = core.create_account("coord-bench", "pw-bench-123456")
    core.set_role(user, org, "coordinator", actor=None)
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=user)
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
    data = tempfile.mkdtemp(prefix="beffroi-bench-courante-")
    os.environ["BEFFROI_DATA_DIR"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testing_settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from beffroi.watch import courante_verify

    build(args.lines)
    t0 = time.perf_counter()
    report = courante_verify.check()
    took = time.perf_counter() - t0
    print(
        f"check {took:6.1f} s  {report.checked / took:,.0f} lines/s  checked {report.checked}, "
        f"intact {report.intact}, findings {len(report.findings)}"
    )
    import shutil

    from django.db import connections

    connections.close_all()
    shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
