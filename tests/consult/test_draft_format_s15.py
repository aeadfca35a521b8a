"""A draft `--spec` file's format stamp: the hash the credentials tool promises is the
one the opening will publish (review R13, nit 8; docs/decisions/bundle-format.md,
"A draft's stamp")."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from beffroi.cli import main as cli_main
from beffroi.consult import actions
from beffroi.consult.bundle import BUNDLE_FORMAT, SPEC_ANCHORED_FORMAT, frozen_spec
from beffroi.consult.cli_example_bundle import example_spec_dict
from beffroi.consult.spec import spec_from_dict, spec_hash

PROMISE = "Empreinte que l'ouverture publiera si rien n'est modifié d'ici là : "


def _generate(tmp_path: Path, cid: str, spec: Path) -> list[str]:
    return [
        *("credentials", "generate", "--consultation-id", cid, "--base-url"),
        *("https://vote.example.org", "--no-pdf", "--force", "--out", str(tmp_path / "codes")),
        *("--spec", str(spec), "--segments", "A1=1"),
    ]


def _draft(tmp_path: Path, cid: str, **changes: Any) -> tuple[Path, dict[str, Any]]:
    d = example_spec_dict(cid, access="credentialed")
    d.update(changes)
    path = tmp_path / f"{cid}.json"
    path.write_text(json.dumps({**d, "opening": None}), "utf-8")
    return path, d


@pytest.mark.usesdb
@pytest.mark.parametrize("old", range(1, SPEC_ANCHORED_FORMAT))
def test_a_hand_made_draft_with_a_format_no_opening_writes(
    org: Any, tmp_path: Path, capsys: Any, old: int
) -> None:
    """Formats before 3 were never written into a spec: the stamp is hand-made, and the
    opening replaces it, so the promise is computed with the tool's format."""
    cid = f"main-{old}-s15"
    path, d = _draft(tmp_path, cid, bundle_format=old)
    assert cli_main(_generate(tmp_path, cid, path)) == 0
    out = " ".join(capsys.readouterr().out.split())
    c = actions.create_consultation(org, d, actor=None)
    keys = (tmp_path / "codes" / "cles-publiques.jsonl").read_text("utf-8")
    assert actions.import_credentials(c, keys, actor=None)
    opened = actions.open_consultation(c, actor=None)
    assert opened == spec_hash(frozen_spec(spec_from_dict(d)))
    assert (
        f"{PROMISE}{opened} (calculée avec le format de paquet {BUNDLE_FORMAT} de cet outil" in out
    )
    assert f"le format {old} inscrit dans ce fichier n'est pas de ceux qu'inscrit une" in out
    # What the file's own stamp would have given, and used to be promised.
    assert spec_hash(spec_from_dict(d)) != opened


def test_a_draft_stamped_with_this_tools_format_needs_no_note(tmp_path: Path, capsys: Any) -> None:
    path, d = _draft(tmp_path, "meme-s15", bundle_format=BUNDLE_FORMAT)
    assert cli_main(_generate(tmp_path, "meme-s15", path)) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"{PROMISE}{spec_hash(spec_from_dict(d))}. Pas encore vérifiable" in out


def test_a_draft_stamped_by_another_server_keeps_its_stamp(tmp_path: Path, capsys: Any) -> None:
    """The organiser's page stamps the server's format, which a newer server may have
    raised: the opening there writes that one, so the hash keeps it, and says so."""
    newer = BUNDLE_FORMAT + 1
    path, d = _draft(tmp_path, "autre-s15", bundle_format=newer)
    assert cli_main(_generate(tmp_path, "autre-s15", path)) == 0
    out = " ".join(capsys.readouterr().out.split())
    h = spec_hash(replace(spec_from_dict(d), bundle_format=newer))
    assert (
        f"{PROMISE}{h} (calculée avec le format de paquet {newer} inscrit dans ce fichier, "
        f"celui du serveur qui l'a donné ; cet outil écrit le format {BUNDLE_FORMAT})"
    ) in out
