"""A consultation and its audit, walked through as their users would, in a real browser:

1. a parents' association builds a credentialed consultation with schools, freezes it and
   opens it; the credential authority (not the organiser) prints the letters and hands
   over the public keys;
2. parents answer on a phone, one changes their ballot, one checks a receipt;
3. a scrutineer downloads the bundle, runs ``beffroi verify`` and reads the recount;
4. an open consultation gets the affair's attack, a script posting in two salvos: what the
   organiser and the public see (labels, the rate limit, the live audit);
5. an auditor uploads a LimeSurvey export of such a survey and reads the report, the PDF
   and the JSON.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from beffroi.cli import main as cli_main
from beffroi.consult import actions, api
from beffroi.consult.ballot import make_ballot
from beffroi.consult.cli_example_bundle import example_spec_dict, setup_consultation
from beffroi.consult.examples import HONEST_NO, SALVO_NO, household_answers
from beffroi.consult.models import BoardEntry
from pdf_structure import Pdf, tags

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CID = "blouse-ape-2026"
QUESTION = "Êtes-vous pour la blouse obligatoire ?"
Q_CODE = "etes_vous_pour_la_blouse_obligatoire"


@pytest.fixture(autouse=True)
def _settings(settings):
    # The live server is a threaded WSGI server sharing the test database: no writer thread.
    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_POW_BITS = 8
    api._SPEC_CACHE.clear()


def _work() -> None:
    # What `beffroi worker` does in the background (audits, the live audit).
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def _context(browser, live_server, *, viewport=PHONE, lang: str = "fr"):
    context = browser.new_context(
        locale="fr-FR", viewport=viewport, is_mobile=viewport is PHONE, has_touch=True
    )
    context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _login(browser, live_server, username: str, *, viewport=DESKTOP, lang: str = "fr"):
    context, page = _context(browser, live_server, viewport=viewport, lang=lang)
    page.goto(f"{live_server.url}/connexion/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("pw-test-123456")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    return context, page


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# -- 1 to 3: a credentialed consultation, from the builder to the recount ----------------


def _build(page, live_server, org) -> None:
    page.goto(f"{live_server.url}/o/{org.slug}/consultations/nouvelle/")
    page.get_by_label("Identifiant public").fill(CID)
    page.get_by_label("Titre").fill("Blouse obligatoire à l'école ? (APE)")
    page.get_by_label("Description").fill("L'association des parents d'élèves consulte.")
    now = datetime.now(UTC)
    page.get_by_label("Ouverture").fill((now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Clôture").fill((now + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Mode d'accès").select_option("credentialed")
    rows = page.get_by_label("Lignes répétées")
    rows.check()
    # Each box on the line of its words (it stood alone under the field above).
    box = rows.bounding_box()
    words = page.locator("label.check", has=rows).bounding_box()
    assert box and words and words["y"] <= box["y"] <= words["y"] + words["height"]
    page.get_by_label("Segments et effectifs").fill(
        "A1 ; École Jules-Ferry ; 3\nA2 ; École Pasteur ; 2"
    )
    q1, q2 = page.locator("fieldset.question").nth(0), page.locator("fieldset.question").nth(1)
    q1.locator("input[name$=label]").fill(QUESTION)
    q1.get_by_label("Options").fill("pour : Pour\ncontre : Contre\nsans_avis : Sans avis")
    q1.get_by_label("Obligatoire").check()
    q1.get_by_label("Posée pour chaque ligne répétée").check()
    q2.locator("input[name$=label]").fill("Un commentaire ?")
    q2.get_by_label("Type").select_option("text")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_text("Brouillon enregistré.")).to_be_visible()


def _authority(page, tmp_path: Path, capsys) -> tuple[Path, str]:
    """The credential authority runs the command the organiser handed over."""
    argv = shlex.split(page.get_by_test_id("authority-command").inner_text())
    assert argv[:3] == ["beffroi", "credentials", "generate"]
    assert "A1=École Jules-Ferry" in argv and "A1=3,A2=2" in argv
    out = tmp_path / "codes"
    argv[argv.index("--out") + 1] = str(out)
    capsys.readouterr()
    assert cli_main(argv[1:]) == 0
    printed = capsys.readouterr().out
    fingerprint = re.search(r"à publier vous-même\) : ([0-9a-f]{64})", printed)
    assert fingerprint and "PRIVÉS" in printed
    # The letters: one page each, tagged (the QR code read by its text alternative).
    pdf = Pdf.read((out / "lettres.pdf").read_bytes())
    assert pdf.get(pdf.catalog["Pages"])["Count"] == 5
    assert str(pdf.catalog["Lang"]) == "fr" and "Figure" in tags(pdf)
    return out, fingerprint.group(1)


def _answer(browser, live_server, link: str, choices: list[str | None], comment: str = ""):
    context, page = _context(browser, live_server)
    page.goto(link)
    expect(page.locator("#code")).not_to_have_value("")
    # The closing comment comes after the parents' rows, as the organiser wrote it.
    rows = page.locator("fieldset.row-block")
    comment_box = page.locator(".question[data-code=un_commentaire]").bounding_box()
    last_row = rows.last.bounding_box()
    assert comment_box and last_row and comment_box["y"] > last_row["y"] + last_row["height"]
    for i, choice in enumerate(choices):
        if choice:
            rows.nth(i).locator(f"input[value={choice}]").check()
    if comment:
        page.locator(".question[data-code=un_commentaire] textarea").fill(comment)
    page.locator("#send").tap()
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    _fits(page)
    return context, page, receipt.inner_text()


def test_a_credentialed_consultation_from_the_builder_to_the_recount(
    browser, live_server, org, members, tmp_path, capsys
) -> None:
    context, page = _login(browser, live_server, "coord")
    page.on("dialog", lambda d: d.accept())
    try:
        _build(page, live_server, org)
        codes_dir, fingerprint = _authority(page, tmp_path, capsys)
        page.locator("input[type=file]").set_input_files(codes_dir / "cles-publiques.jsonl")
        page.get_by_role("button", name="Importer").click()
        expect(page.get_by_text("5 clés publiques importées.")).to_be_visible()
        expect(page.get_by_test_id("keys-fingerprint")).to_have_text(fingerprint)
        page.get_by_role(
            "button", name="Ouvrir la consultation (geler questions et règles)"
        ).click()
        expect(page.get_by_test_id("spec-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    finally:
        context.close()

    letters = list(csv.DictReader((codes_dir / "codes.csv").open(encoding="utf-8")))
    assert [x["segment"] for x in letters] == ["A1", "A1", "A1", "A2", "A2"]
    # The letters' links lead to this site (the command carried its address).
    assert letters[0]["lien"].startswith(f"{live_server.url}/c/{CID}/#")
    ctx1, _, _ = _answer(browser, live_server, letters[0]["lien"], ["pour", "contre"], "Merci")
    ctx1.close()
    # A parent changes their ballot: both stay on the board, the later one counts.
    ctx2, page2, first = _answer(browser, live_server, letters[1]["lien"], ["contre", None])
    try:
        page2.locator("fieldset.row-block").first.locator("input[value=pour]").check()
        page2.locator("#send").tap()
        expect(page2.get_by_test_id("receipt")).not_to_have_text(first)
        expect(page2.locator("#again-signed")).to_be_visible()
        page2.goto(f"{live_server.url}/c/{CID}/recu/?recu={first}")
        expect(page2.locator("main")).to_contain_text("la remplace : c'est elle qui compte")
    finally:
        ctx2.close()
    # Another checks their receipt on the public board.
    ctx3, page3, _ = _answer(browser, live_server, letters[3]["lien"], ["sans_avis", None])
    try:
        page3.get_by_role("link", name="Vérifier que ma réponse est sur le tableau").tap()
        expect(page3.locator("main")).to_contain_text("Votre réponse figure sur le tableau.")
        expect(page3.locator("main")).to_contain_text("C'est la réponse qui compte pour ce code")
        _fits(page3)
    finally:
        ctx3.close()
    assert BoardEntry.objects.filter(consultation__cid=CID).count() == 4

    # The scrutineer: the bundle from the public board, verified and recounted.
    context, page = _context(browser, live_server, viewport=DESKTOP)
    try:
        page.goto(f"{live_server.url}/c/{CID}/tableau/")
        expect(page.get_by_test_id("keys-fingerprint")).to_have_text(fingerprint)
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("dossier de vérification")).click()
        bundle = tmp_path / "dossier.zip"
        download.value.save_as(bundle)
    finally:
        context.close()
    capsys.readouterr()
    assert cli_main(["verify", "--quiet", "--keys-fingerprint", fingerprint, str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "OK : 4 entrées sur le tableau, 3 bulletins comptés (3 vérifiés" in out
    assert "celle publiée par l'autorité des codes." in out
    assert "Recomptage, toutes les réponses comptées (3) :" in out
    assert f"  {QUESTION} — Pour 2, Contre 1, Sans avis 1" in out
    assert "    Responsable légal 1 — Pour 2, Contre 0, Sans avis 1" in out
    assert "    Responsable légal 2 — Pour 0, Contre 1, Sans avis 0" in out
    assert "  Un commentaire ? — 1 réponse" in out


# -- 4: an open consultation under the affair's two salvos -------------------------------


def _history(c, rng: random.Random, opens: datetime, forms: int) -> None:
    """Three days of parents answering without a code, each from their own network."""
    spec = c.get_spec()
    clock = opens + timedelta(minutes=5)
    for i in range(forms):
        clock += timedelta(seconds=rng.randint(900, 2400))
        rows = household_answers(rng, HONEST_NO)
        ballot = make_ballot(spec, {}, rows, public_key=None, seq=i + 1, segment="A1")
        item = actions.Incoming(ballot, None, net=f"net:{i}", addr=f"addr:{i}", ua=f"ua:{i % 9}")
        actions.submit_ballots(c.cid, [item], at=clock)


def _salvo(url: str, cid: str, spec_hash: str, n: int, first_seq: int) -> list[int]:
    """The attacker's script: fetch a challenge, solve it, post; several at once."""
    rng = random.Random(first_seq)

    def one(i: int) -> int:
        with httpx.Client(base_url=url, timeout=30) as http:
            ch = http.get(f"/c/{cid}/defi/").json()
            nonce = 0
            while (
                api.leading_zero_bits(
                    hashlib.sha256(f"{ch['challenge']}:{nonce}".encode()).digest()
                )
                < ch["bits"]
            ):
                nonce += 1
            rows = household_answers(rng, SALVO_NO, second_parent=1.0, agree=0.0, blank=0.0)
            ballot = {
                "v": 1,
                "consultation": cid,
                "spec_hash": spec_hash,
                "public_key": None,
                "seq": first_seq + i,
                "segment": "A1",
                "answers": {},
                "rows": rows,
            }
            pow_ = {"challenge": ch["challenge"], "nonce": str(nonce)}
            body = {"ballot": ballot, "signature": None, "pow": pow_}
            return http.post(f"/c/{cid}/bulletin/", json=body).status_code

    with ThreadPoolExecutor(3) as pool:
        return list(pool.map(one, range(n)))


