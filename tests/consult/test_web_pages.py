"""Organisation pages (builder, preview, opening, credentials) with their role ×
page matrix, and the proof that public pages and exports leak nothing private."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from beffroi.consult import api, live
from beffroi.consult.cli_example_bundle import (
    setup_consultation,
    signed_payload,
    unsigned_payload,
)
from beffroi.consult.models import Consultation, Status
from beffroi.core.models import JournalEntry
from beffroi.core.roles import CAPABILITIES

ROLES = ["coordinator", "volunteer", "partner", "scrutineer"]
ROWS = [{"blouse": "oui", "drapeau": "non", "aide": "oui"}, {}]


@pytest.fixture(autouse=True)
def _sync_writes(settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_POW_BITS = 4
    api._SPEC_CACHE.clear()


def _consult_org_pages():
    """(name, view, is GET page) of every consult URL under o/<org>/ with more arguments."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name and p.name.startswith("consult-"):
                route = prefix + str(p.pattern)
                if route.startswith("o/<slug:org>/") and route.count("<") > 1:
                    found.append((p.name, p.callback))

    walk(get_resolver().url_patterns)
    return found


POST_ONLY = {
    "consult-open",
    "consult-close",
    "consult-import",
    "consult-revoke",
    "consult-post-hoc",
}


def test_every_consult_org_page_declares_a_capability():
    pages = _consult_org_pages()
    assert {n for n, _ in pages} >= {
        "consult-detail",
        "consult-edit",
        "consult-preview",
        "consult-audit",
        *POST_ONLY,
    }
    for name, view in pages:
        assert getattr(view, "capability", None) in CAPABILITIES, name


@pytest.mark.parametrize("role", [*ROLES, "outsider", "anonymous"])
def test_role_page_matrix(client, members, org, role):
    c, _ = setup_consultation(org, cid="matrice", access="open", open_it=False)
    if role != "anonymous":
        client.force_login(members[role])
    for name, view in _consult_org_pages():
        url = reverse(name, args=[org.slug, c.cid])
        # POST-only pages are probed with POST (an empty form: refused or handled, never run
        # for a role without the capability); the others with GET.
        resp = client.post(url, {}) if name in POST_ONLY else client.get(url)
        if role == "anonymous":
            expected = {302}
        elif role == "outsider":
            expected = {404}
        elif role in CAPABILITIES[view.capability]:
            expected = {200, 302}
        else:
            expected = {403}
        assert resp.status_code in expected, f"{role} {name}: {resp.status_code}"
    c.refresh_from_db()
    # Only a coordinator's POSTs may have opened (then closed) it.
    assert (c.status != Status.DRAFT) == (role == "coordinator")


def test_consultation_of_another_organisation_is_not_found(client, members, org):
    from beffroi.core import actions as core_actions

    other = core_actions.create_organisation("Autre", "autre")
    c, _ = setup_consultation(other, cid="ailleurs", access="open", open_it=False)
    client.force_login(members["coordinator"])
    assert client.get(reverse("consult-detail", args=[org.slug, c.cid])).status_code == 404
    assert client.post(reverse("consult-open", args=[org.slug, c.cid])).status_code == 404


def _builder_post(**over):
    data = {
        "cid": "cantine-2026",
        "title": "La cantine",
        "description": "Votre avis sur la cantine.",
        "opens": "2026-01-01T08:00",
        "closes": "2036-01-01T08:00",
        "access": "credentialed",
        "rows_enabled": "on",
        "row_labels": "Responsable légal 1\nResponsable légal 2",
        "min_filled": "1",
        "segments": "A1 ; École Jules-Ferry ; 212\nB2 ; École de la Mer ; 130",
        "exclude_flagged": "",
        "q-TOTAL_FORMS": "4",
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "1000",
        "q-0-label": "Repas bio ?",
        "q-0-kind": "single",
        "q-0-options": "Oui\nNon\nSans avis",
        "q-0-required": "on",
        "q-0-per_row": "on",
        "q-1-label": "Plats préférés",
        "q-1-kind": "multiple",
        "q-1-options": "pates : Pâtes\npoisson : Poisson\nlegumes : Légumes",
        "q-2-label": "Note globale",
        "q-2-kind": "scale",
        "q-2-scale_min": "1",
        "q-2-scale_max": "5",
        "q-3-label": "Un mot ?",
        "q-3-kind": "text",
        "q-3-max_length": "500",
    }
    data.update(over)
    return data


