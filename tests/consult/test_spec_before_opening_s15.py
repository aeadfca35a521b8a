"""`beffroi credentials generate --spec` before the opening: the organiser's page gives
the draft's questions and rules as the opening will freeze them, and the tool says which
hash that promises and what cannot be checked yet; after the opening it recomputes the
published hash (docs/decisions/credentials.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from beffroi.cli import main as cli_main
from beffroi.consult import actions
from beffroi.consult.bundle import BUNDLE_FORMAT, frozen_spec
from beffroi.consult.cli_example_bundle import example_spec_dict
from beffroi.consult.spec import spec_from_dict, spec_hash

DRAFT = "brouillon, pas encore ouvert. Empreinte que l'ouverture publiera si rien n'est modifié"


def _generate(tmp_path: Path, cid: str, spec: Path, *extra: str) -> list[str]:
    argv = ["credentials", "generate", "--consultation-id", cid, "--base-url"]
    argv += ["https://vote.example.org", "--no-pdf", "--force", "--out", str(tmp_path / "codes")]
    return [*argv, "--spec", str(spec), *(extra or ("--segments", "A1=1"))]


def _download(client: Any, org: Any, cid: str, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    response = client.get(reverse("consult-spec-file", args=[org.slug, cid]))
    assert response.status_code == 200
    assert f'filename="{cid}-consultation.json"' in response["Content-Disposition"]
    path = tmp_path / f"{cid}-consultation.json"
    path.write_bytes(response.content)
    return path, json.loads(response.content)


@pytest.mark.usesdb
def test_the_authority_reads_the_draft_then_the_opened_spec(
    client: Any, org: Any, members: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    c = actions.create_consultation(
        org, example_spec_dict("avant-s15", access="credentialed"), actor=None
    )
    client.force_login(members["coordinator"])
    page = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    assert 'data-testid="spec-file"' in page
    announced = spec_hash(frozen_spec(spec_from_dict(c.spec)))
    path, body = _download(client, org, c.cid, tmp_path)
    assert body["opening"] is None
    assert body["bundle_format"] == BUNDLE_FORMAT
    # The public copy stays private until the opening.
    assert client.get(reverse("consult-rules-json", args=[c.cid])).status_code == 404
    assert cli_main(_generate(tmp_path, c.cid, path)) == 0
    out = capsys.readouterr().out
    assert f"Questions et règles de {c.cid} : {DRAFT} d'ici là : {announced}." in out
    assert "Pas encore vérifiable" in out
    # The keys the letters were made for, then the opening: the hash kept its promise.
    keys = (tmp_path / "codes" / "cles-publiques.jsonl").read_bytes()
    assert actions.import_credentials(c, keys.decode(), actor=None)
    assert actions.open_consultation(c, actor=None) == announced
    path, body = _download(client, org, c.cid, tmp_path)
    assert body["opening"]["spec_hash"] == announced
    assert cli_main(_generate(tmp_path, c.cid, path)) == 0
    out = capsys.readouterr().out
    assert f"gelées à l'ouverture du {body['opening']['at']}, empreinte {announced}" in out
    assert "brouillon" not in out


@pytest.mark.usesdb
def test_the_draft_file_is_for_members_only(client: Any, org: Any) -> None:
    c = actions.create_consultation(
        org, example_spec_dict("prive-s15", access="credentialed"), actor=None
    )
    response = client.get(reverse("consult-spec-file", args=[org.slug, c.cid]))
    assert response.status_code == 302  # to the login page


def _file(tmp_path: Path, cid: str, **changes: Any) -> Path:
    spec = example_spec_dict(cid, access=changes.pop("access", "credentialed"))
    spec.update(changes)
    path = tmp_path / f"{cid}.json"
    path.write_text(json.dumps(spec), "utf-8")
    return path


def _refused(tmp_path: Path, capsys: Any, argv: list[str]) -> str:
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert not (tmp_path / "codes" / "cles-publiques.jsonl").exists()
    return err


def test_an_opened_file_whose_hash_does_not_match_is_refused(tmp_path: Path, capsys: Any) -> None:
    spec = spec_from_dict(example_spec_dict("faux-s15", access="credentialed"))
    at = "2026-01-05T08:00:00.000000Z"
    good = _file(tmp_path, "faux-s15", opening={"spec_hash": spec_hash(spec), "at": at})
    assert cli_main(_generate(tmp_path, "faux-s15", good)) == 0
    assert f"empreinte {spec_hash(spec)} (recalculée" in capsys.readouterr().out
    (tmp_path / "codes" / "cles-publiques.jsonl").unlink()
    bad = _file(tmp_path, "faux-s15", opening={"spec_hash": "0" * 64, "at": at})
    err = _refused(tmp_path, capsys, _generate(tmp_path, "faux-s15", bad))
    assert "l'empreinte inscrite à l'ouverture (" + "0" * 64 + ") n'est pas celle" in err
    odd = _file(tmp_path, "faux-s15", opening={"spec_hash": spec_hash(spec)})
    err = _refused(tmp_path, capsys, _generate(tmp_path, "faux-s15", odd))
    assert "« opening » doit valoir null (brouillon) ou porter spec_hash et at" in err


def test_a_frozen_consultation_not_yet_begun_says_so(tmp_path: Path, capsys: Any) -> None:
    opens = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    d = example_spec_dict("bientot-s15", access="credentialed", opens=opens)
    h = spec_hash(spec_from_dict(d))
    path = _file(
        tmp_path,
        "bientot-s15",
        opens=d["opens"],
        opening={"spec_hash": h, "at": "2026-01-05T08:00:00.000000Z"},
    )
    assert cli_main(_generate(tmp_path, "bientot-s15", path)) == 0
    assert "ouverte, mais pas encore commencée" in capsys.readouterr().out


def test_the_letters_must_fit_the_spec_rules(tmp_path: Path, capsys: Any) -> None:
    open_one = _file(tmp_path, "libre-s15", access="open")
    err = _refused(tmp_path, capsys, _generate(tmp_path, "libre-s15", open_one))
    assert "ouverte à tous (access: open), sans codes personnels" in err
    path = _file(tmp_path, "seg-s15")
    known = [s["code"] for s in json.loads(path.read_text("utf-8"))["segments"]]
    err = _refused(tmp_path, capsys, _generate(tmp_path, "seg-s15", path, "--segments", "Z9=3"))
    assert "--segments Z9 : ce segment n'est pas dans les questions et règles de --spec " in err
    assert ", ".join(known) in err
    assert cli_main(_generate(tmp_path, "seg-s15", path, "--segments", f"{known[0]}=2")) == 0
