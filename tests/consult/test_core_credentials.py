"""Credential codes, key derivation, writers and the `credentials generate` CLI."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.cli import main as cli_main
from beffroi.consult.credentials import (
    ALPHABET,
    CODE_CHARS,
    CodeError,
    derive_seed,
    format_code,
    generate,
    hkdf_sha256,
    key_list_fingerprint,
    letters_html,
    new_code,
    normalize_code,
    public_key_hex,
    read_public_jsonl,
    reissue,
)


def test_hkdf_matches_rfc5869_case_1() -> None:
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = hkdf_sha256(ikm, salt, info, 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_code_shape_and_entropy() -> None:
    code = new_code()
    assert len(code) == CODE_CHARS == 24
    assert (CODE_CHARS - 1) * 5 >= 100
    shown = format_code(code)
    assert shown.count("-") == 5 and all(len(g) == 4 for g in shown.split("-"))
    assert normalize_code(shown.lower()) == code


def test_lookalike_letters_are_read_as_digits() -> None:
    code = new_code()
    typed = code.replace("0", "O").replace("1", "l")
    assert normalize_code(typed) == code


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_single_typo_is_detected(data: st.DataObject) -> None:
    code = new_code()
    i = data.draw(st.integers(0, CODE_CHARS - 1))
    other = data.draw(st.sampled_from([c for c in ALPHABET if c != code[i]]))
    typo = code[:i] + other + code[i + 1 :]
    with pytest.raises(CodeError, match="erroné"):
        normalize_code(typo)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_adjacent_swap_is_detected(data: st.DataObject) -> None:
    code = new_code()
    i = data.draw(st.integers(0, CODE_CHARS - 2))
    if code[i] == code[i + 1]:
        return
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    with pytest.raises(CodeError):
        normalize_code(swapped)


def test_every_typo_and_every_swap_of_some_codes_is_detected() -> None:
    for _ in range(5):
        code = new_code()
        for i in range(CODE_CHARS):
            for other in ALPHABET:
                if other != code[i]:
                    with pytest.raises(CodeError):
                        normalize_code(code[:i] + other + code[i + 1 :])
            if i + 1 < CODE_CHARS and code[i] != code[i + 1]:
                with pytest.raises(CodeError):
                    normalize_code(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


def test_bad_length_and_characters_are_explained() -> None:
    with pytest.raises(CodeError, match="24 caractères"):
        normalize_code("ABCD-EFGH")
    with pytest.raises(CodeError, match="« U »"):
        normalize_code("U" * 24)


def test_derivation_is_documented_hkdf_bound_to_consultation() -> None:
    code = new_code()
    manual = hkdf_sha256(code.encode(), b"beffroi/credential/v1/c-1", b"ed25519-seed")
    assert derive_seed(format_code(code), "c-1") == manual
    assert derive_seed(code, "c-2") != manual
    # HKDF's extract step is HMAC(salt, ikm): check it against hashlib directly.
    prk = hmac.new(b"beffroi/credential/v1/c-1", code.encode(), hashlib.sha256).digest()
    assert manual == hmac.new(prk, b"ed25519-seed\x01", hashlib.sha256).digest()


def test_generate_per_segment_and_public_list_matches() -> None:
    private, public = generate(None, {"A1": 3, "B2": 2}, "c-1", "https://ex.org/")
    assert [p.segment for p in private] == ["A1"] * 3 + ["B2"] * 2
    assert len({p.code for p in private}) == 5
    by_pk = {p.public_key: p.segment for p in public}
    for p in private:
        assert public_key_hex(p.code, "c-1") == p.public_key
        assert by_pk[p.public_key] == p.segment
        assert p.link == f"https://ex.org/c/c-1/#{format_code(p.code)}"
    with pytest.raises(ValueError, match="diffère"):
        generate(4, {"A1": 3, "B2": 2}, "c-1", "https://ex.org")


def test_reissue_revokes_old_key() -> None:
    _, public = generate(1, None, "c-1", "https://ex.org")
    priv, pub, rev = reissue(public[0].public_key, "A1", "lettre perdue", "c-1", "https://ex.org")
    assert rev.public_key == public[0].public_key and rev.replaced_by == pub.public_key
    assert pub.segment == "A1" and priv.public_key == pub.public_key
    assert rev.to_dict()["reason"] == "lettre perdue"
    with pytest.raises(ValueError):
        reissue(public[0].public_key, "A1", " ", "c-1", "https://ex.org")


def test_public_list_reader_names_bad_lines() -> None:
    good = json.dumps({"public_key": "ab" * 32, "segment": "A1"})
    assert read_public_jsonl(good + "\n")[0].segment == "A1"
    with pytest.raises(ValueError, match="ligne 2"):
        read_public_jsonl(good + "\n{oops\n")
    with pytest.raises(ValueError, match="ligne 2 : clé publique en double"):
        read_public_jsonl(good + "\n" + good)
    with pytest.raises(ValueError, match="64 caractères"):
        read_public_jsonl(json.dumps({"public_key": "zz"}))


def test_letters_render_one_page_each() -> None:
    from weasyprint import HTML

    private, _ = generate(3, None, "c-1", "https://ex.org")
    assert len(HTML(string=letters_html(private, "Consultation")).render().pages) == 3


def test_letters_are_french_with_code_and_qr() -> None:
    private, _ = generate(2, None, "c-1", "https://ex.org")
    page = letters_html(private, "Consultation <test>")
    assert page.count("class='letter'") == 2
    assert private[1].display_code in page
    assert "data:image/svg+xml" in page
    assert "Consultation &lt;test&gt;" in page
    assert "seule votre dernière réponse compte" in page


@pytest.mark.slow
def test_cli_generate_writes_pdf_csv_and_public_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc = cli_main(
        [
            "credentials",
            "generate",
            "--segments",
            "A1=2,B1=1",
            "--consultation-id",
            "c-9",
            "--base-url",
            "https://ex.org",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert (out / "lettres.pdf").read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader((out / "codes.csv").open(encoding="utf-8")))
    assert [r["segment"] for r in rows] == ["A1", "A1", "B1"]
    public = read_public_jsonl((out / "cles-publiques.jsonl").read_text("utf-8"))
    assert {p.public_key for p in public} == {public_key_hex(r["code"], "c-9") for r in rows}
    # The authority publishes the fingerprint itself, next to the letters.
    fingerprint = key_list_fingerprint((p.public_key, p.segment) for p in public)
    assert f"Empreinte de la liste des clés (à publier vous-même) : {fingerprint}" in (
        capsys.readouterr().out
    )


def test_cli_generate_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "credentials",
        "generate",
        "--consultation-id",
        "c-9",
        "--base-url",
        "https://e.org",
        "--out",
        str(tmp_path / "o"),
    ]
    assert cli_main(base) == 2
    assert cli_main([*base, "--count", "3", "--segments", "A1=2"]) == 2
    assert "diffère" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main([*base, "--segments", "A1=deux"])
    assert not (tmp_path / "o").exists()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_public_list_reader_raises_only_value_error(text: str) -> None:
    try:
        keys = read_public_jsonl(text)
    except ValueError as exc:
        assert "ligne" in str(exc)
    else:
        assert all(len(k.public_key) == 64 for k in keys)


def test_cli_reissue_writes_one_letter_and_the_revocation(tmp_path: Path) -> None:
    from beffroi.consult.credentials import read_revocations_jsonl

    old = "ab" * 32
    base = [
        "credentials",
        "generate",
        "--consultation-id",
        "c-9",
        "--base-url",
        "https://e.org",
        "--no-pdf",
    ]
    rc = cli_main(
        [
            *base,
            "--out",
            str(tmp_path / "r"),
            "--replace",
            old,
            "--reason",
            "lettre perdue",
            "--segments",
            "A1=1",
        ]
    )
    assert rc == 0
    public = read_public_jsonl((tmp_path / "r" / "cles-publiques.jsonl").read_text("utf-8"))
    (rev,) = read_revocations_jsonl((tmp_path / "r" / "revocation.jsonl").read_text("utf-8"))
    assert rev.public_key == old and rev.reason == "lettre perdue"
    assert [p.segment for p in public] == ["A1"] and rev.replaced_by == public[0].public_key
    # A reissue without reason, or for more than one credential, is refused.
    assert cli_main([*base, "--out", str(tmp_path / "s"), "--replace", old]) == 2
    assert (
        cli_main(
            [*base, "--out", str(tmp_path / "s"), "--replace", old, "--reason", "x", "--count", "2"]
        )
        == 2
    )


def test_cli_never_overwrites_printed_letters_silently(tmp_path: Path) -> None:
    base = [
        "credentials",
        "generate",
        "--consultation-id",
        "c-9",
        "--base-url",
        "https://e.org",
        "--no-pdf",
        "--count",
        "2",
        "--out",
        str(tmp_path),
    ]
    assert cli_main(base) == 0
    before = (tmp_path / "codes.csv").read_bytes()
    assert cli_main(base) == 2
    assert (tmp_path / "codes.csv").read_bytes() == before
    assert cli_main([*base, "--force"]) == 0
    assert (tmp_path / "codes.csv").read_bytes() != before


def test_revocation_reader_names_bad_lines() -> None:
    from beffroi.consult.credentials import read_revocations_jsonl

    good = json.dumps(
        {
            "public_key": "ab" * 32,
            "reason": "perdue",
            "at": "2026-03-05T10:00:00.000000Z",
            "replaced_by": None,
        }
    )
    assert read_revocations_jsonl(good)[0].replaced_by is None
    with pytest.raises(ValueError, match="ligne 2 : motif"):
        read_revocations_jsonl(good + "\n" + good.replace("perdue", " "))
    with pytest.raises(ValueError, match="UTC"):
        read_revocations_jsonl(good.replace("Z", "+02:00"))
