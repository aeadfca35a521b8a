"""The runner's French: counts in the right number, a file's skipped line named
(review R12, finding 10), and the window keeping ids as the source remembers them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from beffroi.watch.sources.base import RawPost, Skipped, handle_pseudonymiser
from beffroi.watch.sources.runner import SourceStatus, run_source, skip_text


class _Once:
    kind = "replay"
    source_id = "1"
    finite = True
    poll_interval = 0.0

    def __init__(self, n: int, pseudonymise=None) -> None:
        self.n = n
        if pseudonymise is not None:
            self.pseudonymise = pseudonymise

    def stream(self, checkpoint):
        yield Skipped("Date illisible « not-a-date ».", "ligne 12"), {}
        for i in range(self.n):
            uri = f"at://did:plc:alicesecret{i}/app.bsky.feed.post/{i}"
            yield RawPost("replay", "1", uri, "crue", datetime(2024, 1, 1, tzinfo=UTC)), {}
        yield None, {}


def _run(source, checkpoint=None) -> tuple[list[SourceStatus], dict]:
    statuses: list[SourceStatus] = []
    out = run_source(
        source,
        checkpoint,
        lambda items, cp: None,
        stop_event=threading.Event(),
        max_failures=1,
        on_status=statuses.append,
    )
    return statuses, out


def test_one_message_is_singular_and_the_line_is_named() -> None:
    statuses, _ = _run(_Once(1))
    assert statuses[-1].state == "done"
    assert statuses[-1].last_skip_reason == "Ligne 12 ignorée : date illisible « not-a-date »."
    assert statuses[-1].skipped == 1


def test_plural_counts() -> None:
    assert skip_text(Skipped("JSON mal formé (colonne 3) : x.", "ligne 4")).startswith(
        "Ligne 4 ignorée : JSON mal formé"
    )
    assert skip_text(Skipped("Entrée sans titre ni contenu.", "entrée 2")) == (
        "Entrée sans titre ni contenu."
    )


def test_poll_status_plural() -> None:
    from beffroi.watch.sources.base import Batch

    class Poll:
        kind = "rss"
        source_id = "1"
        poll_interval = 0.0

        def __init__(self, n: int) -> None:
            self.n = n

        def poll(self, checkpoint):
            posts = [
                RawPost("rss", "1", str(i), "crue", datetime(2024, 1, 1, tzinfo=UTC))
                for i in range(self.n)
            ]
            return Batch(posts, {}, exhausted=True)

    for n, text in ((0, "0 message reçu"), (1, "1 message reçu"), (2, "2 messages reçus")):
        statuses, _ = _run(Poll(n))
        assert statuses[-1].message == f"Import terminé : {text} depuis le démarrage du worker."


def test_the_window_keeps_pseudonyms_and_recognises_them_after_a_restart() -> None:
    source = _Once(2, handle_pseudonymiser(b"k" * 32))
    delivered: list[list] = []
    _, checkpoint = _run(source)
    assert "alicesecret" not in str(checkpoint)
    assert len(checkpoint["seen"]) == 2
    # A restart from that checkpoint delivers nothing twice.
    run_source(
        source,
        checkpoint,
        lambda items, cp: delivered.append(list(items)),
        stop_event=threading.Event(),
        max_failures=1,
    )
    assert all(not batch for batch in delivered)
    # A window written before the rule (raw DIDs) is rewritten on load and recognised.
    raw = {
        "v": 1,
        "state": {},
        "seen": [f"at://did:plc:alicesecret{i}/app.bsky.feed.post/{i}" for i in range(2)],
    }
    delivered.clear()
    after = run_source(
        source,
        raw,
        lambda items, cp: delivered.append(list(items)),
        stop_event=threading.Event(),
        max_failures=1,
    )
    assert all(not batch for batch in delivered)
    assert "alicesecret" not in str(after)
