"""What the profile caches keep is bounded by what is read of a profile, not by what a
server sends: a remote account's bio has no length limit on Mastodon, and the two caches
(``mastodon._profile_text``, ``accounts._read_profile``) hold 4,096 profiles each."""

from __future__ import annotations

import tracemalloc

from beffroi.watch.classify.accounts import _read_profile, account_kinds
from beffroi.watch.sources.mastodon import _profile, _profile_text

BIO = 50_000  # characters of a bio, and of each field's value
AUTHORS = 40


def _account(i: int) -> dict[str, object]:
    bio = f"<p>Journaliste à Midi Libre {i}</p>" + "<p>" + "x" * BIO + "</p>"
    fields = [{"name": f"Lien {j}", "value": f"{j}" + "y" * BIO} for j in range(4)]
    return {"note": bio, "fields": fields}


def test_the_caches_keep_what_is_read_not_whole_bios() -> None:
    _profile_text.cache_clear()
    _read_profile.cache_clear()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        # Each status's account is dropped once read, as a stream drops its payloads.
        kinds = [account_kinds(("someone", ""), *_profile(_account(i))) for i in range(AUTHORS)]
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        _profile_text.cache_clear()
        _read_profile.cache_clear()
    assert kinds == [("media",)] * AUTHORS  # the self-description, at the start, is read
    # Whole, the caches held every bio and field twice (HTML and text): about 20 MB.
    assert kept < 6 * 2**20
