"""The raw ASGI path for ballots and the group-commit writer behind it.

These tests run the real writer thread (its own database connection), so the
data they rely on is committed first (``transactional_db``): a ballot's
receipt must only come back once its batch is durably on the board, and
whatever changes in the database (a revocation, a closing made by another
process) must be refused by the writer even when the request path's
pre-check cache has not seen it yet.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError, connections

from asgi_calls import http_scope, sent_by
from beffroi.consult import actions, api, live
from beffroi.consult.ballot import RevokedKey
from beffroi.consult.cli_example_bundle import setup_consultation, signed_payload
from beffroi.consult.credentials import public_key_hex
from beffroi.consult.models import BoardEntry, Consultation, Status
from beffroi.consult.verify import verify_bundle
from beffroi.core import journal
from beffroi.core.client import pseudonyms
from beffroi.core.pseudonym import ClientPseudonyms

ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]


@pytest.fixture(autouse=True)
def _fresh_caches(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = True
    api._SPEC_CACHE.clear()
    api._CLIENTS.clear()
    yield
    api._SPEC_CACHE.clear()
    # The writer and the spec reader keep their own connections: close them so
    # that the test database can be dropped (PostgreSQL refuses while in use).
    live.COMMITTER.close_connection()
    asyncio.run(sync_to_async(connections.close_all)())


async def _django_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def call(app, path, body=b"", *, method="POST", host=b"127.0.0.1:8000", headers=()):
    """One request through ``app`` on its own event loop; returns (status, headers, JSON)."""
    start, end = sent_by(app, http_scope(method, path, headers, host=host), body)
    payload = json.loads(end["body"]) if end["body"] else None
    return start["status"], dict(start["headers"]), payload


@pytest.fixture
def app():
    return api.with_fast_ballots(_django_app)


def test_receipts_come_from_the_writer_after_commit_and_state_is_rechecked(
    transactional_db, org, app
):
    c, private = setup_consultation(
        org, cid="ecrivain", access="mixed", per_segment=2, all_kinds=True
    )
    path = f"/c/{c.cid}/bulletin/"
    first = json.dumps(signed_payload(c, private[0].code, {"satisfaction": 4}, ROWS, 3)).encode()
    status, headers, body = call(app, path, first)
    assert status == 200, body
    assert headers[b"cache-control"] == b"no-store"
    # Committed by the writer's own connection: this thread sees it.
    entry = BoardEntry.objects.get(consultation=c, receipt=body["receipt"])
    assert (entry.n, entry.hash) == (body["n"], body["hash"])
    # The same ballot again (a network retry): the same receipt, nothing added.
    status, _, again = call(app, path, first)
    assert status == 200 and again["new"] is False and again["receipt"] == body["receipt"]
    assert BoardEntry.objects.filter(consultation=c).count() == 1

    # Revoked after the first ballot: the writer refuses the key's next ballot.
    actions.revoke_credential(
        c, public_key_hex(private[0].code, c.cid), "perdu", actor=None, replacement="ab" * 32
    )
    later = json.dumps(signed_payload(c, private[0].code, {"satisfaction": 2}, ROWS, 9)).encode()
    status, _, refused = call(app, path, later)
    assert status == 400 and refused["error"] == RevokedKey.code
    assert refused["message"] == (
        "Ce code a été révoqué ; utilisez le nouveau code qui vous a été remis."
    )

    # Closed by another process (no signal here): the pre-check cache still says
    # "open", the writer reads the row in its transaction and refuses.
    assert api._SPEC_CACHE[c.cid][1] == Status.OPEN
    Consultation.objects.filter(pk=c.pk).update(status=Status.CLOSED)
    other = json.dumps(signed_payload(c, private[1].code, {"satisfaction": 5}, ROWS, 1)).encode()
    status, _, refused = call(app, path, other)
    assert status == 400 and refused["error"] == "out_of_period"
    assert refused["message"] == (
        "La consultation est close : votre réponse n'a pas été enregistrée."
    )
    assert BoardEntry.objects.filter(consultation=c).count() == 1
    Consultation.objects.filter(pk=c.pk).update(status=Status.OPEN)

    # Closed in this process: the pre-check answers at once, with its own wording.
    c.refresh_from_db()
    actions.close_consultation(c, actor=None)
    status, _, refused = call(app, path, other)
    assert status == 403 and refused["message"] == "La consultation n'est pas ouverte aux réponses."
    c.refresh_from_db()
    assert verify_bundle(live.bundle(c)).ok
    assert journal.verify() is None


def test_concurrent_ballots_share_batches_and_keep_one_chain(transactional_db, org, app):
    c, private = setup_consultation(
        org, cid="lots", access="credentialed", per_segment=15, all_kinds=True
    )
    bodies = [
        json.dumps(signed_payload(c, p.code, {"satisfaction": 1 + i % 5}, ROWS, 1)).encode()
        for i, p in enumerate(private)
    ]
    scope_for = {
        "type": "http",
        "method": "POST",
        "path": f"/c/{c.cid}/bulletin/",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("198.51.100.9", 5555),
        "headers": [(b"host", b"127.0.0.1:8000")],
    }

    async def one(body: bytes) -> dict:
        sent: list[dict] = []
        messages = [{"type": "http.request", "body": body}]

        async def receive():
            return messages.pop()

        async def send(message):
            sent.append(message)

        await app(dict(scope_for), receive, send)
        return json.loads(sent[1]["body"])

    async def all_at_once():
        return await asyncio.gather(*(one(b) for b in bodies))

    replies = asyncio.run(all_at_once())
    assert all(r["ok"] for r in replies), [r for r in replies if not r["ok"]][:2]
    assert sorted(r["n"] for r in replies) == list(range(1, len(bodies) + 1))
    batches = journal.exported()
    accepted = [e["data"]["accepted"] for e in batches if e["action"] == "consult.ballots"]
    assert sum(accepted) == len(bodies)
    assert len(accepted) < len(bodies)  # some ballots shared a transaction
    c.refresh_from_db()
    assert c.board_count == len(bodies)
    assert verify_bundle(live.bundle(c)).ok


def test_the_writer_commits_with_a_full_fsync_on_sqlite(transactional_db, monkeypatch):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("synchronous=FULL is SQLite's setting; PostgreSQL commits durably")
    seen: list[int] = []

    def probe(cid, items, at=None):
        with connection.cursor() as cursor:  # the writer thread's connection
            cursor.execute("PRAGMA synchronous")
            seen.append(cursor.fetchone()[0])
        return [actions.Outcome() for _ in items]

    monkeypatch.setattr(actions, "submit_ballots", probe)
    committer = live.GroupCommitter()
    asyncio.run(committer.submit("x", actions.Incoming({}, None)))
    assert seen == [2]  # FULL


def test_a_failed_batch_fails_its_requests_and_the_writer_goes_on(monkeypatch):
    calls: list[int] = []

    def flaky(cid, items, at=None):
        calls.append(len(items))
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return [actions.Outcome(entry={"n": i}) for i, _ in enumerate(items)]

    monkeypatch.setattr(actions, "submit_ballots", flaky)
    committer = live.GroupCommitter()
    monkeypatch.setattr(committer, "_durable_connection", lambda: None)
    monkeypatch.setattr("django.db.connection.close", lambda: None)
    with pytest.raises(OperationalError):
        asyncio.run(committer.submit("x", actions.Incoming({}, None)))

    async def several():
        return await asyncio.gather(
            *(committer.submit("x", actions.Incoming({"i": i}, None)) for i in range(5))
        )

    outcomes = asyncio.run(several())
    assert len(outcomes) == 5 and sum(calls[1:]) == 5
    assert committer._thread is not None and committer._thread.is_alive()


def test_one_spec_read_serves_every_waiting_request(monkeypatch):
    from beffroi.consult.cli_example_bundle import example_spec_dict
    from beffroi.consult.spec import spec_from_dict

    spec = spec_from_dict(example_spec_dict("attente", access="credentialed", all_kinds=True))
    reads: list[str] = []
    gate = threading.Event()

    def slow_load(cid):
        reads.append(cid)
        gate.wait(5)
        return Status.OPEN, "f" * 64, spec

    monkeypatch.setattr(api, "_load_spec", slow_load)
    client = ClientPseudonyms("addr:1", "prefix:1", "ua:1")
    # A ballot missing its fields: refused right after the spec is known, no write.
    raw = json.dumps({"ballot": {"v": 1}, "signature": None}).encode()

    async def many():
        tasks = [
            asyncio.ensure_future(api.receive_ballot("attente", raw, client)) for _ in range(20)
        ]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks)

    replies = asyncio.run(many())
    assert reads == ["attente"]
    assert {r.status for r in replies} == {400}
    assert all(r.payload["error"] == "malformed" for r in replies)


def test_host_check_https_rule_and_pseudonyms_follow_each_request(
    transactional_db, org, app, settings
):
    c, private = setup_consultation(
        org, cid="hotes", access="credentialed", per_segment=2, all_kinds=True
    )
    path = f"/c/{c.cid}/bulletin/"
    settings.ALLOWED_HOSTS = ["vote.example"]
    body = json.dumps(signed_payload(c, private[0].code, {}, ROWS, 1)).encode()
    status, _, refused = call(app, path, body, host=b"evil.example")
    assert (status, refused["error"]) == (400, "host")
    status, _, reply = call(app, path, body, host=b"vote.example", headers=[(b"user-agent", b"A")])
    assert status == 200, reply
    second = json.dumps(signed_payload(c, private[1].code, {}, ROWS, 1)).encode()
    status, _, reply = call(
        app, path, second, host=b"vote.example", headers=[(b"user-agent", b"B")]
    )
    assert status == 200, reply
    # The private columns hold the same keyed pseudonyms Django's request would give.
    from django.test import RequestFactory

    expected = {
        ua: pseudonyms(
            RequestFactory().post(path, REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT=ua)
        ).user_agent
        for ua in ("A", "B")
    }
    stored = list(
        BoardEntry.objects.filter(consultation=c).order_by("n").values_list("ua", flat=True)
    )
    assert stored == [expected["A"], expected["B"]]
    assert not any("198.51.100" in v for v in BoardEntry.objects.values_list("addr", flat=True))

    settings.SECURE_SSL_REDIRECT = True
    status, _, refused = call(app, path, second, host=b"vote.example")
    assert (status, refused["error"]) == (403, "https")
    # Behind a proxy that says the client used HTTPS, the rule is satisfied.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    status, _, reply = call(
        app, path, second, host=b"vote.example", headers=[(b"x-forwarded-proto", b"https")]
    )
    assert status == 200 and reply["new"] is False


def test_other_requests_and_methods(app):
    status, _, _ = call(app, "/c/x/tableau/", method="GET")
    assert status == 204  # handed to Django untouched
    status, _, refused = call(app, "/c/x/bulletin/", method="GET")
    assert (status, refused["error"]) == (405, "method")
    status, _, refused = call(app, "/c/x/bulletin/", b"x" * (api.MAX_BODY + 1))
    assert (status, refused["error"]) == (413, "too_large")
    status, _, refused = call(app, "/c/x/bulletin/", b"\xff{")
    assert (status, refused["error"]) == (400, "malformed")


def test_stored_ballots_read_back_equal_whatever_their_text(org):
    """The writer stores the canonical JSON it signed (SQLite) or the field's own
    adaptation (PostgreSQL): either way the board reads back the very ballot."""
    from django.db import connection

    c, private = setup_consultation(
        org, cid="textes", access="credentialed", per_segment=1, all_kinds=True
    )
    comment = 'Élève « ravi » 😀\n\t"cité" \\ \u2028 fin'
    items = []
    for i, p in enumerate(private[:3]):
        payload = signed_payload(c, p.code, {"commentaire": comment[: 10 + 5 * i]}, ROWS, 1)
        items.append(actions.Incoming(payload["ballot"], payload["signature"]))
    outcomes = actions.submit_ballots(c.cid, items)
    assert all(o.new for o in outcomes), [o.error for o in outcomes]
    stored = {e.receipt: e.ballot for e in BoardEntry.objects.filter(consultation=c)}
    assert stored == {o.entry["receipt"]: i.ballot for o, i in zip(outcomes, items, strict=True)}
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM consult_boardentry WHERE json_valid(ballot)")
            assert cursor.fetchone()[0] == len(items)
    c.refresh_from_db()
    assert verify_bundle(live.bundle(c)).ok


def test_a_request_whose_loop_closed_does_not_stop_the_writer(monkeypatch):
    gate = threading.Event()

    def slow(cid, items, at=None):
        gate.wait(5)
        return [actions.Outcome() for _ in items]

    monkeypatch.setattr(actions, "submit_ballots", slow)
    committer = live.GroupCommitter()
    monkeypatch.setattr(committer, "_durable_connection", lambda: None)

    async def give_up():
        await asyncio.wait_for(committer.submit("x", actions.Incoming({}, None)), 0.05)

    with pytest.raises(TimeoutError):
        asyncio.run(give_up())  # its loop is closed before the batch commits
    thread = committer._thread
    gate.set()
    outcome = asyncio.run(committer.submit("x", actions.Incoming({}, None)))
    assert outcome.error is None
    assert committer._thread is thread and thread.is_alive()


def test_ballots_posted_by_another_sites_page_are_refused(transactional_db, org, app):
    """Session 5 audit: another site's page could make its visitors' browsers post
    open-mode answers, each from its own network, past the limit per network."""
    c, private = setup_consultation(
        org, cid="origine", access="mixed", per_segment=2, all_kinds=True
    )
    path = f"/c/{c.cid}/bulletin/"
    ballot = json.dumps(signed_payload(c, private[0].code, {}, ROWS, 1)).encode()
    foreign = [(b"origin", b"https://sondage-copie.example")]
    status, _, refused = call(app, path, ballot, headers=foreign)
    assert status == 403 and refused["error"] == "origin"
    assert refused["message"] == "Les réponses s'envoient depuis la page du questionnaire."
    assert not BoardEntry.objects.filter(consultation=c).exists()
    # The questionnaire's own page, and a client that is not a browser (no Origin).
    own = [(b"origin", b"http://127.0.0.1:8000")]
    status, _, body = call(app, path, ballot, headers=own)
    assert status == 200, body
    other = json.dumps(signed_payload(c, private[1].code, {}, ROWS, 1)).encode()
    assert call(app, path, other)[0] == 200
    assert BoardEntry.objects.filter(consultation=c).count() == 2
