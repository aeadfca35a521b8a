"""Credential letters say until when to answer: `--closes` on `beffroi credentials
generate`, passed by the organiser's ready command, printed in French on each letter,
a malformed date refused before anything is written; the PDF stays tagged."""

from __future__ import annotations

import html as html_mod
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from beffroi.cli import main as cli_main
from beffroi.consult.cli_example_bundle import example_spec_dict, setup_consultation
from beffroi.consult.credentials import (
    french_closing,
    generate,
    letter_zone,
    letters_html,
    parse_closing,
)
from pdf_structure import Pdf, tags

PARIS = ZoneInfo("Europe/Paris")


def test_the_closing_reads_as_parents_say_it() -> None:
    # Winter: 17:00 UTC is 18 h in Paris; summer: 16:30 UTC is 18 h 30.
    assert french_closing(datetime(2026, 12, 14, 17, tzinfo=UTC), PARIS) == (
        "lundi 14 décembre 2026 à 18 h"
    )
    assert french_closing(datetime(2026, 6, 1, 16, 30, tzinfo=UTC), PARIS) == (
        "lundi 1er juin 2026 à 18 h 30"
    )
    # Closing at midnight is the end of the day before, not « à 0 h » of the next.
    assert french_closing(datetime(2026, 12, 15, 0, 0, tzinfo=PARIS), PARIS) == (
        "lundi 14 décembre 2026 à minuit"
    )
    reunion = ZoneInfo("Indian/Reunion")
    assert french_closing(datetime(2026, 12, 14, 17, tzinfo=UTC), reunion) == (
        "lundi 14 décembre 2026 à 21 h"
    )


def test_a_closing_without_offset_is_read_in_the_letters_zone() -> None:
    assert parse_closing("2026-12-14T18:00", PARIS) == datetime(2026, 12, 14, 17, tzinfo=UTC)
    assert parse_closing("2026-12-14 18:00", PARIS) == datetime(2026, 12, 14, 17, tzinfo=UTC)
    assert parse_closing("2026-12-14T17:00Z", PARIS) == datetime(2026, 12, 14, 17, tzinfo=UTC)
    assert parse_closing("2026-12-14T18:00+01:00", PARIS) == datetime(2026, 12, 14, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("2026-12-14", "donnez aussi l'heure de clôture, ex. 2026-12-14T18:00"),
        ("14/12/2026 18:00", "date et heure ISO 8601 attendues"),
        ("2026-12-32T18:00", "date et heure ISO 8601 attendues"),
        ("demain", "date et heure ISO 8601 attendues"),
        ("", "date et heure ISO 8601 attendues"),
    ],
)
def test_a_malformed_closing_is_refused_with_its_fault(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=re.escape(said)):
        parse_closing(text, PARIS)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="fuseau horaire 'Europe/Pariss' inconnu"):
        letter_zone("Europe/Pariss")
    with pytest.raises(ValueError, match="fuseau horaire"):
        letter_zone("../etc/passwd")


def test_each_letter_carries_the_closing_and_none_without_it() -> None:
    private, _ = generate(None, {"A1": 2, "A2": 1}, "ecole-2026", "https://vote.example.org")
    closes = datetime(2026, 12, 14, 17, tzinfo=UTC)
    page = letters_html(private, "Cantine", {"A1": "École Nord"}, closes)
    letters = page.split("<section class='letter'>")[1:]
    assert len(letters) == 3
    for letter in letters:
        text = html_mod.unescape(re.sub(r"<[^>]+>", "", letter))
        assert (
            "Date limite : vous pouvez répondre jusqu'au lundi 14 décembre 2026 à 18 h "
            "(heure de Paris)." in text
        )
    assert "Date limite" not in letters_html(private, "Cantine")


def _base(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "credentials",
        "generate",
        "--segments",
        "A1=2",
        "--consultation-id",
        "ecole-2026",
        "--base-url",
        "https://vote.example.org",
        "--out",
        str(tmp_path / "codes"),
        *extra,
    ]


