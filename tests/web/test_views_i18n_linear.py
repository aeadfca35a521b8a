"""Matching a sentence against the French templates costs time in proportion to its
length, whatever the request put in it: refusals of ballots quote what was sent (an
unknown question's code) and are re-said on the ASGI event loop."""

from __future__ import annotations

import time

from django.utils import translation

from beffroi.consult.views_i18n import refusal
from beffroi.web.views_i18n import FrenchTemplates, T


def _hostile_code(length: int) -> str:
    # Every piece of the four-placeholder template, again and again, and never its end.
    return (" » : valeur 1 hors de [2, 3" * (length // 26 + 1))[:length]


def test_an_unknown_question_code_full_of_template_pieces_is_matched_at_once() -> None:
    message = f"Réponses invalides : question « {_hostile_code(3000)} » : inconnue ici"
    with translation.override("en"):
        started = time.process_time()
        said = refusal(message)
        spent = time.process_time() - started
    # The backtracking matcher took about 10 s of CPU on this; the linear one ~1 ms.
    assert spent < 1.0
    # Still re-said: the code is quoted as sent, the French around it is not kept.
    assert "inconnue ici" not in said and "Réponses invalides" not in said


def test_a_plain_refusal_is_still_re_said() -> None:
    message = "Réponses invalides : question « q1 » : valeur 7 hors de [1, 5]"
    with translation.override("en"):
        said = refusal(message)
    assert "q1" in said and "7" in said and "valeur" not in said


def test_numbers_before_a_mark_and_placeholders_side_by_side() -> None:
    table = FrenchTemplates([T("%(n)s.%(rest)s fin", "n"), T("%(a)s%(b)s")])
    assert table.match("1,5.x fin") == (table.templates[0], {"n": "1,5", "rest": "x"})
    assert table.match("1.5.x fin") == (table.templates[0], {"n": "1.5", "rest": "x"})
    assert table.match("abc") == (table.templates[1], {"a": "a", "b": "bc"})
    assert table.match("x.y fin") == (table.templates[1], {"a": "x", "b": ".y fin"})
