"""Public pages and endpoints: answering, receipts, bulletin board, downloads.

No account.  Everything published is built from allow-lists: board entries
through ``BoardEntry.PUBLIC_ENTRY_FIELDS`` (live.entries), the spec, the
credential records and the results of the pure tally; the private columns
(client pseudonyms) never appear here.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.db.models.signals import post_save
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
    parse_cookie,
)
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from beffroi.consult import actions, live
from beffroi.consult.ballot import (
    HEX64,
    BallotError,
    MalformedBallot,
    WrongConsultation,
    check_shape,
    signed_bytes,
    verify_signature,
)
from beffroi.consult.canonical import CanonicalError
from beffroi.consult.models import Consultation, Status
from beffroi.consult.spec import Question, Spec, format_time, spec_from_dict
from beffroi.consult.views_i18n import excluded_by_rule
from beffroi.consult.views_i18n import refusal as _refusal_in_language
from beffroi.core import throttle
from beffroi.core.client import pseudonyms
from beffroi.core.nul import holds_nul
from beffroi.core.pseudonym import ClientPseudonyms

log = logging.getLogger(__name__)

# Open mode: answers per network prefix (/24, /48) and window, then "slow down".
POW_MAX_AGE = 1800
HONEYPOT = "site_web"
MAX_BODY = 64 * 1024


def open_limit() -> tuple[int, int]:
    """(answers, window in seconds) allowed per network prefix in open mode."""
    return (
        int(getattr(settings, "BEFFROI_CONSULT_OPEN_LIMIT", 30)),
        int(getattr(settings, "BEFFROI_CONSULT_OPEN_WINDOW", 600)),
    )


def pow_bits() -> int:
    # Read on each use so tests can lower it with the settings fixture.
    return int(getattr(settings, "BEFFROI_CONSULT_POW_BITS", 16))


_GROUP_COMMIT: list[bool] = []


def group_commit() -> bool:
    # Read on every ballot: an absent setting costs Django's settings object a
    # raised AttributeError each time, so the answer is kept until a setting changes.
    if not _GROUP_COMMIT:
        _GROUP_COMMIT.append(bool(getattr(settings, "BEFFROI_CONSULT_GROUP_COMMIT", True)))
    return _GROUP_COMMIT[0]


def _public(cid: str) -> Consultation:
    c = get_object_or_404(Consultation, cid=cid)
    if c.status == Status.DRAFT:
        raise Http404("Consultation inconnue.")
    return c


# The last board, results and bundle of each consultation, with the state they were
# computed from. The public pages need no account and each cost a read of the whole board
# and a tally (or a bundle): 0.2 to 0.35 s of CPU for 5,000 ballots. They are computed
# again only when that state moves, so they are never stale and anonymous requests cannot
# make the server recompute them faster than ballots and decisions arrive.
# The most recently used few (a board of thousands of ballots and its bundle take megabytes in a
# process): a crawler walking every closed consultation must not keep them all in memory,
# nor, once past the bound, push out the one being voted on, which is read the most.
_PUBLIC: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], Any]] = OrderedDict()
_PUBLIC_MAX = 24
_PUBLIC_LOCK = threading.Lock()


def _state(c: Consultation) -> tuple[Any, ...]:
    """What the published data depend on. Revocations, flags, rules, exclusions and the
    opening and closing are all journaled under the organisation (DESIGN rule 1), so its
    last journal line moves with each; the board moves its size and head. The line's hash
    (it chains every line's time) keeps a state from meaning other data after the database
    was replaced under a running process."""
    from beffroi.core.models import JournalEntry

    head = (
        JournalEntry.objects.filter(organisation_id=c.organisation_id)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    return (c.pk, c.status, c.spec_hash, c.board_count, c.board_head, head)


def _memo(c: Consultation, kind: str, build: Any) -> Any:
    state = _state(c)
    key = (c.cid, kind)
    with _PUBLIC_LOCK:
        hit = _PUBLIC.get(key)
        if hit is not None and hit[0] == state:
            _PUBLIC.move_to_end(key)
            return hit[1]
    value = build()
    with _PUBLIC_LOCK:
        _PUBLIC[key] = (state, value)
        _PUBLIC.move_to_end(key)
        while len(_PUBLIC) > _PUBLIC_MAX:
            _PUBLIC.popitem(last=False)
    return value


def _entries(c: Consultation) -> list[dict[str, Any]]:
    return _memo(c, "entries", lambda: live.entries(c))  # type: ignore[no-any-return]


def _results(c: Consultation) -> dict[str, Any]:
    return _memo(c, "results", lambda: live.results(c, board=_entries(c)))  # type: ignore[no-any-return]


# -- answering page ------------------------------------------------------------------


def _qview(q: Question) -> dict[str, Any]:
    return {
        "code": q.code,
        "kind": q.kind,
        "label": q.label,
        "options": q.options,
        "required": q.required,
        "max_choices": q.max_choices,
        "max_length": q.max_length,
        "scale_min": q.scale_min,
        "scale_max": q.scale_max,
        "scale_values": list(range(q.scale_min, q.scale_max + 1)),
    }


@require_GET
def answer_page(request: HttpRequest, cid: str) -> HttpResponse:
    return render_answer_page(request, _public(cid))


def render_answer_page(
    request: HttpRequest, c: Consultation, *, preview: bool = False
) -> HttpResponse:
    """The answering page; ``preview`` shows it to organisers without sending anything."""
    spec = c.get_spec()
    # The household's questions keep the organiser's order around the repeated rows:
    # those written after the first per-row question come after the rows (a closing
    # « Un commentaire ? » was shown first, above the question it comments on).
    first_row = next((i for i, q in enumerate(spec.questions) if q.per_row), None)
    before = [
        _qview(q)
        for i, q in enumerate(spec.questions)
        if not q.per_row and (first_row is None or i < first_row)
    ]
    after = [
        _qview(q)
        for i, q in enumerate(spec.questions)
        if not q.per_row and first_row is not None and i > first_row
    ]
    return render(
        request,
        "consult/answer.html",
        {
            "preview": preview,
            "consultation": c,
            "spec": spec,
            "questions": before,
            "questions_after": after,
            "row_questions": [_qview(q) for q in spec.questions if q.per_row],
            "honeypot": HONEYPOT,
        },
    )


# -- proof of work ----------------------------------------------------------------------


def _pow_mac(payload: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"consult-pow\x00" + payload.encode(), hashlib.sha256).hexdigest()[:32]


def make_challenge(cid: str) -> str:
    payload = f"{cid}.{int(time.time())}.{secrets.token_hex(8)}.{pow_bits()}"
    return f"{payload}.{_pow_mac(payload)}"


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def check_pow(cid: str, proof: Any) -> str | None:
    """None when the proof of work holds, else the French reason."""
    if not isinstance(proof, dict):
        return "Calcul anti-robot absent : rechargez la page."
    challenge, nonce = proof.get("challenge"), proof.get("nonce")
    if not isinstance(challenge, str) or not isinstance(nonce, str) or len(nonce) > 64:
        return "Calcul anti-robot illisible : rechargez la page."
    parts = challenge.split(".")
    if len(parts) != 5:
        return "Calcul anti-robot illisible : rechargez la page."
    payload = ".".join(parts[:4])
    if not hmac.compare_digest(parts[4], _pow_mac(payload)) or parts[0] != cid:
        return "Défi anti-robot inconnu : rechargez la page."
    try:
        issued, bits = int(parts[1]), int(parts[3])
    except ValueError:
        return "Défi anti-robot illisible : rechargez la page."
    if time.time() - issued > POW_MAX_AGE:
        return "Défi anti-robot expiré : renvoyez la réponse."
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    if leading_zero_bits(digest) < bits:
        return "Calcul anti-robot incorrect : renvoyez la réponse."
    return None


@require_GET
def challenge(request: HttpRequest, cid: str) -> JsonResponse:
    c = _public(cid)
    return JsonResponse({"challenge": make_challenge(c.cid), "bits": pow_bits()})


# -- submission ---------------------------------------------------------------------------


class Reply(NamedTuple):
    """The answer to a submission, before it is written as HTTP (Django or raw ASGI)."""

    status: int
    payload: dict[str, Any]
    retry_after: int | None = None


def _refusal(code: str, message: str, status: int = 400, **extra: Any) -> Reply:
    return Reply(status, {"ok": False, "error": code, "message": message, **extra})


def in_language(reply: Reply, language: str) -> Reply:
    """A refusal's message for a reader of ``language``; the ``error`` code, the
    status and a success are left as they are.  The messages are written in French
    (some by pure code); only refusals pay for re-saying them."""
    message = reply.payload.get("message")
    if reply.payload.get("ok") is not False or not isinstance(message, str):
        return reply
    if language.startswith("fr"):
        return reply
    with translation.override(language):
        said = _refusal_in_language(message)
    return reply._replace(payload={**reply.payload, "message": said})


_SPEC_CACHE: dict[str, tuple[float, str, str, Spec]] = {}
_SPEC_TTL = 2.0


def _load_spec(cid: str) -> tuple[str, str, Spec] | None:
    # A draft is read as no consultation at all, as on every public page: a ballot box
    # answering « pas ouverte » let anyone test whether a draft of a given name exists
    # before it is announced.  Same query either way, and neither is cached.
    c = (
        Consultation.objects.filter(cid=cid)
        .exclude(status=Status.DRAFT)
        .only("spec", "status", "spec_hash")
        .first()
    )
    if c is None:
        return None
    return c.status, c.spec_hash, spec_from_dict(c.spec)


async def _spec(cid: str) -> tuple[str, str, Spec] | None:
    # For the pre-checks only: the writer re-reads status, revocations, seq and
    # period inside its transaction, so a stale entry can never let a ballot
    # through, it can only send it on to be refused there (with the same message).
    hit = _SPEC_CACHE.get(cid)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _SPEC_TTL:
        return hit[1], hit[2], hit[3]
    # One read per expiry, however many requests are waiting for it (under load
    # dozens arrive before the first read returns).  Shared per event loop only: a
    # future belongs to its loop, and under a threaded server (WSGI, each request
    # in a loop of its own) a request awaiting another thread's read got a 500
    # (« attached to a different loop »).
    key = (id(asyncio.get_running_loop()), cid)
    pending = _SPEC_LOADS.get(key)
    if pending is None:
        pending = asyncio.ensure_future(sync_to_async(_load_spec)(cid))
        _SPEC_LOADS[key] = pending
        pending.add_done_callback(lambda _: _SPEC_LOADS.pop(key, None))
    loaded = await asyncio.shield(pending)
    if loaded is not None:
        _SPEC_CACHE[cid] = (now, *loaded)
    return loaded


_SPEC_LOADS: dict[tuple[int, str], asyncio.Future[tuple[str, str, Spec] | None]] = {}


def _forget_spec(sender: Any, instance: Consultation, **kwargs: Any) -> None:
    # Opening, closing or adding a rule in this process shows at once.
    _SPEC_CACHE.pop(instance.cid, None)


post_save.connect(_forget_spec, sender=Consultation, dispatch_uid="consult-api-forget-spec")


_REFUSED_HOURS = 24


def _refused_key(cid: str, hour: int) -> str:
    return f"consult-refused:{cid}:{hour}"


def _count_refusal(cid: str) -> None:
    # Per hour, for the organiser and the scrutineers: a salvo stopped by the limit
    # left no trace anywhere, and the audit saw only the answers that got through.
    # Counts only (no network, no address).
    key = _refused_key(cid, int(time.time() // 3600))
    throttle.count_up(key, timeout=(_REFUSED_HOURS + 1) * 3600)


def refused_lately(cid: str) -> int:
    """Open-mode answers the rate limit refused lately: the current hour and the 23
    before it, so between 23 and 24 hours back — never more than the last 24 hours
    hold (the pages say « au moins »)."""
    hour = int(time.time() // 3600)
    keys = [_refused_key(cid, h) for h in range(hour - _REFUSED_HOURS + 1, hour + 1)]
    return sum(int(n) for n in cache.get_many(keys).values())


def _open_mode_checks(client: ClientPseudonyms, cid: str, body: dict[str, Any]) -> Reply | None:
    if body.get(HONEYPOT):
        return _refusal(
            "honeypot",
            "Le champ « Site web » doit rester vide : il sert à repérer les robots.",
        )
    reason = check_pow(cid, body.get("pow"))
    if reason:
        return _refusal("proof_of_work", reason)
    # Single use: a challenge solved once cannot be replayed for a second answer.
    proof = body["pow"]
    used = hashlib.sha256(proof["challenge"].encode()).hexdigest()
    if not cache.add(f"consult-pow:{used}", 1, timeout=POW_MAX_AGE + 60):
        return _refusal("proof_of_work", "Défi anti-robot déjà utilisé : renvoyez la réponse.")
    limit, span = open_limit()
    window = throttle.hit("consult-open", f"{cid}:{client.prefix}", limit=limit, window=span)
    if window.exceeded:
        _count_refusal(cid)
        # No delay in the text: the page counts it down from retry_after (in minutes,
        # then seconds), so the sentence never shows a number that has gone stale.
        reply = _refusal(
            "rate_limited",
            "Beaucoup de réponses viennent de votre réseau : votre réponse n'a pas encore été "
            "enregistrée. Gardez cette page ouverte : elle sera renvoyée automatiquement.",
            status=429,
            retry_after=window.retry_after,
        )
        return reply._replace(retry_after=window.retry_after)
    return None


async def receive_ballot(cid: str, raw: bytes, client: ClientPseudonyms) -> Reply:
    """Check one submitted request body and put its ballot on the board.

    The pure, per-request work happens here (JSON, shape, canonical encoding
    once, Ed25519 signature, open-mode defences); everything that depends on
    the board's state is checked again by ``actions.submit_ballots`` in the
    transaction that appends the ballot.  A success is returned only after
    that transaction committed.  Shared by the Django view and the raw ASGI
    path, so both answer alike.
    """
    if len(raw) > MAX_BODY:
        return _refusal("too_large", "Réponse trop volumineuse.", status=413)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        # RecursionError: arrays or objects nested a thousand deep (a few KB of "[") —
        # not JSON any ballot is made of, and an uncaught one was a 500 for anyone.
        return _refusal("malformed", "Réponse illisible (JSON attendu).")
    if not isinstance(body, dict):
        return _refusal("malformed", "Réponse illisible (objet JSON attendu).")
    # JSON writes a NUL only as this escape, so most bodies skip the walk.
    if b"\\u0000" in raw and holds_nul(body):
        # PostgreSQL's jsonb cannot hold one: the writer's batch failed whole, so every
        # ballot sent with it was refused (503), by anyone sending one such ballot.
        return _refusal("malformed", "Bulletin non encodable : caractère nul (\\u0000) refusé")
    loaded = await _spec(cid)
    if loaded is None:
        return _refusal("unknown", "Consultation inconnue.", status=404)
    status, frozen_hash, spec = loaded
    if status != Status.OPEN:
        return _refusal("out_of_period", "La consultation n'est pas ouverte aux réponses.", 403)
    ballot: Any = body.get("ballot")
    signature: Any = body.get("signature")
    try:
        if signature is not None and not isinstance(signature, str):
            raise MalformedBallot("Signature : texte hexadécimal attendu.")
        check_shape(ballot, encode=False)  # signed_bytes below encodes it once
        if ballot["consultation"] != spec.id:
            raise WrongConsultation("Ce bulletin est destiné à une autre consultation.")
        if ballot["spec_hash"] != frozen_hash:
            raise WrongConsultation(
                "Ce bulletin a été préparé pour une autre version des questions : "
                "rechargez la page."
            )
        keyed = ballot["public_key"] is not None
        body_bytes = signed_bytes(ballot)
        if keyed and signature is not None:
            verify_signature(ballot, signature, signed=body_bytes)
    except CanonicalError as exc:
        return _refusal("malformed", f"Bulletin non encodable : {exc}")
    except BallotError as exc:
        return _refusal(exc.code, exc.message)
    except RecursionError:
        # Nested just shallowly enough for the JSON parser, too deep for the canonical
        # encoder's walk.
        return _refusal("malformed", "Réponse illisible (JSON attendu).")
    if not keyed and spec.access != "credentialed":
        refused = await sync_to_async(_open_mode_checks)(client, cid, body)
        if refused is not None:
            return refused
    item = actions.Incoming(
        ballot,
        signature,
        net=client.prefix,
        addr=client.address,
        ua=client.user_agent,
        signature_checked=keyed and signature is not None,
        signed=body_bytes,
    )
    try:
        if group_commit():
            outcome = await live.COMMITTER.submit(cid, item)
        else:
            outcome = (await sync_to_async(actions.submit_ballots)(cid, [item]))[0]
    except DatabaseError:
        # The batch's transaction rolled back: nothing of it is on the board.
        log.exception("ballot batch failed")
        return _refusal(
            "unavailable",
            "Le serveur n'a pas pu enregistrer votre réponse : elle ne figure pas sur le "
            "tableau. Réessayez dans un instant.",
            status=503,
        )
    if outcome.error is not None:
        return _refusal(outcome.error.code, outcome.error.message)
    assert outcome.entry is not None
    entry = outcome.entry
    return Reply(
        200,
        {
            "ok": True,
            "new": outcome.new,
            "receipt": entry["receipt"],
            "n": entry["n"],
            "hash": entry["hash"],
            "received_at": entry["received_at"],
        },
    )


def _json_response(reply: Reply) -> JsonResponse:
    resp = JsonResponse(
        reply.payload, status=reply.status, json_dumps_params={"ensure_ascii": False}
    )
    if reply.retry_after is not None:
        resp["Retry-After"] = str(reply.retry_after)
    return resp


def _foreign_origin(request: HttpRequest) -> bool:
    """A browser says which site a request comes from. Another site's page could make its
    visitors' browsers send open-mode answers, each from its own network, past the limit
    per network: such requests are refused. Clients that are not browsers send no Origin."""
    origin = request.headers.get("Origin")
    if not origin:
        return False
    if origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", ()):
        return False
    try:
        return urlsplit(origin).netloc.lower() != request.get_host().lower()
    except ValueError:
        return True


_FOREIGN_ORIGIN = _refusal(
    "origin", "Les réponses s'envoient depuis la page du questionnaire.", 403
)


@csrf_exempt  # no ambient authority here: a keyed ballot's signature is its authority
async def submit(request: HttpRequest, cid: str) -> HttpResponse:
    # LocaleMiddleware chose the language as it did for the answer page.
    language = translation.get_language() or settings.LANGUAGE_CODE
    if request.method != "POST":
        reply = _refusal("method", "Envoyez la réponse avec POST.", status=405)
    elif _foreign_origin(request):
        reply = _FOREIGN_ORIGIN
    else:
        reply = await receive_ballot(cid, request.body, pseudonyms(request))
    return _json_response(in_language(reply, language))


# -- receipts, board, results, downloads ---------------------------------------------------


def _exclusions_by_hash(c: Consultation) -> dict[str, dict[str, Any]]:
    """The tally's exclusions keyed by entry hash (what a receipt looks up)."""
    return _memo(  # type: ignore[no-any-return]
        c, "exclusions", lambda: {ex["hash"]: ex for ex in _results(c)["exclusions"]}
    )


def _receipt_status(
    c: Consultation, spec: Spec, row: Any, entry: dict[str, Any]
) -> dict[str, Any] | None:
    """Why the results set this entry aside, or None when it counts.

    The receipt is the respondent's only check: it must say so when a ballot on the board
    is not counted, by which rule and why (a revoked code, a motivated decision, an
    integrity flag), not only when a later ballot replaced it."""
    ex = _exclusions_by_hash(c).get(entry["hash"])
    if ex is None:
        return None
    rule = ex["rule"]
    post_hoc = any(r.code == rule and r.added_after_opening for r in spec.rules)
    out: dict[str, Any] = {"rule": rule, "reason": ex["reason"], "post_hoc": post_hoc}
    if rule == "revoked_key" and row.public_key:
        cred = c.credentials.filter(public_key=row.public_key).first()
        if cred is not None and cred.revoked_at is not None:
            out["revoked_at"] = format_time(cred.revoked_at)
            out["reason"] = cred.revoke_reason
    elif rule == "integrity_flag":
        wanted = {f for r in spec.rules if r.code == rule for f in r.params.get("flags", [])}
        out["flags"] = sorted(
            {f["flag"] for f in live.flags(c) if f.get("entry") == entry["hash"]} & wanted
        )
    return out


@require_GET
def receipt_page(request: HttpRequest, cid: str) -> HttpResponse:
    c = _public(cid)
    value = request.GET.get("recu", "").strip().lower()
    entry = None
    superseded_by = None
    later_excluded = False
    excluded = None
    # A receipt is 64 hex digits: anything else is on no board, and is not looked up
    # (a NUL in the text was a 500 on PostgreSQL, whose text cannot hold one).
    if HEX64.match(value):
        row = c.entries.filter(receipt=value).only(*live.PUBLIC_ENTRY_FIELDS, "public_key").first()
        if row is not None:
            entry = row.public()
            if row.public_key:
                later = (
                    c.entries.filter(public_key=row.public_key, n__gt=row.n)
                    .order_by("-n")
                    .values_list("n", "hash")
                    .first()
                )
                if later is not None:
                    superseded_by = later[0]
                    # The later ballot may itself be set aside (a decision): then it is
                    # not « the one that counts » either.
                    later_excluded = later[1] in _exclusions_by_hash(c)
            excluded = _receipt_status(c, c.get_spec(), row, entry)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "found": entry is not None,
                "entry": entry,
                "superseded_by": superseded_by,
                "counted": entry is not None and excluded is None,
                "excluded": excluded,
            }
        )
    return render(
        request,
        "consult/receipt.html",
        {
            "consultation": c,
            "value": value,
            "entry": entry,
            "superseded_by": superseded_by,
            "later_excluded": later_excluded,
            "excluded": excluded,
        },
    )


