"""A consultation in Martinique run from a Paris instance: its letters and a late
ballot's refusal say the same hour in the same words, the builder reads its dates in
its zone, its pages show the zone, and the letters' tool takes it from the spec."""

from __future__ import annotations

import html as html_mod
import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from beffroi.cli import main as cli_main
from beffroi.consult import actions
from beffroi.consult.ballot import make_ballot, sign
from beffroi.consult.cli_example_bundle import example_spec_dict, setup_consultation
from beffroi.consult.credentials import derive_seed, generate, letters_html, parse_closing
from beffroi.consult.forms import ConsultationForm
from beffroi.consult.models import Consultation

CLOSES = datetime(2099, 12, 14, 22, tzinfo=UTC)  # 18 h in Martinique, 23 h in Paris


def _martinique(org, cid: str, *, open_it: bool = True, opens: datetime | None = None):
    spec = example_spec_dict(cid, access="credentialed", opens=opens, closes=CLOSES)
    spec["timezone"] = "America/Martinique"
    return setup_consultation(
        org, cid=cid, access="credentialed", spec_dict=spec, open_it=open_it, per_segment=1
    )


def _ready_command(client, org, c) -> list[str]:
    page = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    found = re.search(r'data-testid="authority-command"><code>([^<]+)</code>', page)
    assert found is not None
    return shlex.split(html_mod.unescape(found.group(1)))


@pytest.mark.usesdb
def test_letter_and_late_refusal_say_the_same_hour_and_zone(client, org, members, settings):
    settings.TIME_ZONE = "Europe/Paris"
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    opens = datetime.now(UTC) - timedelta(hours=1)
    c, private = _martinique(org, "martinique-s13", opens=opens)
    client.force_login(members["coordinator"])

    # The letter, as the organiser's ready command makes it.
    argv = _ready_command(client, org, c)
    assert argv[argv.index("--timezone") + 1] == "America/Martinique"
    zone = ZoneInfo(argv[argv.index("--timezone") + 1])
    closes = parse_closing(argv[argv.index("--closes") + 1], zone)
    assert closes == CLOSES
    letters, _ = generate(1, None, c.cid, "https://vote.example.org")
    letter = html_mod.unescape(letters_html(letters, "T", None, closes, zone))
    assert "lundi 14 décembre 2099 à 18 h (heure de la Martinique)" in letter

    # A ballot arriving after the closing, through the ballot box's one door.
    spec = c.get_spec()
    cred = private[0]
    ballot = make_ballot(spec, {}, None, public_key=cred.public_key, seq=1)
    signature = sign(ballot, derive_seed(cred.code, c.cid))
    [out] = actions.submit_ballots(
        c.cid, [actions.Incoming(ballot, signature)], at=CLOSES + timedelta(minutes=5)
    )
    assert out.error is not None
    assert "close depuis le 14/12/2099 18:00 (heure de la Martinique)" in out.error.message


@pytest.mark.usesdb
def test_a_spec_without_a_zone_still_gets_the_instances(org, settings):
    settings.TIME_ZONE = "Indian/Reunion"
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    spec = example_spec_dict(
        "sans-fuseau-s13",
        access="open",
        opens=datetime.now(UTC) - timedelta(hours=1),
        closes=CLOSES,
    )
    assert "timezone" not in spec
    c, _ = setup_consultation(org, cid="sans-fuseau-s13", access="open", spec_dict=spec)
    assert c.zone_name == "Indian/Reunion"
    ballot = make_ballot(c.get_spec(), {}, None, public_key=None, seq=1, segment="A1")
    [out] = actions.submit_ballots(
        c.cid, [actions.Incoming(ballot, None)], at=CLOSES + timedelta(minutes=5)
    )
    assert out.error is not None
    assert "15/12/2099 02:00 (heure de La Réunion)" in out.error.message


@pytest.mark.usesdb
def test_pages_show_the_zone_and_give_hours_in_it(client, org, members, settings):
    settings.TIME_ZONE = "Europe/Paris"
    c, _ = _martinique(org, "pages-s13", opens=datetime.now(UTC) - timedelta(hours=1))
    client.force_login(members["coordinator"])
    detail = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    assert 'data-testid="zone">America/Martinique<' in detail
    board = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert 'data-testid="zone">America/Martinique<' in board
    # The closing hour in Martinique (18:00 AST), not Paris's 23:00.
    assert "14 décembre 2099 18:00 (AST)" in board
    answer = client.get(reverse("consult-answer", args=[c.cid])).content.decode()
    assert "America/Martinique" in answer


def _builder_post(**over: str) -> dict[str, str]:
    data = {
        "cid": "form-s13",
        "title": "Cantine",
        "opens": "2099-12-01T08:00",
        "closes": "2099-12-14T18:00",
        "access": "open",
        "min_filled": "1",
        "q-TOTAL_FORMS": "1",
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "1000",
        "q-0-label": "Avis",
        "q-0-kind": "text",
        "q-0-max_length": "200",
    }
    return data | over


