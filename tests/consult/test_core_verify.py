"""The independent verifier: tampering, results, CLI exit codes, bundle over HTTP."""

from __future__ import annotations

import copy
import functools
import http.server
import io
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.cli import main as cli_main
from beffroi.consult import verify as verify_mod
from beffroi.consult.board import make_entry
from beffroi.consult.bundle import MEMBERS
from beffroi.consult.examples import all_kinds_spec, example_board
from beffroi.consult.spec import parse_time
from beffroi.consult.verify import verify_bundle

# Every question kind, so that tampering reaches scales, lists and free text too.
EXAMPLE = example_board(40, seed=3, spec=all_kinds_spec())
BUNDLE = EXAMPLE.bundle()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {m: zf.read(m) for m in zf.namelist()}


def rezip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return buf.getvalue()


def with_entries(entries: list[dict[str, Any]]) -> bytes:
    parts = members(BUNDLE)
    parts["ballots.jsonl"] = "".join(
        json.dumps(e, ensure_ascii=False) + "\n" for e in entries
    ).encode()
    return rezip(parts)


def rechain(entries: list[dict[str, Any]], first_prev: str) -> list[dict[str, Any]]:
    """What a dishonest organiser would do: renumber and recompute the whole chain."""
    out, prev = [], first_prev
    for i, e in enumerate(entries, start=1):
        new = make_entry(i, prev, e["ballot"], e["signature"], parse_time(e["received_at"], "t"))
        out.append(new)
        prev = new["hash"]
    return out


ENTRIES = EXAMPLE.board.entries
N = len(ENTRIES)


def test_example_bundle_verifies() -> None:
    report = verify_bundle(BUNDLE)
    assert report.ok, report.lines()
    assert set(members(BUNDLE)) == set(MEMBERS)
    assert report.stats["entries"] == N
    assert report.stats["revoked"] == 1


def test_the_affairs_example_bundle_verifies() -> None:
    affair = example_board(60, seed=5)
    assert [q.code for q in affair.spec.questions] == ["blouse", "drapeau", "aide"]
    report = verify_bundle(affair.bundle())
    assert report.ok, report.lines()
    assert report.stats["entries"] == len(affair.board.entries)


def mutate_ballot(entry: dict[str, Any], how: int) -> dict[str, Any]:
    e = copy.deepcopy(entry)
    b = e["ballot"]
    if how == 0:
        b["rows"][0]["semaine"] = "4j" if b["rows"][0]["semaine"] != "4j" else "4j5"
    elif how == 1:
        b["answers"]["satisfaction"] = 1 if b["answers"].get("satisfaction") != 1 else 2
    elif how == 2:
        b["seq"] += 1
    elif how == 3:
        e["received_at"] = e["received_at"].replace("Z", "1Z")[:-2] + "Z"
        e["received_at"] = e["received_at"][:-3] + (
            "00Z" if e["received_at"][-3:-1] != "00" else "01Z"
        )
    elif how == 4:
        sig = e["signature"] or "00" * 64
        e["signature"] = ("1" if sig[0] != "1" else "2") + sig[1:]
    elif how == 5:
        b["segment"] = "A1" if b["segment"] != "A1" else "A2"
    elif how == 6:
        b["answers"]["commentaire"] = b["answers"].get("commentaire", "") + "é"
    return e


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    op=st.sampled_from(["drop", "duplicate", "swap", "alter", "alter_rechain", "add_forged"]),
    i=st.integers(0, N - 1),
    j=st.integers(0, N - 1),
    how=st.integers(0, 6),
)
def test_any_single_tampering_makes_verify_fail(op: str, i: int, j: int, how: int) -> None:
    entries = copy.deepcopy(ENTRIES)
    if op == "drop":
        del entries[i]
    elif op == "duplicate":
        entries.insert(j, copy.deepcopy(entries[i]))
    elif op == "swap":
        if i == j:
            j = (i + 1) % N
        entries[i], entries[j] = entries[j], entries[i]
    elif op == "alter":
        entries[i] = mutate_ballot(entries[i], how)
    elif op == "alter_rechain":
        entries[i] = mutate_ballot(entries[i], how)
        entries = rechain(entries, ENTRIES[0]["prev"])
    elif op == "add_forged":
        # A new ballot under a known key, chained correctly but signed by no one.
        forged = copy.deepcopy(next(e for e in ENTRIES if e["signature"]))
        forged["ballot"]["seq"] += 10**6
        entries.insert(j, forged)
        entries = rechain(entries, ENTRIES[0]["prev"])
    report = verify_bundle(with_entries(entries))
    assert not report.ok
    assert report.lines()


