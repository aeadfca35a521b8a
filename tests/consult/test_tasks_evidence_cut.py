"""A flag's evidence longer than the journal's limit is cut between two checks'
evidence, or at least at a clause or a word, never mid-sentence, and says so with
"…"; an English reader sees the kept pieces translated and the cut as "…"."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from beffroi.consult.tasks import CUT_MARK, EVIDENCE_MAX, cut_evidence
from beffroi.consult.views_i18n import evidence
from english_catalogue import english

TOKEN = "jeton utilisé par plusieurs réponses"
SAME = "réponse identique à plusieurs autres, ce que le hasard n'explique pas"


def test_short_evidence_is_kept_whole() -> None:
    text = "; ".join([TOKEN, SAME])
    assert cut_evidence(text) == text
    exact = ("x" * (EVIDENCE_MAX - 1)) + "."
    assert cut_evidence(exact) == exact


def test_long_evidence_is_cut_between_two_checks() -> None:
    text = "; ".join([TOKEN, SAME] * 10)
    cut = cut_evidence(text)
    assert len(cut) <= EVIDENCE_MAX
    assert cut.endswith("; " + CUT_MARK)
    kept = cut.removesuffix("; " + CUT_MARK).split("; ")
    assert all(piece in (TOKEN, SAME) for piece in kept)
    # As much as fits: one more piece would not.
    assert len(cut) + len(SAME) + 2 > EVIDENCE_MAX
    # The old cut stopped in the middle of a sentence.
    assert text[:500].split("; ")[-1] not in (TOKEN, SAME)


def test_a_check_with_parts_is_cut_between_its_parts() -> None:
    part = "« Oui » à école : 80 % dans le groupe contre 20 % dans le reste"
    text = "réponses très différentes du reste : " + " ; ".join([part] * 12)
    cut = cut_evidence(text)
    assert len(cut) <= EVIDENCE_MAX
    assert cut.endswith(" ; " + CUT_MARK)
    assert cut.removesuffix(" ; " + CUT_MARK).endswith("dans le reste")


def test_without_any_boundary_it_falls_back_to_a_clause_then_a_word() -> None:
    clauses = ", ".join(["une assez longue proposition sans point-virgule"] * 20)
    cut = cut_evidence(clauses)
    assert cut.endswith("point-virgule, " + CUT_MARK)
    words = " ".join(["mot"] * 300)
    assert cut_evidence(words).endswith("mot " + CUT_MARK)
    blob = "a" * 2000
    assert cut_evidence(blob) == "a" * (EVIDENCE_MAX - 1) + CUT_MARK


def test_a_far_boundary_does_not_throw_away_most_of_the_room() -> None:
    # A first check, then one very long one: cutting after the first would keep
    # 40 characters of 500; the long one is cut at its last clause instead.
    text = TOKEN + "; " + ", ".join(["rempli en moins de 9 s (médiane 41 s)"] * 30)
    cut = cut_evidence(text)
    assert len(cut) > EVIDENCE_MAX // 2
    assert cut.endswith(", " + CUT_MARK)


@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab é,;:«» "), min_size=0, max_size=120),
        min_size=1,
        max_size=30,
    ),
    st.integers(min_value=10, max_value=600),
)
def test_any_cut_fits_keeps_a_prefix_and_says_it_was_cut(pieces: list[str], limit: int) -> None:
    text = "; ".join(pieces)
    cut = cut_evidence(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith(CUT_MARK)
        assert text.startswith(cut.removesuffix(CUT_MARK))
        assert len(cut) > limit // 2 or limit < 4


def test_english_readers_see_the_kept_pieces_and_the_cut() -> None:
    cut = cut_evidence("; ".join([TOKEN] * 30))
    with english():
        said = evidence(cut)
    assert said.endswith("; …")
    assert said.removesuffix("; …").split("; ") == ["token used by several responses"] * (
        cut.count(TOKEN)
    )
    # A cut inside a check shows no French fragment either.
    inside = cut_evidence(TOKEN + "; " + ", ".join(["un morceau de phrase"] * 40))
    with english():
        assert evidence(inside) == "token used by several responses; …"
    # French readers read the journal's text, its separators set the French way.
    assert evidence(cut) == cut.replace("; ", "\u202f; ")
