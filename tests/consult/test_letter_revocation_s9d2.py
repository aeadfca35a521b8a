"""The letter told its holder that the credential authority « révoquera ce code »; the
authority only makes the new letter and the revocation's values, and the organiser
revokes the key in the app. The letter now says the authority has it revoked."""

from __future__ import annotations

from beffroi.consult.credentials import generate, letters_html


def test_the_letter_says_who_revokes_a_lost_code() -> None:
    private, _ = generate(1, None, "c-1", "https://ex.org")
    page = letters_html(private, "Consultation")
    assert "elle fera révoquer ce code et vous en remettra un autre" in page
    assert "elle révoquera" not in page
