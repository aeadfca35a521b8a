"""A file or replay source reads only the deployment's import folders. The form says so
before a path is refused, and the refusal says what to do, not only what is wrong; the
import form names the fields a file needs."""

from __future__ import annotations

import html

from django.urls import reverse

from beffroi.watch import actions


def test_the_import_forms_say_where_the_file_must_be_and_the_refusal_what_to_do(
    client, org, members, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    (tmp_path / "imports").mkdir()
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    for kind in ("file", "replay"):
        page = html.unescape(client.get(f"{url}?type={kind}").content.decode())
        assert "dans le dossier « imports » du répertoire de données de Beffroi" in page
    # The import form names the fields a file needs, not only a repository path.
    page = html.unescape(client.get(f"{url}?type=file").content.decode())
    assert "CSV ou JSON Lines avec au moins les champs id, text et created_at" in page
    outside = tmp_path / "ailleurs.csv"
    outside.write_text("id,text,created_at\n1,x,2024-01-01T00:00:00Z\n")
    page = html.unescape(
        client.post(
            url, {"kind": "file", "name": "Import", "path": str(outside), "format": "auto"}
        ).content.decode()
    )
    assert f"Fichier hors des dossiers d'import ({tmp_path / 'imports'}, " in page
    assert ") : placez-le dans l'un d'eux et donnez son chemin complet." in page
    assert not activation.sources.exists()
