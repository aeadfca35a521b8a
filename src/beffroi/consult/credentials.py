"""The credential authority's side: codes, keys, letters, public list, revocation.

A credential code is 24 characters of Crockford base32 shown in six groups of
four (``7KQ2-M9XD-…``): 23 random characters (115 bits) and one check
character.  The check is a Damm-style check over GF(32) (interim
``i ← 2·i ⊕ d``; check ``c = 2·i``): it catches every single mistyped
character and every swap of two neighbouring characters.

The Ed25519 seed is derived from the code with HKDF-SHA256 (RFC 5869)::

    ikm  = the 24 normalised characters, ASCII (no dashes)
    salt = UTF-8("beffroi/credential/v1/" + consultation_id)
    info = UTF-8("ed25519-seed")
    seed = HKDF-SHA256(ikm, salt, info, 32 bytes)

The code already holds 115 random bits, so a slow KDF would add nothing;
HKDF is available in WebCrypto, which lets ballot.js derive the same key in the
browser.  The salt binds the key to one consultation: a code reused elsewhere
gives another key.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nacl.signing import SigningKey

from beffroi.consult import zones
from beffroi.consult.spec import format_time
from beffroi.consult.zones import DEFAULT_ZONE, zone_words

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Crockford's reading of look-alike letters.
_VALUE.update({"O": 0, "I": 1, "L": 1})
DATA_CHARS = 23
CODE_CHARS = DATA_CHARS + 1
GROUP = 4
SALT_PREFIX = "beffroi/credential/v1/"
INFO = b"ed25519-seed"


class CodeError(ValueError):
    """A credential code that cannot be right (French message for the respondent)."""


# -- check character over GF(32) ------------------------------------------------


def _gf32_double(x: int) -> int:
    # multiplication by the generator in GF(2^5) with x^5 + x^2 + 1
    x <<= 1
    if x & 0x20:
        x ^= 0x25
    return x


def _check_value(values: Iterable[int]) -> int:
    interim = 0
    for v in values:
        interim = _gf32_double(interim) ^ v
    return _gf32_double(interim)


def normalize_code(code: str) -> str:
    """Upper-case, drop spaces and dashes, read O as 0 and I/L as 1; check it."""
    raw = "".join(ch for ch in code.upper() if ch not in " -\t\n")
    bad = [ch for ch in raw if ch not in _VALUE]
    if bad:
        raise CodeError(f"caractère invalide « {bad[0]} » dans le code")
    if len(raw) != CODE_CHARS:
        raise CodeError(f"le code doit compter {CODE_CHARS} caractères (reçu {len(raw)})")
    values = [_VALUE[ch] for ch in raw]
    if _check_value(values[:-1]) != values[-1]:
        raise CodeError("code erroné : vérifiez chaque caractère (faute de frappe ?)")
    return "".join(ALPHABET[v] for v in values)


def format_code(normalized: str) -> str:
    return "-".join(normalized[i : i + GROUP] for i in range(0, len(normalized), GROUP))


def new_code() -> str:
    """A fresh random code, normalised (no dashes)."""
    values = [secrets.randbelow(32) for _ in range(DATA_CHARS)]
    values.append(_check_value(values))
    return "".join(ALPHABET[v] for v in values)


# -- key derivation -------------------------------------------------------------


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def derive_seed(code: str, consultation_id: str) -> bytes:
    norm = normalize_code(code)
    salt = (SALT_PREFIX + consultation_id).encode("utf-8")
    return hkdf_sha256(norm.encode("ascii"), salt, INFO, 32)


def signing_key(code: str, consultation_id: str) -> SigningKey:
    return SigningKey(derive_seed(code, consultation_id))


def public_key_hex(code: str, consultation_id: str) -> str:
    return bytes(signing_key(code, consultation_id).verify_key).hex()


# -- generation -------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateCredential:
    number: int
    code: str  # normalised, no dashes
    segment: str | None
    link: str
    public_key: str

    @property
    def display_code(self) -> str:
        return format_code(self.code)


@dataclass(frozen=True)
class PublicCredential:
    public_key: str  # 64 hex characters
    segment: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"public_key": self.public_key, "segment": self.segment}


def credential_link(base_url: str, consultation_id: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/c/{consultation_id}/#{format_code(code)}"


def _one(
    number: int, segment: str | None, consultation_id: str, base_url: str
) -> tuple[PrivateCredential, PublicCredential]:
    code = new_code()
    pk = public_key_hex(code, consultation_id)
    link = credential_link(base_url, consultation_id, code)
    return PrivateCredential(number, code, segment, link, pk), PublicCredential(pk, segment)


def generate(
    count: int | None,
    segments: dict[str, int] | None,
    consultation_id: str,
    base_url: str,
) -> tuple[list[PrivateCredential], list[PublicCredential]]:
    """Generate credentials: ``count`` without segments, or ``segments[code]`` per segment.

    When both are given, ``count`` must equal the sum of the segments.
    """
    plan: list[str | None]
    if segments:
        if any(n < 0 for n in segments.values()):
            raise ValueError("le nombre de lettres d'un segment ne peut pas être négatif")
        total = sum(segments.values())
        if count is not None and count != total:
            raise ValueError(f"--count {count} diffère de la somme des segments ({total})")
        plan = [seg for seg, n in segments.items() for _ in range(n)]
    else:
        if count is None or count < 0:
            raise ValueError("un nombre de codes positif ou nul est requis")
        plan = [None] * count
    private: list[PrivateCredential] = []
    public: list[PublicCredential] = []
    for i, seg in enumerate(plan, start=1):
        priv, pub = _one(i, seg, consultation_id, base_url)
        private.append(priv)
        public.append(pub)
    # The public list is shuffled so its order says nothing about the letters'.
    public = sorted(public, key=lambda p: p.public_key)
    return private, public


@dataclass(frozen=True)
class Revocation:
    """One revoked public key (published on the board, counted publicly)."""

    public_key: str
    reason: str
    at: datetime
    replaced_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "public_key": self.public_key,
            "reason": self.reason,
            "at": format_time(self.at),
            "replaced_by": self.replaced_by,
        }


def reissue(
    old_public_key: str,
    segment: str | None,
    reason: str,
    consultation_id: str,
    base_url: str,
    at: datetime | None = None,
) -> tuple[PrivateCredential, PublicCredential, Revocation]:
    """A new credential for a lost one, and the revocation of the old key."""
    if not reason.strip():
        raise ValueError("une révocation exige un motif")
    priv, pub = _one(1, segment, consultation_id, base_url)
    rev = Revocation(old_public_key, reason, at or datetime.now(UTC), pub.public_key)
    return priv, pub, rev


# -- writers ---------------------------------------------------------------------------


def key_list_fingerprint(keys: Iterable[tuple[str, str | None]]) -> str:
    """SHA-256 of a public-key list, whatever its order or file layout.

    The credential authority publishes it beside the letters; the organiser's import
    and the bundle's journal carry it, so swapping a key nobody has used yet (and
    voting with it) shows.  One line per key, ``<public key> <segment or empty>``,
    sorted, each ending in a newline: reproducible with jq, sort and sha256sum.
    """
    lines = sorted(f"{pk} {segment or ''}\n" for pk, segment in keys)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def merge_key_lists(lists: Iterable[tuple[str, str]]) -> list[PublicCredential]:
    """The keys of several ``cles-publiques.jsonl`` (name, text): every batch and
    every reissue of one consultation, whose fingerprint the authority publishes.

    A key in two lists is refused: the same file given twice, or a list from
    another consultation, would otherwise pass unnoticed."""
    out: list[PublicCredential] = []
    seen: dict[str, str] = {}
    for name, text in lists:
        try:
            keys = read_public_jsonl(text)
        except ValueError as exc:
            raise ValueError(f"{name}, {exc}") from exc
        for p in keys:
            if p.public_key in seen:
                raise ValueError(
                    f"{name} : la clé {p.public_key[:16]}… est déjà dans {seen[p.public_key]}"
                )
            seen[p.public_key] = name
            out.append(p)
    return out


def write_public_jsonl(public: Iterable[PublicCredential], path: Path) -> None:
    lines = [json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=True) for p in public]
    _atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8") if lines else b"")


def _jsonl_objects(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; errors name the line."""
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ligne {n}, colonne {exc.colno} : JSON invalide") from exc
        except RecursionError:
            # Arrays nested a thousand deep: uncaught, a 500 on the import page.
            raise ValueError(f"ligne {n}, colonne 1 : JSON invalide") from None
        if not isinstance(d, dict):
            raise ValueError(f"ligne {n} : objet attendu")
        yield n, d