def test_dropping_the_last_entry_and_fixing_the_chain_is_still_caught() -> None:
    report = verify_bundle(with_entries(copy.deepcopy(ENTRIES[:-1])))
    assert not report.ok
    assert any("closed" in line for line in report.lines())


def test_tampered_results_are_reported_with_the_difference() -> None:
    parts = members(BUNDLE)
    results = json.loads(parts["results.json"])
    results["results"]["all"]["questions"]["semaine"]["counts"]["4j"] += 1
    parts["results.json"] = json.dumps(results).encode()
    report = verify_bundle(rezip(parts))
    assert not report.ok
    assert "/results/all/questions/semaine/counts/4j" in report.lines()[0]


def test_changed_question_breaks_spec_hash() -> None:
    parts = members(BUNDLE)
    spec = json.loads(parts["consultation.json"])
    spec["questions"][0]["label"] = "Question reformulée après l'ouverture"
    parts["consultation.json"] = json.dumps(spec).encode()
    lines = verify_bundle(rezip(parts)).lines()
    assert any("empreinte publiée" in line for line in lines)


def test_unannounced_revocation_and_unknown_key() -> None:
    parts = members(BUNDLE)
    creds = [json.loads(x) for x in parts["credentials.jsonl"].splitlines()]
    victim = next(e["ballot"]["public_key"] for e in ENTRIES if e["signature"])
    parts["credentials.jsonl"] = "".join(
        json.dumps(c) + "\n" for c in creds if c["public_key"] != victim
    ).encode()
    lines = verify_bundle(rezip(parts)).lines()
    assert any("clé publique inconnue" in line for line in lines)


def test_swapped_unused_key_breaks_the_fingerprint() -> None:
    # A key nobody voted with, swapped for one the organiser holds: no signature or
    # count check can see it; the fingerprint recorded at import does.
    parts = members(BUNDLE)
    creds = [json.loads(x) for x in parts["credentials.jsonl"].splitlines()]
    used = {e["ballot"]["public_key"] for e in ENTRIES}
    unused = next(c for c in creds if c["public_key"] not in used)
    unused["public_key"] = "ab" * 32
    parts["credentials.jsonl"] = "".join(json.dumps(c) + "\n" for c in creds).encode()
    lines = verify_bundle(rezip(parts)).lines()
    assert any("empreinte" in line and "credentials.jsonl" in line for line in lines), lines


