"""Ballots: the signed payload, its canonical bytes, and its verification.

A ballot (see docs/formats/ballot.md) is the JSON object::

    {"v": 1, "consultation": ID, "spec_hash": HEX, "public_key": HEX|null,
     "seq": INT, "segment": CODE|null, "answers": {...}, "rows": [...]}

Its canonical bytes (canonical.py) prefixed with ``DOMAIN`` are what Ed25519
signs, so a signature made for a Beffroi ballot can never be replayed as a
signature over some other kind of message.

Replacement and replay: ``seq`` is a positive integer chosen by the signer
(the browser uses the time in milliseconds).  For one key, the board only
accepts a ballot whose ``seq`` is strictly greater than that of every earlier
ballot of that key, and the last one counts.  So an old signed ballot replayed
later (by anyone, the organiser included) is refused; the very same ballot sent
twice (a network retry) is recognised by its receipt and not added again.

Keyed ballots take their segment from the credential list: their ``segment``
is null.  Unkeyed ballots (open or mixed consultations) carry no key, no
signature, and a self-declared segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from beffroi.consult.canonical import CanonicalError, canonical_bytes, sha256_hex
from beffroi.consult.spec import AnswersError, Spec, spec_hash, validate_answers
from beffroi.consult.zones import DEFAULT_ZONE, zone_words

BALLOT_VERSION = 1
DOMAIN = b"beffroi-ballot/1\n"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX128 = re.compile(r"^[0-9a-f]{128}$")
BALLOT_KEYS = frozenset(
    {"v", "consultation", "spec_hash", "public_key", "seq", "segment", "answers", "rows"}
)


class BallotError(ValueError):
    """Base class: ``message`` is French, shown to the respondent as is."""

    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedBallot(BallotError):
    code = "malformed"


class InvalidSignature(BallotError):
    code = "invalid_signature"


class UnknownKey(BallotError):
    code = "unknown_key"


class RevokedKey(BallotError):
    code = "revoked_key"


class OutOfPeriod(BallotError):
    code = "out_of_period"


class WrongConsultation(BallotError):
    code = "wrong_consultation"


class InvalidAnswers(BallotError):
    code = "invalid_answers"

    def __init__(self, errors: list[str]) -> None:
        super().__init__("Réponses invalides : " + " ; ".join(errors))
        self.errors = errors


class StaleBallot(BallotError):
    """A ballot whose seq is not above the key's latest one (replay or clock skew)."""

    code = "stale"


class TooManyBallots(BallotError):
    """A code that already has the most ballots allowed on the board (checked by the
    writer, which knows the board; every ballot stays published, so one code's holder
    must not grow the board without bound)."""

    code = "too_many"


class SegmentError(BallotError):
    code = "segment"


def make_ballot(
    spec: Spec,
    answers: dict[str, Any],
    rows: list[dict[str, Any]] | None = None,
    *,
    public_key: str | None,
    seq: int,
    segment: str | None = None,
) -> dict[str, Any]:
    """Build a ballot object (unsigned) for ``spec``."""
    return {
        "v": BALLOT_VERSION,
        "consultation": spec.id,
        "spec_hash": spec_hash(spec),
        "public_key": public_key,
        "seq": seq,
        "segment": segment,
        "answers": answers,
        "rows": rows if rows is not None else ([{} for _ in spec.rows.labels] if spec.rows else []),
    }


def signed_bytes(ballot: dict[str, Any]) -> bytes:
    """The exact bytes Ed25519 signs."""
    return DOMAIN + canonical_bytes(ballot)


def receipt(ballot: dict[str, Any], signature: str | None, *, signed: bytes | None = None) -> str:
    """The respondent's receipt: SHA-256 of ``signed_bytes + "\n" + signature``.

    ``signature`` is the hex text, or ``-`` for an unsigned ballot.  Canonical
    JSON never holds a raw newline, so the concatenation is unambiguous.
    ``signed`` may pass ``signed_bytes(ballot)`` already computed.
    """
    body = signed if signed is not None else signed_bytes(ballot)
    return sha256_hex(body + b"\n" + (signature or "-").encode("ascii"))


