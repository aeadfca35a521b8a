"""Free text reaches the never-purged journal without the accounts it names.

Every watch action that journals what a person typed (a status note, an escalation's
summary, a source's or a partner link's name, an activation's keywords) or what a
source reported (its status line) goes through one rule, ``actions._journaled`` over
``pseudonymise_typed``: accounts become their pseudonyms unless the activation keeps
handles; the object itself keeps the text as typed (DESIGN rule 7,
docs/decisions/watch-handles.md)."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import handle_pseudonym, pseudonymise_typed

KEY = b"beffroi-test-key-not-secret"
# Each account's name carries "zq", which no pseudonym (hex digits) can contain.
TYPED = "rappelé par @zq_jean, voir https://x.com/zq_marie/status/186 et https://a.fr/c"
NAMES = ("zq_jean", "zq_marie")


def _journal(action: str):
    from beffroi.core.models import JournalEntry

    return JournalEntry.objects.filter(action=action).order_by("-seq").first()


def _written(entry) -> str:
    return entry.reason + json.dumps(entry.data, ensure_ascii=False)


def _clean(entry) -> None:
    written = _written(entry)
    for name in NAMES:
        assert name not in written, written
    assert "@h_" in written and "https://x.com/h_" in written
    # What is not an account stays as typed.
    assert "https://a.fr/c" in written and "rappelé par" in written


@pytest.fixture(params=[False, True], ids=["pseudonyms", "keep_handles"])
def keep(request) -> bool:
    return request.param


@pytest.fixture
def activation(org, members, keep):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", area=["85"],
        keywords={"fr": ["crue", "@zq_jean"]}, keep_handles=keep,
        actor=members["coordinator"],
    )  # fmt: skip


def _check(entry, keep: bool) -> None:
    if keep:
        assert TYPED in _written(entry)
        assert not re.search(r"h_[0-9a-f]{16}", _written(entry))
    else:
        _clean(entry)


def test_activation_keywords(activation, keep):
    entry = _journal("watch.activation.create")
    words = entry.data["keywords"]["fr"]
    assert activation.keywords["fr"] == ["crue", "@zq_jean"]
    if keep:
        assert words == ["crue", "@zq_jean"]
    else:
        assert words[0] == "crue"
        assert re.fullmatch(r"@h_[0-9a-f]{16}", words[1])


def test_source_name(activation, members, keep):
    from beffroi.watch import actions

    source = actions.add_source(
        activation, kind="rss", name=TYPED, data={"url": "https://example.org/rss.xml"},
        actor=members["coordinator"],
    )  # fmt: skip
    assert source.name == TYPED
    _check(_journal("watch.source.add"), keep)


def test_source_status_line(activation, members, keep):
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    source = actions.add_source(
        activation, kind="rss", name="Flux", data={"url": "https://example.org/rss.xml"},
        actor=members["coordinator"],
    )  # fmt: skip
    actions.record_source_status(source.pk, state="error", message=TYPED, at=timezone.now())
    # No person typed it: the runner's line is stored as the journal gets it (a library's
    # error may quote a DID or an account's address), shown on the Sources page.
    stored = Source.objects.get(pk=source.pk).status_message
    assert stored == (TYPED if keep else pseudonymise_typed(TYPED, actions.handle_key()))
    _check(_journal("watch.source.status"), keep)


@pytest.fixture
def card(activation, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card

    source = actions.add_source(
        activation, kind="rss", name="Flux", data={"url": "https://example.org/rss.xml"},
        actor=members["coordinator"],
    )  # fmt: skip
    return Card.objects.create(
        activation=activation, group_id="g", source=source, source_kind="rss",
        external_id="x", text="L'eau monte", posted_at=timezone.now(),
    )  # fmt: skip


def test_decision_notes_and_links(card, members, keep):
    from beffroi.watch import actions

    decided = actions.decide(
        card, "verified", actor=members["volunteer"], notes=TYPED,
        evidence=["https://x.com/zq_marie/status/186"],
    )  # fmt: skip
    assert decided.notes == TYPED
    assert decided.evidence == ["https://x.com/zq_marie/status/186"]
    _check(_journal("watch.card.decide"), keep)


def test_escalation_summary_with_a_verdict(card, members, keep):
    from beffroi.watch import actions

    entry = actions.escalate(
        card,
        actor=members["volunteer"],
        category="routes",
        text=TYPED,
        notes=TYPED,
        decision="verified",
    )
    assert entry.text == TYPED
    # The internal note is journaled as the verdict's; the escalation entry has no text.
    _check(_journal("watch.card.decide"), keep)
    assert TYPED not in _written(_journal("watch.card.escalate"))


def test_status_update_note(activation, members, keep):
    from beffroi.watch import actions

    entry = actions.add_log_entry(
        activation, actor=members["coordinator"], text=TYPED, channel="telephone",
        category="routes",
    )  # fmt: skip
    # A manual line's text is not journaled at all (number, channel, category only).
    assert "zq_" not in _written(_journal("watch.log.add"))
    update = actions.update_log_status(entry, "transmis", actor=members["coordinator"], note=TYPED)
    assert update.note == TYPED
    entry.refresh_from_db()
    assert entry.text == TYPED
    _check(_journal("watch.log.status"), keep)


def test_partner_link_label(activation, members, keep):
    from beffroi.watch import actions

    link, _token = actions.create_partner_link(
        activation, label=TYPED, days=1, actor=members["coordinator"]
    )
    assert link.label == TYPED
    _check(_journal("watch.partner_link.create"), keep)
    actions.record_partner_view(link, client="c", what="page")
    _check(_journal("watch.partner_link.view"), keep)
    actions.revoke_partner_link(link, actor=members["coordinator"])
    _check(_journal("watch.partner_link.revoke"), keep)


def test_the_pseudonym_is_the_accounts_author_key():
    out = pseudonymise_typed("vu par @Zq_Jean", KEY)
    assert out == "vu par @h_" + handle_pseudonym("zq_jean", KEY).split(":", 1)[1][:16]


# -- fuzz of the helper ----------------------------------------------------------------------

handles = st.from_regex(r"zq[A-Za-z0-9_]{1,15}", fullmatch=True)
# How an account appears in typed text ({h}: its name).
forms = st.sampled_from(
    [
        "@{h}",
        "@{h}@piaille.fr",
        "@{h}.bsky.social",
        "https://x.com/{h}/status/12",
        "https://mobile.twitter.com/{h}/status/12?s=20",
        "https://piaille.fr/@{h}/12",
        "https://piaille.fr/@{h}",
        "https://bsky.app/profile/{h}.bsky.social/post/3kxyz",
        "https://ap.example/users/{h}/statuses/12#frag",
        "(https://x.com/{h}/status/12).",
        "«https://piaille.fr/@{h}/12»",
    ]
)
accounts = st.builds(lambda form, h: form.format(h=h), forms, handles)
# Anything a person may type around them, without the marker letters nor what could
# make a mention or an address of its own.
filler = st.text(alphabet=st.characters(blacklist_characters="zqZQ@:/"), max_size=20)
separators = st.sampled_from([" ", ", ", "\n", " (", ") ", " « ", " » ", "\t"])
pieces = st.lists(st.one_of(accounts, filler), max_size=8)


@settings(max_examples=300, deadline=None)
@given(pieces, separators)
def test_fuzz_no_account_survives_and_the_rest_is_kept(parts, sep):
    text = sep.join(parts)
    out = pseudonymise_typed(text, KEY)
    assert "zq" not in out.lower(), (text, out)
    assert pseudonymise_typed(out, KEY) == out
    if not any("zq" in p.lower() for p in parts):
        assert out == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_text_is_handled_and_stable(text):
    out = pseudonymise_typed(text, KEY)
    assert pseudonymise_typed(out, KEY) == out
