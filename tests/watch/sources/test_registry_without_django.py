"""The sources package imports no Django: its form labels are plain French msgids,
translated at the web edge (watch.forms.SourceForm, the Sources page)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.urls import reverse

from english_catalogue import english


def test_sources_import_without_django() -> None:
    code = (
        "import sys, pkgutil, importlib, beffroi.watch.sources as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('beffroi.watch.sources.' + m.name)\n"
        "from beffroi.watch.sources import FORMS\n"
        "assert FORMS['rss'].fields[0].label == 'Adresse du flux'\n"
        "loaded = sorted(n for n in sys.modules if n == 'django' or n.startswith('django.'))\n"
        "print(loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.django_db
def test_the_source_form_is_translated_at_the_edge(client, org, members) -> None:
    from beffroi.watch import actions as watch_actions

    coord = members["coordinator"]
    client.force_login(coord)
    activation = watch_actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"], actor=coord
    )
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    french = client.get(url, {"type": "mastodon"}, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Mots-dièse" in french and "Un par ligne, avec ou sans #." in french
    assert "Flux RSS/Atom" in french  # the kinds' menu
    with english():
        page = client.get(url, {"type": "mastodon"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Hashtags" in page and "One per line, with or without #." in page
    assert "RSS/Atom feed" in page
    assert "Mots-dièse" not in page and "Flux RSS/Atom" not in page