def test_an_open_consultation_under_the_affairs_two_salvos(
    browser, live_server, org, members, settings
) -> None:
    settings.BEFFROI_CONSULT_OPEN_LIMIT = 30
    # The default 10 minutes, whatever the time: the limit holds over any 10 minutes
    # (fixed windows aligned to the clock let both salvos through when a run reached this
    # test at 10:59:50; core/throttle.py).
    settings.BEFFROI_CONSULT_OPEN_WINDOW = 600
    opens = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    spec = example_spec_dict("s11-affaire", access="open", opens=opens)
    c, _ = setup_consultation(org, cid="s11-affaire", access="open", spec_dict=spec)
    _history(c, random.Random(11), opens, 110)
    c.refresh_from_db()

    # The script: two salvos a few seconds apart, from one machine.
    statuses = _salvo(live_server.url, c.cid, c.spec_hash, 25, 10_000)
    time.sleep(3)
    statuses += _salvo(live_server.url, c.cid, c.spec_hash, 25, 20_000)
    assert sorted(set(statuses)) == [200, 429]
    accepted = statuses.count(200)
    # The limit per network, exactly: each answer's count is one locked step, so answers
    # sent at the same instant do not read the same count (core/throttle.py); the rest
    # was refused, not recorded.
    assert accepted == 30
    _work()  # the live audit the answers scheduled

    # The organiser: the refusals, the flags with their evidence.
    context, page = _login(browser, live_server, "coord")
    try:
        page.goto(f"{live_server.url}/o/{org.slug}/consultations/{c.cid}/")
        expect(page.get_by_test_id("refused")).to_contain_text(
            re.compile(r"au moins \d+ envois sans code refusés")
        )
        page.get_by_role("link", name="Audit d'intégrité").click()
        limit = page.get_by_test_id("rate-limit")
        expect(limit).to_contain_text("Au plus 30 réponses sans code par réseau")
        refused = int(re.search(r"Au moins (\d+) envois", limit.inner_text())[1])
        assert 0 < refused <= 50 - accepted
        expect(page.get_by_test_id("audit-last")).to_contain_text("Dernier audit terminé le")
        flagged = page.locator("table tbody tr", has_text="réponses en")
        assert flagged.count() >= 20
    finally:
        context.close()

    # The public, on a phone: unverified answers, the flagged ones set aside by the
    # frozen rule, named and counted.
    context, page = _context(browser, live_server)
    try:
        page.goto(f"{live_server.url}/c/{c.cid}/tableau/")
        expect(page.get_by_test_id("access-note")).to_have_text(
            "Consultation ouverte : réponses non vérifiées."
        )
        main = page.locator("main")
        expect(main).to_contain_text(
            re.compile(r"Écartées : \d+ par la règle « Réponses signalées")
        )
        expect(main).to_contain_text("réponses en")
        assert "refusés" not in main.inner_text()
        _fits(page)
    finally:
        context.close()
    # English spot check of the same board.
    context, page = _context(browser, live_server, lang="en")
    try:
        page.goto(f"{live_server.url}/c/{c.cid}/tableau/")
        expect(page.get_by_test_id("access-note")).to_have_text(
            "Open-access consultation: responses are not verified."
        )
        expect(page.locator("main")).to_contain_text("set aside")
    finally:
        context.close()


