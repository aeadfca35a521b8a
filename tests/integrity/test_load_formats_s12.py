"""An upload that is not CSV text is refused by what it is (a spreadsheet, UTF-16 text,
a binary file), not with « Colonne « id » absente » read from garbage; a header Python's
csv module cannot read is explained in French, not in the module's English."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from beffroi.consult.views_i18n import AUDIT_ERRORS
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import check_header, load_limesurvey

CSV = (
    "id,submitdate,lastpage,startlanguage,seed,startdate,datestamp,Q1\n"
    "1,2026-01-01 10:00:00,1,fr,1,2026-01-01 09:59:00,2026-01-01 10:00:00,A1\n"
)


def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


CASES = [
    (CSV.encode("utf-16"), "encodé en UTF-16"),
    (CSV.encode("utf-16-be"), "octets nuls"),
    (_xlsx(), "classeur (Excel .xlsx ou LibreOffice .ods)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "classeur Excel ancien (.xls)"),
]


@pytest.mark.parametrize(("raw", "said"), CASES)
def test_a_file_that_is_not_csv_text_is_named(tmp_path: Path, raw: bytes, said: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(raw)
    for read in (lambda: load_limesurvey(path), lambda: check_header(raw)):
        with pytest.raises(InputError) as err:
            read()
        message = str(err.value)
        assert said in message and "Colonne « id » absente" not in message
        assert "« CSV » en UTF-8" in message
        assert AUDIT_ERRORS.match(message) is not None, message


def test_a_garbled_header_is_explained_in_french(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"id,sub\rmitdate,x\n1,2,3\n")
    with pytest.raises(InputError) as err:
        load_limesurvey(path)
    message = str(err.value)
    assert message.startswith("En-tête illisible (ligne 1) : ")
    assert "new-line character" not in message and "universal-newline" not in message
    assert AUDIT_ERRORS.match(message) is not None


def test_an_honest_utf8_or_cp1252_export_still_loads(tmp_path: Path) -> None:
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        path = tmp_path / f"export-{encoding}.csv"
        path.write_bytes(CSV.replace("A1", "École").encode(encoding))
        assert load_limesurvey(path).table.num_rows == 1
