"""The example consultation tells the same story as the LimeSurvey simulation."""

from __future__ import annotations

import random

from beffroi.consult import examples
from beffroi.consult.spec import validate_answers
from beffroi.integrity import simulate


def test_affair_spec_matches_the_simulation() -> None:
    spec = examples.affair_spec()
    assert examples.SCHOOLS == simulate.SCHOOLS
    assert [q.code for q in spec.questions] == [m.lower() for m in simulate.MEASURES]
    assert {m.lower(): v for m, v in simulate.HONEST_NO.items()} == examples.HONEST_NO
    assert {m.lower(): v for m, v in simulate.ATTACK_NO.items()} == examples.SALVO_NO
    assert spec.rows is not None and len(spec.rows.labels) == len(simulate.PARENT_ROWS)
    assert [s.code for s in spec.segments] == list(simulate.SCHOOLS)


def test_household_answers_are_valid_and_lean_as_asked() -> None:
    spec = examples.affair_spec()
    rng = random.Random(4)
    no = {m: 0 for m in examples.MEASURES}
    answered = dict(no)
    second = 0
    for _ in range(3000):
        rows = examples.household_answers(rng, examples.HONEST_NO)
        validate_answers(spec, {}, rows)
        assert rows[0]
        second += bool(rows[1])
        for row in rows:
            for m, v in row.items():
                answered[m] += 1
                no[m] += v == "non"
    assert 0.6 < second / 3000 < 0.76
    for m, share in examples.HONEST_NO.items():
        assert abs(no[m] / answered[m] - share) < 0.04
