"""A Mastodon status's raw payload is built from an allow-list: the replied-to account's
id, a link card's author, the account, its mentions and the posting app are not kept
(review R16, finding 6)."""

from __future__ import annotations

from beffroi.watch.sources.mastodon import status_raw

STATUS = {
    "id": "111",
    "uri": "https://piaille.fr/users/jeanne/statuses/111",
    "url": "https://piaille.fr/@jeanne/111",
    "created_at": "2026-11-23T03:00:00.000Z",
    "content": "<p>Rue inondée</p>",
    "language": "fr",
    "in_reply_to_id": "110",
    "in_reply_to_account_id": "109876543210",
    "account": {"id": "109876543299", "acct": "jeanne", "display_name": "Jeanne Dupont"},
    "mentions": [{"id": "1", "acct": "paul", "url": "https://piaille.fr/@paul"}],
    "application": {"name": "Tusky", "website": "https://tusky.app"},
    "card": {
        "url": "https://ex.invalid/article",
        "title": "Crue de la Vilaine",
        "author_name": "Jeanne Dupont",
        "author_url": "https://piaille.fr/@jeanne",
        "authors": [{"name": "Jeanne Dupont", "account": {"acct": "jeanne"}}],
        "provider_name": "Ouest",
    },
    "tags": [{"name": "crue", "url": "https://piaille.fr/tags/crue"}],
    "media_attachments": [{"id": "9", "type": "image", "url": "https://m/x.jpg", "x": 1}],
    "quote": {"account": {"acct": "z"}, "id": "5"},
    "filtered": [{"filter": {"title": "perso"}}],
    "reblog": {
        "id": "100",
        "content": "<p>Digue</p>",
        "in_reply_to_account_id": "42",
        "account": {"acct": "paul"},
        "reblog": {"id": "99", "account": {"acct": "deep"}},
    },
}


def test_a_status_keeps_its_own_facts_and_no_person() -> None:
    raw = status_raw(STATUS)
    assert raw == {
        "id": "111",
        "created_at": "2026-11-23T03:00:00.000Z",
        "content": "<p>Rue inondée</p>",
        "language": "fr",
        "in_reply_to_id": "110",
        "card": {
            "url": "https://ex.invalid/article",
            "title": "Crue de la Vilaine",
            "provider_name": "Ouest",
        },
        "tags": [{"name": "crue"}],
        "media_attachments": [{"id": "9", "type": "image", "url": "https://m/x.jpg"}],
        # A boost's status by the same allow-list; a boost inside a boost is not one.
        "reblog": {"id": "100", "content": "<p>Digue</p>", "reblog": None},
    }
    for word in ("109876543210", "Jeanne", "jeanne", "paul", "Tusky", "42", "deep"):
        assert word not in repr(raw)