def read_public_jsonl(text: str) -> list[PublicCredential]:
    """Parse a public-key list; errors name the line."""
    out: list[PublicCredential] = []
    seen: set[str] = set()
    for n, d in _jsonl_objects(text):
        pk = d.get("public_key")
        if not isinstance(pk, str) or len(pk) != 64 or not _is_hex(pk):
            raise ValueError(f"ligne {n} : public_key doit compter 64 caractères hexadécimaux")
        pk = pk.lower()
        if pk in seen:
            raise ValueError(f"ligne {n} : clé publique en double")
        seen.add(pk)
        seg = d.get("segment")
        if seg is not None and not isinstance(seg, str):
            raise ValueError(f"ligne {n} : segment doit être un texte ou null")
        out.append(PublicCredential(pk, seg))
    return out


def _is_hex(s: str) -> bool:
    try:
        bytes.fromhex(s)
    except ValueError:
        return False
    return True


CSV_COLUMNS = ("numero", "segment", "code", "lien", "cloture")


def closing_value(closes: datetime | None, zone: ZoneInfo | None = None) -> str:
    """``codes.csv``'s ``cloture``: the closing time as RFC 3339 (ISO 8601 with seconds
    and offset) in the letters' zone, the time they print; empty without a date."""
    if closes is None:
        return ""
    return (closes.astimezone(zone) if zone is not None else closes).isoformat("T", "seconds")


