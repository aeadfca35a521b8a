"""The group evidence measured by its dense part (« 500 réponses en 32 s, plus 1 à
l'écart dans le temps (22 min en tout), … ») has its templates for the English reader;
the sentence reports already stored carry still matches its old one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import override, trans_real

from beffroi.consult.views_i18n import EVIDENCE, evidence
from english_catalogue import english

ONE = (
    "%(n)s réponses en %(duration)s, plus 1 à l'écart dans le temps (%(total)s en tout), "
    "alors que le rythme habituel autour est d'environ %(rate)s"
)
SEVERAL = (
    "%(n)s réponses en %(duration)s, plus %(m)s à l'écart dans le temps (%(total)s en "
    "tout), alors que le rythme habituel autour est d'environ %(rate)s"
)
OLD = "%(n)s réponses en %(duration)s, alors que le rythme habituel autour est d'environ %(rate)s"
# The English proposed to the lead for the catalogue (final report).
PROPOSED = {
    ONE: "%(n)s responses in %(duration)s, plus 1 further apart in time (%(total)s in all), "
    "when the usual rate around it is about %(rate)s",
    SEVERAL: "%(n)s responses in %(duration)s, plus %(m)s further apart in time (%(total)s "
    "in all), when the usual rate around it is about %(rate)s",
}


@contextmanager
def _proposed() -> Iterator[None]:
    with english():
        first = trans_real.translation("en")._catalog._catalogs[0]  # type: ignore[attr-defined]
        added = [k for k in PROPOSED if k not in first]
        first.update({k: v for k, v in PROPOSED.items() if k in added})
        try:
            yield
        finally:
            for k in added:
                first.pop(k, None)


def test_each_shape_is_matched_by_its_own_template() -> None:
    one = "500 réponses en 32 s, plus 1 à l'écart dans le temps (22 min en tout), alors que le rythme habituel autour est d'environ 2 par heure"  # noqa: E501
    found = EVIDENCE.match(one)
    assert found is not None and found[0].msgid == ONE
    assert found[1] == {"n": "500", "duration": "32 s", "total": "22 min", "rate": "2 par heure"}
    several = one.replace("plus 1 à", "plus 12 à").replace("22 min", "1,5 h")
    found = EVIDENCE.match(several)
    assert found is not None and found[0].msgid == SEVERAL
    assert found[1]["m"] == "12" and found[1]["total"] == "1,5 h"
    # A report stored before keeps its sentence and its template.
    stored = "501 réponses en 22 min, alors que le rythme habituel autour est d'environ 2 par heure"
    found = EVIDENCE.match(stored)
    assert found is not None and found[0].msgid == OLD


def test_the_english_reader_reads_it_and_the_french_one_as_written() -> None:
    text = "groupe 1 : 500 réponses en 32 s, plus 1 à l'écart dans le temps (22 min en tout), alors que le rythme habituel autour est d'environ 12,7 par jour"  # noqa: E501
    with _proposed():
        assert evidence(text) == (
            "group 1: 500 responses in 32 s, plus 1 further apart in time (22 min in all), "
            "when the usual rate around it is about 12.7 a day"
        )
        assert evidence(text.replace("plus 1 à", "plus 3 à").replace("22 min", "1,5 h")) == (
            "group 1: 500 responses in 32 s, plus 3 further apart in time (1.5 h in all), "
            "when the usual rate around it is about 12.7 a day"
        )
    with override("fr"):
        assert evidence(text).replace("\u202f", " ").replace("\u00a0", " ") == text
