"""Bursts the audit examined and let pass are listed, each with what let it pass: the
report said they « ressemblent à des réponses ordinaires » without showing them
(review R7, finding 1). Report (HTML, and the PDF made from it), CLI text and JSON."""

from __future__ import annotations

import html
import io
import json
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from beffroi.integrity import detectors
from beffroi.integrity.audit import PASSED_SHOWN, audit_dataset
from beffroi.integrity.cli_audit import _print_summary
from beffroi.integrity.load import from_table
from beffroi.integrity.report import passed_reason, render_html


def _rows(times, prefix, rng):
    out = []
    for k, t in enumerate(times):
        who = int(rng.integers(0, 10**9))
        out.append(
            {
                "id": f"{prefix}{k}",
                "submitted": float(t),
                "ip": f"ip{who}",
                "net": f"net{who}",
                "duration": float(rng.lognormal(4.8, 0.5)),
                "q": str(rng.choice(["oui", "oui", "non"])),
            }
        )
    return out


def _wave_in_a_quiet_week():
    rng = np.random.default_rng(4)
    # A parents' group message: 40 answers within minutes in a quiet week, no other sign.
    week = np.sort(rng.uniform(0, 7 * 86400, 300))
    wave = 3 * 86400 + np.sort(rng.exponential(120, 40))
    return audit_dataset(from_table(_rows(np.concatenate([week, wave]), "h", rng)))


def _cli(result) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        _print_summary(
            result.summary, result.robustness, result.checks_skipped, result.bursts_not_flagged
        )
    return out.getvalue()


def test_a_burst_let_pass_is_listed_with_its_rate_and_what_let_it_pass() -> None:
    result = _wave_in_a_quiet_week()
    assert not result.flagged.any()
    assert result.summary["bursts_not_flagged"] == result.summary["bursts_examined"] == 1
    [entry] = result.bursts_not_flagged
    assert entry["kind"] == "rafale" and entry["size"] >= 40
    # Far denser than the survey around it (that is how the scan found it)…
    assert entry["per_hour"] > 5 * entry["usual_per_hour"] and entry["p"] < 1e-7
    # …let pass by the group tests, each named with its p-value.
    assert {c["check"] for c in entry["checks"]} >= {"espacement", "duree", "reseau"}
    assert not any(c["significant"] for c in entry["checks"])
    assert entry["reason"].startswith("Aucune des vérifications de groupe faites (")
    assert "temps de remplissage" in entry["reason"]
    data = json.loads(json.dumps(result.to_json(), ensure_ascii=False))
    assert data["bursts_not_flagged"] == [entry]
    page = render_html(result)
    assert "Rafales examinées et non signalées" in page
    day, start = entry["start"].split(" ")
    end = entry["end"].split(" ")[1]
    text = re.sub(r"<[^>]+>", "", page).replace("\u202f", " ")
    assert f"du {entry['start']} au {entry['end']}" in text or (
        f"le {day}, de {start} à {end}" in text
    )
    assert "Pourquoi elle n" in page and "Aucune des vérifications de groupe faites" in page
    cli = _cli(result)
    assert f"rafale non signalée du {entry['start']} au {entry['end']} : {entry['size']} " in cli
    assert "p = " in cli and entry["reason"] in cli


def test_only_the_largest_are_detailed_and_the_rest_counted() -> None:
    rng = np.random.default_rng(7)
    calm = np.sort(rng.uniform(0, 30 * 86400, 2000))
    waves = [d * 86400 + 43200 + np.sort(rng.exponential(120, 30 + d)) for d in range(25)]
    result = audit_dataset(from_table(_rows(np.concatenate([calm, *waves]), "h", rng)))
    assert not result.flagged.any()
    total = result.summary["bursts_not_flagged"]
    assert total > PASSED_SHOWN == len(result.bursts_not_flagged)
    shown = sorted(e["size"] for e in result.bursts_not_flagged)
    data = result.to_json()
    # The largest, in time order; the JSON holds the same bounded list.
    assert data["bursts_not_flagged"] == result.bursts_not_flagged
    starts = [e["start"] for e in result.bursts_not_flagged]
    assert starts == sorted(starts)
    assert shown[0] >= 30 + (total - PASSED_SHOWN)
    rest = total - PASSED_SHOWN
    page = render_html(result)
    assert f"{rest} autres rafales examinées et non signalées" in page.replace("\u202f", " ")
    assert page.count("<td>Aucune des vérifications") + page.count("<td>Une seule") == 20
    assert f" - {rest} autres rafales examinées et non signalées" in _cli(result)


