"""Reading a profile costs time in proportion to its length, whatever the account
wrote: bios and profile fields are written by anyone, and a Mastodon source reads
the profile of every status's author on the worker's thread."""

from __future__ import annotations

import time

import pytest

from beffroi.watch.classify.accounts import _read_profile, profile_kinds

SIZE = 2000  # what is read of a bio and of each field's label and value
FIELDS = 16  # fields read


def _cpu(bio: str, fields: list[tuple[str, str]]) -> tuple[float, tuple[str, ...]]:
    _read_profile.cache_clear()
    started = time.process_time()
    reading = profile_kinds(bio, fields)
    return time.process_time() - started, reading.kinds


@pytest.mark.parametrize(
    "bio,field",
    [
        # Blanks between clauses: " - " and " & " were tried from every blank of a run
        # (about 3.5 s of CPU on this profile).
        ("radio" + " " * SIZE + "-", (" " * SIZE, "radio" + " \t" * (SIZE // 2))),
        ("radio", ("\n " * (SIZE // 2), "\n\t" * (SIZE // 2))),
        # A long run of letters or of « a.m. » (« ㏂ » once folded) before no « :// ».
        ("radio " + "a" * SIZE, ("a" * SIZE, "a." * (SIZE // 2))),
        ("\u33c2" * SIZE, ("\u33c2" * SIZE, "\u33c2" * SIZE)),
    ],
)
def test_a_hostile_profile_is_read_at_once(bio: str, field: tuple[str, str]) -> None:
    spent, _kinds = _cpu(bio, [field] * FIELDS)
    assert spent < 0.3


def test_blanks_still_part_clauses_and_links_are_still_dropped() -> None:
    assert _cpu("Mère   -   journaliste", [])[1] == ("media",)
    assert _cpu("Lectrice \n\n  Mairie de Nîmes", [])[1] == ("government",)
    assert _cpu("https://radio.example/  fan de foot", [])[1] == ()
    assert _cpu("1radio://x.example", [])[1] == ()