def test_cli_compares_the_authority_fingerprint(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(BUNDLE)
    published = verify_bundle(BUNDLE).stats["keys_fingerprint"]
    assert cli_main(["verify", "--quiet", "--keys-fingerprint", published, str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{published}, celle publiée par l'autorité des codes" in out
    assert "non comparée" not in out
    # Without the authority's figure the verdict says what it could not check.
    assert cli_main(["verify", "--quiet", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"{published}, non comparée à celle publiée par l'autorité des codes" in out
    assert "--keys-fingerprint" in out
    assert cli_main(["verify", "--quiet", "--keys-fingerprint", "0" * 64, str(path)]) == 1
    assert "publiée par l'autorité" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("ballots.jsonl", b'{"n": 1,\n', "ballots.jsonl, ligne 1, colonne"),
        ("results.json", b"\xff", "UTF-8"),
        ("consultation.json", b"[]", "objet attendu"),
    ],
)
def test_unreadable_members_are_named(name: str, content: bytes, needle: str) -> None:
    parts = members(BUNDLE)
    parts[name] = content
    lines = verify_bundle(rezip(parts)).lines()
    assert any(needle in line for line in lines), lines


def test_missing_member_and_not_a_zip() -> None:
    parts = members(BUNDLE)
    del parts["journal.jsonl"]
    assert "journal.jsonl" in verify_bundle(rezip(parts)).lines()[0]
    assert "zip" in verify_bundle(b"not a zip").lines()[0]


@settings(max_examples=int(os.environ.get("BEFFROI_FUZZ", "40")), deadline=None)
@given(st.binary(min_size=1, max_size=40), st.integers(0, 10_000), st.sampled_from(MEMBERS))
def test_fuzzed_members_never_crash_the_verifier(junk: bytes, at: int, name: str) -> None:
    parts = members(BUNDLE)
    content = parts[name]
    at %= len(content)
    parts[name] = content[:at] + junk + content[at + len(junk) :]
    report = verify_bundle(rezip(parts))
    if not same_json(name, parts[name], content):
        assert not report.ok


def same_json(name: str, a: bytes, b: bytes) -> bool:
    """True when a change left the member's parsed content identical."""
    try:
        if name.endswith(".jsonl"):
            return [json.loads(x) for x in a.decode().split("\n") if x.strip()] == [
                json.loads(x) for x in b.decode().split("\n") if x.strip()
            ]
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return False


def test_parallel_path_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_mod, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(verify_mod, "CHUNK", 7)
    seen: list[tuple[int, int]] = []
    assert verify_bundle(BUNDLE, workers=2, progress=lambda d, t: seen.append((d, t))).ok
    assert seen[-1] == (N, N)
    bad = copy.deepcopy(ENTRIES)
    bad[N - 3] = mutate_ballot(bad[N - 3], 4)
    lines = verify_bundle(with_entries(bad), workers=2).lines()
    assert any(f"entrée {N - 2}" in line for line in lines), lines


# -- CLI ---------------------------------------------------------------------------------


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.zip"
    good.write_bytes(BUNDLE)
    assert cli_main(["verify", str(good), "--quiet"]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.zip"
    bad.write_bytes(with_entries(copy.deepcopy(ENTRIES[1:])))
    assert cli_main(["verify", str(bad), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "ÉCHEC" in out and "chaînage rompu" in out
    assert cli_main(["verify", str(tmp_path / "absent.zip")]) == 1
    assert "Impossible de lire" in capsys.readouterr().err


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "bundle.zip").write_bytes(BUNDLE)
    (tmp_path / "bad.zip").write_bytes(with_entries(copy.deepcopy(ENTRIES[:-1])))
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_cli_verifies_a_bundle_url(http_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["verify", f"{http_dir}/bundle.zip", "--quiet"]) == 0
    assert cli_main(["verify", f"{http_dir}/bad.zip", "--quiet"]) == 1
    assert cli_main(["verify", f"{http_dir}/missing.zip", "--quiet"]) == 1
    assert "404" in capsys.readouterr().err


def test_board_csv_has_one_row_per_entry_and_readable_answers() -> None:
    import csv

    from beffroi.consult.bundle import board_csv, credential_records, credentials_for_tally

    creds = credentials_for_tally(credential_records(EXAMPLE.public, EXAMPLE.revocations))
    rows = list(csv.DictReader(io.StringIO(board_csv(EXAMPLE.spec, ENTRIES, creds))))
    assert len(rows) == N
    first, entry = rows[0], ENTRIES[0]
    assert first["hash"] == entry["hash"] and first["n"] == "1"
    assert first["L1.semaine"] == entry["ballot"]["rows"][0]["semaine"]
    assert first["L1.mercredi"] == "|".join(entry["ballot"]["rows"][0].get("mercredi", []))
    assert {r["verified"] for r in rows} == {"oui", "non"}


any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=int(os.environ.get("BEFFROI_FUZZ", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    i=st.integers(0, N - 1),
    field=st.sampled_from(
        [
            "n",
            "received_at",
            "ballot",
            "signature",
            "receipt",
            "prev",
            "hash",
            "ballot.answers",
            "ballot.rows",
            "ballot.seq",
            "ballot.public_key",
            "ballot.v",
            "ballot.segment",
            "ballot.consultation",
        ]
    ),
    value=any_json,
)
def test_any_field_replaced_by_any_json_fails_cleanly(i: int, field: str, value: Any) -> None:
    entries = copy.deepcopy(ENTRIES)
    target, key = entries[i], field
    if field.startswith("ballot."):
        target, key = entries[i]["ballot"], field.split(".", 1)[1]
    if target.get(key) == value and type(target.get(key)) is type(value):
        return
    target[key] = value
    report = verify_bundle(with_entries(entries))
    assert not report.ok


def test_report_caps_the_list_but_counts_everything() -> None:
    from beffroi.consult.verify import MAX_LISTED, Report

    r = Report()
    for k in range(MAX_LISTED + 7):
        r.fail(f"anomalie {k}")
    assert not r.ok
    assert len(r.lines()) == MAX_LISTED + 1
    assert r.lines()[-1] == "… et 7 autres anomalies"
    one = Report()
    for k in range(MAX_LISTED + 1):
        one.fail(f"anomalie {k}")
    assert one.lines()[-1] == "… et 1 autre anomalie"


@pytest.mark.parametrize("when", ["2026-03-04T02:22:30Z", "2026-02-30T10:00:00.000000Z"])
def test_received_time_must_be_canonical_and_real(when: str) -> None:
    from beffroi.consult.board import entry_hash

    entries = copy.deepcopy(ENTRIES)
    prev = entries[0]["prev"]
    for k, e in enumerate(entries):
        if k == 5:
            e["received_at"] = when
        e["prev"] = prev
        e["hash"] = entry_hash(e["n"], prev, e["received_at"], e["receipt"])
        prev = e["hash"]
    lines = verify_bundle(with_entries(entries)).lines()
    assert any("entrée 6 : date de réception invalide" in line for line in lines), lines