@pytest.mark.parametrize(
    ("closes", "said"),
    [
        ("2026-12-14", "--closes '2026-12-14' : donnez aussi l'heure de clôture"),
        ("14/12/2026", "--closes '14/12/2026' : date et heure ISO 8601 attendues"),
        ("2020-01-10T18:00", "--closes '2020-01-10T18:00' : cette date est déjà passée"),
    ],
)
def test_the_command_refuses_a_bad_closing_before_writing_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], closes: str, said: str
) -> None:
    assert cli_main(_base(tmp_path, "--closes", closes)) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "codes").exists()


def test_the_command_refuses_an_unknown_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _base(tmp_path, "--closes", "2099-12-14T18:00", "--timezone", "Mars/Olympus")
    assert cli_main(argv) == 2
    assert "fuseau horaire 'Mars/Olympus' inconnu" in capsys.readouterr().err
    assert not (tmp_path / "codes").exists()


def _paragraphs(path: Path) -> int:
    pdf = Pdf.read(path.read_bytes())
    assert pdf.catalog.get("MarkInfo") == {"Marked": True} and pdf.catalog["Lang"] == "fr"
    found = tags(pdf)
    assert found.count("Sect") == 2 and found.count("Figure") == 2
    return found.count("P")


def test_the_letters_pdf_with_the_closing_stays_tagged(tmp_path: Path) -> None:
    assert cli_main(_base(tmp_path, "--closes", "2099-12-14T18:00")) == 0
    with_date = _paragraphs(tmp_path / "codes" / "lettres.pdf")
    assert cli_main(_base(tmp_path, "--force")) == 0
    without = _paragraphs(tmp_path / "codes" / "lettres.pdf")
    # One more paragraph a letter, in the structure a screen reader follows.
    assert with_date == without + 2


@pytest.mark.usesdb
def test_the_organisers_ready_command_passes_the_closing(
    client, org, members, tmp_path: Path, settings
) -> None:
    closes = datetime(2099, 12, 14, 17, tzinfo=UTC)
    spec = example_spec_dict("s11-cloture", access="credentialed", closes=closes)
    c, _ = setup_consultation(
        org, cid="s11-cloture", access="credentialed", spec_dict=spec, open_it=False
    )
    client.force_login(members["coordinator"])

    def command() -> list[str]:
        page = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
        found = re.search(r'data-testid="authority-command"><code>([^<]+)</code>', page)
        assert found is not None
        # The sentence above the command says what it carries, the date included.
        assert "adresse du site, date de clôture imprimée sur les lettres" in (
            html_mod.unescape(page)
        )
        return shlex.split(html_mod.unescape(found.group(1)))

    argv = command()
    # The site's local hour with its offset: what parents will read, unambiguous.
    assert argv[argv.index("--closes") + 1] == "2099-12-14T18:00+01:00"
    assert "--timezone" not in argv
    argv[argv.index("--out") + 1] = str(tmp_path / "codes")
    assert cli_main([*argv[1:], "--no-pdf"]) == 0

    # A site elsewhere gives its zone, so the letters say its hour and name it.
    settings.TIME_ZONE = "America/Martinique"
    argv = command()
    assert argv[argv.index("--closes") + 1] == "2099-12-14T13:00-04:00"
    assert argv[argv.index("--timezone") + 1] == "America/Martinique"
    zone = letter_zone("America/Martinique")
    at = parse_closing(argv[argv.index("--closes") + 1], zone)
    assert at == closes
    private, _ = generate(1, None, c.cid, "https://vote.example.org")
    assert "lundi 14 décembre 2099 à 13 h (heure de la Martinique)" in html_mod.unescape(
        letters_html(private, "T", None, at, zone)
    )


def test_a_letter_past_the_closing_is_never_written(tmp_path: Path) -> None:
    """The past-date check compares with now, not with a fixed year."""
    soon = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    assert cli_main(_base(tmp_path, "--closes", soon, "--no-pdf")) == 0
