"""Report and JSON wording (review R7, findings 5-8): group tests that are not
significant accuse nobody, the pseudonyms are not called HMAC, the scenario table gives
counts beside its percentages, and bursts that were examined are not called ordinary."""

from __future__ import annotations

import numpy as np

from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.load import from_table
from beffroi.integrity.report import render_html


def _rows(times, prefix, rng, *, lean=None):
    out = []
    for k, t in enumerate(times):
        who = int(rng.integers(0, 10**9))
        a = lean or str(rng.choice(["oui", "oui", "non"]))
        out.append(
            {
                "id": f"{prefix}{k}",
                "submitted": float(t),
                "ip": f"ip{who}",
                "net": f"net{who}",
                "duration": float(rng.lognormal(4.8, 0.5)),
                "blouse[R1]": a,
                "blouse[R2]": a,
                "drapeau[R1]": str(rng.choice(["oui", "non"])),
            }
        )
    return out


def _affair():
    rng = np.random.default_rng(1)
    calm = np.floor(np.sort(rng.uniform(0, 4 * 86400, 600)))
    start = 2 * 86400 + 3600
    salvo = np.floor(
        np.concatenate(
            [
                start + np.cumsum(rng.uniform(0.02, 0.11, 250)),
                start + 60 + np.cumsum(rng.uniform(0.02, 0.11, 250)),
            ]
        )
    )
    rows = _rows(calm, "h", rng) + _rows(salvo, "f", rng, lean="non")
    return audit_dataset(from_table(rows))


def test_tests_that_are_not_significant_accuse_nobody() -> None:
    result = _affair()
    checks = [c for g in result.clusters for c in g["checks"]]
    quiet = [c for c in checks if not c["significant"]]
    assert quiet, "the affair's salvos pass some group tests"
    for c in quiet:
        assert c["evidence"].startswith("non retenu contre ce groupe"), c
        assert "régulières" not in c["evidence"] and "ne concordent que" not in c["evidence"]
    assert any(c["significant"] and c["evidence"] for c in checks)


def test_report_header_counts_and_pseudonyms() -> None:
    result = _affair()
    page = render_html(result)
    assert "HMAC" not in page
    assert "numéros propres à cet audit" in page
    # Counts beside the percentages: « 55,6 % (…/…) ».
    assert "/" in page.split("Scénario", 1)[1].split("</table>", 1)[0]
    group = next(c for c in result.clusters if c["flagged"])
    # The header's times are the flagged members' (the salvos, 76 s), not the scan's.
    assert str(group["start"])[:13] == str(group["end"])[:13]


def test_bursts_examined_are_not_called_ordinary() -> None:
    rng = np.random.default_rng(4)
    # A parents' group message: 40 answers within 10 min in a quiet week, no other sign.
    week = np.sort(rng.uniform(0, 7 * 86400, 300))
    wave = 3 * 86400 + np.sort(rng.exponential(120, 40))
    result = audit_dataset(from_table(_rows(np.concatenate([week, wave]), "h", rng)))
    assert not result.flagged.any()
    assert result.summary["bursts_examined"] >= 1
    page = render_html(result)
    assert "ordinaires" not in page.split("Aucun groupe suspect", 1)[1].split("</p>", 1)[0]
    assert "sans réunir les anomalies simultanées" in page
