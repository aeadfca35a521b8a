"""What an export must hold to be audited: an id, the submission date, an answer column.

Session 7 accepted ``id,foo`` as a LimeSurvey export and reported empty sections; the
loader now refuses anything less, naming what is missing, before parsing the rows
(docs/decisions/audit-minimal-export.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from beffroi.integrity.errors import InputError
from beffroi.integrity.load import check_header, load_limesurvey, load_mapped

SENT = "2026-03-02 18:00:00"


def _refusal(text: str) -> str:
    with pytest.raises(InputError) as err:
        load_limesurvey(text=text)
    return str(err.value)


@pytest.mark.parametrize(
    "text,needle",
    [
        ("id,foo\n1,a\n2,b\n", "Colonne « submitdate » absente de l'en-tête (ligne 1)"),
        # Full headings in French: the same column under its LimeSurvey title.
        ("ID de la réponse;Blouse ?\n1;Oui\n", "Colonne « submitdate » absente"),
        (
            "id,submitdate,lastpage,startlanguage,seed\n1,,1,fr,42\n",
            "Aucune colonne de réponse dans l'en-tête (ligne 1) : seulement « id », "
            "« submitdate », « lastpage », « startlanguage », « seed »",
        ),
        ("id,seed\n1,42\n", "Ni colonne « submitdate » ni colonne de réponse"),
        # Timing columns are LimeSurvey's own, not answers.
        ("id,submitdate,interviewtime,Q1Time\n1,,3,3\n", "Aucune colonne de réponse"),
        ("foo,bar\n1,2\n", "Colonne « id » absente"),
    ],
)
def test_unauditable_header_is_refused_naming_what_is_missing(text: str, needle: str) -> None:
    assert needle in _refusal(text)


def test_a_long_header_is_listed_in_short() -> None:
    head = ",".join(["id", "submitdate", *[f"G{i}Time" for i in range(40)]])
    message = _refusal(head + "\n1,," + ",".join("1" * 40) + "\n")
    assert "« G3Time », …" in message and "G4Time" not in message


def test_no_complete_response_is_refused() -> None:
    message = _refusal("id,submitdate,Q1\n1,,A\n2, ,B\n")
    assert message.startswith("Aucune réponse complète : la colonne « submitdate » est vide")


def test_no_answer_anywhere_is_refused() -> None:
    message = _refusal(f"id,submitdate,Q1,Q2\n1,{SENT},,\n2,{SENT},N/A,\n")
    assert message.startswith("Aucune réponse aux questions : les colonnes de réponse (« Q1 »")


def test_the_smallest_auditable_export_is_accepted() -> None:
    ds = load_limesurvey(text=f"id,submitdate,Q1\n1,{SENT},A\n2,,B\n")
    assert ds.n_incomplete == 1 and [q.code for q in ds.questions] == ["Q1"]


def test_anonymised_dates_say_the_arrivals_were_not_examined() -> None:
    # An anonymised LimeSurvey survey dates every response 1980-01-01 00:00:00.
    rows = [f"{i},1980-01-01 00:00:00,{'YN'[i % 2]}" for i in range(1, 30)]
    ds = load_limesurvey(text="id,submitdate,Q1\n" + "\n".join(rows) + "\n")
    reasons = {c["check"]: c["reason"] for c in ds.checks_skipped}
    assert reasons["arrivées et rafales"].startswith(
        "toutes les dates de soumission sont identiques (enquête anonymisée"
    )
    varied = [f"{i},2026-03-02 18:{i:02d}:00,Y" for i in range(1, 30)]
    ds = load_limesurvey(text="id,submitdate,Q1\n" + "\n".join(varied) + "\n")
    assert "arrivées et rafales" not in {c["check"] for c in ds.checks_skipped}


def _mapped(
    tmp_path: Path, mapping: str, text: str = "ref;quand;ecole;q\na;02/03/2026 18:00;X;1\n"
):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text(text, encoding="utf-8")
    toml = tmp_path / "m.toml"
    toml.write_text(mapping, encoding="utf-8")
    return load_mapped(csv_path, toml)


def test_a_mapping_needs_the_submission_time(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nommer la colonne de date de soumission \(`time"):
        _mapped(tmp_path, '[columns]\nid = "ref"\n')
    with pytest.raises(InputError, match="Aucune colonne de réponse"):
        _mapped(
            tmp_path,
            '[columns]\nid = "ref"\ntime = "quand"\nsegment = "ecole"\nq = "x"\n'
            '\nanswers = ["ecole"]\n',
        )
    ds = _mapped(tmp_path, '[columns]\nid = "ref"\ntime = "quand"\nsegment = "ecole"\n')
    assert [q.code for q in ds.questions] == ["q"]


def test_the_web_door_judges_the_header_alone() -> None:
    with pytest.raises(InputError, match="Colonne « submitdate » absente"):
        check_header(b"id,foo\n1,")
    with pytest.raises(InputError, match="Colonne « submitdate » absente"):
        check_header("\ufeffID de la réponse;École\r\n".encode())
    with pytest.raises(InputError, match="Colonne « submitdate » absente"):
        check_header("ID de la réponse;École\r\n".encode("cp1252"))
    check_header(b"id,submitdate,Q1\n")
    # A first line longer than what was read is left to the full read.
    check_header(b"id,foo,bar")
    with pytest.raises(InputError, match="time"):
        check_header(b"ref;q\n", "csv", b'[columns]\nid = "ref"\n')
    with pytest.raises(InputError, match="Correspondance TOML invalide"):
        check_header(b"ref;q\n", "csv", b"[columns\n")
    check_header(b"ref;t;q\n", "csv", b'[columns]\nid = "ref"\ntime = "t"\n')


# --------------------------------------------------------------------------- fuzzing

META = [
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "startdate",
    "datestamp",
    "ipaddr",
    "refurl",
    "token",
    "interviewtime",
    "Response ID",
    "Date submitted",
    "Date de soumission",
    "Dernière page",
]
ANSWERS = ["Q1", "Q2[SQ001]", "Q2[SQ002]", "ECOLE", "Blouse ? [Parent 1]", "groupTime12"]
VALUES = st.sampled_from(["", "Y", "N", "A1", "1", SENT, "02/03/2026 18:05", "1.2.3.4", "x"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(st.sampled_from(META + ANSWERS), min_size=1, max_size=8, unique=True),
    rows=st.lists(st.lists(VALUES, min_size=8, max_size=8), min_size=1, max_size=5),
    sep=st.sampled_from([",", ";"]),
)
def test_fuzz_accepted_means_auditable(header: list[str], rows: list[list[str]], sep: str) -> None:
    """Whatever the mix of headings, the loader refuses with InputError or gives what the
    detectors need; the header check of the web door refuses exactly the same headers."""
    text = "\n".join(sep.join(r[: len(header)]) for r in [header, *rows]) + "\n"
    first = (sep.join(header) + "\n").encode()
    try:
        check_header(first)
    except InputError as exc:
        with pytest.raises(InputError) as err:
            load_limesurvey(text=text)
        assert str(err.value) == str(exc)
        return
    try:
        ds = load_limesurvey(text=text)
    except InputError as exc:
        # Only the data can fail once the header passed.
        assert "(ligne 1)" not in str(exc) or "en double" in str(exc)
        return
    table = ds.table
    assert "submitted" in table.column_names
    sent = table.column("submitted").to_numpy()
    assert not np.isnan(sent).all()
    answer_cols = [c for q in ds.questions for c, _ in q.rows] + ds.text_columns
    if ds.segment:
        answer_cols.append(ds.segment)
    assert any(table.column(c).null_count < table.num_rows for c in answer_cols)
    assert pc.count_distinct(table.column("id")).as_py() == table.num_rows


@settings(max_examples=60, deadline=None)
@given(drop=st.sets(st.sampled_from(["submitdate", "ipaddr", "ECOLE", "Q1", "Q2", "seed"])))
def test_fuzz_a_real_export_less_some_columns(drop: set[str]) -> None:
    """An export as LimeSurvey writes it stays accepted without optional columns, and is
    refused, naming the column, once the submission date or every answer is gone."""
    assume(drop)
    full = ["id", "submitdate", "lastpage", "startlanguage", "seed", "ipaddr", "ECOLE", "Q1", "Q2"]
    rows = [
        [str(i), f"2026-03-02 18:{i:02d}:00", "2", "fr", str(7 * i), f"90.1.2.{i}", "A1", "Y", "N"]
        for i in range(1, 12)
    ]
    keep = [k for k, h in enumerate(full) if h not in drop]
    text = "\n".join(",".join(r[k] for k in keep) for r in [full, *rows]) + "\n"
    answers_left = {"ECOLE", "Q1", "Q2"} - drop
    if "submitdate" in drop:
        assert "submitdate" in _refusal(text)
    elif not answers_left:
        assert "Aucune colonne de réponse" in _refusal(text)
    else:
        ds = load_limesurvey(text=text)
        assert ds.table.num_rows == 11 and not math.isnan(ds.table.column("submitted")[0].as_py())
