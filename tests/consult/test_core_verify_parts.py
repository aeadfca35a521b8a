"""The verifier split into parts (worker processes) says exactly what one pass says:
the same failures in the same order, and the same recount, seams included."""

from __future__ import annotations

import copy
import io
import json
import signal
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.consult import verify as verify_mod
from beffroi.consult.board import make_entry
from beffroi.consult.bundle import JournalEvent, build_bundle, credential_records, journal_lines
from beffroi.consult.examples import all_kinds_spec, example_board
from beffroi.consult.spec import parse_time, spec_from_dict
from beffroi.consult.verify import verify_bundle

EXAMPLE = example_board(60, seed=11, spec=all_kinds_spec())
ENTRIES = EXAMPLE.board.entries
N = len(ENTRIES)
# Three parts of 20 entries: seams after entries 20 and 40.
SEAMS = (20, 40)


@pytest.fixture(autouse=True)
def _small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_mod, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(verify_mod, "CHUNK", 6)
    # Parts check their first 5 lines before the credentials arrive, the rest after.
    monkeypatch.setattr(verify_mod, "PRELUDE", 5)


def bundle_with(entries: list[dict[str, Any]], base: bytes | None = None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(base or EXAMPLE.bundle())) as zf:
        parts = {m: zf.read(m) for m in zf.namelist()}
    parts["ballots.jsonl"] = "".join(
        json.dumps(e, ensure_ascii=False) + "\n" for e in entries
    ).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return buf.getvalue()


