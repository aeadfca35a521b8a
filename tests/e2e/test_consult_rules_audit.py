"""Coordinators in a real Chromium: the audit page follows a background run live
(htmx polling, no reload) until its report appears; an entry is set aside with a
reason through the preview-then-confirm page, and the public board shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from beffroi.consult import actions
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import setup_consultation
from beffroi.consult.spec import format_time

pytestmark = pytest.mark.usefixtures("consult_writes_now")


def _open_consultation(org, cid: str, n: int):
    now = datetime.now(UTC).replace(microsecond=0)
    spec = {
        "id": cid,
        "title": "Jardins partagés",
        "opens": format_time(now - timedelta(hours=1)),
        "closes": format_time(now + timedelta(days=3)),
        "access": "open",
        "questions": [
            {
                "code": "lieu",
                "label": "Lieu préféré",
                "kind": "single",
                "options": [{"code": "parc", "label": "Parc"}, {"code": "ecole", "label": "École"}],
            }
        ],
        "segments": [],
        "rules": [{"code": "integrity_flag", "label": "Signalées", "params": {"flags": ["audit"]}}],
    }
    c, _ = setup_consultation(org, cid=cid, access="open", spec_dict=spec)
    items = [
        actions.Incoming(
            make_ballot(
                c.get_spec(), {"lieu": "parc" if i % 3 else "ecole"}, [], public_key=None, seq=i + 1
            ),
            None,
        )
        for i in range(n)
    ]
    assert all(o.error is None for o in actions.submit_ballots(c.cid, items))
    return c


def _work() -> None:
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def test_audit_page_follows_the_background_run(page, live_server, org, members, login):
    # The unverified answers scheduled the live audit: the page shows it waiting.
    c = _open_consultation(org, "jardins-audit", 25)
    login("coord")
    page.goto(f"{live_server.url}/o/{org.slug}/consultations/{c.cid}/audit/")
    live = page.get_by_test_id("audit-live")
    expect(live).to_have_attribute("data-status", "ready")
    expect(live).to_contain_text("Audit en attente")
    _work()
    # The polling fragment replaces itself with the finished state, without a reload.
    expect(live).to_have_attribute("data-status", "idle", timeout=10_000)
    expect(page.get_by_test_id("audit-last")).to_contain_text("Dernier audit terminé le")

    # A coordinator asks for a fresh run: followed the same way.
    page.get_by_role("button", name="Relancer l'audit").click()
    expect(live).to_have_attribute("data-status", "ready")
    expect(page.get_by_role("button", name="Relancer l'audit")).to_have_count(0)
    _work()
    expect(live).to_have_attribute("data-status", "idle", timeout=10_000)
    expect(page.get_by_test_id("audit-last")).to_contain_text("Aucun signalement nouveau.")


def test_coordinator_sets_an_entry_aside_with_a_reason(page, live_server, org, members, login):
    c = _open_consultation(org, "jardins-regles", 6)
    login("coord")
    page.goto(f"{live_server.url}/o/{org.slug}/consultations/{c.cid}/regles/")
    page.get_by_label("Entrées à écarter").fill("2, 5")
    page.get_by_label("Motif de la décision (publié)").fill("Envois de test de la mairie")
    page.get_by_role("button", name="Voir l'effet avant de décider").click()
    expect(page.get_by_test_id("preview-effect")).to_have_text(
        "Réponses comptées : 6 aujourd'hui, 4 après la décision."
    )
    page.get_by_role("button", name="Confirmer et inscrire la décision au journal").click()
    expect(page.get_by_role("status")).to_contain_text("2 entrées écartées")
    decisions = page.get_by_test_id("decisions")
    expect(decisions.locator("tbody tr")).to_have_count(2)
    expect(decisions).to_contain_text("Envois de test de la mairie")
    expect(page.get_by_test_id("counted-shown")).to_have_text("4")
    expect(page.get_by_test_id("counted-other")).to_have_text("6")

    page.goto(f"{live_server.url}/c/{c.cid}/tableau/")
    board = page.get_by_test_id("decisions")
    board.locator("summary").click()
    expect(board).to_contain_text("Envois de test de la mairie")
    expect(page.get_by_test_id("post-hoc-effect")).to_contain_text("6 réponses comptées")
