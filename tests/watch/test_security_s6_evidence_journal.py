"""A volunteer's evidence links and notes may name an account (the witness's post on
x.com, a Mastodon profile): the card keeps them as typed for the team, but the journal,
which is never purged, gets the account's pseudonym instead, unless the activation
keeps handles (DESIGN rule 7; docs/decisions/watch-handles.md)."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import (
    handle_pseudonym,
    names_account,
    pseudonymise_account_url,
)

KEY = b"beffroi-test-key-not-secret"
WITNESS = "https://x.com/jean_dupont/status/1861234567"
MASTODON = "https://piaille.fr/@marie_l/113456"
OFFICIAL = "https://www.vigicrues.gouv.fr/niv3.php?CdStationHydro=M5300010"
NOTE = "confirmé par @jean_dupont, voir https://piaille.fr/@marie_l/113456"


@pytest.fixture
def card_of(org, members):
    def make(keep_handles: bool):
        from beffroi.watch import actions
        from beffroi.watch.models import Card

        coord = members["coordinator"]
        activation = actions.create_activation(
            org, name="Crue du Lay", event_type="inondation", area=["85"], actor=coord
        )
        activation.keep_handles = keep_handles
        activation.save(update_fields=["keep_handles"])
        source = actions.add_source(
            activation, kind="rss", name="Flux", data={"url": "https://example.org/rss.xml"},
            actor=coord,
        )  # fmt: skip
        return Card.objects.create(
            activation=activation, group_id="g", source=source, source_kind="rss",
            external_id="x", text="L'eau monte", posted_at=timezone.now(),
        )  # fmt: skip

    return make


def _decide(card, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions

    card = actions.decide(
        card, "verified", actor=members["volunteer"], notes=NOTE,
        evidence=[WITNESS, MASTODON, OFFICIAL],
    )  # fmt: skip
    return card, JournalEntry.objects.filter(action="watch.card.decide").get()


def test_the_journal_gets_pseudonyms_the_card_keeps_the_links(card_of, members):
    card, entry = _decide(card_of(False), members)
    assert card.evidence == [WITNESS, MASTODON, OFFICIAL]
    assert card.notes == NOTE
    stored = json.dumps(entry.data, ensure_ascii=False) + entry.reason
    for name in ("jean_dupont", "marie_l"):
        assert name not in stored
    witness, mastodon, official = entry.data["evidence"]
    assert witness.startswith("https://x.com/h_") and witness.endswith("/status/1861234567")
    # The same account, the same pseudonym as its author_key and its mentions.
    assert mastodon == "https://piaille.fr/@h_{}/113456".format(
        handle_pseudonym("marie_l@piaille.fr", _key()).split(":", 1)[1][:16]
    )
    assert official == OFFICIAL
    assert entry.reason.startswith("confirmé par @h_")
    assert entry.reason.endswith(f", voir {mastodon}")


def test_an_activation_that_keeps_handles_journals_them_as_typed(card_of, members):
    _card, entry = _decide(card_of(True), members)
    assert entry.data["evidence"] == [WITNESS, MASTODON, OFFICIAL]
    assert entry.reason == NOTE


def _key() -> bytes:
    from beffroi.watch.actions import handle_key

    return handle_key()


# "i", "search" and "hashtag" are x.com's own paths, never accounts.
handles = st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True).filter(
    lambda h: h.lower() not in ("i", "search", "hashtag")
)
# (address with {a} where the account is, how the account is written there)
shapes = st.sampled_from(
    [
        ("https://x.com/{a}/status/12", "{h}"),
        ("https://mobile.twitter.com/{a}/status/12?s=20", "{h}"),
        ("https://piaille.fr/@{a}/12", "{h}"),
        ("https://piaille.fr/@{a}/12", "{h}@mastodon.social"),
        ("https://bsky.app/profile/{a}/post/3kxyz", "{h}.bsky.social"),
        ("https://ap.example/users/{a}/statuses/12#frag", "{h}"),
        ("https://piaille.fr/@{a}", "{h}"),
    ]
)


@settings(max_examples=200)
@given(shapes, handles)
def test_an_account_link_keeps_its_shape_and_loses_its_account(shape, handle):
    template, account = shape
    url = template.format(a=account.format(h=handle))
    out = pseudonymise_account_url(url, KEY)
    # Exactly the account is replaced, by a pseudonym; the rest stays as typed.
    expected = re.escape(template).replace(re.escape("{a}"), "h_[0-9a-f]{16}")
    assert re.fullmatch(expected, out), out
    assert names_account(out)
    assert pseudonymise_account_url(out, KEY) == out


def test_other_links_are_left_as_they_are():
    for url in (OFFICIAL, "https://x.com/i/status/12", "https://x.com/search?q=crue"):
        assert pseudonymise_account_url(url, KEY) == url


def test_an_account_whose_name_begins_like_an_xcom_path_is_still_an_account():
    # The exclusion of x.com's own paths used to swallow "searchlight", "hashtags_fr"…
    for url in ("https://x.com/searchlight/status/1", "https://x.com/ic_crue/status/2"):
        assert names_account(url)
        assert "/h_" in pseudonymise_account_url(url, KEY)
