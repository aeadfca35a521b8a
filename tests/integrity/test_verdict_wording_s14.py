"""The verdict when nothing is flagged says what the checks cannot see, with the real
figure of the rules (50 answers in 10 s), instead of blaming only slow fakes; the
regularity evidence says « une par seconde », not « une toutes les 1 s »; the
one-per-address scenario has a neutral label."""

from __future__ import annotations

import numpy as np

from beffroi.integrity import detectors
from beffroi.integrity.audit import _verdict
from beffroi.integrity.detectors import Burst, _check_spacing


def test_the_clean_verdict_gives_the_rate_the_checks_cannot_see() -> None:
    text = _verdict(0, 300, [], [])
    assert text.startswith("Aucun groupe de réponses automatisées n'a été trouvé.")
    assert "moins de 50 réponses en 10 secondes (environ 5 par seconde)" in text
    assert "imitant les temps de remplissage et les adresses de vraies personnes" in text
    assert "au moins deux anomalies simultanées" in text
    assert text.endswith(
        "De faux formulaires envoyés lentement, à des heures ordinaires, "
        "sont indiscernables de vrais."
    )


def test_the_figure_follows_the_rule(monkeypatch) -> None:
    from beffroi.integrity import audit

    monkeypatch.setattr(audit, "SALVO_COUNT", 30)
    monkeypatch.setattr(audit, "SALVO_SECONDS", 10.0)
    assert "moins de 30 réponses en 10 secondes (environ 3 par seconde)" in _verdict(0, 9, [], [])
    assert detectors.SALVO_COUNT == 50 and detectors.SALVO_SECONDS == 10.0


def _spacing(gap: float) -> str:
    times = np.arange(200) * gap
    burst = Burst(np.arange(200), 0.0, float(times[-1]), 0.1, 1e-9)
    return _check_spacing(burst, times).evidence


def test_one_a_second_is_said_in_words() -> None:
    assert _spacing(1.0).startswith("arrivées régulières : une par seconde, alors que")
    assert _spacing(0.2).startswith("arrivées régulières : plusieurs par seconde, alors")
    assert "toutes les 1 s" not in _spacing(1.0) and "toutes les 0 s" not in _spacing(0.2)
    assert _spacing(60.0).startswith("arrivées régulières : une toutes les 60 s, alors que")
    assert _spacing(2.0).startswith("arrivées régulières : une toutes les 2 s, alors que")
