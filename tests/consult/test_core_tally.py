"""The tally on a hand-checked board: mixed mode, replacement, revocation, rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nacl.signing import SigningKey

from beffroi.consult.ballot import KeyInfo, make_ballot, sign
from beffroi.consult.board import Board
from beffroi.consult.spec import spec_from_dict
from beffroi.consult.tally import Credential, tally

BASE: dict[str, Any] = {
    "id": "t-1",
    "title": "Test",
    "opens": "2026-01-01T00:00:00Z",
    "closes": "2026-02-01T00:00:00Z",
    "access": "mixed",
    "questions": [
        {
            "code": "q",
            "kind": "single",
            "per_row": True,
            "required": True,
            "options": [{"code": "oui", "label": "Oui"}, {"code": "non", "label": "Non"}],
        },
        {"code": "s", "kind": "scale", "scale_min": 1, "scale_max": 5},
    ],
    "rows": {"labels": ["Responsable légal 1", "Responsable légal 2"], "min_filled": 1},
    "segments": [
        {"code": "S1", "label": "Un", "electorate": 10},
        {"code": "S2", "label": "Deux", "electorate": 5},
    ],
    "rules": [
        {"code": "one_ballot_per_key"},
        {"code": "integrity_flag", "params": {"flags": ["burst"]}},
    ],
}
SEEDS = {name: bytes([i + 1]) * 32 for i, name in enumerate("ABC")}
PKS = {name: bytes(SigningKey(s).verify_key).hex() for name, s in SEEDS.items()}
SEGMENT = {"A": "S1", "B": "S2", "C": "S1"}


def build(post_hoc: bool) -> tuple[Any, dict[str, Credential], list[dict[str, Any]], dict]:
    spec = spec_from_dict(BASE)
    board = Board(spec, {PKS[k]: KeyInfo(SEGMENT[k]) for k in PKS})
    t = datetime(2026, 1, 2, tzinfo=UTC)

    def keyed(name: str, seq: int, rows: list[dict[str, Any]], s: int) -> dict[str, Any]:
        nonlocal t
        t += timedelta(minutes=1)
        b = make_ballot(spec, {"s": s}, rows, public_key=PKS[name], seq=seq)
        return board.submit(b, sign(b, SEEDS[name]), t).entry

    def unkeyed(seg: str, rows: list[dict[str, Any]], s: int | None) -> dict[str, Any]:
        nonlocal t
        t += timedelta(minutes=1)
        answers = {} if s is None else {"s": s}
        b = make_ballot(spec, answers, rows, public_key=None, seq=1, segment=seg)
        return board.submit(b, None, t).entry

    keyed("A", 1, [{"q": "oui"}, {"q": "non"}], 5)
    keyed("B", 1, [{"q": "oui"}, {}], 3)
    unkeyed("S1", [{"q": "non"}, {}], 1)
    keyed("A", 2, [{"q": "non"}, {}], 2)
    e5 = unkeyed("S2", [{"q": "oui"}, {"q": "oui"}], None)
    keyed("C", 1, [{"q": "oui"}, {}], 4)
    e7 = unkeyed("S1", [{"q": "oui"}, {}], 4)
    if post_hoc:
        d = dict(
            BASE,
            rules=[
                *BASE["rules"],
                {
                    "code": "exclude_entries",
                    "added_after_opening": True,
                    "params": {"entries": {e7["hash"]: "réponse de test de l'organisateur"}},
                },
            ],
        )
        spec = spec_from_dict(d)
    creds = {PKS[k]: Credential(SEGMENT[k], revoked=(k == "C")) for k in PKS}
    return spec, creds, board.entries, {e5["hash"]: ["burst"]}


def test_hand_checked_results() -> None:
    spec, creds, entries, flags = build(post_hoc=True)
    r = tally(spec, creds, entries, flags)
    assert [(x["n"], x["rule"]) for x in r["exclusions"]] == [
        (1, "one_ballot_per_key"),
        (5, "integrity_flag"),
        (6, "revoked_key"),
        (7, "exclude_entries"),
    ]
    assert r["exclusions"][0]["reason"] == "remplacé par l'entrée n° 4"
    assert r["exclusions_by_rule"] == {
        "one_ballot_per_key": 1,
        "integrity_flag": 1,
        "revoked_key": 1,
        "exclude_entries": 1,
    }
    assert r["counted"] == {"all": 3, "verified": 2, "unverified": 1}
    res = r["results"]
    assert res["all"]["questions"]["q"] == {"answered": 3, "counts": {"oui": 1, "non": 2}}
    assert res["all"]["rows"][0]["q"] == {"answered": 3, "counts": {"oui": 1, "non": 2}}
    assert res["all"]["rows"][1]["q"] == {"answered": 0, "counts": {"oui": 0, "non": 0}}
    assert res["all"]["questions"]["s"] == {
        "answered": 3,
        "counts": {"1": 1, "2": 1, "3": 1, "4": 0, "5": 0},
        "sum": 6,
    }
    assert res["verified"]["questions"]["q"]["counts"] == {"oui": 1, "non": 1}
    assert res["verified"]["questions"]["s"]["sum"] == 5
    assert res["unverified"]["questions"]["q"]["counts"] == {"oui": 0, "non": 1}
    s1, s2 = r["segments"]["S1"], r["segments"]["S2"]
    assert (s1["electorate"], s1["counted"], s1["verified"], s1["unverified"]) == (10, 2, 1, 1)
    assert (s2["electorate"], s2["counted"], s2["verified"], s2["unverified"]) == (5, 1, 1, 0)
    assert s2["results"]["all"]["questions"]["q"]["counts"] == {"oui": 1, "non": 0}
    assert r["electorate"] == 15
    assert r["revoked_credentials"] == 1
    assert r["access_note"].startswith("consultation mixte")
    # The post-hoc rule's effect is shown next to the result without it.
    assert r["post_hoc_rules"] == ["exclude_entries"]
    w = r["without_post_hoc"]
    assert w["counted"] == {"all": 4, "verified": 2, "unverified": 2}
    assert w["results"]["all"]["questions"]["q"]["counts"] == {"oui": 2, "non": 2}


def test_switching_a_rule_off_shows_its_effect() -> None:
    spec, creds, entries, flags = build(post_hoc=False)
    r = tally(spec, creds, entries, flags, disabled=["one_ballot_per_key", "integrity_flag"])
    # Both ballots of key A and the flagged ballot now count; the revoked key still does not.
    assert r["counted"] == {"all": 6, "verified": 3, "unverified": 3}
    assert r["without_post_hoc"] is None
    assert [x["rule"] for x in r["exclusions"]] == ["revoked_key"]


def test_empty_board() -> None:
    spec = spec_from_dict(BASE)
    r = tally(spec, {}, [])
    assert r["counted"] == {"all": 0, "verified": 0, "unverified": 0}
    assert r["board"] == {"entries": 0, "head": r["spec_hash"]}
    assert set(r["segments"]) == {"S1", "S2"}


def test_multiple_choice_and_text_counts() -> None:
    spec = spec_from_dict(
        {
            "id": "t-2",
            "title": "Test",
            "opens": "2026-01-01T00:00:00Z",
            "closes": "2026-02-01T00:00:00Z",
            "access": "open",
            "questions": [
                {
                    "code": "m",
                    "kind": "multiple",
                    "max_choices": 2,
                    "options": [{"code": "a"}, {"code": "b"}, {"code": "c"}],
                },
                {"code": "t", "kind": "text"},
            ],
        }
    )
    board = Board(spec)
    t = datetime(2026, 1, 2, tzinfo=UTC)
    for answers in ({"m": ["a", "b"], "t": "oui"}, {"m": [], "t": "   "}, {"m": ["b"]}, {}):
        t += timedelta(seconds=1)
        board.submit(make_ballot(spec, answers, public_key=None, seq=1), None, t)
    r = tally(spec, {}, board.entries)
    q = r["results"]["all"]["questions"]
    assert q["m"] == {"answered": 3, "counts": {"a": 1, "b": 2, "c": 0}}
    assert q["t"] == {"answered": 1}  # blank text is not an answer
    assert r["counted"] == {"all": 4, "verified": 0, "unverified": 4}
    assert r["electorate"] is None and r["access_note"].startswith("consultation ouverte")
