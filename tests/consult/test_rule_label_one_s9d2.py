"""The demo consultation's rule read « La dernière réponse compte » and one built in
the form « La dernière réponse d'un code compte »: a newcomer following the guide on
the demo saw another wording. Both now give the same label."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from beffroi.consult.examples import affair_spec
from beffroi.consult.forms import spec_from_forms


def _label(rules: list[dict]) -> str:
    (label,) = [r["label"] for r in rules if r["code"] == "one_ballot_per_key"]
    return label


@pytest.mark.parametrize("access", ["mixed", "credentialed"])
def test_the_demo_and_the_form_name_the_rule_alike(access: str) -> None:
    when = datetime(2026, 3, 2, tzinfo=UTC)
    data = {"cid": "c-1", "title": "T", "opens": when, "closes": when, "access": access}
    form = SimpleNamespace(cleaned_data={**data, "segments": []})
    built = spec_from_forms(form, SimpleNamespace(forms=[]))  # type: ignore[arg-type]
    demo = [{"code": r.code, "label": r.label} for r in affair_spec(access=access).rules]
    assert _label(demo) == _label(built["rules"])
    assert _label(built["rules"]) == "La dernière réponse d'un code compte"
