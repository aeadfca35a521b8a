"""A coordinator declares who sends every post of a source (a préfecture's feed): the form
stores it, the journal says so, the page shows it, and the worker gives the source's
posts that source type, with the reason in the card's explanation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )


def test_the_form_stores_the_declared_sender_and_the_page_shows_it(
    client, members, org, activation
):
    from beffroi.core.models import JournalEntry
    from beffroi.watch.models import Source

    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    form = client.get(url + "?type=rss").content.decode()
    assert "Émetteur des messages" in form and 'value="Government"' in form
    assert 'value="Eyewitness"' not in form  # a person is judged post by post
    response = client.post(
        url,
        {
            "kind": "rss",
            "name": "Préfecture de la Vendée",
            "url": "https://www.vendee.gouv.fr/rss.xml",
            "declared_source": "Government",
        },
    )
    assert response.status_code == 302
    source = Source.objects.get(activation=activation)
    assert source.declared_source == "Government"
    assert "declared_source" not in source.config  # not a setting of the feed client
    entry = JournalEntry.objects.get(action="watch.source.add")
    assert entry.data["declared_source"] == "Government"
    html = client.get(url).content.decode()
    assert "émetteur déclaré : Institution" in html


def test_an_unknown_or_personal_sender_is_refused(client, members, org, activation):
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources import ConfigError

    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    bad = {"kind": "rss", "name": "X", "url": "https://example.org/rss.xml"}
    page = client.post(url, {**bad, "declared_source": "Eyewitness"})
    assert page.status_code == 200 and "declared_source" in page.context["form"].errors
    with pytest.raises(ConfigError) as caught:
        actions.add_source(
            activation,
            kind="rss",
            name="X",
            data={"url": "https://example.org/rss.xml"},
            actor=members["coordinator"],
            declared_source="Outsiders",
        )
    assert "declared_source" in caught.value.errors
    assert not Source.objects.filter(activation=activation).exists()


def test_the_worker_gives_the_declared_sender_to_the_sources_posts(members, activation):
    from beffroi.watch import actions
    from beffroi.watch.classify import load_default
    from beffroi.watch.models import Card
    from beffroi.watch.sources import RawPost
    from beffroi.watch.worker import ActivationProcessor

    coord = members["coordinator"]
    declared = actions.add_source(
        activation,
        kind="rss",
        name="Préfecture",
        data={"url": "https://example.org/pref.xml"},
        actor=coord,
        declared_source="Government",
    )
    plain = actions.add_source(
        activation, kind="rss", name="Blog", data={"url": "https://example.org/blog.xml"},
        actor=coord,
    )  # fmt: skip
    at = datetime(2024, 1, 1, 10, tzinfo=UTC)
    text = "Je vois l'eau monter devant chez moi rue de la Gare, c'est impressionnant"
    actions.receive_posts(declared.pk, [RawPost("rss", str(declared.pk), "a", text, at)], {})
    other = "Chez moi à Luçon la cave est inondée, on remonte les meubles"
    actions.receive_posts(plain.pk, [RawPost("rss", str(plain.pk), "b", other, at)], {})
    assert ActivationProcessor(activation, load_default()).process() == 2
    card = Card.objects.get(activation=activation, source_id=declared.pk)
    assert card.source_type == "Government"
    assert "émetteur déclaré pour la source : institution" in card.explanation
    # The same kind of words from an undeclared source: the classifier's reading.
    assert Card.objects.get(activation=activation, source_id=plain.pk).source_type != "Government"


def test_the_coordinator_changes_the_declared_sender_from_the_list(
    client, members, org, activation
):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    source = actions.add_source(
        activation, kind="rss", name="Ouest", data={"url": "https://example.org/o.xml"},
        actor=members["coordinator"],
    )  # fmt: skip
    client.force_login(members["coordinator"])
    url = reverse("watch-source-declare", args=[org.slug, activation.pk, source.pk])
    assert client.post(url, {"declared_source": "Media"}).status_code == 302
    assert Source.objects.get(pk=source.pk).declared_source == "Media"
    entry = JournalEntry.objects.get(action="watch.source.declare")
    assert entry.data == {"from": "", "to": "Media"}
    page = client.post(url, {"declared_source": "Outsiders"}, follow=True).content.decode()
    assert "Émetteur inconnu : Outsiders" in page
    assert Source.objects.get(pk=source.pk).declared_source == "Media"
    client.post(url, {"declared_source": ""})
    assert Source.objects.get(pk=source.pk).declared_source == ""
    assert JournalEntry.objects.filter(action="watch.source.declare").count() == 2


def test_the_authors_kind_read_at_ingest_is_stored_and_classified(members, activation):
    """A Mastodon account read as an authority's at ingest: its pseudonym is stored, its
    kind beside it, and the worker's classifier uses the kind (no declared sender here)."""
    from beffroi.watch import actions
    from beffroi.watch.classify import load_default
    from beffroi.watch.models import Card, Post
    from beffroi.watch.sources import RawPost
    from beffroi.watch.worker import ActivationProcessor

    source = actions.add_source(
        activation, kind="mastodon", name="Fil", data={"instance_url": "https://piaille.invalid",
        "timelines": "public"}, actor=members["coordinator"],
    )  # fmt: skip
    at = datetime(2024, 1, 1, 10, tzinfo=UTC)
    text = "Vigilance rouge crues : évitez les déplacements dans le secteur de Luçon"
    posts = [
        RawPost("mastodon", str(source.pk), "1", text, at, author_kinds=("government",)),
        RawPost("mastodon", str(source.pk), "2", "Pensées aux sinistrés de Luçon", at),
    ]
    actions.receive_posts(source.pk, posts, {})
    assert dict(Post.objects.values_list("external_id", "author_kinds")) == {
        "1": "government",
        "2": "",
    }
    assert ActivationProcessor(activation, load_default()).process() == 2
    card = Card.objects.get(activation=activation, external_id="1")
    assert card.source_type == "Government"
    assert not any("émetteur déclaré" in line for line in card.explanation)