def sign(ballot: dict[str, Any], seed: bytes) -> str:
    """Sign with a 32-byte Ed25519 seed; returns the hex signature."""
    from nacl.signing import SigningKey

    return SigningKey(seed).sign(signed_bytes(ballot)).signature.hex()


def check_shape(ballot: Any, *, encode: bool = True) -> None:
    """Structural checks that need nothing but the ballot itself.

    ``encode=False`` skips the canonical-encoding check, for callers that
    encode the ballot right after anyway (and handle CanonicalError).
    """
    if not isinstance(ballot, dict):
        raise MalformedBallot("Bulletin illisible : objet JSON attendu.")
    keys = ballot.keys()
    missing = BALLOT_KEYS - keys if keys != BALLOT_KEYS else ()
    extra = keys - BALLOT_KEYS if keys != BALLOT_KEYS else ()
    if missing:
        fields = ", ".join(sorted(missing))
        if len(missing) == 1:
            raise MalformedBallot(f"Bulletin incomplet : champ {fields}.")
        raise MalformedBallot(f"Bulletin incomplet : champs {fields}.")
    if extra:
        fields = ", ".join(sorted(extra))
        if len(extra) == 1:
            raise MalformedBallot(f"Bulletin : champ inattendu {fields}.")
        raise MalformedBallot(f"Bulletin : champs inattendus {fields}.")
    if ballot["v"] != BALLOT_VERSION:
        raise MalformedBallot(f"Bulletin : version {ballot['v']!r} non prise en charge.")
    seq = ballot["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= 2**53 - 1:
        raise MalformedBallot("Bulletin : « seq » doit être un entier positif.")
    pk = ballot["public_key"]
    if pk is not None and (not isinstance(pk, str) or not HEX64.match(pk)):
        raise MalformedBallot("Bulletin : clé publique invalide (64 caractères hexadécimaux).")
    if not isinstance(ballot["answers"], dict) or not isinstance(ballot["rows"], list):
        raise MalformedBallot("Bulletin : « answers » doit être un objet, « rows » une liste.")
    if encode:
        try:
            canonical_bytes(ballot)
        except CanonicalError as exc:
            raise MalformedBallot(f"Bulletin non encodable : {exc}") from exc


def verify_signature(
    ballot: dict[str, Any], signature: str, *, signed: bytes | None = None
) -> None:
    """Raise :class:`InvalidSignature` unless ``signature`` is the key's over the ballot."""
    pk = ballot.get("public_key")
    if not isinstance(pk, str) or not HEX64.match(pk):
        raise InvalidSignature("Signature impossible à vérifier : clé publique absente.")
    if not isinstance(signature, str) or not HEX128.match(signature):
        raise InvalidSignature("Signature invalide : 128 caractères hexadécimaux attendus.")
    try:
        body = signed if signed is not None else signed_bytes(ballot)
        crypto_sign_open(bytes.fromhex(signature) + body, bytes.fromhex(pk))
    except (BadSignatureError, CryptoError, ValueError) as exc:
        raise InvalidSignature(
            "Signature invalide : le bulletin a été modifié ou n'a pas été signé par ce code."
        ) from exc


def refusal_zone(spec: Spec, fallback: ZoneInfo | None = None) -> ZoneInfo:
    """The zone a refusal gives hours in: the consultation's own, frozen with its rules
    (the letters' too), else ``fallback`` (the deployment's) for specs that name none."""
    if spec.timezone is not None:
        return ZoneInfo(spec.timezone)
    return fallback or ZoneInfo(DEFAULT_ZONE)


def _out_of_period(spec: Spec, received_at: datetime, zone: ZoneInfo) -> OutOfPeriod:
    # Said in the zone of the letter (« 18 h, heure de Paris »), not UTC: a parent who
    # reads « 17:00 (UTC) » after an 18 h deadline cannot tell whether they were late.
    # The words are the letters' own (zones.zone_words).
    where = zone_words(zone)
    if received_at >= spec.closes:
        closes = spec.closes.astimezone(zone)
        return OutOfPeriod(
            f"La consultation est close depuis le {closes:%d/%m/%Y %H:%M} ({where}) : "
            "votre réponse n'a pas été enregistrée."
        )
    opens = spec.opens.astimezone(zone)
    return OutOfPeriod(
        "La consultation n'est pas encore ouverte : réponses acceptées à partir du "
        f"{opens:%d/%m/%Y %H:%M} ({where})."
    )


@dataclass(frozen=True)
class KeyInfo:
    segment: str | None
    revoked_at: datetime | None = None


def check_ballot(
    spec: Spec,
    ballot: Any,
    signature: str | None,
    *,
    keys: dict[str, KeyInfo],
    received_at: datetime,
    last_seq: int | None = None,
    check_signature: bool = True,
    zone: ZoneInfo | None = None,
) -> None:
    """All checks the server makes before putting a ballot on the board.

    ``keys`` maps public key → :class:`KeyInfo`; ``last_seq`` is the highest
    ``seq`` already on the board for this key (None if none).  ``zone`` is the
    deployment's, for hours in a refusal when the spec names no zone of its own.
    Raises a :class:`BallotError` subclass with a French message.
    """
    check_shape(ballot)
    if ballot["consultation"] != spec.id:
        raise WrongConsultation("Ce bulletin est destiné à une autre consultation.")
    if ballot["spec_hash"] != spec_hash(spec):
        raise WrongConsultation(
            "Ce bulletin a été préparé pour une autre version des questions : rechargez la page."
        )
    if not spec.is_open_at(received_at):
        raise _out_of_period(spec, received_at, refusal_zone(spec, zone))
    pk = ballot["public_key"]
    if pk is None:
        if spec.access == "credentialed":
            raise UnknownKey("Cette consultation demande un code personnel.")
        if signature is not None:
            raise MalformedBallot("Bulletin sans clé : il ne doit pas porter de signature.")
        seg = ballot["segment"]
        if spec.segments and seg is None:
            raise SegmentError("Choisissez votre école / secteur dans la liste.")
        if spec.segments and seg not in spec.segment_codes():
            # Shown as the reader would type it (no Python quotes), cut short.
            shown = " ".join(str(seg).split())[:40]
            raise SegmentError(f"Segment « {shown} » inconnu : choisissez-en un dans la liste.")
        if not spec.segments and seg is not None:
            raise SegmentError("Cette consultation n'a pas de segments.")
    else:
        if spec.access == "open":
            raise MalformedBallot("Consultation ouverte : les bulletins ne portent pas de clé.")
        info = keys.get(pk)
        if info is None:
            raise UnknownKey("Code inconnu : il ne fait pas partie de cette consultation.")
        if info.revoked_at is not None and received_at >= info.revoked_at:
            raise RevokedKey(
                "Ce code a été révoqué ; utilisez le nouveau code qui vous a été remis."
            )
        if ballot["segment"] is not None:
            raise MalformedBallot("Bulletin avec clé : le segment vient de la liste des codes.")
        if check_signature:
            if signature is None:
                raise InvalidSignature("Bulletin avec clé mais sans signature.")
            verify_signature(ballot, signature)
        if last_seq is not None and ballot["seq"] <= last_seq:
            raise StaleBallot(
                "Une réponse plus récente avec ce code figure déjà sur le tableau ; "
                "celle-ci n'a pas été enregistrée."
            )
    try:
        validate_answers(spec, ballot["answers"], ballot["rows"])
    except AnswersError as exc:
        raise InvalidAnswers(exc.errors) from exc
