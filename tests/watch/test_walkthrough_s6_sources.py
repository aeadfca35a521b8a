"""Session-6 walkthrough: on the Sources page a source's status sentence ends with
its full stop; the time it was written comes on a line of its own, as a sentence
(« …messages reçus. à 20:18:50 » read as a fragment, in both languages)."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse
from django.utils import timezone

from english_catalogue import english

STATIC = Path(__file__).resolve().parents[2] / "src" / "beffroi" / "watch" / "static" / "watch"


def test_status_time_is_a_sentence_of_its_own(client, members, org):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    source = actions.add_source(
        activation,
        kind="rss",
        name="vivant",
        data={"url": "https://example.org/v.xml"},
        actor=coord,
    )
    at = timezone.now()
    actions.record_source_status(source.pk, state="ok", message="12 messages reçus.", at=at)
    clock = timezone.localtime(at).strftime("%H:%M:%S")
    client.force_login(coord)
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with english():
        english_page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for page, when in ((french, f"Mis à jour à {clock}"), (english_page, f"Updated at {clock}")):
        assert re.search(
            rf'<small class="muted source-when" data-field="when">{when}</small>', page
        )
        # The live refresh words it the same way.
        assert re.search(r'data-msg-at="(Mis à jour à|Updated at) \{time\}"', page)
    # On a line of its own, not run on after the sentence's full stop.
    css = (STATIC / "watch.css").read_text(encoding="utf-8")
    assert re.search(r"\.source-when\s*\{\s*display:\s*block;", css)