def write_csv(
    private: Iterable[PrivateCredential],
    path: Path,
    closes: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> None:
    """The letters for a mail merge (docs/formats/codes-csv.md). ``cloture`` comes last:
    a template that reads the first four columns by name or by place still works."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    closing = closing_value(closes, zone)
    for p in private:
        w.writerow([p.number, p.segment or "", p.display_code, p.link, closing])
    _atomic_write(path, buf.getvalue().encode("utf-8"), private=True)


_LETTER_CSS = """
@page { size: A4; margin: 22mm 20mm; }
body { font-family: sans-serif; font-size: 11pt; color: #111; }
.letter { page-break-after: always; }
.letter:last-child { page-break-after: auto; }
h1 { font-size: 16pt; margin: 0 0 6mm; }
.code { font-family: monospace; font-size: 18pt; letter-spacing: 1pt;
        border: 1px solid #333; padding: 4mm; display: inline-block; margin: 4mm 0; }
.qr { width: 45mm; height: 45mm; float: right; margin-left: 6mm; }
.small { font-size: 9pt; color: #333; }
"""


_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def letter_zone(name: str) -> ZoneInfo:
    """The IANA time zone the letters print the closing time in (the names a
    consultation may carry: zones.check_zone_name)."""
    return zones.zone(name)


def parse_closing(text: str, zone: ZoneInfo) -> datetime:
    """``--closes``: ISO 8601 date and time, with its UTC offset or read in ``zone``.

    A date alone is refused: the consultation closes at a precise minute, and « le 14 »
    would leave the letter to guess between the morning and the evening."""
    value = text.strip()
    try:
        # « 2026-12-14 18:00 » as well as « 2026-12-14T18:00 »: the space is ISO's too.
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"--closes {text!r} : date et heure ISO 8601 attendues, ex. 2026-12-14T18:00 "
            "ou 2026-12-14T17:00Z"
        ) from exc
    if not re.search(r"\d[T ]\d", value):
        raise ValueError(
            f"--closes {text!r} : donnez aussi l'heure de clôture, ex. {at:%Y-%m-%d}T18:00 "
            "(la consultation ferme à une heure précise)"
        )
    return at.replace(tzinfo=zone) if at.tzinfo is None else at


def french_closing(at: datetime, zone: ZoneInfo) -> str:
    """« lundi 14 décembre 2026 à 18 h » in the letters' zone; a closing at midnight
    reads as the end of the day before (« … à minuit »), as people say it."""
    local = at.astimezone(zone)
    day = local
    if (local.hour, local.minute) == (0, 0):
        day = local - timedelta(days=1)
        hour = "minuit"
    else:
        hour = f"{local.hour} h" + (f" {local.minute:02d}" if local.minute else "")
    date = f"{_DAYS[day.weekday()]} {'1er' if day.day == 1 else day.day} "
    return f"{date}{_MONTHS[day.month - 1]} {day.year} à {hour}"


def letters_html(
    private: Iterable[PrivateCredential],
    title: str,
    labels: dict[str, str] | None = None,
    closes: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> str:
    """One letter per credential; ``labels`` names the segments (« École Jules-Ferry »
    rather than « A1 », a code the parent never saw); ``closes``, when known, tells
    the parent until when to answer, in ``zone`` (default Europe/Paris), named as a
    late ballot's refusal names it (zones.zone_words)."""
    import segno

    labels = labels or {}
    zone = zone or ZoneInfo(DEFAULT_ZONE)
    deadline = (
        "<p><strong>Date limite</strong> : vous pouvez répondre jusqu'au "
        f"{html.escape(french_closing(closes, zone))} ({html.escape(zone_words(zone))}).</p>"
        if closes is not None
        else ""
    )

    parts = [
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_LETTER_CSS}</style></head><body>",
    ]
    for p in private:
        qr = segno.make(p.link, error="m")
        svg = qr.svg_data_uri(scale=4, border=2)
        seg = f" — {html.escape(labels.get(p.segment, p.segment))}" if p.segment else ""
        parts.append(
            f"<section class='letter'><h1>{html.escape(title)}</h1>"
            f"<img class='qr' src='{svg}' alt='QR code du lien de réponse'>"
            f"<p>Lettre n° {p.number}{seg}</p>"
            "<p>Madame, Monsieur,</p>"
            "<p>Vous êtes invité·e à répondre à cette consultation. Ce code est personnel "
            "et vous permet de répondre sans créer de compte. Il ne figure sur aucune liste "
            "nominative : l'organisateur ne le connaît pas.</p>"
            # In a paragraph: an inline-block straight in the section is wrapped in an
            # anonymous block that the tagged PDF shows as a second, nested section.
            f"<p><span class='code'>{html.escape(p.display_code)}</span></p>"
            f"{deadline}"
            "<p><strong>Pour répondre</strong> : scannez le QR code avec votre téléphone, "
            "ou ouvrez le lien ci-dessous dans votre navigateur.</p>"
            f"<p class='small'>{html.escape(p.link)}</p>"
            "<p>Vous pouvez répondre à nouveau tant que la consultation est ouverte : "
            "seule votre dernière réponse compte. Après l'envoi, notez le reçu affiché ; "
            "il vous permet de vérifier sur le tableau public que votre réponse y figure.</p>"
            "<p class='small'>Code perdu ou volé ? Adressez-vous à l'autorité qui vous a "
            "remis cette lettre : elle fera révoquer ce code et vous en remettra un autre.</p>"
            "</section>"
        )
    parts.append("</body></html>")
    return "".join(parts)


def write_pdf(
    private: list[PrivateCredential],
    path: Path,
    title: str,
    labels: dict[str, str] | None = None,
    closes: datetime | None = None,
    zone: ZoneInfo | None = None,
) -> None:
    from beffroi.pdf import write_pdf as tagged_pdf

    # Tagged (beffroi.pdf): each letter is read aloud in order, the QR code by its alt.
    _atomic_write(
        path, tagged_pdf(letters_html(private, title, labels, closes, zone)), private=True
    )


def write_revocations_jsonl(revocations: Iterable[Revocation], path: Path) -> None:
    lines = [json.dumps(r.to_dict(), ensure_ascii=False, sort_keys=True) for r in revocations]
    _atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8") if lines else b"")


def read_revocations_jsonl(text: str) -> list[Revocation]:
    """Parse a revocation list (``revocation.jsonl``); errors name the line."""
    from beffroi.consult.spec import SpecError, parse_time

    out: list[Revocation] = []
    for n, d in _jsonl_objects(text):
        pk, reason, replaced = d.get("public_key"), d.get("reason"), d.get("replaced_by")
        for name, value, optional in (("public_key", pk, False), ("replaced_by", replaced, True)):
            if (value is None and not optional) or (
                value is not None
                and (not isinstance(value, str) or len(value) != 64 or not _is_hex(value))
            ):
                raise ValueError(f"ligne {n} : {name} doit compter 64 caractères hexadécimaux")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"ligne {n} : motif (reason) obligatoire")
        try:
            at = parse_time(d.get("at"), f"ligne {n}, at")
        except SpecError as exc:
            raise ValueError(str(exc)) from exc
        assert isinstance(pk, str)  # checked above
        out.append(Revocation(pk.lower(), reason, at, replaced.lower() if replaced else None))
    return out


def _atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write through a temporary file; ``private`` files (the codes) are readable by
    their owner only, from the first byte, whatever the umask."""
    tmp = path.with_name(path.name + ".part")
    if not private:
        tmp.write_bytes(data)
    else:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            # A .part left by an earlier run keeps its mode through O_CREAT.
            os.fchmod(f.fileno(), 0o600)
            f.write(data)
    tmp.replace(path)