def _question_rows(spec: Spec, breakdown: dict[str, Any]) -> list[dict[str, Any]]:
    """Template-friendly view of one BREAKDOWN of the tally."""
    out = []
    for q in spec.questions:
        res = breakdown["questions"][q.code]
        item: dict[str, Any] = {"q": q, "answered": res["answered"], "counts": []}
        if q.kind in ("single", "multiple"):
            item["counts"] = [(o.label, res["counts"][o.code]) for o in q.options]
        elif q.kind == "scale":
            item["counts"] = [(k, v) for k, v in res["counts"].items()]
            item["mean"] = res["sum"] / res["answered"] if res["answered"] else None
        if q.per_row and spec.rows:
            names = {o.code: o.label for o in q.options}
            item["rows"] = [
                {
                    "label": label,
                    "answered": breakdown["rows"][i][q.code]["answered"],
                    "counts": [
                        (names.get(k, k), v)
                        for k, v in breakdown["rows"][i][q.code].get("counts", {}).items()
                    ],
                }
                for i, label in enumerate(spec.rows.labels)
            ]
        out.append(item)
    return out


def revocations(c: Consultation) -> list[dict[str, Any]]:
    """Each revoked code as the board lists it: when, why, whether it had already voted
    (a code revoked after it served sets a ballot aside: the board must show that
    one, not only a count), and whether a new code replaced it."""
    creds = list(
        c.credentials.filter(revoked_at__isnull=False)
        .order_by("revoked_at", "public_key")
        .values_list("public_key", "segment", "revoked_at", "revoke_reason", "replaced_by")
    )
    if not creds:
        return []
    voted: dict[str, list[str]] = {}
    for pk, at in c.entries.filter(public_key__in=[x[0] for x in creds]).values_list(
        "public_key", "received_at"
    ):
        if pk is not None:
            voted.setdefault(pk, []).append(at)
    out = []
    for pk, segment, revoked_at, reason, replaced_by in creds:
        assert revoked_at is not None  # filtered above
        at = format_time(revoked_at)
        before = sum(1 for t in voted.get(pk, ()) if t < at)
        out.append(
            {
                "public_key": pk,
                "segment": segment,
                "at": at,
                "reason": reason,
                "replaced": bool(replaced_by),
                "ballots_before": before,
                "ballots_after": len(voted.get(pk, ())) - before,
            }
        )
    return out


