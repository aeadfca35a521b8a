"""Session-6 walkthrough: the audit's network evidence counts "1 network", not
"1 networks", for English readers (pure code writes « 1 réseaux »)."""

from __future__ import annotations

import pytest

from beffroi.consult.views_i18n import evidence
from english_catalogue import english

CASES = [
    (
        "40 réponses viennent de 1 réseaux (/24 ou /48) jamais vus hors des rafales",
        "40 responses come from a single network (/24 or /48) never seen outside the bursts",
    ),
    (
        "40 réponses viennent de 1 navigateurs vus seulement 1 fois hors des rafales",
        "40 responses come from a single browser seen only once outside the bursts",
    ),
    (
        "30 réponses viennent de 1 adresses IP vus seulement 3 fois hors des rafales",
        "30 responses come from a single IP address seen only 3 times outside the bursts",
    ),
    (
        "30 réponses viennent de 5 adresses IP vus seulement 1 fois hors des rafales",
        "30 responses come from 5 IP addresses seen only once outside the bursts",
    ),
    (
        "30 réponses viennent de 5 adresses IP jamais vus hors des rafales",
        "30 responses come from 5 IP addresses never seen outside the bursts",
    ),
    (
        "12 réponses viennent de 1 langues jamais vus hors des rafales",
        "12 responses come from a single language never seen outside the bursts",
    ),
    # Twelve is not one: the literal "1 " of the singular shapes must not catch it.
    (
        "40 réponses viennent de 12 navigateurs vus seulement 12 fois hors des rafales",
        "40 responses come from 12 browsers seen only 12 times outside the bursts",
    ),
]


@pytest.mark.parametrize("french,english_text", CASES)
def test_network_evidence_says_one_thing_in_the_singular(french, english_text):
    with english():
        assert evidence(french) == english_text
    assert evidence(french) == french  # French readers see what was journaled


def test_a_groups_evidence_joins_its_pieces_in_english():
    joined = (
        "40 réponses viennent de 1 réseaux (/24 ou /48) jamais vus hors des rafales ; "
        "30 réponses viennent de 5 adresses IP jamais vus hors des rafales"
    )
    with english():
        said = evidence(joined)
    assert "a single network (/24 or /48)" in said and "5 IP addresses" in said
    assert "1 networks" not in said and "réseaux" not in said
