import contextlib
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.integrity.errors import InputError
from beffroi.integrity.load import load_limesurvey, load_mapped, read_csv_text

HEAD = (
    "id,submitdate,startdate,ipaddr,ECOLE,"
    "BLOUSE[SQ001],BLOUSE[SQ002],AIDE[SQ001],AIDE[SQ002],interviewtime"
)
ROWS = [
    "1,2026-03-02 18:00:05,2026-03-02 17:58:00,90.1.2.3,A1,Y,N,Y,Y,125",
    "2,2026-03-02 18:10:00,2026-03-02 18:08:30,90.1.2.4,A2,N,,Y,,90.5",
    "3,,2026-03-02 18:12:00,2a01:e0a:1:2::1,A1,Y,,,,",
]


def _text(sep: str = ",", head: str = HEAD, rows: list[str] = ROWS) -> str:
    return "\n".join([head.replace(",", sep), *[r.replace(",", sep) for r in rows]]) + "\n"


def _write(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / "export.csv"
    p.write_bytes(data)
    return p


def test_plain_codes_export() -> None:
    ds = load_limesurvey(text=_text())
    t = ds.table
    assert t.column("id").to_pylist() == ["1", "2", "3"]
    assert ds.segment == "ECOLE"
    # LimeSurvey's default row codes SQ001… say nothing of who answered: without a
    # structure file or a mapping, each row is a question of its own.
    assert [q.code for q in ds.questions] == [
        *("BLOUSE[SQ001]", "BLOUSE[SQ002]", "AIDE[SQ001]", "AIDE[SQ002]")
    ]
    assert not any(q.repeated for q in ds.questions)
    assert ds.n_incomplete == 1
    assert math.isnan(t.column("submitted")[2].as_py())
    assert t.column("duration").to_pylist()[:2] == [125.0, 90.5]
    assert t.column("BLOUSE[SQ002]").to_pylist() == ["N", None, None]
    # Addresses are pseudonymised; the two of one /24 share a prefix pseudonym.
    ip = t.column("ip").to_pylist()
    net = t.column("net").to_pylist()
    assert "90.1.2.3" not in ip and len(set(ip)) == 3
    assert net[0] == net[1] != net[2]
    checks = {c["check"] for c in ds.checks_skipped}
    assert "état des jetons" in checks and "navigateur (user agent)" in checks


@pytest.mark.parametrize(
    "encoding,bom,sep",
    [("utf-8", True, ","), ("utf-8", False, ";"), ("latin-1", False, ";"), ("cp1252", False, ",")],
)
def test_encodings_and_separators(tmp_path: Path, encoding: str, bom: bool, sep: str) -> None:
    rows = [*ROWS, "4,2026-03-03 08:00:00,2026-03-03 07:58:00,90.1.9.9,A3,Y,Y,N,N,130"]
    head = HEAD + ",COMMENT"
    rows = [r + ",Très bien" for r in rows]
    data = _text(sep, head, rows).encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    ds = load_limesurvey(_write(tmp_path, data))
    assert ds.table.column("id").to_pylist() == ["1", "2", "3", "4"]
    assert ds.table.column("COMMENT").to_pylist()[0] == "Très bien"


def test_full_headings_and_answers() -> None:
    head = (
        "ID de la réponse;Date de soumission;Adresse IP;École;"
        "Blouse ? [Parent 1];Blouse ? [Parent 2];Aide ? [Parent 1];Aide ? [Parent 2]"
    )
    rows = [
        "1;02/03/2026 18:00;90.1.2.3;Jules-Ferry;Oui;Non;Oui;Sans réponse",
        "2;02/03/2026 18:05;90.1.2.4;Pierre-Loti;Non;Non;Oui;Oui",
    ]
    ds = load_limesurvey(text="\n".join([head, *rows]))
    assert ds.table.column("id").to_pylist() == ["1", "2"]
    assert ds.segment == "École"
    q = {x.code: x for x in ds.questions}
    assert q["Blouse ?"].repeated
    assert ds.table.column("Aide ?[Parent 2]").to_pylist() == [None, "Oui"]
    assert (
        ds.table.column("submitted").to_pylist()[1] - ds.table.column("submitted").to_pylist()[0]
        == 300
    )


def test_code_and_text_headings() -> None:
    head = (
        "id,submitdate,BLOUSE[SQ001]. Blouse [Parent 1],BLOUSE[SQ002]. Blouse [Parent 2],"
        "ECOLE. École"
    )
    ds = load_limesurvey(text=head + "\n1,2026-03-02 18:00,Y,N,A1\n2,,N,N,A2\n")
    assert {c for q in ds.questions for c, _ in q.rows} == {"BLOUSE[SQ001]", "BLOUSE[SQ002]"}
    assert ds.segment == "ECOLE"


def test_missing_meta_columns_are_listed() -> None:
    ds = load_limesurvey(text="id,submitdate,Q1\n1,2026-03-02 18:00,A\n2,,B\n")
    skipped = {c["check"] for c in ds.checks_skipped}
    assert {"temps de remplissage", "concentration réseau"} <= skipped


@pytest.mark.parametrize(
    "text,needle",
    [
        ("", "vide"),
        ("   \n", "vide"),
        ("id,submitdate,Q1\n", "aucune réponse"),
        ("Q1,Q2\nA,B\n", "« id »"),
        ("id,submitdate,Q1\n1,,A\n2,,B\n1,,C\n", "lignes 2 et 4"),
        (
            "id,submitdate,Q\n1,2026-03-02 18:00:00,A\n2,hier soir,A\n",
            "ligne 3, colonne « submitdate »",
        ),
        ("id,submitdate,Q1\n1,,A\n2,,B,C,D\n", "ligne 3"),
        ("id,Q1,Q1\n1,A,B\n", "en double"),
        ("id,submitdate,Q1\n1,,A\n,,B\n", "Identifiant vide à la ligne 3"),
        (
            "id,submitdate,Q,interviewtime\n1,,A,12\n2,,A,douze\n",
            "ligne 3, colonne « interviewtime »",
        ),
    ],
)
def test_bad_input_names_line_or_column(text: str, needle: str) -> None:
    with pytest.raises(InputError) as err:
        load_limesurvey(text=text)
    assert needle in str(err.value)


def test_multiline_values_count_lines() -> None:
    text = 'id,submitdate,C\n1,2026-03-02 18:00:00,"deux\nlignes"\n2,demain,x\n'
    with pytest.raises(InputError) as err:
        load_limesurvey(text=text)
    assert "ligne 4" in str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_limesurvey(tmp_path / "absent.csv")


def test_mapping(tmp_path: Path) -> None:
    csv_path = tmp_path / "data.csv"
    csv_path.write_text(
        "ref;quand;adresse;ecole;p1;p2;q\n"
        "a;02/03/2026 18:00:00;10.0.0.1;X;oui;non;1\n"
        "b;02/03/2026 18:01:00;10.0.0.2;Y;oui;oui;2\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\nid = "ref"\ntime = "quand"\nip = "adresse"\nsegment = "ecole"\n'
        'time_format = "%d/%m/%Y %H:%M:%S"\n'
        '[repeated]\nBLOUSE = ["p1", "p2"]\n[labels]\nq = "Question libre"\n',
        encoding="utf-8",
    )
    ds = load_mapped(csv_path, mapping)
    assert ds.table.column("id").to_pylist() == ["a", "b"]
    assert ds.segment == "ecole"
    q = {x.code: x for x in ds.questions}
    assert q["BLOUSE"].repeated and [r for _, r in q["BLOUSE"].rows] == ["Ligne 1", "Ligne 2"]
    assert q["q"].label == "Question libre"
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nid = "nope"\ntime = "quand"\n', encoding="utf-8")
    with pytest.raises(InputError, match="nope"):
        load_mapped(csv_path, bad)


cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(cells, min_size=0, max_size=5),
    rows=st.lists(st.lists(cells, max_size=6), max_size=6),
    sep=st.sampled_from([",", ";"]),
    with_id=st.booleans(),
)
def test_fuzz_importer_only_raises_input_error(
    header: list[str], rows: list[list[str]], sep: str, with_id: bool
) -> None:
    head = (["id"] if with_id else []) + header
    text = "\n".join(sep.join(r) for r in [head, *rows])
    with contextlib.suppress(InputError):
        load_limesurvey(text=text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_raw_bytes(data: bytes) -> None:
    with contextlib.suppress(InputError):
        read_csv_text(data.decode("latin-1"))


def test_lss_labels(tmp_path: Path) -> None:
    from beffroi.integrity.simulate import simulate

    sim = simulate(tmp_path, forms=60, fakes=0, attack="none", seed=1)
    ds = load_limesurvey(sim.export, structure=tmp_path / "survey.lss")
    q = {x.code: x for x in ds.questions}
    assert q["AIDE"].label == "Aide aux devoirs"
    assert [r for _, r in q["AIDE"].rows] == ["Parent 1", "Parent 2"]
    assert ds.segment_labels["A4"] == "École des Salines"


@pytest.mark.parametrize(
    "content,needle",
    [
        ("<document><questions>", "ligne 1"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><document/>', "DOCTYPE"),
        ("<document><LimeSurveyDocType>Label set</LimeSurveyDocType></document>", "pas une"),
    ],
)
def test_lss_bad(tmp_path: Path, content: str, needle: str) -> None:
    from beffroi.integrity.lss import read_lss

    p = tmp_path / "s.lss"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=needle):
        read_lss(p)


@pytest.mark.parametrize("many_v4", [False, True])
def test_prefixes(many_v4: bool) -> None:
    import pyarrow as pa

    from beffroi.integrity.load import _prefixes

    v6 = ["2A01:0E0A:00ab:1::1", "2a01:e0a:ab:ffff:1:2:3:4", "2a01::1", "nonsense:x"]
    v4 = ["1.2.3.4", "1.2.3.9", "10.0.0.1"] * (5 if many_v4 else 1)
    v4 = [f"1.2.{i}.4" for i in range(len(v4))] if many_v4 else v4
    out = _prefixes(pa.array([*v6, *v4, None, ""])).to_pylist()
    assert out[:4] == ["2a01:e0a:ab::/48", "2a01:e0a:ab::/48", "2a01:0:0::/48", None]
    assert out[4].endswith(".0/24") and out[-2:] == [None, None]


def test_from_table_repeated_rows() -> None:
    from beffroi.integrity.load import from_table

    rows = [{"id": str(i), "Q[R1]": "Y", "Q[R2]": "N", "S": "a"} for i in range(5)]
    # One array question alone: rows are taken as items unless told otherwise.
    assert not from_table(rows).questions[0].repeated
    q = {x.code: x for x in from_table(rows, repeated=["Q"]).questions}
    assert q["Q"].repeated and not q["S"].repeated
