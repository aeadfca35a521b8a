"""A pipe-separated file is refused naming its separator; full-text timing columns
(« Question time: X », « Group time: Y ») are timings, not questions."""

from __future__ import annotations

import pytest

from beffroi.integrity.errors import InputError
from beffroi.integrity.load import check_header, load_limesurvey

PIPED = (
    '"id"|"submitdate"|"ECOLE"|"Q1"\n'
    '"1"|"2026-03-02 10:00:00"|"A1"|"Y"\n'
    '"2"|"2026-03-02 10:01:00"|"A2"|"N"\n'
)


def test_pipe_separator_named() -> None:
    with pytest.raises(InputError) as err:
        load_limesurvey(text=PIPED)
    assert "« | »" in str(err.value) and "Colonne « id » absente" not in str(err.value)
    assert err.value.line == 1
    with pytest.raises(InputError, match="« \\| »"):
        check_header(PIPED.encode())


@pytest.mark.parametrize(
    "timing",
    [
        "Question time: BLOUSE",
        "Group time: Questions",
        "Temps pour la question : BLOUSE",
        "Temps du groupe : Questions",
    ],
)
def test_full_text_timings_are_not_questions(timing: str) -> None:
    head = f'"Response ID";"Date submitted";"École";"Port de la blouse";"{timing}"'
    rows = [
        f'"{i}";"2026-03-02 10:{i:02d}:00";"École A{i % 2 + 1}";"Oui";"{i * 7}"'
        for i in range(1, 9)
    ]
    ds = load_limesurvey(text="\n".join([head, *rows]))
    columns = [c for q in ds.questions for c, _ in q.rows] + ds.text_columns
    assert timing not in columns and ds.segment != timing
    assert [q.code for q in ds.questions] == ["Port de la blouse"]