def key_imports(c: Consultation) -> list[dict[str, Any]]:
    """Each journaled import of public keys as the board lists it: when, how many, for
    which segments, and whether after the opening (a late list is allowed, a class
    forgotten, but must be seen; ``beffroi verify`` lists the same imports).

    The journal gives the time and count of each import; the segments come from the
    credentials themselves, taken in insertion order (a batch is one bulk insert,
    under the consultation's lock) with the reissued keys left out."""
    events = list(
        c.events.filter(kind__in=("opened", "credentials_imported", "credential_added"))
        .order_by("n")
        .values_list("kind", "at", "data")
    )
    opened = next((at for kind, at, _ in events if kind == "opened"), None)
    reissued = {data.get("public_key") for kind, _, data in events if kind == "credential_added"}
    segments = [
        seg
        for pk, seg in c.credentials.order_by("pk").values_list("public_key", "segment")
        if pk not in reissued
    ]
    out = []
    start = 0
    for kind, at, data in events:
        if kind != "credentials_imported":
            continue
        count = int(data.get("count") or 0)
        batch = segments[start : start + count]
        start += count
        out.append(
            {
                "at": at,
                "count": count,
                "segments": sorted({s for s in batch if s is not None}),
                "late": opened is not None and at > opened,
            }
        )
    return out