# -- 5: the audit of a LimeSurvey export ------------------------------------------------

HEADER = [
    "id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
    "ipaddr", "refurl", "ECOLE", "BLOUSE[SQ001]", "BLOUSE[SQ002]", "interviewtime",
]  # fmt: skip


def limesurvey_export(honest: int = 300, fakes: int = 200, seed: int = 11) -> bytes:
    """LimeSurvey's « Exporter les réponses » (CSV, answer codes) of the affair's survey:
    parents over ten days, some sharing a home box or a mobile operator's address, then
    ``fakes`` forms in two salvos eight seconds apart from one hosting network."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 7, 0)
    forms = []
    for _ in range(honest):
        at = start + timedelta(seconds=rng.randrange(10 * 86400))
        shared = rng.random() < 0.15
        ip = (
            f"100.64.{rng.randrange(4)}.{rng.randrange(1, 9)}"
            if shared
            else ".".join(str(rng.randrange(1, 250)) for _ in range(4))
        )
        vote = "Y" if rng.random() < 0.58 else "N"
        second = "" if rng.random() < 0.3 else vote
        forms.append((at, ip, rng.choice(["A1", "A2"]), vote, second, rng.uniform(60, 400)))
    salvo = start + timedelta(days=6, hours=21)
    for i in range(fakes):
        at = salvo + timedelta(seconds=(i % (fakes // 2)) * 0.1 + (8 if i >= fakes // 2 else 0))
        forms.append((at, f"185.220.101.{rng.randrange(1, 40)}", "A1", "N", "N", rng.uniform(3, 6)))
    forms.sort(key=lambda f: f[0])
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(HEADER)
    for n, (at, ip, school, first, second, took) in enumerate(forms, start=1):
        stamp = at.strftime("%Y-%m-%d %H:%M:%S")
        began = (at - timedelta(seconds=took)).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow(
            [n, stamp, 2, "fr", rng.randrange(10**9), began, stamp, ip, "", school, first,
             second, f"{took:.2f}"]
        )  # fmt: skip
    return out.getvalue().encode("utf-8")


def test_an_auditor_reads_the_report_of_a_limesurvey_export(
    browser, live_server, org, members, tmp_path
) -> None:
    export = tmp_path / "export-ape.csv"
    export.write_bytes(limesurvey_export())
    context, page = _login(browser, live_server, "scrutineer")
    try:
        page.get_by_role("navigation").get_by_role("link", name="Audits").click()
        page.locator("input[type=file]").first.set_input_files(export)
        page.locator("input[name=electorate]").fill("A1=200, A2=150")
        page.get_by_role("button", name="Lancer l'audit").click()
        expect(page.locator("main")).to_contain_text("export-ape.csv")
        _work()
        read = page.get_by_role("link", name="Lire le rapport")
        expect(read).to_be_visible(timeout=20_000)
        expect(page.locator("main")).to_contain_text("réponses signalées sur 500")
        audit_page = page.url
        read.click()
        report = page.locator("body")
        # Flagged responses with their evidence, in sentences.
        expect(report).to_contain_text("Groupe 1 —")
        expect(report).to_contain_text(re.compile(r"\d+ réponses viennent de 1 réseau"))
        expect(report).to_contain_text("temps de remplissage médian")
        # The result under each filter, « one per IP » included, and what it drops.
        expect(report).to_contain_text(
            "Une réponse par adresse IP (filtre courant, pour comparaison)"
        )
        expect(report).to_contain_text(
            re.compile(r"Le filtre «\s*une réponse par adresse IP\s*» écarte")
        )
        expect(report).to_contain_text("Filtre Beffroi (réponses signalées retirées)")
        # Fragility and participation.
        expect(report).to_contain_text("il suffirait d'ajouter")
        expect(report).to_contain_text("est impossible")
        page.goto(audit_page)
        with page.expect_download() as pdf_download:
            page.get_by_role("link", name="PDF", exact=True).click()
        with page.expect_download() as json_download:
            page.get_by_role("link", name="JSON", exact=True).click()
        pdf = Pdf.read(Path(pdf_download.value.path()).read_bytes())
        assert str(pdf.catalog["Lang"]) == "fr" and "Table" in tags(pdf)
        data = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
        assert data["summary"]["responses"] == 500
        flagged = [r for r in data["responses"] if r["flagged"]]
        assert len(flagged) >= 195 and all(r["reasons"] for r in flagged)
        scenarios = {s["scenario"]: s for s in data["scenarios"]}
        # « One per IP » drops most of the salvo, but households and mobile subscribers
        # with it, and keeps one form per address the salvo rotated through.
        assert scenarios["brut"]["forms"] == 500
        assert scenarios["une_par_ip"]["forms"] < 350
        beffroi = next(s for s in data["scenarios"] if s["excluded"] == len(flagged))
        assert beffroi["forms"] < scenarios["une_par_ip"]["forms"]
    finally:
        context.close()
    # English spot check: the same report in the reader's language.
    context, page = _login(browser, live_server, "scrutineer", lang="en")
    try:
        page.goto(audit_page)
        page.get_by_role("link", name="Read the report").click()
        expect(page.locator("body")).to_contain_text("One response per IP address")
        expect(page.locator("body")).not_to_contain_text("réponses signalées")
    finally:
        context.close()
