"""Time of the watch room's pages at the size of a long night, and whether it follows the
number of cards or lines.

    .venv/bin/python bench/watch_room_pages.py [--cards 20000] [--lines 2000]

Builds, in a database of its own (a temporary directory), an activation with ``--cards``
triage cards (languages, information types, platforms and communes mixed as in
CrisisLexT26), a quarter of them decided, and a main courante of ``--lines`` lines (a
third with a status change), then asks each page through Django's test client as a
volunteer, a partner and a partner link would. Prints, per page, the best of five of
the wall and CPU milliseconds, the number of queries and the size of the answer; then the
same at a tenth of the size, so that a page whose cost follows the whole table shows it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

LANGS = ["en"] * 14 + ["es", "it", "pt", "fr", "tl", "id", "de", "ja", ""]
TYPES = [
    "Not applicable",
    "Other Useful Information",
    "Caution and advice",
    "Affected individuals",
    "Infrastructure and utilities",
    "Sympathy and support",
    "Donations and volunteering",
]
COMMUNES = [("85128", "Luçon"), ("85191", "La Roche-sur-Yon"), ("85054", "Chasnais"), ("", "")]


def build(cards: int, lines: int, tag: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from beffroi.core import actions as core
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry, LogUpdate

    rng = random.Random(cards)
    org = core.create_organisation(f"Bench {tag}", f"bench-{tag}")
    users = {}
    for role, name in (("coordinator", "coord"), ("volunteer", "vol"), ("partner", "part")):
        users[role] = core.create_account(f"{name}-{tag}", "pw-bench-123456")
        core.set_role(users[role], org, role, actor=None)
    activation = actions.create_activation(
        org, name="Nuit", event_type="inondation", area=["85"], actor=users["coordinator"]
    )
    now = timezone.now()
    batch = []
    for i in range(cards):
        code, name = rng.choice(COMMUNES)
        decided = rng.random() < 0.25
        batch.append(
            Card(
                activation=activation,
                group_id=f"g{i}",
                source_kind=rng.choice(["mastodon", "bluesky", "rss", "file"]),
                external_id=str(i),
                text=f"Message {i} : l'eau monte rue {rng.randint(1, 99)}, #crue {name}",
                posted_at=now,
                lang=rng.choice(LANGS),
                info_type=rng.choice(TYPES),
                source_type=rng.choice(["Eyewitness", "Media", "Outsiders"]),
                commune_code=code,
                commune_name=name,
                priority=rng.random(),
                state="decided" if decided else "queued",
                decision="irrelevant" if decided else "",
                decided_at=now - timezone.timedelta(seconds=i) if decided else None,
            )
        )
    Card.objects.bulk_create(batch, batch_size=2000)
    LogEntry.objects.bulk_create(
        (
            LogEntry(
                activation=activation,
                number=n,
                at=now - timezone.timedelta(seconds=lines - n),
                channel=rng.choice(["reseaux-sociaux", "telephone"]),
                category=rng.choice(["routes", "degats", "personnes"]),
                commune_code="85128",
                commune_name="Luçon",
                text=f"Ligne {n} : route coupée, eau {rng.randint(10, 90)} cm" * 2,
                for_partners=n % 4 != 0,
            )
            for n in range(1, lines + 1)
        ),
        batch_size=2000,
    )
    LogUpdate.objects.bulk_create(
        LogUpdate(entry=e, status="transmis", note="transmis au COD", actor=users["volunteer"])
        for e in LogEntry.objects.filter(activation=activation, number__in=range(1, lines, 3))
    )
    _link, token = actions.create_partner_link(
        activation, label="COD", days=1, actor=users["coordinator"]
    )
    get_user_model()  # accounts exist
    return {"org": org, "activation": activation, "users": users, "token": token, "lines": lines}


def pages(world: dict) -> list[tuple[str, str, str]]:
    from django.urls import reverse

    a, slug = world["activation"], world["org"].slug

    def u(name: str, *args: object) -> str:
        return reverse(name, args=[slug, a.pk, *args])

    both = "type=Affected+individuals"
    # Older pages start at a line (views.FROM_PARAM): the 901st newest, else the first
    # line of the last page. Line numbers follow time here; one below is a partner's.
    lines = world["lines"]
    tenth = max(lines - 900, min(100, lines))
    # The decided cards' older pages start at a decision (views._decided_cursor): the
    # 451st newest, else the oldest.
    from beffroi.watch.models import Card
    from beffroi.watch.views import _decided_cursor

    decided = Card.objects.filter(activation=a, state="decided").order_by("-decided_at", "-pk")
    tenth_card = decided[450:451].first() or decided.last()
    decided_tenth = _decided_cursor(tenth_card) if tenth_card is not None else ""

    return [
        ("volunteer", "activation page", u("watch-activation")),
        ("volunteer", "triage page", u("watch-triage")),
        ("volunteer", "queue (200 cards)", u("watch-queue")),
        ("volunteer", "queue, language filter", u("watch-queue") + "?lang=es"),
        ("volunteer", "queue, commune « lucon »", u("watch-queue") + "?commune=lucon"),
        ("volunteer", "queue, source + type", u("watch-queue") + f"?source=Eyewitness&{both}"),
        ("volunteer", "decided cards, page 1", u("watch-decided")),
        ("volunteer", "decided cards, page 10", u("watch-decided") + f"?depuis={decided_tenth}"),
        ("volunteer", "main courante, page 1", u("watch-courante")),
        ("volunteer", "main courante, page 10", u("watch-courante") + f"?depuis={tenth}"),
        ("volunteer", "main courante, live rows", u("watch-courante-rows")),
        # An older page's refresh also counts the lines arrived above its mark (« lu »).
        ("volunteer", "main courante, page 10 live rows", u("watch-courante-rows")
         + f"?depuis={tenth}&lu={max(lines - 10, 0)}"),
        ("volunteer", "main courante, search", u("watch-courante") + "?q=cm"),
        ("volunteer", "export CSV (all lines)", u("watch-courante-export", "csv")),
        ("partner", "partner's main courante", u("watch-courante")),
        ("link", "partner link page", reverse("watch-partner", args=[world["token"]])),
        ("link", "partner link rows", reverse("watch-partner-rows", args=[world["token"]])),
        ("link", "partner link, page 10", reverse("watch-partner", args=[world["token"]])
         + f"?depuis={tenth - 1}"),
    ]  # fmt: skip


def measure(world: dict, label: str) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for role in ("volunteer", "partner"):
        clients[role] = Client()
        clients[role].force_login(world["users"][role])
    clients["link"] = Client()
    print(f"\n{label}")
    print(f"{'page':32} {'wall ms':>8} {'CPU ms':>8} {'queries':>8} {'kB':>8}")
    for who, name, url in pages(world):
        best_wall = best_cpu = float("inf")
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                w0, c0 = time.perf_counter(), time.process_time()
                response = clients[who].get(url)
                content = b"".join(response) if response.streaming else response.content
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            assert response.status_code == 200, (url, response.status_code)
            best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
        print(
            f"{name:32} {best_wall * 1000:8.1f} {best_cpu * 1000:8.1f} "
            f"{len(queries.captured_queries):8d} {len(content) / 1000:8.0f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=20000)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="beffroi-bench-pages-")
    os.environ["BEFFROI_DATA_DIR"] = data
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testing_settings")
    os.environ["BEFFROI_DEBUG"] = "1"  # the queries are counted
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    for scale in (10, 1):
        cards, lines = args.cards // scale, args.lines // scale
        t0 = time.perf_counter()
        world = build(cards, lines, f"x{scale}")
        print(f"\nbuilt {cards} cards and {lines} lines in {time.perf_counter() - t0:.1f} s")
        measure(world, f"{cards} cards, {lines} lines of main courante")
    import shutil

    from django.db import connections

    connections.close_all()
    shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
