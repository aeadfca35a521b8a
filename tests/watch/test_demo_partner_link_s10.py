"""The demo prints a partner link, as its docstring and the guide promise: the partners'
side of the room without an account, opened on the main courante's first line."""

from __future__ import annotations

import re


def test_the_demo_prints_a_working_partner_link(client, members, monkeypatch):
    from beffroi.core import actions as core_actions
    from beffroi.watch import demo

    monkeypatch.setenv("BEFFROI_DEMO_URL", "http://127.0.0.1:8051/")
    org = core_actions.create_organisation("Démo", "demo-test")
    core_actions.set_role(members["coordinator"], org, "coordinator", actor=None)
    lines = list(demo.load(org))
    (said,) = [line for line in lines if "partner link" in line]
    found = re.search(r"http://127\.0\.0\.1:8051(/\S+/)$", said)
    assert found, said
    page = client.get(found.group(1))
    assert page.status_code == 200
    assert "Ouverture de l&#x27;exercice" in page.content.decode()
    # Loaded again, no second link: the first was shown once.
    assert not [line for line in demo.load(org) if "partner link" in line]
