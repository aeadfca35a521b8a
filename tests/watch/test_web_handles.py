"""DESIGN rule 7 at the ingest door: no account handle reaches the database
unless the activation's organiser keeps them (docs/decisions/watch-handles.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

ALICE, BOB = "AliceDupont", "bob_secours"


def _posts(source_id: int):
    from beffroi.watch.sources import RawPost

    when = datetime(2024, 3, 1, 12, tzinfo=UTC)
    return [
        RawPost(
            "mastodon",
            str(source_id),
            "111",
            f"L'eau monte rue de la Gare à Luçon, @{BOB}@mastodon.social venez vite "
            f"https://mastodon.social/@{ALICE}/111",
            when,
            url=f"https://mastodon.social/@{ALICE}/111",
            # A source that forgot to pseudonymise its author: the door does it.
            author_key=ALICE,
            raw={
                "content": f'<p><a href="https://mastodon.social/@{BOB}">@{BOB}</a> venez</p>',
                "tags": [{"name": "crue"}],
            },
        ),
        RawPost(
            "mastodon",
            str(source_id),
            "112",
            f"RT @{ALICE}: L'eau monte rue de la Gare à Luçon",
            when + timedelta(minutes=1),
            url="https://www.ouest-france.fr/vendee/lucon",
            author_key=BOB,
        ),
    ]


def _everything_stored() -> str:
    """Every row of every watch table and of the journal, as one lower-case text."""
    from django.apps import apps

    from beffroi.core.models import JournalEntry

    models = [*apps.get_app_config("watch").get_models(), JournalEntry]
    return "\n".join(str(row) for model in models for row in model.objects.values()).lower()


def _ingest(activation, coordinator):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Source
    from beffroi.watch.worker import ActivationProcessor

    source = Source.objects.create(activation=activation, kind="mastodon", name="m", config={})
    assert actions.receive_posts(source.pk, _posts(source.pk), {"v": 1}) == 2
    assert ActivationProcessor(activation, None).process() == 2
    card = Card.objects.filter(activation=activation).order_by("pk").first()
    actions.escalate(card, actor=coordinator, category="degats")
    return source


def test_no_handle_reaches_the_database_by_default(db, org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, LogEntry, Post
    from beffroi.watch.sources import handle_pseudonym

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    _ingest(activation, members["coordinator"])
    stored = _everything_stored()
    for handle in (ALICE, BOB):
        assert handle.lower() not in stored
    # The pseudonyms still tie an author to the mentions of the same account.
    key = actions.handle_key()
    alice = handle_pseudonym(ALICE, key)
    first, second = Post.objects.filter(activation=activation).order_by("external_id")
    assert first.author_key == alice and first.url == ""
    assert second.text.startswith(f"RT @h_{alice.split(':')[1][:16]}: ")
    assert second.url == "https://www.ouest-france.fr/vendee/lucon"  # no account in it
    assert "@h_" in first.raw["content"] and 'href=""' in first.raw["content"]
    # Volunteers and partners read the redacted text; the retweet joined its card.
    card = Card.objects.get(activation=activation, posts_count=2)
    assert "@…" in card.text and "@h_" not in card.text
    assert LogEntry.objects.get(activation=activation).text == card.text


def test_an_organiser_may_keep_the_handles(db, org, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Post

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    activation.keep_handles = True
    activation.save(update_fields=["keep_handles"])
    _ingest(activation, members["coordinator"])
    first = Post.objects.get(activation=activation, external_id="111")
    assert first.author_key == ALICE
    assert first.url == f"https://mastodon.social/@{ALICE}/111"
    assert f"@{BOB}@mastodon.social" in first.text


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("https://mastodon.social/@alice/1234", True),
        ("https://bsky.app/profile/did:plc:abc/post/3kx", True),
        ("https://example.org/users/bob/statuses/1", True),
        ("https://twitter.com/alice/status/1", True),
        ("https://x.com/search?q=crue", False),
        ("https://www.lemonde.fr/planete/article/2024/crue.html", False),
        ("", False),
    ],
)
def test_addresses_that_name_an_account(url, names):
    from beffroi.watch.sources import names_account

    assert names_account(url) is names
