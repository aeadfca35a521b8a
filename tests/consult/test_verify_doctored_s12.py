"""Doctored bundles the verifier must refuse (review R3: findings 2, 5, 9, 1).

Each test builds an honest bundle through the example board, checks that it
verifies, then changes what a dishonest organiser would change and re-chains
everything it can (journal hashes, results), as in the reviewer's scripts.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from beffroi.cli import main as cli_main
from beffroi.consult.ballot import make_ballot, sign
from beffroi.consult.board import KeyInfo
from beffroi.consult.bundle import JournalEvent
from beffroi.consult.credentials import PublicCredential, Revocation, key_list_fingerprint
from beffroi.consult.examples import random_answers
from beffroi.consult.verify import verify_bundle
from consult_bundles import Scene
from consult_bundles import scene as honest_scene

NEW_SEED = bytes(range(32))
NEW_KEY = bytes(SigningKey(NEW_SEED).verify_key).hex()


def scene(*, reissue: bool = True) -> Scene:
    """An honest board; with ``reissue``, one lost letter revoked and reissued by the
    authority, the new code having voted."""
    sc = honest_scene()
    if not reissue:
        return sc
    ex, events, public, revocations = sc.ex, sc.events, sc.public, sc.revocations
    lost = public[1]
    at = sc.later()
    revocations.append(Revocation(lost.public_key, "lettre perdue", at, NEW_KEY))
    public.append(PublicCredential(NEW_KEY, lost.segment))
    events.append(
        JournalEvent(
            at,
            "credential_revoked",
            {"public_key": lost.public_key, "reason": "lettre perdue", "replaced_by": NEW_KEY},
        )
    )
    events.append(
        JournalEvent(at, "credential_added", {"public_key": NEW_KEY, "segment": lost.segment})
    )
    ex.board.revoke(lost.public_key, at)
    ex.board.keys[NEW_KEY] = KeyInfo(lost.segment)
    answers, rows = random_answers(ex.spec, random.Random(1))
    ballot = make_ballot(ex.spec, answers, rows, public_key=NEW_KEY, seq=1)
    ex.board.submit(ballot, sign(ballot, NEW_SEED), at + timedelta(seconds=1))
    return sc


def failures(data: bytes) -> list[str]:
    report = verify_bundle(data)
    return report.lines()


def test_an_honest_reissue_verifies() -> None:
    report = verify_bundle(scene().bundle())
    assert report.ok, report.lines()


# -- finding 2: a credential_added no revocation names ----------------------------


def test_a_key_added_without_a_revocation_is_refused() -> None:
    sc = scene(reissue=False)
    seg = sc.public[0].segment
    sc.public.append(PublicCredential(NEW_KEY, seg))
    at = sc.later()
    sc.events.append(JournalEvent(at, "credential_added", {"public_key": NEW_KEY, "segment": seg}))
    sc.ex.board.keys[NEW_KEY] = KeyInfo(seg)
    answers, rows = random_answers(sc.ex.spec, random.Random(2))
    ballot = make_ballot(sc.ex.spec, answers, rows, public_key=NEW_KEY, seq=1)
    sc.ex.board.submit(ballot, sign(ballot, NEW_SEED), at + timedelta(seconds=1))
    lines = failures(sc.bundle())
    assert any("qu'aucune révocation antérieure ne nomme" in line for line in lines), lines


def test_a_replacement_announced_but_never_added_is_refused() -> None:
    sc = scene()
    sc.events = [e for e in sc.events if e.kind != "credential_added"]
    sc.public = [p for p in sc.public if p.public_key != NEW_KEY]
    # Its ballot goes too, or the unknown key would be the only complaint.
    sc.ex.board.entries.pop()
    lines = failures(sc.bundle())
    assert any("sans événement « credential_added »" in line for line in lines), lines


def test_a_key_added_before_its_revocation_is_refused() -> None:
    sc = scene()
    i = next(k for k, e in enumerate(sc.events) if e.kind == "credential_added")
    added = sc.events.pop(i)
    sc.events.insert(i - 1, added)
    lines = failures(sc.bundle())
    assert any("qu'aucune révocation antérieure ne nomme" in line for line in lines), lines


def test_a_reissued_key_in_another_segment_is_refused() -> None:
    sc = scene()
    segments = sc.ex.spec.segment_codes()
    lost_segment = sc.public[1].segment
    other = next(s for s in segments if s != lost_segment)
    sc.public = [
        p if p.public_key != NEW_KEY else PublicCredential(NEW_KEY, other) for p in sc.public
    ]
    sc.events = [
        e
        if e.kind != "credential_added"
        else JournalEvent(e.at, e.kind, {"public_key": NEW_KEY, "segment": other})
        for e in sc.events
    ]
    lines = failures(sc.bundle())
    assert any("n'a pas le segment du code qu'il remplace" in line for line in lines), lines


# -- finding 5: exclusion decisions are never shortened ---------------------------


def _exclusion(sc: Scene, decided: dict[str, str], added: list[str]) -> None:
    rule = {
        "code": "exclude_entries",
        "label": "Décisions",
        "params": {"entries": decided},
        "added_after_opening": True,
    }
    at = sc.later()
    sc.events.append(JournalEvent(at, "rule_added", {"rule": rule, "entries_added": added}))
    sc.spec_dict["rules"] = [r for r in sc.spec_dict["rules"] if r["code"] != "exclude_entries"]
    sc.spec_dict["rules"].append(rule)


def test_two_honest_exclusion_decisions_verify() -> None:
    sc = scene(reissue=False)
    e1, e2 = (e["hash"] for e in sc.ex.board.entries[3:5])
    _exclusion(sc, {e1: "doublon"}, [e1])
    _exclusion(sc, {e1: "doublon", e2: "hors sujet"}, [e2])
    report = verify_bundle(sc.bundle())
    assert report.ok, report.lines()


def test_a_later_decision_that_drops_an_earlier_one_is_refused() -> None:
    sc = scene(reissue=False)
    e1, e2 = (e["hash"] for e in sc.ex.board.entries[3:5])
    _exclusion(sc, {e1: "doublon"}, [e1])
    _exclusion(sc, {e2: "hors sujet"}, [e2])
    lines = failures(sc.bundle())
    assert any("ne se raccourcissent ni ne se réécrivent" in line for line in lines), lines


def test_a_later_decision_that_rewords_an_earlier_one_is_refused() -> None:
    sc = scene(reissue=False)
    e1, e2 = (e["hash"] for e in sc.ex.board.entries[3:5])
    _exclusion(sc, {e1: "doublon"}, [e1])
    _exclusion(sc, {e1: "autre motif", e2: "hors sujet"}, [e2])
    lines = failures(sc.bundle())
    assert any("ne se raccourcissent ni ne se réécrivent" in line for line in lines), lines


def test_entries_added_must_name_what_the_rule_adds() -> None:
    sc = scene(reissue=False)
    e1, e2 = (e["hash"] for e in sc.ex.board.entries[3:5])
    _exclusion(sc, {e1: "doublon"}, [e2])
    lines = failures(sc.bundle())
    assert any("entries_added nomme une entrée que la règle n'écarte pas" in x for x in lines)
    assert any("décision non journalisée" in x for x in lines), lines


def test_a_decision_on_an_entry_absent_from_the_board_is_refused() -> None:
    sc = scene(reissue=False)
    ghost = "ab" * 32
    _exclusion(sc, {ghost: "doublon"}, [ghost])
    lines = failures(sc.bundle())
    assert any("décision d'exclusion sur une entrée absente" in x for x in lines), lines


# -- finding 9: one member, one copy -----------------------------------------------


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
def test_a_member_present_twice_is_refused_whichever_copy_comes_first() -> None:
    honest = scene(reissue=False).bundle()
    with zipfile.ZipFile(io.BytesIO(honest)) as zf:
        parts = {m: zf.read(m) for m in zf.namelist()}
    forged = json.loads(parts["results.json"])
    forged["counted"]["all"] += 100
    forged_bytes = json.dumps(forged).encode()
    for first, second in (
        (forged_bytes, parts["results.json"]),
        (parts["results.json"], forged_bytes),
    ):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for m, content in parts.items():
                if m != "results.json":
                    zf.writestr(m, content)
            zf.writestr("results.json", first)
            zf.writestr("results.json", second)
        lines = failures(buf.getvalue())
        assert lines == ["membre(s) en double dans l'archive (lequel fait foi ?) : results.json"]


def test_the_fingerprint_of_the_honest_scene_covers_every_key() -> None:
    sc = scene()
    report = verify_bundle(sc.bundle())
    everything = key_list_fingerprint((p.public_key, p.segment) for p in sc.public)
    assert report.stats["keys_fingerprint"] == everything


def test_the_summary_breaks_down_the_entries_set_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = scene().bundle()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        published = json.loads(zf.read("results.json"))
    by_rule = published["exclusions_by_rule"]
    assert by_rule.get("revoked_key") and by_rule.get("one_ballot_per_key"), by_rule
    path = tmp_path / "dossier.zip"
    path.write_bytes(data)
    assert cli_main(["verify", "--quiet", str(path)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    aside = sum(by_rule.values())
    assert (
        f"{aside} entrées écartées du compte : {by_rule['revoked_key']} d'un code révoqué, " in said
    )
    replaced = by_rule["one_ballot_per_key"]
    assert f"{replaced} remplacée" in said and "par une réponse ultérieure du même code" in said
    assert "2 codes révoqués, dont " in said and "2 codes réémis à leur place." in said
    assert "Clés importées : " in said and "(à l'ouverture)" in said
    assert "après l'ouverture" not in said


def test_the_summary_lists_a_late_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scene(reissue=False)
    late = PublicCredential(NEW_KEY, sc.public[0].segment)
    sc.public.append(late)
    at = sc.later()
    # The imported keys' fingerprint leaves out the example's reissued letter.
    reissued = {r.replaced_by for r in sc.revocations}
    fingerprint = key_list_fingerprint(
        (p.public_key, p.segment) for p in sc.public if p.public_key not in reissued
    )
    sc.events.append(
        JournalEvent(at, "credentials_imported", {"count": 1, "keys_fingerprint": fingerprint})
    )
    path = tmp_path / "dossier.zip"
    path.write_bytes(sc.bundle())
    assert cli_main(["verify", "--quiet", str(path)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    first = len(sc.public) - 1 - len(reissued)
    when = at.strftime("%Y-%m-%dT%H:%M:%S")
    assert f"Clés importées : {first} clés le " in said
    assert f"(à l'ouverture) ; 1 clé le {when}" in said and "(après l'ouverture)." in said


# -- finding 4 (verify's part): flags only on unsigned entries, before the close ---------


def _flag(entry: dict[str, Any], at: Any) -> JournalEvent:
    return JournalEvent(at, "flag", {"entry": entry["hash"], "flag": "burst", "evidence": "x"})


def test_a_flag_on_a_signed_ballot_is_refused() -> None:
    sc = scene(reissue=False)
    signed = next(e for e in sc.ex.board.entries if e["signature"] is not None)
    sc.events.append(_flag(signed, max(e.at for e in sc.events)))
    lines = failures(sc.bundle())
    assert any("signalement sur le bulletin signé n° " in x for x in lines), lines


def test_a_flag_after_the_close_is_refused() -> None:
    sc = scene(reissue=False)
    unsigned = next(e for e in sc.ex.board.entries if e["signature"] is None)
    sc.after_close.append(_flag(unsigned, sc.ex.spec.closes + timedelta(seconds=2)))
    lines = failures(sc.bundle())
    assert "journal.jsonl : signalement inscrit après la clôture" in lines, lines
