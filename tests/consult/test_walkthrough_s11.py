"""Regressions found by walking a consultation end to end as its users (organiser,
credential authority, respondents, scrutineer) on the app as a newcomer gets it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from beffroi.consult.cli_example_bundle import example_spec_dict, setup_consultation


def _positions(html: str, codes: list[str]) -> list[int]:
    return [html.index(f'data-code="{code}"') for code in codes]


def test_the_answer_page_keeps_the_organisers_order_around_the_rows(client, org) -> None:
    # A closing « Un commentaire ? » (asked once per household) was shown first, above
    # the per-parent question it comments on: every household question went first.
    spec = example_spec_dict("s11-order", access="open", all_kinds=True)
    codes = [q["code"] for q in spec["questions"]]
    assert [q["per_row"] for q in spec["questions"]] == [True, True, False, False]
    # One household question before the rows, the others after them.
    spec["questions"].insert(0, spec["questions"].pop(2))
    c, _ = setup_consultation(org, cid="s11-order", access="open", spec_dict=spec)
    html = client.get(reverse("consult-answer", args=[c.cid])).content.decode()
    first_row = html.index('class="card row-block"')
    last_row = html.rindex('class="card row-block"')
    intro, closing = _positions(html, [codes[2], codes[3]])
    assert intro < first_row
    assert closing > last_row
    # Each household question once; the per-row ones once per row.
    assert html.count(f'data-code="{codes[3]}"') == 1
    assert html.count(f'data-code="{codes[0]}"') == len(spec["rows"]["labels"])


def test_without_rows_the_questions_stay_in_order(client, org) -> None:
    spec = example_spec_dict("s11-flat", access="open", all_kinds=True)
    spec["rows"] = None
    for q in spec["questions"]:
        q["per_row"] = False
    c, _ = setup_consultation(org, cid="s11-flat", access="open", spec_dict=spec)
    html = client.get(reverse("consult-answer", args=[c.cid])).content.decode()
    positions = _positions(html, [q["code"] for q in spec["questions"]])
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", ["rows_enabled", "exclude_flagged"])
def test_the_builders_checkboxes_sit_inside_their_labels(client, org, members, name) -> None:
    # Each checkbox stood alone on a line, under the previous field's help text, with
    # its label below it: « Écarter les réponses signalées… » read as belonging to the
    # segments above; clicking the words did tick it, but nothing showed which box.
    client.force_login(members["coordinator"])
    html = client.get(reverse("consult-create", args=[org.slug])).content.decode()
    found = re.search(
        rf'<label class="check"[^>]*>\s*<input type="checkbox" name="{name}"[^>]*>'
        r"\s*([^<]+)</label>",
        html,
    )
    assert found, name
    assert not found.group(1).strip().endswith(":")


@pytest.mark.parametrize("access", ["open", "credentialed"])
def test_the_board_says_why_a_participation_above_100_percent_is_impossible(
    client, org, access
) -> None:
    # An open consultation under a salvo showed « École Jules-Ferry … 933,3 % » in the
    # table and nothing else: the public had to work out that it cannot be.
    from beffroi.consult.cli_example_bundle import fill

    spec = example_spec_dict(f"s11-over-{access}", access=access)
    for s in spec["segments"]:
        s["electorate"] = 1
    c, private = setup_consultation(
        org, cid=f"s11-over-{access}", access=access, per_segment=3, spec_dict=spec
    )
    fill(c, private, 40, seed=11)
    html = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    note = re.search(r'data-testid="over-electorate">([^<]*)<', html)
    assert note is not None
    text = note.group(1)
    assert "Participation au-dessus de 100 %" in text
    assert spec["segments"][0]["label"] in text
    # Only an open (or mixed) consultation cannot vouch for the segment a response names.
    assert ("Sans code personnel" in text) == (access == "open")


def test_no_note_when_participation_is_possible(client, org) -> None:
    from beffroi.consult.cli_example_bundle import fill

    c, private = setup_consultation(org, cid="s11-under", access="open")
    fill(c, private, 20, seed=11)
    html = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert "over-electorate" not in html


def test_the_organiser_gets_the_authoritys_command_and_the_imported_fingerprint(
    client, org, members
) -> None:
    # The page said « beffroi credentials generate » and no more: the walkthrough's
    # organiser had to work out the id, the site's address and the letters per school.
    import html as html_mod
    import shlex

    from beffroi.consult import credentials as creds_mod

    spec = example_spec_dict("s11-authority", access="credentialed")
    spec["title"] = "Blouse à l'école ? (APE)"
    c, _ = setup_consultation(
        org, cid="s11-authority", access="credentialed", spec_dict=spec, open_it=False
    )
    client.force_login(members["coordinator"])
    html = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    found = re.search(r'data-testid="authority-command"><code>([^<]+)</code>', html)
    assert found is not None
    command = html_mod.unescape(found.group(1))
    # Readable to copy: the French apostrophe inside plain double quotes.
    assert '--title "Blouse à l\'école ? (APE)"' in command
    argv = shlex.split(command)
    assert argv[:3] == ["beffroi", "credentials", "generate"]
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    assert opts["--consultation-id"] == c.cid
    assert opts["--base-url"] == "http://testserver"
    letters = [f"{s['code']}={s['electorate']}" for s in spec["segments"]]
    assert opts["--segments"] == ",".join(letters)
    assert opts["--title"] == spec["title"]
    labels = [argv[i + 1] for i, a in enumerate(argv) if a == "--label"]
    assert labels == [f"{s['code']}={s['label']}" for s in spec["segments"]]
    # The imported keys' fingerprint, to compare with the one the authority publishes.
    keys = [(k.public_key, k.segment) for k in c.credentials.all()]
    fingerprint = creds_mod.key_list_fingerprint(keys)
    assert f'data-testid="keys-fingerprint">{fingerprint}<' in html
    # A scrutineer sees the fingerprint, not the organiser's command.
    client.force_login(members["scrutineer"])
    html = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
    assert "authority-command" not in html
    assert fingerprint in html


def _open_post(client, c, seq: int):
    import hashlib
    import json

    from beffroi.consult import api
    from beffroi.consult.cli_example_bundle import unsigned_payload

    ch = client.get(reverse("consult-challenge", args=[c.cid])).json()
    nonce = 0
    while (
        api.leading_zero_bits(hashlib.sha256(f"{ch['challenge']}:{nonce}".encode()).digest())
        < ch["bits"]
    ):
        nonce += 1
    payload = unsigned_payload(c, {}, [{"blouse": "oui"}, {}], seq, "A1")
    payload["pow"] = {"challenge": ch["challenge"], "nonce": str(nonce)}
    return client.post(
        reverse("consult-submit", args=[c.cid]),
        data=json.dumps(payload),
        content_type="application/json",
    )


def test_refusals_of_the_rate_limit_are_shown_to_the_organiser_and_scrutineers(
    client, org, members, settings
) -> None:
    # A script's salvo was mostly refused by the limit per network, and nobody could
    # tell: the organiser's pages and the live audit saw only the answers let through.
    from beffroi.consult import api

    settings.BEFFROI_CONSULT_GROUP_COMMIT = False
    settings.BEFFROI_CONSULT_POW_BITS = 4
    settings.BEFFROI_CONSULT_OPEN_LIMIT = 2
    api._SPEC_CACHE.clear()
    c, _ = setup_consultation(org, cid="s11-salvo", access="open")
    statuses = [_open_post(client, c, seq).status_code for seq in range(1, 7)]
    assert statuses == [200, 200, 429, 429, 429, 429]
    assert api.refused_lately(c.cid) == 4
    for role in ("scrutineer", "coordinator"):
        client.force_login(members[role])
        audit = client.get(reverse("consult-audit", args=[org.slug, c.cid])).content.decode()
        section = audit.split('data-testid="rate-limit"', 1)[1].split("</section>", 1)[0]
        assert "Au plus 2 réponses sans code par réseau (/24 ou /48) en 10 min." in section
        assert "Au moins 4 envois refusés ces dernières 24 heures." in section
        detail = client.get(reverse("consult-detail", args=[org.slug, c.cid])).content.decode()
        assert "au moins 4 envois sans code refusés ces dernières 24 heures" in detail
    # Nothing of it on the public board (counts for the team; the board shows entries).
    board = client.get(reverse("consult-board", args=[c.cid])).content.decode()
    assert "refusés" not in board


def test_a_credentialed_consultation_has_no_rate_limit_section(client, org, members) -> None:
    c, _ = setup_consultation(org, cid="s11-nolimit", access="credentialed")
    client.force_login(members["coordinator"])
    audit = client.get(reverse("consult-audit", args=[org.slug, c.cid])).content.decode()
    assert 'data-testid="rate-limit"' not in audit


def test_letters_name_the_school_not_its_code(tmp_path, monkeypatch, capsys) -> None:
    # « Lettre n° 1 — A1 »: the parent never saw the code A1, the school's name is
    # what tells them the letter is theirs.
    from beffroi.cli import main as cli_main
    from beffroi.consult import credentials

    private, _ = credentials.generate(None, {"A1": 1, "A2": 1}, "s11-lettres", "https://x.fr")
    page = credentials.letters_html(private, "Blouse", {"A1": "École Jules-Ferry"})
    assert "Lettre n° 1 — École Jules-Ferry" in page
    assert "Lettre n° 2 — A2" in page  # no label given: the code, as before
    seen: dict[str, object] = {}
    monkeypatch.setattr(
        credentials, "write_pdf", lambda p, path, title, labels=None: seen.update(labels=labels)
    )
    argv = ["credentials", "generate", "--consultation-id", "s11-lettres", "--base-url"]
    argv += ["https://x.fr", "--segments", "A1=1,A2=1", "--out", str(tmp_path / "a")]
    assert cli_main([*argv, "--label", "A1=École Jules-Ferry", "--label", "A2=Pasteur"]) == 0
    assert seen["labels"] == {"A1": "École Jules-Ferry", "A2": "Pasteur"}
    # A label for a segment the command does not make is a typo: refused, nothing written.
    bad = [*argv[:-1], str(tmp_path / "b"), "--label", "A3=Sainte-Marie"]
    capsys.readouterr()
    assert cli_main(bad) == 2
    assert not (tmp_path / "b").exists()
    # Said in French, like the rest of the authority's command.
    assert "erreur : --label A3 : ce segment n'est pas dans --segments" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text", ["Blouse à l'école ?", 'Le "bon" choix', "Coût : 5 $", "Oui !", "a`b`", "l'a\\b"]
)
def test_the_authoritys_command_quotes_what_the_shell_would_read(text) -> None:
    import shlex

    from beffroi.consult.views import _shell

    assert shlex.split(f"--title {_shell(text)}") == ["--title", text]


def test_the_letters_pdf_shows_a_live_status_on_a_terminal(tmp_path, monkeypatch, capsys) -> None:
    # 600 letters took 36 s of silence: the authority could not tell work from a hang.
    import io
    import time as time_mod

    from rich.console import Console

    from beffroi.cli import main as cli_main
    from beffroi.consult import cli_credentials, credentials

    screen = io.StringIO()
    monkeypatch.setattr(
        cli_credentials, "_console", lambda: Console(file=screen, force_terminal=True, width=120)
    )
    monkeypatch.setattr(credentials, "write_pdf", lambda *a, **k: time_mod.sleep(0.4))
    argv = ["credentials", "generate", "--consultation-id", "s11-status", "--base-url"]
    argv += ["https://x.fr", "--segments", "A1=2", "--out", str(tmp_path / "a")]
    assert cli_main(argv) == 0
    assert "Mise en page de 2 lettres (lettres.pdf" in screen.getvalue()
    # Not a terminal (a script, a pipe): nothing but the summary.
    monkeypatch.setattr(cli_credentials, "_console", lambda: Console(file=io.StringIO()))
    capsys.readouterr()
    assert cli_main([*argv[:-1], str(tmp_path / "b")]) == 0
    assert "Mise en page" not in capsys.readouterr().err