def rechain(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, prev = [], ENTRIES[0]["prev"]
    for i, e in enumerate(entries, start=1):
        new = make_entry(i, prev, e["ballot"], e["signature"], parse_time(e["received_at"], "t"))
        out.append(new)
        prev = new["hash"]
    return out


def both(data: bytes) -> tuple[verify_mod.Report, verify_mod.Report]:
    one = verify_bundle(data, workers=1)
    three = verify_bundle(data, workers=3)
    return one, three


def test_a_valid_board_verifies_in_parts_with_the_same_stats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[int] = []
    init = verify_mod._Parts.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        started.append(len(self.procs))

    monkeypatch.setattr(verify_mod._Parts, "__init__", spy)
    seen: list[tuple[int, int]] = []
    three = verify_bundle(EXAMPLE.bundle(), workers=3, progress=lambda d, t: seen.append((d, t)))
    one = verify_bundle(EXAMPLE.bundle(), workers=1)
    assert one.ok and three.ok, three.lines()
    assert one.stats == three.stats
    assert seen[-1] == (N, N) and all(t == N for _, t in seen)
    assert started == [3, 0]  # three worker processes, then the in-process pass


def keyed_at(rank: int) -> int:
    return next(i for i in range(rank - 1, N) if ENTRIES[i]["ballot"]["public_key"])


def seam_cases() -> list[tuple[str, list[dict[str, Any]]]]:
    cases = []
    s = SEAMS[0]
    # Drop the first entry of the second part: the seam's prev no longer matches.
    cases.append(("drop at seam", [e for i, e in enumerate(ENTRIES) if i != s]))
    # Swap the entries on both sides of a seam (chain and time order break there).
    swapped = copy.deepcopy(ENTRIES)
    swapped[s - 1], swapped[s] = swapped[s], swapped[s - 1]
    cases.append(("swap across seam", swapped))
    # A time going backwards exactly at the seam, chain recomputed.
    back = copy.deepcopy(ENTRIES)
    back[s]["received_at"] = ENTRIES[s - 2]["received_at"]
    cases.append(("time back at seam", rechain(back)))
    # A keyed ballot replayed in a later part, chain recomputed (seq not increasing).
    replay = copy.deepcopy(ENTRIES)
    old = copy.deepcopy(ENTRIES[keyed_at(3)])
    old["received_at"] = replay[SEAMS[1] + 1]["received_at"]
    replay.insert(SEAMS[1] + 1, old)
    cases.append(("replay in a later part", rechain(replay)))
    # Broken entries on either side of both seams.
    junk = copy.deepcopy(ENTRIES)
    for i in (SEAMS[0] - 1, SEAMS[0], SEAMS[1] - 1, SEAMS[1]):
        junk[i]["prev"] = "0" * 64
    cases.append(("prev broken around seams", junk))
    return cases


@pytest.mark.parametrize(("name", "entries"), seam_cases(), ids=[c[0] for c in seam_cases()])
def test_seams_are_checked_like_a_single_pass(name: str, entries: list[dict[str, Any]]) -> None:
    one, three = both(bundle_with(entries))
    assert not one.ok
    assert three.lines() == one.lines()


def test_unparsable_line_is_named_by_its_line_in_any_part() -> None:
    lines = [json.dumps(e, ensure_ascii=False) for e in ENTRIES]
    lines[SEAMS[1] + 2] = lines[SEAMS[1] + 2][:-5]
    # A blank line shifts line numbers but not entry ranks.
    data = "\n".join([*lines[:5], "", *lines[5:]]) + "\n"
    with zipfile.ZipFile(io.BytesIO(EXAMPLE.bundle())) as zf:
        parts = {m: zf.read(m) for m in zf.namelist()}
    parts["ballots.jsonl"] = data.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    one, three = both(buf.getvalue())
    assert three.lines() == one.lines()
    assert any(f"ligne {SEAMS[1] + 4}, colonne" in line for line in one.lines()), one.lines()
    assert one.stats["entries"] is None


def post_hoc_bundle() -> bytes:
    """The example with a post-hoc exclusion of two entries (one in each of two
    parts): results.json then carries the result without it as well."""
    spec_dict = EXAMPLE.spec.to_dict()
    chosen = {ENTRIES[5]["hash"]: "doublon constaté", ENTRIES[45]["hash"]: "test"}
    rule = {
        "code": "exclude_entries",
        "label": "Entrées écartées après l'ouverture",
        "params": {"entries": chosen},
        "added_after_opening": True,
    }
    spec_dict["rules"].append(rule)
    spec = spec_from_dict(spec_dict)
    events = [
        JournalEvent(parse_time(ev["at"], "at"), ev["kind"], ev["data"])
        for ev in EXAMPLE.journal
        if ev["kind"] != "closed"
    ]
    closed = EXAMPLE.journal[-1]
    at = parse_time(closed["at"], "at")
    events.append(JournalEvent(at, "rule_added", {"rule": rule}))
    events.append(JournalEvent(at + timedelta(seconds=1), "closed", closed["data"]))
    return build_bundle(
        spec,
        EXAMPLE.opened_at,
        credential_records(EXAMPLE.public, EXAMPLE.revocations),
        ENTRIES,
        journal_lines(spec, events),
    )


def test_post_hoc_recount_in_parts_equals_the_tally() -> None:
    data = post_hoc_bundle()
    one, three = both(data)
    assert one.ok and three.ok, (one.lines(), three.lines())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        published = json.loads(zf.read("results.json"))
    assert published["without_post_hoc"] is not None
    assert published["exclusions_by_rule"]["exclude_entries"] == 2
    assert one.stats["counted"] == three.stats["counted"] == published["counted"]


def test_a_wrong_without_post_hoc_result_is_caught_in_parts() -> None:
    data = post_hoc_bundle()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {m: zf.read(m) for m in zf.namelist()}
    results = json.loads(parts["results.json"])
    results["without_post_hoc"]["counted"]["all"] += 1
    parts["results.json"] = json.dumps(results).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    one, three = both(buf.getvalue())
    assert three.lines() == one.lines()
    assert "without_post_hoc/counted/all" in one.lines()[0]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    op=st.sampled_from(["drop", "duplicate", "swap", "alter"]),
    i=st.integers(0, N - 1),
    j=st.integers(0, N - 1),
)
def test_any_tampering_reads_the_same_in_parts(op: str, i: int, j: int) -> None:
    entries = copy.deepcopy(ENTRIES)
    if op == "drop":
        del entries[i]
    elif op == "duplicate":
        entries.insert(j, copy.deepcopy(entries[i]))
    elif op == "swap":
        j = (i + 1) % N if i == j else j
        entries[i], entries[j] = entries[j], entries[i]
    else:
        entries[i]["ballot"]["seq"] += 1
    one, three = both(bundle_with(entries))
    assert not one.ok
    assert three.lines() == one.lines()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.binary(min_size=1, max_size=30), at=st.integers(0, 10**6))
def test_junk_in_the_board_reads_the_same_in_parts(junk: bytes, at: int) -> None:
    with zipfile.ZipFile(io.BytesIO(EXAMPLE.bundle())) as zf:
        parts = {m: zf.read(m) for m in zf.namelist()}
    board = parts["ballots.jsonl"]
    at %= len(board)
    parts["ballots.jsonl"] = board[:at] + junk + board[at + len(junk) :]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    one, three = both(buf.getvalue())
    assert three.lines() == one.lines()
    assert three.stats == one.stats


@pytest.fixture
def graceful_sigterm() -> Iterator[None]:
    """A SIGTERM handler that only notes the signal, as a task worker run in the
    same process installs: forked workers inherit it."""
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("member", ["credentials.jsonl", "journal.jsonl", "results.json"])
def test_a_bad_member_read_after_the_workers_started_stops_them(
    member: str, graceful_sigterm: None
) -> None:
    with zipfile.ZipFile(io.BytesIO(EXAMPLE.bundle())) as zf:
        parts = {m: zf.read(m) for m in zf.namelist()}
    parts[member] = parts[member][:25] + b"\n{oops\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    one, three = both(buf.getvalue())
    assert not one.ok
    assert three.lines() == one.lines()
    assert member in one.lines()[0]
