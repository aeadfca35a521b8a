"""The line a card gets when its post's analysis timed out twice is read in English too."""

from __future__ import annotations

from django.utils.translation import override

from beffroi.watch.views_i18n import EXPLANATIONS
from beffroi.watch.worker import SET_ASIDE_LINE


def test_the_set_aside_line_is_known_and_said_in_english() -> None:
    assert EXPLANATIONS.match(SET_ASIDE_LINE) is not None
    with override("en"):
        assert EXPLANATIONS.say(SET_ASIDE_LINE) == (
            "not analysed: the post went past the analysis time limit twice; read it yourself"
        )
    with override("fr"):
        assert EXPLANATIONS.say(SET_ASIDE_LINE) == SET_ASIDE_LINE
