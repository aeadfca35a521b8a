"""Journal values the verifier reads: each in the one form Beffroi writes, or a failure.

A value in another form used to make a check skip the event: a ``credential_added``
time written without microseconds (the same instant) dropped the reissued key's
« no ballot before its reissue » check, and a forged bundle passed (review R13)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from beffroi.consult.bundle import BUNDLE_FORMAT
from beffroi.consult.verify import verify_bundle
from consult_bundles import member, rechain_journal, reissued_key_votes, replace_member, scene

CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
BEFORE_REISSUE = "avant que son code réémis soit ajouté au journal"
OUT_OF_FORM = "hors de la forme AAAA-MM-JJTHH:MM:SS.ffffffZ (UTC, microsecondes)"


def _events(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(x) for x in member(data, "journal.jsonl").splitlines()]


def _set_at(kind: str, value: Any) -> Any:
    def edit(ev: dict[str, Any]) -> None:
        if ev["kind"] == kind:
            ev["at"] = value

    return edit


def _index(data: bytes, kind: str) -> int:
    return next(i for i, ev in enumerate(_events(data), start=1) if ev["kind"] == kind)


# -- what Beffroi writes -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", range(1, BUNDLE_FORMAT + 1))
def test_every_format_writes_canonical_journal_times(fmt: int) -> None:
    data = scene(bundle_format=fmt).bundle()
    events = _events(data)
    assert {ev["kind"] for ev in events} >= {"opened", "credential_added", "flag", "closed"}
    assert all(CANONICAL.fullmatch(ev["at"]) for ev in events), [ev["at"] for ev in events]
    report = verify_bundle(data)
    assert report.ok, report.lines()


@pytest.mark.usesdb
def test_the_app_writes_canonical_journal_times(db: Any) -> None:
    from beffroi.consult import live
    from beffroi.consult.cli_example_bundle import setup_consultation
    from beffroi.core import actions as core_actions

    org = core_actions.create_organisation("Org", "times15")
    c, _ = setup_consultation(org, cid="times15", access="mixed", per_segment=2)
    lines = live.journal_lines(c)
    assert lines and all(CANONICAL.fullmatch(ev["at"]) for ev in lines), lines
    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()


# -- the reissue check cannot be switched off -------------------------------------------


def test_a_reissue_time_in_another_form_still_gets_checked() -> None:
    """R13's probe: the same instant without microseconds sorts after the revocation
    and used to drop the event out of the check, with nothing else said."""
    forged = reissued_key_votes(120)
    assert any(BEFORE_REISSUE in x for x in verify_bundle(forged).lines())
    at = next(ev["at"] for ev in _events(forged) if ev["kind"] == "credential_added")
    short = at[:19] + "Z"
    again = rechain_journal(forged, _set_at("credential_added", short))
    report = verify_bundle(again)
    assert not report.ok
    i = _index(again, "credential_added")
    lines = report.lines()
    assert any(
        x.startswith(f"journal.jsonl, événement {i} : date '{short}' {OUT_OF_FORM}") for x in lines
    ), lines
    # Read for the instant it names, the event still bounds the key's ballots.
    assert any(BEFORE_REISSUE in x and f"({at})" in x for x in lines), lines


@pytest.mark.parametrize("value", ["hier", "2026-02-30T06:00:00.000000Z", 20260316, None])
def test_an_unreadable_reissue_time_is_a_failure(value: Any) -> None:
    data = rechain_journal(scene().bundle(), _set_at("credential_added", value))
    i = _index(data, "credential_added")
    lines = verify_bundle(data).lines()
    assert any(
        x.startswith(f"journal.jsonl, événement {i} : date illisible pour le code réémis")
        and "ne peuvent être comparés à sa réémission" in x
        for x in lines
    ), lines
    absent = f"journal.jsonl, événement {i} : date absente (texte attendu)"
    assert (absent in lines) == (not isinstance(value, str)), lines


# -- every event's time --------------------------------------------------------------------


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda t: t.replace("Z", "+00:00"),  # the same instant, with an offset
        lambda t: t[:19] + "Z",  # no microseconds
        lambda t: t[:23] + "Z",  # milliseconds
        lambda t: t.replace("T", " "),
        lambda t: t[:-1] + "z",
        lambda t: t[:11] + "24" + t[13:],  # hour out of range
        lambda t: " " + t,
    ],
)
@pytest.mark.parametrize("kind", ["opened", "credential_revoked", "flag", "closed"])
def test_a_journal_time_in_another_form_is_a_failure(kind: str, rewrite: Any) -> None:
    honest = scene().bundle()
    at = next(ev["at"] for ev in _events(honest) if ev["kind"] == kind)
    data = rechain_journal(honest, _set_at(kind, rewrite(at)))
    lines = verify_bundle(data).lines()
    i = _index(data, kind)
    wanted = f"journal.jsonl, événement {i} : date {rewrite(at)!r} {OUT_OF_FORM}"
    assert any(x.startswith(wanted) for x in lines), lines


def test_a_journal_out_of_time_order_names_the_event() -> None:
    honest = scene().bundle()
    first = _events(honest)[0]["at"]

    def edit(ev: dict[str, Any]) -> None:
        if ev["kind"] == "flag":
            ev["at"] = first.replace("2026", "2025", 1)

    data = rechain_journal(honest, edit)
    i = _index(data, "flag")
    assert (
        f"journal.jsonl, événement {i} : daté avant l'événement qui le précède (journal non "
        "chronologique)"
    ) in verify_bundle(data).lines()


def test_a_revocation_time_in_another_form_is_named_in_the_credentials() -> None:
    honest = scene().bundle()
    records = [json.loads(x) for x in member(honest, "credentials.jsonl").splitlines()]
    i, rec = next((i, r) for i, r in enumerate(records, start=1) if r["revoked"])
    rec["revoked"]["at"] = rec["revoked"]["at"][:19] + "Z"
    text = "".join(json.dumps(r) + "\n" for r in records)
    data = replace_member(honest, "credentials.jsonl", text.encode())
    lines = verify_bundle(data).lines()
    assert any(
        x.startswith(f"credentials.jsonl, ligne {i} : date de révocation '{rec['revoked']['at']}'")
        for x in lines
    ), lines


# -- other values read as values -----------------------------------------------------------


@pytest.mark.parametrize("line", [b"null", b"[1]", b'"fin"', b"3"])
@pytest.mark.parametrize("where", ["end", "middle"])
def test_a_journal_line_that_is_no_event_is_a_failure(line: bytes, where: str) -> None:
    """It used to be dropped unseen, wherever it stood."""
    honest = scene().bundle()
    lines = member(honest, "journal.jsonl").splitlines(keepends=True)
    at = len(lines) if where == "end" else 2
    text = b"".join([*lines[:at], line + b"\n", *lines[at:]])
    report = verify_bundle(replace_member(honest, "journal.jsonl", text))
    assert f"journal.jsonl, événement {at + 1} : objet JSON attendu" in report.lines()


@pytest.mark.parametrize("kind", ["opened", "flag", "credential_added"])
def test_event_data_that_is_no_object_is_a_failure(kind: str) -> None:
    """An ``opened`` event with a list for data made verify raise."""

    def edit(ev: dict[str, Any]) -> None:
        if ev["kind"] == kind:
            ev["data"] = [ev["data"]]

    data = rechain_journal(scene().bundle(), edit)
    report = verify_bundle(data)
    i = _index(data, kind)
    assert f"journal.jsonl, événement {i} : « data » doit être un objet JSON" in report.lines()


@pytest.mark.parametrize("count", ["22", True, -1, None, [22]])
def test_an_import_count_that_is_no_count_is_a_failure(count: Any) -> None:
    def edit(ev: dict[str, Any]) -> None:
        if ev["kind"] == "credentials_imported":
            ev["data"]["count"] = count

    data = rechain_journal(scene().bundle(), edit)
    i = _index(data, "credentials_imported")
    assert any(
        x.startswith(f"journal.jsonl, événement {i} : nombre de codes importés {count!r} invalide")
        for x in verify_bundle(data).lines()
    )


@pytest.mark.parametrize("field", ["entry", "flag"])
def test_a_flag_whose_names_are_not_text_is_a_failure(field: str) -> None:
    """A flag named by a number matched no rule: the entry quietly counted."""

    def edit(ev: dict[str, Any]) -> None:
        if ev["kind"] == "flag":
            ev["data"][field] = 7

    data = rechain_journal(scene().bundle(), edit)
    i = _index(data, "flag")
    assert (
        f"journal.jsonl, événement {i} : signalement mal formé (« entry » et « flag » doivent "
        "être des textes)"
    ) in verify_bundle(data).lines()
