"""Session 8: the audit's evidence on a consultation's pages is set the French way.

The audit joins a flag's pieces with "; " and a check's clauses with " ; ", so the
journaled text mixes « ; » with and without a space before it. The pages (the public
board's flags, the audit page's flags and groups) show one « ; » with a narrow no-break
space before it, a no-break space before « : » and inside « », while the journal and
the bundle keep the bytes they were published with (and still verify).
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils.translation import override
from hypothesis import given
from hypothesis import strategies as st

from beffroi.consult import actions, live
from beffroi.consult.cli_example_bundle import fill, setup_consultation
from beffroi.consult.verify import verify_bundle
from beffroi.consult.views_i18n import evidence
from english_catalogue import english

NARROW, NO_BREAK = "\u202f", "\u00a0"
# As consult.tasks.audit_box journals it: pieces joined by "; ", clauses by " ; ".
STORED = (
    "groupe 1 : 50 réponses en 1 min, alors que le rythme habituel autour est d'environ "
    "2,5 par heure; 50 réponses viennent de 1 réseau (/24 ou /48) jamais vu hors des "
    "rafales ; 50 réponses viennent de 1 adresse IP jamais vue hors des rafales; "
    "réponses très différentes du reste : « Soir » à Créneau : 100 % dans le groupe "
    "contre 48 % dans le reste"
)


def test_french_readers_get_one_kind_of_separator() -> None:
    with override("fr"):
        shown = evidence(STORED)
    assert "; " not in shown.replace(NARROW + "; ", "")  # every « ; » has its narrow space
    assert shown.count(NARROW + "; ") == STORED.count(";") == 3
    assert " :" not in shown and shown.count(NO_BREAK + ":") == 3
    assert "«" + NARROW + "Soir" + NARROW + "»" in shown and NARROW + "%" in shown
    # Only spaces changed: the words are the journal's.
    plain = shown.replace(NARROW, " ").replace(NO_BREAK, " ")
    assert plain == re.sub(r"(?<! ); ", " ; ", STORED)
    with english():
        said = evidence(STORED)
    assert said.startswith("group 1: 50 responses in 1 min") and " ; " not in said
    assert NARROW not in said and NO_BREAK not in said


@given(st.text(alphabet=" ;:«»%abé\u202f", max_size=60))
def test_any_stored_text_keeps_its_words(text: str) -> None:
    with override("fr"):
        shown = evidence(text)
    squash = re.compile(r"[ \u202f\u00a0]+")
    assert squash.sub("", shown) == squash.sub("", text)
    # Every separator « ; » has its narrow space, and no mark follows a breaking space.
    assert all(shown[m.start() - 1 : m.start()] == NARROW for m in re.finditer("; ", shown))
    assert not re.search(r" [;:»%]", shown)


@pytest.fixture
def flagged(org, members, settings):
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    c, private = setup_consultation(org, cid="espaces-s8", access="mixed", per_segment=4)
    fill(c, private, 30, seed=4)
    unsigned = c.entries.filter(public_key=None).values_list("hash", flat=True)[:2]
    assert len(unsigned) == 2
    actions.record_flags(c, [(h, "audit", STORED) for h in unsigned])
    return c


def test_pages_show_french_spacing_and_the_bundle_keeps_the_journals_bytes(
    client, org, members, flagged
) -> None:
    c = flagged
    board = client.get(
        reverse("consult-board", args=[c.cid]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    client.force_login(members["coordinator"])
    audit = client.get(
        reverse("consult-audit", args=[org.slug, c.cid]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    for page in (board, audit):
        assert page.count("par heure" + NARROW + "; 50 réponses") == 2
        assert "hors des rafales" + NARROW + "; 50 réponses" in page
        assert "par heure; " not in page and "rafales ; " not in page
    with english():
        board_en = client.get(
            reverse("consult-board", args=[c.cid]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    assert "audit: group 1: 50 responses in 1 min" in board_en and NARROW + ";" not in board_en

    # Published as journaled: the bundle holds the stored bytes and verifies.
    data = live.bundle(c)
    with zipfile.ZipFile(BytesIO(data)) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    assert STORED in text.replace('\\"', '"') and NARROW not in text
    report = verify_bundle(data)
    assert report.ok, report.lines()
