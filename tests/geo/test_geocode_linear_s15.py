"""A long text is geocoded in linear time, with the same answers as before.

Review R11 finding 3: the covered-span scan and the sentence-start test copied and searched
the text before every candidate, so 382 KB took about 30 s of CPU and 1.9 MB did not end.

Time is not measured here (it depends on the machine and its load; the figure is printed
by ``bench/geocode_long.py``): the work is counted instead, as lines of ``geocode.py`` run
and characters of the text read, and must grow like the text.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from types import FrameType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.geo import geocode
from beffroi.geo.geocode import find_communes
from long_texts import long_text

# A name in the area after a long run of crisis words, and a hashtag at the very end.
ENDING = " Inondation à Luçon #LesSablesDOlonne"


class _CountedText(str):
    """The text, counting the characters the geocoder reads from it by index or slice
    (a prefix copied before every candidate was the quadratic part)."""

    read = 0

    def __getitem__(self, key: Any) -> str:
        part = str.__getitem__(self, key)
        _CountedText.read += len(part)
        return part


@dataclass
class _Work:
    chars: int
    lines: int
    read: int
    found: set[str]


def _work(chars: int) -> _Work:
    """What ``find_communes`` does on ``chars`` characters of the adversarial text."""
    text = _CountedText(long_text(chars) + ENDING)
    find_communes("Luçon", area={"85"})  # the gazetteer is loaded outside the count
    lines = 0
    here = geocode.__file__

    def count_lines(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal lines
        if event == "line":
            lines += 1
        return count_lines

    def enter(frame: FrameType, event: str, arg: Any) -> Any:
        # Only geocode.py's own frames are followed, line by line.
        return count_lines if frame.f_code.co_filename == here else None

    _CountedText.read = 0
    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        found = find_communes(text, area={"85"})
    finally:
        sys.settrace(previous)
    return _Work(len(text), lines, _CountedText.read, {m.name for m in found})


def _grows_linearly(small: _Work, big: _Work) -> bool:
    # Linear work grows as the text does (a constant share of slack); quadratic work
    # grows as its square, far past the bound.
    bound = 1.5 * big.chars / small.chars
    return big.lines <= bound * small.lines and big.read <= bound * small.read


def test_long_text_is_geocoded_in_linear_work():
    small, big = _work(20_000), _work(382_000)
    assert _grows_linearly(small, big), (small, big)
    assert {"Luçon", "Les Sables-d'Olonne"} <= big.found
    assert small.found == big.found


def test_the_count_sees_a_quadratic_sentence_start(monkeypatch):
    # The measure can fail: the former sentence-start test, which copied the text before
    # each candidate, is caught on texts far shorter than the adversarial one.
    monkeypatch.setattr(geocode, "_sentence_initial", _old_sentence_initial)
    assert not _grows_linearly(_work(5_000), _work(40_000))


def _old_sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"«“'(")
    return not before or bool(re.search(r"[.!?…:\n]\s*$", before))


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list(" \t\n\xa0.!?…:,\"«“'(aZ1")), max_size=30),
    st.integers(min_value=0, max_value=30),
)
def test_sentence_initial_reads_backwards_with_the_same_answer(text, start):
    start = min(start, len(text))
    assert geocode._sentence_initial(text, start) == _old_sentence_initial(text, start)


def test_hashtag_still_covers_its_words():
    # The tag is one name; its words are not read again as a second match.
    found = find_communes("Crue à #LesSablesDOlonne ce matin, puis à Luçon.", area={"85"})
    names = [m.name for m in found]
    assert names.count("Les Sables-d'Olonne") == 1
    assert "Luçon" in names


def test_postcode_next_to_a_number_is_still_refused():
    assert not [m for m in find_communes("Don au 3.85400 svp", area={"85"}) if m.via == "postcode"]
