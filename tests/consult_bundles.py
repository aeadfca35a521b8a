"""Bundles to doctor: an honest example board whose journal, credentials and
revocations a test rewrites before the bundle is built, the events re-chained as a
forger who rebuilds the journal would (tests of the verifier).

``scene()`` gives the honest board of ``examples.example_board`` (30 entries,
seed 7); ``scene(bundle_format=1)`` that of a consultation an older Beffroi
opened; ``scene(opened=…)`` replaces the data of its ``opened`` event (a forged
format number); ``scene(spec=…)`` opens another spec; a test changes the spec through
``spec_dict``."""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from beffroi.consult.ballot import make_ballot, sign
from beffroi.consult.bundle import (
    BUNDLE_FORMAT,
    JournalEvent,
    build_bundle,
    credential_records,
    journal_hash,
    journal_lines,
)
from beffroi.consult.credentials import PublicCredential, Revocation
from beffroi.consult.examples import ExampleBoard, example_board, random_answers
from beffroi.consult.spec import Spec, parse_time, spec_from_dict


@dataclass
class Scene:
    ex: ExampleBoard
    events: list[JournalEvent]
    public: list[PublicCredential]
    revocations: list[Revocation]
    spec_dict: dict[str, Any]
    # Events journaled after the ``closed`` event (a late flag, for instance).
    after_close: list[JournalEvent] = field(default_factory=list)

    def later(self, seconds: int = 1) -> Any:
        """A time after every event so far (journal times never go backwards)."""
        return max(e.at for e in self.events) + timedelta(seconds=seconds)

    def flag_after_close(self) -> dict[str, Any]:
        """Journal, after the ``closed`` event, a flag the integrity rule sets aside on
        an unsigned entry not flagged yet (what an older Beffroi's late audit wrote)."""
        flagged = {ev.data.get("entry") for ev in self.events}
        unsigned = next(
            e for e in self.ex.board.entries if e["signature"] is None and e["hash"] not in flagged
        )
        rule = next(r for r in self.spec_dict["rules"] if r["code"] == "integrity_flag")
        self.after_close.append(
            JournalEvent(
                self.ex.spec.closes + timedelta(seconds=2),
                "flag",
                {"entry": unsigned["hash"], "flag": rule["params"]["flags"][0], "evidence": "x"},
            )
        )
        return unsigned

    def bundle(self, results: dict[str, Any] | None = None) -> bytes:
        """The bundle; ``results`` replaces the tally's results.json."""
        spec = spec_from_dict(self.spec_dict)
        board = self.ex.board
        events = [
            *self.events,
            JournalEvent(
                spec.closes + timedelta(seconds=1),
                "closed",
                {"head": board.head, "entries": len(board.entries)},
            ),
            *self.after_close,
        ]
        return build_bundle(
            spec,
            self.ex.opened_at,
            credential_records(self.public, self.revocations),
            board.entries,
            journal_lines(spec, events),
            results,
        )


def scene(
    opened: dict[str, Any] | None = None,
    *,
    bundle_format: int = BUNDLE_FORMAT,
    n: int = 30,
    seed: int = 7,
    spec: Spec | None = None,
) -> Scene:
    """``bundle_format``: the format the consultation was opened with (an older
    Beffroi's honest board); ``opened``: the ``opened`` event's data as a forger
    rewrites it; ``spec``: the consultation (the example's by default), as opened
    (a zoned spec, say)."""
    ex = example_board(n, seed=seed, bundle_format=bundle_format, spec=spec)
    events = [
        JournalEvent(
            parse_time(line["at"], "at"),
            line["kind"],
            opened if opened is not None and line["kind"] == "opened" else line["data"],
        )
        for line in ex.journal
        if line["kind"] != "closed"
    ]
    return Scene(ex, events, list(ex.public), list(ex.revocations), ex.spec.to_dict())


def reissued_key_votes(late_by: int) -> bytes:
    """The example's reissued code votes a minute after its reissue; the reissue's two
    events (and the credential's revocation record) are then dated ``late_by`` seconds
    after the reissue, as a rebuilt journal could date them."""
    sc = scene()
    [rev] = sc.revocations
    new = rev.replaced_by
    assert new is not None
    answers, rows = random_answers(sc.ex.spec, random.Random(3))
    ballot = make_ballot(sc.ex.spec, answers, rows, public_key=new, seq=1)
    sc.ex.board.submit(ballot, sign(ballot, sc.ex.seeds[new]), rev.at + timedelta(minutes=1))
    when = rev.at + timedelta(seconds=late_by)
    moved = {"credential_revoked", "credential_added"}
    sc.events = sorted(
        (replace(e, at=when) if e.kind in moved else e for e in sc.events), key=lambda e: e.at
    )
    sc.revocations = [Revocation(rev.public_key, rev.reason, when, new)]
    return sc.bundle()


def member(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)


def replace_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, content if info.filename == name else src.read(info))
    return out.getvalue()


def rechain_journal(data: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """The bundle with each journal event passed through ``edit`` (in place) and the
    chain recomputed, as a forger who rewrites raw journal lines would: the edits
    may give values the writer (``JournalEvent``) never produces."""
    events = [json.loads(x) for x in member(data, "journal.jsonl").splitlines()]
    prev = events[0]["prev"]
    for ev in events:
        edit(ev)
        ev["prev"] = prev
        ev["hash"] = journal_hash(ev)
        prev = ev["hash"]
    text = "".join(json.dumps(ev, sort_keys=True, ensure_ascii=False) + "\n" for ev in events)
    return replace_member(data, "journal.jsonl", text.encode())