def test_a_flagged_group_is_not_listed_as_let_pass() -> None:
    rng = np.random.default_rng(1)
    calm = np.floor(np.sort(rng.uniform(0, 4 * 86400, 600)))
    salvo = np.floor(2 * 86400 + 3600 + np.cumsum(rng.uniform(0.02, 0.11, 300)))
    result = audit_dataset(from_table(_rows(np.concatenate([calm, salvo]), "h", rng)))
    assert result.flagged.sum() >= 250
    group = next(c for c in result.clusters if c["flagged"])
    for entry in result.bursts_not_flagged:
        assert not (entry["start"] <= group["start"] <= entry["end"]), entry


def test_nothing_is_said_let_pass_when_the_burst_detector_is_off() -> None:
    rng = np.random.default_rng(4)
    week = np.sort(rng.uniform(0, 7 * 86400, 300))
    wave = 3 * 86400 + np.sort(rng.exponential(120, 40))
    rows = _rows(np.concatenate([week, wave]), "h", rng)
    result = audit_dataset(from_table(rows), disabled=("rafales",))
    assert result.bursts_not_flagged == [] and result.summary["bursts_not_flagged"] == 0
    assert "Rafales examinées et non signalées" not in render_html(result)


def test_a_dense_stretch_the_survey_rate_explains_is_listed_with_its_p_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A survey steadily at 4.5 a second has 10 s of 50 now and then by chance; with no
    burst around them (the scan is taken out here), the salvo test lets them pass, and
    the list says so with its p-value."""
    rng = np.random.default_rng(3)
    busy = np.cumsum(rng.exponential(1 / 4.5, 8100))
    monkeypatch.setattr(detectors, "find_bursts", lambda times, rows: [])
    result = audit_dataset(from_table(_rows(busy, "b", rng)))
    assert not result.flagged.any()
    salves = [e for e in result.bursts_not_flagged if e["kind"] == "salve"]
    assert salves and result.summary["bursts_examined"] == 0
    # Not « no burst », and not « denser than the rhythm around » either.
    page = html.unescape(render_html(result)).replace("\u202f", " ")
    assert "aucune rafale d'arrivées" not in page and "bien plus dense" not in page
    assert "les pointes d'au moins 50 réponses en 10 s examinées sont listées" in page
    for e in salves:
        assert e["busiest_10s"] >= 50 and e["p"] >= 1e-7
        assert 3 * 3600 < e["usual_per_hour"] < 6 * 3600
        assert e["reason"].startswith(f"Au plus {e['busiest_10s']} réponses en 10 s")
        assert "1 sur 10 millions" in e["reason"]
    # The rule's level is the scan's (decision audit-first-salvo), as the sentence says.
    assert detectors._BURST_P == 1e-7


def test_each_rule_that_lets_a_burst_pass_has_its_words() -> None:
    base = {"kind": "rafale", "checks": []}
    assert passed_reason(base).startswith("Trop peu de réponses")
    one = base | {
        "checks": [
            {"check": "reseau", "significant": True, "p": 3.7e-42},
            {"check": "duree", "significant": False, "p": 0.5},
        ]
    }
    assert passed_reason(one) == (
        "Une seule anomalie : concentration réseau (p = 3,7e-42) ; un groupe n'est signalé "
        "qu'avec au moins deux anomalies simultanées."
    )
    two = base | {
        "checks": [
            {"check": "reseau", "significant": True, "p": 0.0},
            {"check": "duree", "significant": True, "p": 1e-9},
        ]
    }
    assert passed_reason(two).startswith(
        "2 anomalies simultanées (concentration réseau, temps de remplissage), mais aucune"
    )
    zero = {"kind": "salve", "busiest_10s": 61, "usual_per_hour": 16000.0, "p": 0.0}
    assert "(p < 1e-300)" in passed_reason(zero)