@require_GET
def board_page(request: HttpRequest, cid: str) -> HttpResponse:
    c = _public(cid)
    spec = c.get_spec()
    board = _entries(c)
    res = _results(c)
    seg_labels = {s.code: s.label for s in spec.segments}
    segments = []
    for code, seg in res["segments"].items():
        electorate = seg["electorate"]
        segments.append(
            {
                "code": code,
                "label": seg_labels.get(code, _("sans segment") if code == "_none" else code),
                "electorate": electorate,
                "counted": seg["counted"],
                "verified": seg["verified"],
                "unverified": seg["unverified"],
                "participation": (100.0 * seg["counted"] / electorate) if electorate else None,
                "questions": _question_rows(spec, seg["results"]["all"]),
            }
        )
    classes = [("all", _("Toutes les réponses comptées"))]
    if spec.access == "mixed":
        classes += [("verified", _("Vérifiées (signées)")), ("unverified", _("Non vérifiées"))]
    without = res.get("without_post_hoc")
    if without:
        # Rule 4: the effect of the rules added after opening, question by question.
        without = {**without, "questions": _question_rows(spec, without["results"]["all"])}
    return render(
        request,
        "consult/board.html",
        {
            "consultation": c,
            "spec": spec,
            "results": res,
            "excluded_by_rule": excluded_by_rule(spec, res["exclusions_by_rule"]),
            "overall": [
                (label, res["counted"][cls], _question_rows(spec, res["results"][cls]))
                for cls, label in classes
            ],
            "segments": segments,
            # A rate above 100 % is impossible from the electorate alone: said under
            # the table, not left as a bare « 933,3 % » (open consultations invite it).
            "over_electorate": [s["label"] for s in segments if (s["participation"] or 0) > 100],
            "latest": board[-50:][::-1],
            "keys_fingerprint": (actions.keys_fingerprint(c) if spec.access != "open" else None),
            # The consultation journal's head: neither the spec hash nor the board head
            # covers the journal (format number, flags, decisions), so a copy noted here
            # is what `beffroi verify --journal-head` checks a later bundle against.
            "journal_head": c.events.order_by("-n").values_list("hash", "n").first(),
            "flags": live.flags(c),
            "revocations": [
                {**r, "segment_label": seg_labels.get(r["segment"], r["segment"])}
                for r in _memo(c, "revocations", lambda: revocations(c))
            ]
            if spec.access != "open"
            else [],
            "key_imports": [
                {**imp, "segment_labels": [seg_labels.get(x, x) for x in imp["segments"]]}
                for imp in _memo(c, "key_imports", lambda: key_imports(c))
            ]
            if spec.access != "open"
            else [],
            "without": without,
            "participation": (100.0 * res["counted"]["all"] / res["electorate"])
            if res["electorate"]
            else None,
        },
    )


