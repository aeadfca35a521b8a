"""A coordinator who imports the wrong file from the credential authority's folder (its
private codes.csv, say) is told which file to import, not only that line 1 is not JSON."""

from __future__ import annotations

from io import BytesIO

from django.contrib.messages import get_messages
from django.urls import reverse

from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.core.models import JournalEntry


def test_a_csv_instead_of_the_key_list_names_the_file_to_import(client, org, members):
    c, _ = setup_consultation(org, cid="mauvais-fichier", access="credentialed", open_it=False)
    client.force_login(members["coordinator"])
    before = (c.credentials.count(), JournalEntry.objects.count())
    upload = BytesIO(b"numero,segment,code,lien\n1,A1,V6WF-2G3E,https://x.invalid/c/a/#V6WF\n")
    upload.name = "codes.csv"
    response = client.post(
        reverse("consult-import", args=[org.slug, c.cid]), {"public_list": upload}
    )
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [
        "Liste de clés : ligne 1, colonne 1 : JSON invalide. Importez tel quel le fichier "
        "cles-publiques.jsonl que vous a remis l'autorité de délivrance."
    ]
    assert (c.credentials.count(), JournalEntry.objects.count()) == before
