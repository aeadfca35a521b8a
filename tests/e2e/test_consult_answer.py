"""A respondent in a real Chromium: credential link → answer → receipt → check;
a second answer replaces the first; a tampered ballot is refused; the results
page shows the segment breakdown; open mode solves its challenge in the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from beffroi.consult.cli_example_bundle import BASE_URL, setup_consultation
from beffroi.consult.models import BoardEntry

pytestmark = pytest.mark.usefixtures("live_consult")


def _answer(page, blouse: str) -> None:
    """Answer the affair's three measures on the first parent row (``blouse``:
    "Oui" or "Non"), leave the second row empty, and send."""
    row1 = page.locator("fieldset.row-block").first
    row1.locator("fieldset.question[data-code=blouse]").get_by_label(blouse).check()
    row1.locator("fieldset.question[data-code=drapeau]").get_by_label("Non").check()
    row1.locator("fieldset.question[data-code=aide]").get_by_label("Oui").check()
    page.get_by_role("button", name="Envoyer ma réponse").click()


def test_credential_link_answer_receipt_replace_and_results(page, live_server, org):
    c, private = setup_consultation(org, cid="e2e-mesures", access="mixed", per_segment=2)
    cred = next(p for p in private if p.segment == "A3")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(cred.link.replace(BASE_URL, live_server.url))
    expect(page.get_by_test_id("spec-hash")).to_have_text(c.spec_hash)
    expect(page.get_by_label("Votre code personnel (si vous en avez reçu un)")).to_have_value(
        cred.display_code
    )
    _answer(page, "Oui")
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    first = receipt.inner_text()
    assert BoardEntry.objects.get(consultation=c).receipt == first

    # Check the receipt on the board.
    page.get_by_role("link", name="Vérifier que ma réponse est sur le tableau").click()
    expect(page.get_by_test_id("receipt-found")).to_contain_text("figure sur le tableau")

    # A second answer with the same code replaces the first.
    page.goto(cred.link.replace(BASE_URL, live_server.url))
    _answer(page, "Non")
    expect(receipt).not_to_have_text("")
    second = receipt.inner_text()
    assert second != first
    assert BoardEntry.objects.filter(consultation=c).count() == 2
    page.goto(f"{live_server.url}/c/{c.cid}/recu/?recu={first}")
    expect(page.get_by_test_id("superseded")).to_contain_text("la remplace")

    # Results: the segment breakdown counts one verified answer for A3.
    page.goto(f"{live_server.url}/c/{c.cid}/tableau/")
    segments = page.get_by_test_id("segments")
    expect(segments).to_contain_text("École Sainte-Marie")
    a3 = segments.locator("tr", has_text="École Sainte-Marie")
    expect(a3.locator("td").nth(2)).to_have_text("1")
    expect(a3.locator("td").nth(3)).to_have_text("1")
    expect(page.get_by_test_id("access-note")).to_contain_text("Consultation mixte")
    assert not [e for e in errors if "favicon" not in e and "404" not in e], errors


def test_tampered_ballot_is_refused(page, live_server, org):
    c, private = setup_consultation(org, cid="e2e-fraude", access="credentialed", per_segment=1)
    cred = private[0]
    # Change the answer after the page signed it, as a meddling proxy or extension would.
    page.route(
        "**/bulletin/",
        lambda route: route.continue_(
            post_data=route.request.post_data.replace('"blouse":"oui"', '"blouse":"non"')
        ),
    )
    page.goto(cred.link.replace(BASE_URL, live_server.url))
    _answer(page, "Oui")
    expect(page.get_by_role("alert")).to_contain_text("Signature invalide")
    expect(page.get_by_test_id("receipt")).to_be_hidden()
    assert not BoardEntry.objects.filter(consultation=c).exists()


def test_open_mode_answer_with_proof_of_work(page, live_server, org):
    c, _ = setup_consultation(org, cid="e2e-ouverte", access="open")
    page.goto(f"{live_server.url}/c/{c.cid}/")
    expect(page.get_by_test_id("access-note")).to_contain_text("réponses non vérifiées")
    page.get_by_label("Votre école / secteur").select_option("A2")
    _answer(page, "Oui")
    expect(page.get_by_test_id("receipt")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    entry = BoardEntry.objects.get(consultation=c)
    assert entry.ballot["segment"] == "A2" and entry.public_key is None
    assert entry.net.startswith("prefix:") and "127.0.0" not in entry.net
