"""The list of public keys a coordinator imports, session 8 security review: it was read
whole into memory whatever its size (the audit's uploads have a limit, this one had none).
It is now refused past ``forms.MAX_PUBLIC_LIST_BYTES``, with the reason, and nothing is
imported."""

from __future__ import annotations

from io import BytesIO

from django.contrib.messages import get_messages
from django.urls import reverse

from beffroi.consult import forms
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.core.models import JournalEntry


def test_a_key_list_over_the_limit_is_refused_with_its_reason(client, org, members, monkeypatch):
    monkeypatch.setattr(forms, "MAX_PUBLIC_LIST_BYTES", 1024 * 1024)
    c, _ = setup_consultation(org, cid="cles", access="credentialed", open_it=False)
    client.force_login(members["coordinator"])
    before = (c.credentials.count(), JournalEntry.objects.count())
    upload = BytesIO(b'{"public_key": "00", "segment": null}\n' * 40_000)
    upload.name = "cles-publiques.jsonl"
    response = client.post(
        reverse("consult-import", args=[org.slug, c.cid]), {"public_list": upload}
    )
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == ["Fichier trop gros (1 Mo au plus)."]
    assert (c.credentials.count(), JournalEntry.objects.count()) == before