@pytest.mark.usesdb
def test_the_builder_reads_dates_in_the_chosen_zone_and_freezes_it(client, org, members, settings):
    settings.TIME_ZONE = "Europe/Paris"
    client.force_login(members["coordinator"])
    response = client.post(
        reverse("consult-create", args=[org.slug]), _builder_post(timezone="America/Martinique")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    c = Consultation.objects.get(cid="form-s13")
    assert c.spec["timezone"] == "America/Martinique"
    assert c.spec["closes"] == "2099-12-14T22:00:00.000000Z"  # 18 h in Martinique
    # The draft reopens with the hours as typed, in its own zone.
    edit = client.get(reverse("consult-edit", args=[org.slug, c.cid])).content.decode()
    assert 'value="2099-12-14T18:00"' in edit
    assert re.search(r'<option value="America/Martinique" selected>', edit)
    # Frozen at opening: the zone is part of the published hash.
    hash_ = actions.open_consultation(c, actor=members["coordinator"])
    c.refresh_from_db()
    assert c.spec_hash == hash_
    assert c.get_spec().timezone == "America/Martinique"


@pytest.mark.usesdb
def test_the_builder_defaults_to_the_instances_zone(client, org, members, settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert ConsultationForm().fields["timezone"].initial == "Europe/Paris"
    client.force_login(members["coordinator"])
    # A post without the field (a script, an older page): the instance's zone.
    response = client.post(reverse("consult-create", args=[org.slug]), _builder_post())
    assert response.status_code == 302
    spec = Consultation.objects.get(cid="form-s13").spec
    assert spec["timezone"] == "Europe/Paris"
    assert spec["closes"] == "2099-12-14T17:00:00.000000Z"
    bad = client.post(
        reverse("consult-create", args=[org.slug]),
        _builder_post(cid="form-s13-b", timezone="Mars/Olympus"),
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors["timezone"]


def _spec_file(tmp_path: Path, cid: str, zone: str | None) -> Path:
    spec = example_spec_dict(cid, access="credentialed", closes=CLOSES)
    if zone:
        spec["timezone"] = zone
    path = tmp_path / f"{cid}-consultation.json"
    path.write_text(json.dumps(spec), "utf-8")
    return path


def _generate(tmp_path: Path, *extra: str) -> list[str]:
    argv = ["credentials", "generate", "--consultation-id", "spec-s13", "--base-url"]
    # One letter of segment A1: the spec has segments, and --count over it is refused
    # (keys without a segment would be refused at the import, after printing).
    argv += ["https://vote.example.org", "--segments", "A1=1", "--no-pdf", "--force"]
    return [*argv, "--out", str(tmp_path / "codes"), *extra]


def _cloture(tmp_path: Path) -> str:
    lines = (tmp_path / "codes" / "codes.csv").read_text("utf-8").splitlines()
    return lines[1].rsplit(",", 1)[1]


def test_the_letters_tool_takes_zone_and_closing_from_the_spec(tmp_path, capsys):
    spec = _spec_file(tmp_path, "spec-s13", "America/Martinique")
    assert cli_main(_generate(tmp_path, "--spec", str(spec))) == 0
    assert _cloture(tmp_path) == "2099-12-14T18:00:00-04:00"
    assert "Attention" not in capsys.readouterr().err
    # --timezone still wins, with a warning naming both zones.
    assert cli_main(_generate(tmp_path, "--spec", str(spec), "--timezone", "Europe/Paris")) == 0
    assert _cloture(tmp_path) == "2099-12-14T23:00:00+01:00"
    err = capsys.readouterr().err
    assert "--timezone Europe/Paris diffère du fuseau de la consultation" in err
    assert "heure de la Martinique" in err
    # A spec of another consultation is refused.
    other = _spec_file(tmp_path, "autre-s13", "America/Martinique")
    assert cli_main(_generate(tmp_path, "--spec", str(other))) == 2
    assert "celui de la consultation 'autre-s13'" in capsys.readouterr().err


def test_without_a_spec_the_letters_stay_in_paris(tmp_path):
    assert cli_main(_generate(tmp_path, "--closes", "2099-12-14T18:00")) == 0
    assert _cloture(tmp_path) == "2099-12-14T18:00:00+01:00"


@pytest.mark.usesdb
def test_an_hour_the_clock_change_skips_in_the_chosen_zone_is_refused(
    client, org, members, settings
):
    # The site in Martinique (no clock change), the consultation in Paris: 02:30 on the
    # last Sunday of March does not exist there.
    settings.TIME_ZONE = "America/Martinique"
    client.force_login(members["coordinator"])
    response = client.post(
        reverse("consult-create", args=[org.slug]),
        _builder_post(timezone="Europe/Paris", closes="2099-03-29T02:30"),
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors["closes"]
    assert "n'existe pas ou existe deux fois dans le fuseau Europe/Paris" in error
    assert not Consultation.objects.filter(cid="form-s13").exists()
