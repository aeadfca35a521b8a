"""What a refused respondent reads: a late ballot is told the closing time in the zone the
letter gave it (« 18 h, heure de Paris »), not UTC; an unknown segment is named without
Python quotes and a missing one asks to choose; the rate-limit message carries no number
of seconds that goes stale (the page counts the wait down in minutes)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from beffroi.consult import api
from beffroi.consult.ballot import OutOfPeriod, SegmentError, check_ballot, make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.examples import all_kinds_spec
from beffroi.consult.spec import spec_from_dict
from beffroi.consult.views_i18n import refusal

ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]
ANSWER_JS = Path(__file__).parents[2] / "src/beffroi/consult/static/consult/answer.js"


def _spec(access: str = "open"):
    d = all_kinds_spec().to_dict()
    d["access"] = access
    d["opens"] = "2026-12-01T07:00:00.000000Z"
    d["closes"] = "2026-12-14T17:00:00.000000Z"  # 18 h in Paris (winter time)
    return spec_from_dict(d)


def _check(spec, ballot, at):
    check_ballot(spec, ballot, None, keys={}, received_at=at)


def _unsigned(spec, segment):
    return make_ballot(spec, {}, [{}, {}], public_key=None, seq=1, segment=segment)


def test_a_late_ballot_is_told_the_closing_time_of_the_letter() -> None:
    spec = _spec()
    late = datetime(2026, 12, 14, 17, 5, tzinfo=UTC)
    seg = spec.segments[0].code
    with pytest.raises(OutOfPeriod) as err:
        _check(spec, _unsigned(spec, seg), late)
    assert err.value.message == (
        "La consultation est close depuis le 14/12/2026 18:00 (heure de Paris) : "
        "votre réponse n'a pas été enregistrée."
    )
    with pytest.raises(OutOfPeriod) as err:
        _check(spec, _unsigned(spec, seg), spec.opens - timedelta(minutes=1))
    assert "pas encore ouverte : réponses acceptées à partir du 01/12/2026 08:00" in str(
        err.value.message
    )
    # Another deployment's zone, named by the caller.
    with pytest.raises(OutOfPeriod) as err:
        check_ballot(
            spec,
            _unsigned(spec, seg),
            None,
            keys={},
            received_at=late,
            zone=ZoneInfo("America/Martinique"),
        )
    assert "14/12/2026 13:00 (heure de la Martinique)" in err.value.message


def test_segment_refusals_read_as_french() -> None:
    spec = _spec()
    with pytest.raises(SegmentError) as err:
        _check(spec, _unsigned(spec, "A9"), spec.opens + timedelta(hours=1))
    assert err.value.message == "Segment « A9 » inconnu : choisissez-en un dans la liste."
    with pytest.raises(SegmentError) as err:
        _check(spec, _unsigned(spec, None), spec.opens + timedelta(hours=1))
    assert err.value.message == "Choisissez votre école / secteur dans la liste."
    assert "None" not in err.value.message and "'" not in err.value.message


def test_the_french_messages_are_known_to_the_translation_layer() -> None:
    # A French reader gets the text as written; the English one needs the catalogue
    # (the English strings are in the session report), so only matching is checked here.
    from beffroi.consult.views_i18n import REFUSALS

    for message in (
        "La consultation est close depuis le 14/12/2026 18:00 (heure de Paris) : "
        "votre réponse n'a pas été enregistrée.",
        "La consultation n'est pas encore ouverte : réponses acceptées à partir du "
        "01/12/2026 08:00 (heure de Paris).",
        "Segment « A9 » inconnu : choisissez-en un dans la liste.",
        "Choisissez votre école / secteur dans la liste.",
    ):
        assert REFUSALS.match(message) is not None, message
    with translation.override("fr"):
        assert refusal("Segment « A9 » inconnu : choisissez-en un dans la liste.").startswith(
            "Segment « A9 »"
        )


def _digest(challenge: str, nonce: int) -> bytes:
    return hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()


def _open_post(client, c, seq):
    """An open-mode answer with its anti-robot proof, as the page sends it."""
    ch = client.get(reverse("consult-challenge", args=[c.cid])).json()
    nonce = 0
    while (
        api.leading_zero_bits(hashlib.sha256(f"{ch['challenge']}:{nonce}".encode()).digest())
        < ch["bits"]
    ):
        nonce += 1
    spec = c.get_spec()
    p = {
        "ballot": make_ballot(spec, {}, ROWS, public_key=None, seq=seq, segment="A1"),
        "signature": None,
        "pow": {"challenge": ch["challenge"], "nonce": str(nonce)},
    }
    return client.post(
        reverse("consult-submit", args=[c.cid]), data=json.dumps(p), content_type="application/json"
    )


@pytest.mark.usesdb
def test_the_rate_limit_message_holds_no_stale_number(client, org, settings) -> None:
    # No writer thread: the test database lives in this thread's transaction.
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_POW_BITS = 6
    settings.BEFFROI_CONSULT_OPEN_LIMIT = 1
    api._SPEC_CACHE.clear()
    c, _ = setup_consultation(org, cid="lent-s12", access="open", all_kinds=True)
    first = _open_post(client, c, 1)
    assert first.status_code == 200, first.content
    slowed = _open_post(client, c, 2)
    assert slowed.status_code == 429
    body = slowed.json()
    assert body["retry_after"] > 0 and int(slowed["Retry-After"]) == body["retry_after"]
    assert "Gardez cette page ouverte : elle sera renvoyée automatiquement." in body["message"]
    assert not re.search(r"\d", body["message"])  # the page counts the wait down itself


def test_the_page_counts_the_wait_down_in_minutes() -> None:
    js = ANSWER_JS.read_text(encoding="utf-8")
    assert "say(`${data.message} (${left} s)`)" not in js
    assert "Math.ceil(seconds / 60)" in js