def test_builder_preview_open_and_frozen(client, members, org, tmp_path):
    client.force_login(members["coordinator"])
    resp = client.post(reverse("consult-create", args=[org.slug]), _builder_post())
    assert resp.status_code == 302, resp.content.decode()[:3000]
    c = Consultation.objects.get(cid="cantine-2026")
    spec = c.get_spec()
    assert [q.kind for q in spec.questions] == ["single", "multiple", "scale", "text"]
    assert spec.rows is not None and spec.rows.labels == (
        "Responsable légal 1",
        "Responsable légal 2",
    )
    assert spec.question("repas_bio").per_row
    assert [o.code for o in spec.question("plats_preferes").options] == [
        "pates",
        "poisson",
        "legumes",
    ]
    assert [s.electorate for s in spec.segments] == [212, 130]
    assert [r.code for r in spec.rules] == ["one_ballot_per_key"]

    preview = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    assert "Aperçu (brouillon)" in preview and "Repas bio ?" in preview
    form = client.get(reverse("consult-preview", args=[org.slug, c.cid])).content.decode()
    assert "Rien n'est envoyé depuis cet aperçu" in form.replace("&#x27;", "'")
    assert "Responsable légal 2" in form and "Pâtes" in form and "answer.js" not in form
    assert client.get(reverse("consult-answer", args=[c.cid])).status_code == 404

    # Invalid input is explained, nothing is saved.
    bad = client.post(
        reverse("consult-edit", args=[org.slug, c.cid]),
        _builder_post(segments="A1 ; École ; beaucoup"),
    )
    assert "pas un nombre entier" in bad.content.decode()

    # Credentialed without keys cannot open; after importing them it can.
    client.post(reverse("consult-open", args=[org.slug, c.cid]))
    c.refresh_from_db()
    assert c.status == Status.DRAFT
    from beffroi.consult.credentials import generate, write_public_jsonl

    # Exactly the file the credential authority's `beffroi credentials generate` writes.
    _, public = generate(None, {"A1": 2, "B2": 1}, c.cid, "https://x.example")
    write_public_jsonl(public, tmp_path / "cles-publiques.jsonl")
    upload = BytesIO((tmp_path / "cles-publiques.jsonl").read_bytes())
    upload.name = "cles-publiques.jsonl"
    client.post(reverse("consult-import", args=[org.slug, c.cid]), {"public_list": upload})
    assert c.credentials.count() == 3
    client.post(reverse("consult-open", args=[org.slug, c.cid]))
    c.refresh_from_db()
    assert c.status == Status.OPEN and len(c.spec_hash) == 64
    assert JournalEntry.objects.filter(action="consult.open", data__spec_hash=c.spec_hash).exists()
    public_page = client.get(reverse("consult-answer", args=[c.cid])).content.decode()
    assert c.spec_hash in public_page
    assert "Responsable légal 1" in public_page and 'src="/static/consult/answer.js"' in public_page

    # Frozen: editing is refused.
    client.post(reverse("consult-edit", args=[org.slug, c.cid]), _builder_post(title="Autre"))
    c.refresh_from_db()
    assert c.title == "La cantine"


def test_public_pages_and_exports_leak_nothing_private(client, org, members):
    c, private = setup_consultation(
        org, cid="fuite", access="mixed", per_segment=1, actor=members["coordinator"]
    )
    secret_ua = "NavigateurSecret/9.9"
    client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(signed_payload(c, private[0].code, {}, ROWS, 1)),
        content_type="application/json",
        HTTP_USER_AGENT=secret_ua,
        REMOTE_ADDR="203.0.113.77",
    )
    ch = client.get(reverse("consult-challenge", args=[c.cid])).json()
    import hashlib

    nonce = 0
    while (
        api.leading_zero_bits(hashlib.sha256(f"{ch['challenge']}:{nonce}".encode()).digest())
        < ch["bits"]
    ):
        nonce += 1
    p = unsigned_payload(c, {}, ROWS, 2, "A1") | {
        "pow": {"challenge": ch["challenge"], "nonce": str(nonce)}
    }
    resp = client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(p),
        content_type="application/json",
        HTTP_USER_AGENT=secret_ua,
        REMOTE_ADDR="203.0.113.78",
    )
    assert resp.status_code == 200
    stored = list(c.entries.order_by("n").values_list("net", "addr", "ua"))
    assert all(all(v for v in row[1:]) for row in stored)  # pseudonyms were kept privately
    private_values = {v for row in stored for v in row if v} | {
        "203.0.113.77",
        "203.0.113.78",
        "203.0.113",
        secret_ua,
        members["coordinator"].username,
    }
    assert not any(v.startswith(("203.", "Navig")) for row in stored for v in row)

    from beffroi.consult import actions

    pseudo = stored[-1][1]  # the unsigned entry's prefix pseudonym
    entry_hash = c.entries.get(public_key=None).hash
    actions.record_flags(c, [(entry_hash, "audit", f"rafale depuis {pseudo}")])
    bodies = []
    for name in (
        "consult-answer",
        "consult-board",
        "consult-board-jsonl",
        "consult-board-csv",
        "consult-results-json",
        "consult-rules-json",
        "consult-receipt",
    ):
        r = client.get(reverse(name, args=[c.cid]))
        assert r.status_code == 200, name
        bodies.append(b"".join(r.streaming_content) if r.streaming else r.content)
    with zipfile.ZipFile(BytesIO(client.get(reverse("consult-bundle", args=[c.cid])).content)) as z:
        bodies += [z.read(n) for n in z.namelist()]
    text = b"\n".join(bodies).decode()
    for value in private_values:
        assert value not in text, value
    for marker in ("addr:", "prefix:", '"net"', '"ua"', '"addr"', "actor"):
        assert marker not in text, marker
    # Entries carry exactly the allow-listed fields.
    assert set(live.entries(c)[0]) == {
        "n",
        "received_at",
        "ballot",
        "signature",
        "receipt",
        "prev",
        "hash",
    }
