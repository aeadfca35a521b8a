"""An export's responses are bounded (``BEFFROI_AUDIT_MAX_ROWS``, default 1,000,000) before
it is parsed in full: the 200 MB upload limit alone let through tens of millions of tiny
rows. Records are what is counted, not lines: answers may hold line breaks."""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.integrity import load
from beffroi.integrity.errors import InputError

HEADER = b"id,submitdate,Q1\n"


def _export(answers: list[str], *, final_newline: bool = True, crlf: bool = False) -> bytes:
    end = b"\r\n" if crlf else b"\n"
    rows = [
        b'%d,2026-03-02 10:%02d:00,"%s"' % (i + 1, i % 60, a.encode())
        for i, a in enumerate(answers)
    ]
    body = end.join(rows)
    return HEADER.replace(b"\n", end) + body + (end if final_newline and rows else b"")


answer = st.sampled_from(["Oui", "Non", "ligne 1\nligne 2", "a\n\nb", "", "dit « x »"])


@given(
    answers=st.lists(answer, max_size=12),
    limit=st.integers(1, 8),
    final_newline=st.booleans(),
    crlf=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_refused_exactly_when_records_exceed_the_bound(answers, limit, final_newline, crlf):
    data = _export(answers, final_newline=final_newline, crlf=crlf)
    stream = io.BytesIO(data)
    if len(answers) > limit:
        with pytest.raises(InputError, match="Trop de réponses"):
            load.check_rows(stream, limit)
    else:
        load.check_rows(stream, limit)
    assert stream.tell() == 0  # left at its start for whoever reads it next


def test_the_loader_refuses_past_the_setting_and_reads_up_to_it(monkeypatch):
    monkeypatch.setenv("BEFFROI_AUDIT_MAX_ROWS", "3")
    text = _export(["Oui", "Non", "Oui"]).decode()
    assert load.load_limesurvey(text=text).table.num_rows == 3
    with pytest.raises(InputError) as refused:
        load.load_limesurvey(text=_export(["Oui", "Non", "Oui", "Non"]).decode())
    assert str(refused.value).startswith(
        "Trop de réponses : le fichier en compte plus de 3, le plus qu'un audit accepte."
    )


def test_the_default_bound_and_its_french_number(monkeypatch):
    monkeypatch.delenv("BEFFROI_AUDIT_MAX_ROWS", raising=False)
    assert load.max_rows() == load.MAX_ROWS == 1_000_000
    message = str(load._too_many_rows(1_000_000))
    assert "plus de 1\u00a0000\u00a0000," in message


@pytest.mark.parametrize("raw", ["mille", "0", "-5", "1e6"])
def test_a_wrong_setting_is_said_plainly(monkeypatch, raw):
    monkeypatch.setenv("BEFFROI_AUDIT_MAX_ROWS", raw)
    with pytest.raises(InputError, match=f"BEFFROI_AUDIT_MAX_ROWS doit être .* « {raw} »"):
        load.max_rows()


def test_underscores_are_allowed_in_the_setting(monkeypatch):
    monkeypatch.setenv("BEFFROI_AUDIT_MAX_ROWS", " 2_000_000 ")
    assert load.max_rows() == 2_000_000


def test_a_legacy_encoding_is_counted_too():
    # Latin-1 answers (an old LimeSurvey export opened in a spreadsheet) must not stop
    # the count: the parser reads them as bytes.
    data = HEADER + b"".join(b'%d,,"caf\xe9\nau lait"\n' % i for i in range(5))
    load.check_rows(io.BytesIO(data), 5)
    with pytest.raises(InputError, match="Trop de réponses"):
        load.check_rows(io.BytesIO(data), 4)


def test_a_file_the_parser_cannot_read_is_left_to_the_full_read():
    # Unbalanced quotes: the count gives up, the loader's own error names the line.
    data = HEADER + b'1,,"ouvert\n2,,x\n3,,y\n'
    load.check_rows(io.BytesIO(data), 1)


def test_a_million_tiny_rows_past_the_bound_are_refused_fast():
    # The attack the bound is for: the smallest LimeSurvey responses, 4 bytes each.
    data = HEADER + b"7,,\n" * (load.MAX_ROWS + 1)
    started = time.perf_counter()
    with pytest.raises(InputError, match="Trop de réponses"):
        load.check_rows(io.BytesIO(data))
    assert time.perf_counter() - started < 10
    load.check_rows(io.BytesIO(HEADER + b"7,,\n" * load.MAX_ROWS))  # at the bound: fine
