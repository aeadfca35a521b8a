"""A code that has voted is never revoked without a replacement.

Revoking it alone dropped a signed ballot while every fingerprint stayed the same:
only the board, the receipt and verify's summary showed it. Now the action refuses
(a replacement the authority made, which its republished fingerprint covers, or a
post-hoc exclusion decision), and verify fails a current-format bundle whose journal
does it; an older format's bundle passes with a warning naming each such code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from beffroi.cli import main as cli_main
from beffroi.consult import actions, live
from beffroi.consult.bundle import BUNDLE_FORMAT, JournalEvent
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.credentials import Revocation, public_key_hex
from beffroi.consult.spec import spec_hash
from beffroi.consult.verify import SERVED_NEEDS_REPLACEMENT, verify_bundle
from beffroi.core.actions import ActionError
from consult_bundles import Scene, scene

SERVED = "Ce code a déjà servi : sa réponse ne peut être retirée que si l'autorité"


def _rows(c: Any) -> list[dict[str, str]]:
    spec = c.get_spec()
    return [{q.code: "oui" for q in spec.questions if q.per_row}, {}]


def _vote(c: Any, code: str) -> None:
    p = signed_payload(c, code, {}, _rows(c), 1)
    out = actions.submit_ballots(c.cid, [actions.Incoming(p["ballot"], p["signature"])])
    assert out[0].error is None, out[0].error


def _counted(c: Any) -> int:
    return int(live.results(c)["counted"]["verified"])


# -- the action ----------------------------------------------------------------------


@pytest.mark.usesdb
def test_a_code_that_voted_is_not_revoked_without_a_replacement(org: Any) -> None:
    c, private = setup_consultation(org, cid="servi", access="credentialed", per_segment=2)
    _vote(c, private[0].code)
    key = public_key_hex(private[0].code, c.cid)
    events = c.events.count()
    with pytest.raises(ActionError) as caught:
        actions.revoke_credential(c, key, "lettre perdue", actor=None)
    said = str(caught.value)
    assert said.startswith(SERVED)
    assert "code de remplacement" in said and "--replace" in said
    assert "décision motivée d'exclusion" in said and "après l'ouverture" in said
    # Nothing lost: the code still counts, nothing journaled.
    assert c.credentials.get(public_key=key).revoked_at is None
    assert c.events.count() == events
    assert _counted(c) == 1


@pytest.mark.usesdb
def test_an_unused_code_is_still_revoked_without_a_replacement(org: Any) -> None:
    c, private = setup_consultation(org, cid="servi", access="credentialed", per_segment=2)
    _vote(c, private[0].code)
    unused = public_key_hex(private[1].code, c.cid)
    cred = actions.revoke_credential(c, unused, "famille partie", actor=None)
    assert cred.revoked_at is not None and cred.replaced_by is None
    actions.close_consultation(c, actor=None)
    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()
    assert report.stats["revoked_unreplaced_used"] == 0
    assert not report.warnings


@pytest.mark.usesdb
def test_a_code_that_voted_is_revoked_with_the_authority_s_replacement(org: Any) -> None:
    c, private = setup_consultation(org, cid="servi", access="credentialed", per_segment=2)
    _vote(c, private[0].code)
    key = public_key_hex(private[0].code, c.cid)
    actions.revoke_credential(c, key, "lettre perdue", actor=None, replacement="ab" * 32)
    assert c.credentials.get(public_key=key).replaced_by == "ab" * 32
    assert _counted(c) == 0
    actions.close_consultation(c, actor=None)
    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()
    assert report.stats["revoked_used"] == 1


# -- the page ------------------------------------------------------------------------


@pytest.mark.usesdb
def test_the_page_says_why_and_keeps_what_was_typed(
    client: Any, org: Any, members: dict[str, Any]
) -> None:
    c, private = setup_consultation(org, cid="servi", access="credentialed", per_segment=2)
    _vote(c, private[0].code)
    key = public_key_hex(private[0].code, c.cid)
    client.force_login(members["coordinator"])
    url = reverse("consult-revoke", args=[org.slug, c.cid])
    r = client.post(url, {"public_key": key, "reason": "lettre perdue", "replacement": ""})
    assert r.status_code == 302
    page = client.get(r["Location"]).content.decode()
    assert "Ce code a déjà servi" in page
    assert "Rien n&#x27;a été révoqué." in page
    # The form comes back filled in, ready for the replacement key.
    assert f'value="{key}"' in page and 'value="lettre perdue"' in page
    assert c.credentials.get(public_key=key).revoked_at is None
    assert _counted(c) == 1
    # Once shown, the typed values are gone (a later visit starts blank).
    assert f'value="{key}"' not in client.get(r["Location"]).content.decode()


# -- verify --------------------------------------------------------------------------


def _revoke_a_voter(sc: Scene) -> str:
    """Revoke, without a replacement, a key that has a ballot on the board."""
    revoked = {r.public_key for r in sc.revocations}
    voter = next(
        e["ballot"]["public_key"]
        for e in sc.ex.board.entries
        if e["ballot"]["public_key"] is not None and e["ballot"]["public_key"] not in revoked
    )
    at = sc.later()
    sc.revocations.append(Revocation(voter, "lettre perdue", at, None))
    sc.events.append(
        JournalEvent(
            at,
            "credential_revoked",
            {"public_key": voter, "reason": "lettre perdue", "replaced_by": None},
        )
    )
    sc.ex.board.revoke(voter, at)
    return str(voter)


def test_the_current_format_fails_a_voter_revoked_without_a_replacement() -> None:
    assert BUNDLE_FORMAT >= SERVED_NEEDS_REPLACEMENT
    sc = scene()
    assert verify_bundle(sc.bundle()).ok
    voter = _revoke_a_voter(sc)
    report = verify_bundle(sc.bundle())
    assert not report.ok
    (line,) = [x for x in report.lines() if "sans remplacement" in x]
    assert f"code {voter[:12]}… révoqué le " in line
    assert "un code qui a servi ne se révoque qu'avec un code de remplacement" in line
    assert not report.warnings


def test_an_older_format_passes_with_a_named_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scene(bundle_format=2)
    voter = _revoke_a_voter(sc)
    report = verify_bundle(sc.bundle())
    assert report.ok, report.lines()
    (warning,) = report.warnings
    assert warning.startswith("Paquet au format 2 :")
    assert f"code {voter[:12]}… révoqué le " in warning and "(motif : lettre perdue)" in warning
    path = tmp_path / "dossier.zip"
    path.write_bytes(sc.bundle())
    assert cli_main(["verify", "--quiet", str(path)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "ATTENTION : Paquet au format 2" in said
    assert "sans changer aucune empreinte" in said


def test_a_journal_rewritten_to_an_older_format_still_fails() -> None:
    """The forger lowers the journal's number to get the warning: the spec, stamped at
    the opening under the published hash, still says the current format."""
    sc = scene(opened={"spec_hash": spec_hash(scene().ex.spec), "bundle_format": 2})
    _revoke_a_voter(sc)
    report = verify_bundle(sc.bundle())
    assert not report.warnings
    lines = report.lines()
    assert any("format de paquet 2 dans l'événement « opened », mais" in x for x in lines)
    assert any("un code qui a servi ne se révoque qu'avec" in x for x in lines), lines
