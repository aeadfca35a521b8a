"""The valve at the scale of a night: a partner's pages, rows and export of a 2,000-line
main courante (the exercise's CrisisLexT26 lines) showed two raw handles: old-style
retweets written « RT@name: » (no space) keep their handle, because a mention is only
read after a non-word character. ``watch/mentions.py`` now reads « RT@ » and « MT@ » as
mentions, for the sources and the pipeline alike."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text", ["RT@xtianvincent: Stranded in neck-deep flood #rescuePH", "MT@alice: digue rompue"]
)
def test_an_old_style_retweet_s_handle_is_pseudonymised(text):
    from beffroi.watch.sources.base import pseudonymise_mentions

    stored = pseudonymise_mentions(text, b"k" * 32)
    assert "xtianvincent" not in stored and "alice" not in stored


def test_the_pipeline_hides_an_old_style_retweet_s_handle_too():
    from beffroi.watch.pipeline.normalise import _MENTION

    assert _MENTION.findall("RT@alice: digue rompue, MT@bob.bsky.social: idem") == [
        "alice",
        "bob.bsky.social",
    ]


def test_emails_stay_as_they_are():
    """What a fix must keep: an e-mail address in a post is not an account."""
    from beffroi.watch.sources.base import pseudonymise_mentions

    text = "Email photos@rfs.nsw.gov.au, studenttofarm@colorado.edu or ART@musee.fr"
    assert pseudonymise_mentions(text, b"k" * 32) == text