def _download(data: bytes | str, filename: str, content_type: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@require_GET
def board_jsonl(request: HttpRequest, cid: str) -> StreamingHttpResponse:
    c = _public(cid)

    def lines() -> Any:
        for e in _entries(c):
            yield json.dumps(e, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"

    resp = StreamingHttpResponse(lines(), content_type="application/x-ndjson; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{c.cid}-tableau.jsonl"'
    return resp


CSV_COLUMNS = (
    "n",
    "received_at",
    "public_key",
    "segment",
    "seq",
    "answers",
    "rows",
    "signature",
    "receipt",
    "prev",
    "hash",
)


@require_GET
def board_csv(request: HttpRequest, cid: str) -> HttpResponse:
    c = _public(cid)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in _entries(c):
        b = e["ballot"]
        w.writerow(
            [
                e["n"],
                e["received_at"],
                b["public_key"] or "",
                b["segment"] or "",
                b["seq"],
                json.dumps(b["answers"], ensure_ascii=False, sort_keys=True),
                json.dumps(b["rows"], ensure_ascii=False, sort_keys=True),
                e["signature"] or "",
                e["receipt"],
                e["prev"],
                e["hash"],
            ]
        )
    return _download(buf.getvalue(), f"{c.cid}-tableau.csv", "text/csv; charset=utf-8")


@require_GET
def results_json(request: HttpRequest, cid: str) -> HttpResponse:
    c = _public(cid)
    return _download(
        json.dumps(_results(c), ensure_ascii=False, indent=1, sort_keys=True),
        f"{c.cid}-resultats.json",
        "application/json; charset=utf-8",
    )


@require_GET
def rules_json(request: HttpRequest, cid: str) -> HttpResponse:
    c = _public(cid)
    opened = format_time(c.opened_at) if c.opened_at else None
    spec = c.spec | {"opening": {"spec_hash": c.spec_hash, "at": opened}}
    return _download(
        json.dumps(spec, ensure_ascii=False, indent=1, sort_keys=True),
        f"{c.cid}-consultation.json",
        "application/json; charset=utf-8",
    )


@require_GET
def bundle_zip(request: HttpRequest, cid: str) -> HttpResponse:
    c = _public(cid)
    return _download(
        _memo(c, "bundle", lambda: live.bundle(c)), f"{c.cid}-dossier.zip", "application/zip"
    )


# -- fast path -----------------------------------------------------------------------------

SUBMIT_PATH = re.compile(r"^/c/(?P<cid>[-a-zA-Z0-9_]+)/bulletin/$")

# The request headers that decide the host check, the HTTPS rule and the client's
# pseudonyms (what Django's request object would read from them).
_CLIENT_HEADERS = frozenset(
    {
        b"host",
        b"origin",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-proto",
        b"x-forwarded-for",
        b"user-agent",
    }
)


class _Client(NamedTuple):
    host_ok: bool
    secure: bool
    pseudonyms: ClientPseudonyms
    foreign_origin: bool = False


_CLIENTS: dict[tuple[Any, ...], _Client] = {}
_CLIENTS_MAX = 4096


def _client(scope: dict[str, Any]) -> _Client:
    """Host check, HTTPS and pseudonyms of the request, as Django decides them.

    They depend only on a few headers and the connection's addresses, so the
    verdict is computed once per distinct combination with Django's own
    request object and reused: a client sending thousands of ballots costs
    one HMAC pass, not thousands.
    """
    key = (
        scope.get("scheme"),
        tuple(scope.get("server") or ()),
        (scope.get("client") or (None,))[0],
        tuple((k, v) for k, v in scope.get("headers", ()) if k.lower() in _CLIENT_HEADERS),
    )
    hit = _CLIENTS.get(key)
    if hit is not None:
        return hit
    from django.core.exceptions import DisallowedHost
    from django.core.handlers.asgi import ASGIRequest

    request = ASGIRequest(scope, io.BytesIO(b""))
    try:
        request.get_host()
        host_ok = True
    except DisallowedHost:
        host_ok = False
    verdict = _Client(
        host_ok,
        request.is_secure(),
        pseudonyms(request),
        foreign_origin=host_ok and _foreign_origin(request),
    )
    if len(_CLIENTS) >= _CLIENTS_MAX:
        _CLIENTS.clear()
    _CLIENTS[key] = verdict
    return verdict


@lru_cache(maxsize=512)
def _language(cookie: str | None, accept: str) -> str:
    # Django's own rule (the language cookie, then Accept-Language), as LocaleMiddleware
    # applied it to the answer page that sends the ballot.
    request = SimpleNamespace(
        COOKIES={} if cookie is None else {settings.LANGUAGE_COOKIE_NAME: cookie},
        META={"HTTP_ACCEPT_LANGUAGE": accept},
    )
    return translation.get_language_from_request(request)  # type: ignore[arg-type]


def scope_language(scope: dict[str, Any]) -> str:
    """The reader's language of a raw ASGI request (asked only for a refusal)."""
    cookie: str | None = None
    accept = ""
    for key, value in scope.get("headers", ()):
        key = key.lower()
        if key == b"cookie":  # HTTP/2 may send several
            found = parse_cookie(value.decode("latin-1")).get(settings.LANGUAGE_COOKIE_NAME)
            cookie = found if found is not None else cookie
        elif key == b"accept-language":
            accept = value.decode("latin-1")
    # Both cut short: they key a cache, and no language name is longer.
    return _language(None if cookie is None else cookie[:32], accept[:1000])


def _forget_settings(**kwargs: Any) -> None:
    # ALLOWED_HOSTS, the proxy header or the pseudonym key changed (tests do that).
    _CLIENTS.clear()
    _GROUP_COMMIT.clear()
    _language.cache_clear()


setting_changed.connect(_forget_settings, dispatch_uid="consult-api-forget-settings")

_SECURITY_HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


def with_fast_ballots(app: Any) -> Any:
    """Wrap the Django ASGI application so that ballot submissions
    (``/c/<id>/bulletin/``) are answered by a raw ASGI handler.

    No Django request object, URL resolver or middleware (sessions, CSRF,
    messages, locale…: none of which a ballot uses) runs for them; the host
    check, the HTTPS rule, the pseudonyms, every refusal and the write (through
    ``actions.submit_ballots``) are the same as the ``submit`` view's.  Every
    other request goes to Django unchanged.  Measured in bench/consult_load.py.
    """

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = SUBMIT_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None:
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        reply = await _fast_reply(scope, match["cid"], body, size)
        if not reply.payload.get("ok"):
            reply = in_language(reply, scope_language(scope))
        content = json.dumps(reply.payload, ensure_ascii=False).encode()
        headers = [*_SECURITY_HEADERS, (b"content-length", str(len(content)).encode())]
        if reply.retry_after is not None:
            headers.append((b"retry-after", str(reply.retry_after).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    return asgi


async def _fast_reply(scope: dict[str, Any], cid: str, body: bytes, size: int) -> Reply:
    client = _client(scope)
    if not client.host_ok:
        return _refusal("host", "Hôte non autorisé.", status=400)
    if settings.SECURE_SSL_REDIRECT and not client.secure:
        return _refusal("https", "Envoyez la réponse en HTTPS.", status=403)
    if size > MAX_BODY:
        return _refusal("too_large", "Réponse trop volumineuse.", status=413)
    if scope.get("method") != "POST":
        return _refusal("method", "Envoyez la réponse avec POST.", status=405)
    if client.foreign_origin:
        return _FOREIGN_ORIGIN
    return await receive_ballot(cid, body, client.pseudonyms)
