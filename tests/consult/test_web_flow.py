"""The consultation web flow: signed ballots, receipts, replacement, refusals,
open mode defences, the public board, downloads and the scrutineer bundle."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from asgi_calls import http_scope
from beffroi.consult import actions, api, live, tasks
from beffroi.consult.cli_example_bundle import (
    example_spec_dict,
    setup_consultation,
    signed_payload,
    unsigned_payload,
)
from beffroi.consult.credentials import public_key_hex
from beffroi.consult.models import BoardEntry, ConsultEvent
from beffroi.consult.verify import verify_bundle
from beffroi.core import journal
from beffroi.core.actions import ActionError

ROWS = [{"semaine": "4j", "mercredi": ["ecole"]}, {}]


@pytest.fixture(autouse=True)
def _sync_writes(settings):
    # The test database lives in this thread's transaction: no writer thread here
    # (the group commit is exercised against a real server in test_web_reliability).
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_POW_BITS = 6
    api._SPEC_CACHE.clear()  # consultation ids are reused from one test to the next


def post(client, cid, payload, **extra):
    return client.post(
        reverse("consult-submit", args=[cid]),
        data=json.dumps(payload),
        content_type="application/json",
        **extra,
    )


def solve(challenge: str, bits: int) -> str:
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
        if api.leading_zero_bits(digest) >= bits:
            return str(nonce)
        nonce += 1


def open_payload(client, c, answers, segment="A1", seq=1):
    ch = client.get(reverse("consult-challenge", args=[c.cid])).json()
    p = unsigned_payload(c, answers, ROWS, seq, segment)
    p["pow"] = {"challenge": ch["challenge"], "nonce": solve(ch["challenge"], ch["bits"])}
    return p


@pytest.fixture
def mixed(org):
    return setup_consultation(org, cid="rythmes", access="mixed", per_segment=2, all_kinds=True)


def test_signed_ballot_receipt_replacement_and_bundle(client, mixed):
    c, private = mixed
    code = private[0].code
    first = post(client, c.cid, signed_payload(c, code, {"satisfaction": 2}, ROWS, 10))
    assert first.status_code == 200, first.content
    r1 = first.json()["receipt"]
    # The same ballot sent again (a network retry) is not added twice.
    again = post(client, c.cid, signed_payload(c, code, {"satisfaction": 2}, ROWS, 10))
    assert again.json() == first.json() | {"new": False}
    second = post(client, c.cid, signed_payload(c, code, {"satisfaction": 5}, ROWS, 11))
    assert second.status_code == 200
    r2 = second.json()["receipt"]
    assert BoardEntry.objects.filter(consultation=c).count() == 2

    page = client.get(reverse("consult-receipt", args=[c.cid]), {"recu": r1}).content.decode()
    assert "Votre réponse figure sur le tableau" in page
    assert "la remplace" in page
    page = client.get(reverse("consult-receipt", args=[c.cid]), {"recu": r2}).content.decode()
    assert "C'est la réponse qui compte" in page
    missing = client.get(reverse("consult-receipt", args=[c.cid]), {"recu": "0" * 64})
    assert "Aucune entrée du tableau ne porte ce reçu" in missing.content.decode()

    res = live.results(c)
    assert res["counted"] == {"all": 1, "verified": 1, "unverified": 0}
    assert res["results"]["all"]["questions"]["satisfaction"]["sum"] == 5
    assert res["exclusions_by_rule"] == {"one_ballot_per_key": 1}

    bundle = client.get(reverse("consult-bundle", args=[c.cid]))
    report = verify_bundle(
        b"".join(bundle.streaming_content) if bundle.streaming else bundle.content
    )
    assert report.ok, report.lines()
    # One instance-journal entry per committed batch, and the chain holds.
    assert journal.verify() is None


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda p: p["ballot"]["answers"].update(satisfaction=1), "invalid_signature"),
        (lambda p: p.update(signature="00" * 64), "invalid_signature"),
        (lambda p: p["ballot"].update(spec_hash="f" * 64), "wrong_consultation"),
        (lambda p: p["ballot"].update(extra=1), "malformed"),
        (lambda p: p.update(signature=None), "invalid_signature"),
    ],
)
def test_tampered_ballots_are_refused_in_french(client, mixed, tamper, code):
    c, private = mixed
    payload = signed_payload(c, private[0].code, {"satisfaction": 3}, ROWS, 5)
    tamper(payload)
    resp = post(client, c.cid, payload)
    assert resp.status_code == 400
    assert resp.json()["error"] == code
    assert resp.json()["message"]  # French text shown as is by the page
    assert not BoardEntry.objects.filter(consultation=c).exists()


def test_unknown_revoked_stale_and_closed(client, mixed):
    c, private = mixed
    stranger = signed_payload(c, "0" * 23 + "0", {"satisfaction": 3}, ROWS, 5)
    resp = post(client, c.cid, stranger)
    assert resp.json()["error"] in {"unknown_key", "malformed"}

    code = private[1].code
    assert post(client, c.cid, signed_payload(c, code, {}, ROWS, 50)).status_code == 200
    stale = post(client, c.cid, signed_payload(c, code, {"satisfaction": 1}, ROWS, 49))
    assert stale.json()["error"] == "stale"
    assert "plus récente" in stale.json()["message"]

    pk = public_key_hex(code, c.cid)
    # The code has voted: revoked with the authority's replacement.
    actions.revoke_credential(c, pk, "lettre perdue", actor=None, replacement="ab" * 32)
    revoked = post(client, c.cid, signed_payload(c, code, {}, ROWS, 60))
    assert revoked.json()["error"] == "revoked_key"
    assert "révoqué" in revoked.json()["message"]
    board = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert "1 code révoqué" in board

    actions.close_consultation(c, actor=None)
    closed = post(client, c.cid, signed_payload(c, private[2].code, {}, ROWS, 1))
    assert closed.json()["error"] == "out_of_period"
    assert "n'est pas ouverte" in closed.json()["message"]


def test_out_of_period_is_refused(client, org):
    now = datetime.now(UTC).replace(microsecond=0)
    spec = example_spec_dict(
        "plus-tard",
        access="credentialed",
        opens=now + timedelta(days=1),
        closes=now + timedelta(days=2),
        all_kinds=True,
    )
    c, private = setup_consultation(
        org, cid="plus-tard", access="credentialed", per_segment=1, spec_dict=spec
    )
    resp = post(client, c.cid, signed_payload(c, private[0].code, {}, ROWS, 1))
    assert resp.json()["error"] == "out_of_period"
    assert "pas encore ouverte : réponses acceptées à partir du" in resp.json()["message"]
    assert "(heure de Paris)" in resp.json()["message"]


def test_open_mode_pow_honeypot_and_rate_limit(client, org, settings):
    settings.BEFFROI_CONSULT_OPEN_LIMIT = 3
    c, _ = setup_consultation(org, cid="ouverte", access="open", all_kinds=True)
    ok = post(client, c.cid, open_payload(client, c, {"satisfaction": 4}, seq=1))
    assert ok.status_code == 200, ok.content

    no_pow = unsigned_payload(c, {"satisfaction": 4}, ROWS, 2, "A1")
    assert post(client, c.cid, no_pow).json()["error"] == "proof_of_work"

    bad_pow = open_payload(client, c, {}, seq=3)
    bad_pow["pow"]["nonce"] = "not-the-answer"
    # (a wrong nonce can pass by chance at 6 bits: find one that does not)
    while api.check_pow(c.cid, bad_pow["pow"]) is None:
        bad_pow["pow"]["nonce"] += "x"
    assert post(client, c.cid, bad_pow).json()["error"] == "proof_of_work"

    replay = open_payload(client, c, {}, seq=4)
    assert post(client, c.cid, replay).status_code == 200
    replay["ballot"]["seq"] = 5
    assert post(client, c.cid, replay).json()["message"].startswith("Défi anti-robot déjà utilisé")

    bot = open_payload(client, c, {}, seq=6)
    bot["site_web"] = "http://spam.example"
    refused = post(client, c.cid, bot)
    assert refused.json()["error"] == "honeypot"

    assert post(client, c.cid, open_payload(client, c, {}, seq=7)).status_code == 200
    slowed = post(client, c.cid, open_payload(client, c, {}, seq=8))
    assert slowed.status_code == 429
    assert int(slowed["Retry-After"]) > 0
    assert "renvoyée automatiquement" in slowed.json()["message"]
    assert BoardEntry.objects.filter(consultation=c).count() == 3

    # A key on an open consultation is refused.
    keyed = signed_payload(c, "0" * 24, {}, ROWS, 1)
    assert post(client, c.cid, keyed).status_code == 400


def test_mixed_results_separate_verified_and_flags_feed_rules(client, mixed):
    c, private = mixed
    for i, cred in enumerate(private[:3]):
        post(client, c.cid, signed_payload(c, cred.code, {"satisfaction": 5}, ROWS, 1 + i))
    for i in range(2):
        resp = post(client, c.cid, open_payload(client, c, {"satisfaction": 1}, "A3", seq=100 + i))
        assert resp.status_code == 200
    res = live.results(c)
    assert res["counted"] == {"all": 5, "verified": 3, "unverified": 2}
    assert res["segments"]["A3"]["unverified"] == 2

    flagged = BoardEntry.objects.filter(consultation=c, public_key=None).first()
    actions.record_flags(c, [(flagged.hash, "audit", "test : rafale")], actor=None)
    res = live.results(c)
    assert res["counted"]["unverified"] == 1
    assert res["exclusions_by_rule"]["integrity_flag"] == 1

    board = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert "Vérifiées (signées)" in board and "Non vérifiées" in board
    assert "consultation mixte" in board.lower()
    # Shown in French typography (no-break space before the colon); stored as written.
    assert "test\u00a0: rafale" in board
    # Per-row results, with the options' labels.
    assert "Responsable légal 1 : 4 réponses (Quatre jours 4," in board
    assert "Responsable légal 2 : 0 réponse" in board


def test_post_hoc_rule_is_labelled_with_its_effect(client, org, members):
    spec = example_spec_dict("posthoc", access="open", all_kinds=True)
    spec["rules"] = []
    c, _ = setup_consultation(org, cid="posthoc", access="open", spec_dict=spec)
    h = c.spec_hash
    for i in range(3):
        assert post(client, c.cid, open_payload(client, c, {}, "A2", seq=i + 1)).status_code == 200
    entry = BoardEntry.objects.filter(consultation=c).first()
    actions.record_flags(c, [(entry.hash, "audit", "preuve")])
    client.force_login(members["coordinator"])
    resp = client.post(
        reverse("consult-post-hoc", args=[org.slug, c.cid]),
        {"label": "Écarter les signalées", "reason": "rafale constatée"},
    )
    assert resp.status_code == 302
    c.refresh_from_db()
    assert c.spec_hash == h  # the published hash does not move
    board = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert "post hoc" in board
    assert "Sans les règles ajoutées après l'ouverture : 3 réponses comptées" in board
    assert live.results(c)["counted"]["all"] == 2
    assert ConsultEvent.objects.filter(consultation=c, kind="rule_added").count() == 1
    with pytest.raises(ActionError, match="déjà en vigueur"):
        actions.add_post_hoc_rule(
            c, {"code": "integrity_flag", "params": {"flags": ["x"]}}, actor=None
        )
    assert verify_bundle(live.bundle(c)).ok


def test_downloads_are_complete(client, mixed):
    c, private = mixed
    post(client, c.cid, signed_payload(c, private[0].code, {"commentaire": 'a,b\n"c"'}, ROWS, 1))
    post(client, c.cid, open_payload(client, c, {}, "A2", seq=9))
    lines = b"".join(client.get(reverse("consult-board-jsonl", args=[c.cid])).streaming_content)
    entries = [json.loads(x) for x in lines.decode().splitlines()]
    assert [e["n"] for e in entries] == [1, 2]
    assert set(entries[0]) == {"n", "received_at", "ballot", "signature", "receipt", "prev", "hash"}
    assert entries[0]["prev"] == c.spec_hash and entries[1]["prev"] == entries[0]["hash"]
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("consult-board-csv", args=[c.cid])).content.decode())
        )
    )
    assert rows[0]["public_key"] == entries[0]["ballot"]["public_key"]
    assert json.loads(rows[0]["answers"]) == {"commentaire": 'a,b\n"c"'}
    assert rows[1]["segment"] == "A2" and rows[1]["signature"] == ""
    results = json.loads(client.get(reverse("consult-results-json", args=[c.cid])).content)
    assert results["access_note"].startswith("consultation mixte")
    frozen = json.loads(client.get(reverse("consult-rules-json", args=[c.cid])).content)
    assert frozen["opening"]["spec_hash"] == c.spec_hash


def test_draft_is_not_public(client, org):
    c, _ = setup_consultation(org, cid="brouillon", access="open", open_it=False, all_kinds=True)
    for name in ("consult-answer", "consult-board", "consult-bundle", "consult-board-jsonl"):
        assert client.get(reverse(name, args=[c.cid])).status_code == 404
    # The ballot box too: a « pas ouverte » told a draft from a name nobody used.
    assert post(client, c.cid, unsigned_payload(c, {}, ROWS, 1, "A1")).status_code == 404


def test_import_errors_name_the_line_and_write_nothing(org):
    c, _ = setup_consultation(org, cid="codes", access="credentialed", open_it=False)
    before = c.credentials.count()
    good = json.dumps({"public_key": "ab" * 32, "segment": "A1"})
    with pytest.raises(ActionError, match="ligne 2"):
        actions.import_credentials(c, good + "\n{oops\n", actor=None)
    with pytest.raises(ActionError, match="segment"):
        actions.import_credentials(
            c, json.dumps({"public_key": "cd" * 32, "segment": "ZZ"}), actor=None
        )
    assert c.credentials.count() == before


def test_live_audit_flags_a_burst(org, monkeypatch):
    """The live audit runs the integrity detectors over the box and its flags
    become events the frozen integrity rule reads."""
    import random

    from beffroi.consult.examples import random_answers

    now = datetime.now(UTC).replace(microsecond=0)
    spec_dict = example_spec_dict(
        "audit",
        access="open",
        opens=now - timedelta(days=3),
        closes=now + timedelta(days=1),
        all_kinds=True,
    )
    c, _ = setup_consultation(org, cid="audit", access="open", spec_dict=spec_dict)
    spec = c.get_spec()
    rng = random.Random(1)
    clock = [now - timedelta(days=2)]
    monkeypatch.setattr(actions.timezone, "now", lambda: clock[0])

    def submit(answers, rows, seq, segment, who):
        ballot = unsigned_payload(c, answers, rows, seq, segment)["ballot"]
        item = actions.Incoming(
            ballot, None, net=f"prefix:{who}", addr=f"addr:{who}", ua=f"ua:{who}"
        )
        assert actions.submit_ballots(c.cid, [item])[0].error is None

    # Two days of calm answers from many networks (one every ~20 min)...
    for i in range(150):
        clock[0] += timedelta(seconds=rng.randint(600, 1800))
        a, r = random_answers(spec, rng)
        submit(a, r, i + 1, rng.choice(spec.segment_codes()), i)
    # ...then 60 identical answers in two minutes from one network.
    for i in range(60):
        clock[0] += timedelta(seconds=2)
        submit(
            {"satisfaction": 1},
            [{"semaine": "4j5", "mercredi": ["famille"]}, {}],
            1000 + i,
            "A4",
            "bot",
        )
    table = tasks.ballot_table(c)
    assert len(table) == 210 and "semaine[R1]" in table[0]
    added = tasks.live_audit(c)
    assert added > 0
    flagged = {ev.data["entry"] for ev in ConsultEvent.objects.filter(consultation=c, kind="flag")}
    bots = set(
        BoardEntry.objects.filter(consultation=c, net="prefix:bot").values_list("hash", flat=True)
    )
    assert len(flagged & bots) >= 0.8 * len(flagged)
    assert tasks.live_audit(c) == 0  # flags are not raised twice
    assert live.results(c)["exclusions_by_rule"]["integrity_flag"] == added
    assert verify_bundle(live.bundle(c)).ok


def test_submit_never_crashes_on_arbitrary_json(client, mixed):
    """Fuzz: whatever JSON arrives, the answer is a clear refusal, never a 500."""
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    c, private = mixed
    good = signed_payload(c, private[0].code, {"satisfaction": 3}, ROWS, 5)
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    values = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=8,
    )
    keys = st.sampled_from(sorted(good["ballot"]))

    @hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(key=keys, value=values, signature=st.none() | st.text(max_size=130) | values)
    def check(key, value, signature):
        ballot = dict(good["ballot"])
        ballot[key] = value
        resp = post(client, c.cid, {"ballot": ballot, "signature": signature})
        assert resp.status_code in (200, 400), resp.content
        if resp.status_code == 400:
            assert resp.json()["message"]

    check()
    raw = client.post(
        reverse("consult-submit", args=[c.cid]), data=b"\xff{", content_type="application/json"
    )
    assert raw.status_code == 400 and "illisible" in raw.json()["message"]


def test_unverified_ballots_schedule_the_live_audit(
    client, org, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[str] = []
    real = tasks.live_audit_task

    class Recorder:
        def enqueue(self, cid):
            queued.append(cid)

    monkeypatch.setattr(tasks, "live_audit_task", Recorder())
    c, _ = setup_consultation(org, cid="planifiee", access="open", all_kinds=True)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, c.cid, open_payload(client, c, {}, seq=1))
        post(client, c.cid, open_payload(client, c, {}, seq=2))
    assert queued == ["planifiee"]  # at most once a minute per consultation
    assert real.call("planifiee")["new_flags"] == 0  # too few answers to say anything


def _asgi_call(app, method, path, body=b"", headers=()):
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator

    scope = http_scope(method, path, headers)

    async def go():
        comm = ApplicationCommunicator(app, scope)
        await comm.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await comm.receive_output(10)
        if start["type"] != "http.response.start":
            return start, None
        end = await comm.receive_output(10)
        return start, end["body"]

    return async_to_sync(go)()


def test_fast_path_serves_ballots_and_passes_the_rest_to_django(mixed, settings):
    c, private = mixed
    seen = []

    async def django_app(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = api.with_fast_ballots(django_app)
    body = json.dumps(signed_payload(c, private[0].code, {"satisfaction": 4}, ROWS, 3)).encode()
    start, content = _asgi_call(app, "POST", f"/c/{c.cid}/bulletin/", body)
    assert start["status"] == 200, content
    assert json.loads(content)["receipt"] == BoardEntry.objects.get(consultation=c).receipt
    assert (b"x-content-type-options", b"nosniff") in start["headers"]
    assert not seen
    start, _ = _asgi_call(app, "GET", f"/c/{c.cid}/tableau/")
    assert start["status"] == 204 and seen == [f"/c/{c.cid}/tableau/"]

    tampered = json.loads(body)
    tampered["ballot"]["answers"]["satisfaction"] = 1
    start, content = _asgi_call(app, "POST", f"/c/{c.cid}/bulletin/", json.dumps(tampered).encode())
    assert start["status"] == 400 and json.loads(content)["error"] == "invalid_signature"
    start, content = _asgi_call(app, "POST", f"/c/{c.cid}/bulletin/", b"x" * (api.MAX_BODY + 1))
    assert start["status"] == 413
    settings.SECURE_SSL_REDIRECT = True
    start, content = _asgi_call(app, "POST", f"/c/{c.cid}/bulletin/", body)
    assert start["status"] == 403 and "HTTPS" in json.loads(content)["message"]


def test_a_failed_commit_is_reported_not_hidden(client, mixed, monkeypatch):
    from django.db import OperationalError

    c, private = mixed

    def broken(cid, items, at=None):
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "submit_ballots", broken)
    resp = post(client, c.cid, signed_payload(c, private[0].code, {}, ROWS, 1))
    assert resp.status_code == 503
    assert "ne figure pas sur le tableau" in resp.json()["message"]


def test_reissue_revokes_and_adds_and_the_bundle_agrees(client, mixed):
    from beffroi.consult.credentials import format_code, new_code

    c, private = mixed
    old = private[0]
    assert post(client, c.cid, signed_payload(c, old.code, {}, ROWS, 1)).status_code == 200
    fresh = new_code()
    actions.revoke_credential(
        c,
        public_key_hex(old.code, c.cid),
        "lettre perdue",
        actor=None,
        replacement=public_key_hex(fresh, c.cid),
    )
    assert c.credentials.get(public_key=public_key_hex(fresh, c.cid)).segment == old.segment
    ok = post(client, c.cid, signed_payload(c, format_code(fresh), {}, ROWS, 1))
    assert ok.status_code == 200, ok.content
    kinds = list(ConsultEvent.objects.filter(consultation=c).values_list("kind", flat=True))
    assert kinds[-2:] == ["credential_revoked", "credential_added"]
    res = live.results(c)
    assert res["revoked_credentials"] == 1 and res["counted"]["verified"] == 1
    with pytest.raises(ActionError, match="déjà révoqué"):
        actions.revoke_credential(c, public_key_hex(old.code, c.cid), "encore", actor=None)
    actions.close_consultation(c, actor=None)
    assert verify_bundle(live.bundle(c)).ok


def test_key_fingerprint_matches_the_authority_across_imports_and_reissues(client, org):
    from beffroi.consult import credentials

    c, _ = setup_consultation(org, cid="empreinte", access="credentialed", open_it=False)
    _, first = credentials.generate(None, {"A1": 2}, c.cid, "https://ex.org")
    text = "".join(json.dumps(p.to_dict()) + "\n" for p in first)
    # The credentials of the fixture plus this list: one fingerprint over both.
    actions.import_credentials(c, text, actor=None)
    actions.open_consultation(c, actor=None)
    keys = list(c.credentials.values_list("public_key", "segment"))
    authority = credentials.key_list_fingerprint(keys)
    opened = c.events.get(kind="credentials_imported")
    assert opened.data["keys_fingerprint"] == authority
    # A reissue does not change what was imported; a later import extends it.
    _, new, _ = credentials.reissue(keys[0][0], keys[0][1], "perdu", c.cid, "https://ex.org")
    actions.revoke_credential(c, keys[0][0], "perdu", actor=None, replacement=new.public_key)
    _, late = credentials.generate(None, {"A2": 1}, c.cid, "https://ex.org")
    actions.import_credentials(c, json.dumps(late[0].to_dict()), actor=None)
    last = c.events.filter(kind="credentials_imported").order_by("-n").first()
    assert last.data["keys_fingerprint"] == credentials.key_list_fingerprint(
        [*keys, (late[0].public_key, late[0].segment)]
    )
    report = verify_bundle(live.bundle(c))
    assert report.ok, report.lines()
    assert report.stats["imported_fingerprint"] == last.data["keys_fingerprint"]
    # What verify compares with the authority covers the reissued key too: the figure
    # the authority republishes after the reissue (docs/decisions/credentials.md).
    assert report.stats["keys_fingerprint"] == credentials.key_list_fingerprint(
        [*keys, (late[0].public_key, late[0].segment), (new.public_key, keys[0][1])]
    )
    # The board shows that same figure, to set beside the authority's latest.
    page = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert f'data-testid="keys-fingerprint">{report.stats["keys_fingerprint"]}<' in page


def test_a_ballot_posted_from_another_site_is_refused(client, mixed):
    """The same refusal in the Django view as in the fast ASGI path (test_api_fast)."""
    c, private = mixed
    ballot = signed_payload(c, private[0].code, {}, ROWS, 1)
    foreign = post(client, c.cid, ballot, HTTP_ORIGIN="https://sondage-copie.example")
    assert foreign.status_code == 403 and foreign.json()["error"] == "origin"
    assert not BoardEntry.objects.filter(consultation=c).exists()
    own = post(client, c.cid, ballot, HTTP_ORIGIN="http://testserver")
    assert own.status_code == 200, own.content
