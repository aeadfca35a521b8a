"""Session 6: the consultation builder says what to fix, in a sentence, on the field
concerned, instead of the core's internal paths at the top of the form
(« questions[1]: au moins deux options »)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.consult.forms import (
    ConsultationForm,
    QuestionFormSet,
    check_rows_for_questions,
    readable_spec_error,
    spec_from_forms,
)
from beffroi.consult.models import Consultation
from beffroi.consult.spec import SpecError, spec_from_dict
from english_catalogue import english

INTERNAL = ("questions[", "question «", "segments[", "rows", "options[", "max_length", "closes")


def _post(**over: str) -> dict[str, str]:
    data = {
        "cid": "cantine-s6",
        "title": "La cantine",
        "opens": "2026-01-01T08:00",
        "closes": "2036-01-01T08:00",
        "access": "open",
        "min_filled": "1",
        "row_labels": "Responsable légal 1\nResponsable légal 2",
        "segments": "",
        "q-TOTAL_FORMS": "3",
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "1000",
        "q-0-label": "Repas bio ?",
        "q-0-kind": "single",
        "q-0-options": "Oui\nNon",
        "q-1-label": "Note",
        "q-1-kind": "scale",
        "q-1-scale_min": "1",
        "q-1-scale_max": "5",
        "q-2-kind": "single",  # a browser always sends the select's value
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# (what is wrong, where it is said: (question number or None, field), words of the sentence)
CASES: list[tuple[dict[str, Any], tuple[int | None, str], str]] = [
    ({"q-0-options": "Oui"}, (0, "options"), "Donnez au moins deux options, une par ligne."),
    (
        {"q-0-options": "o : Oui\no : Non"},
        (0, "options"),
        "L'option « o » apparaît deux fois",
    ),
    ({"q-0-options": "o k : Oui\nn : Non"}, (0, "options"), "Le code d'option « o k »"),
    ({"q-1-code": "repas_bio"}, (1, "code"), "est déjà celui de la question 1, tiré de son"),
    (
        {"q-0-code": "bio", "q-1-code": "bio"},
        (1, "code"),
        "Le code « bio » est déjà celui de la question 1 : donnez-en un autre",
    ),
    ({"q-1-code": "note finale"}, (1, "code"), "sans espace"),
    ({"q-1-scale_min": "5", "q-1-scale_max": "5"}, (1, "scale_max"), "Le maximum doit dépasser"),
    (
        {"q-2-label": "Un mot", "q-2-kind": "text", "q-2-max_length": "-3"},
        (2, "max_length"),
        "au moins 1 caractère",
    ),
    ({"q-0-per_row": "on"}, (None, "rows_enabled"), "La question 1 est posée pour chaque ligne"),
    ({"rows_enabled": "on", "row_labels": "  "}, (None, "row_labels"), "au moins un libellé"),
    ({"rows_enabled": "on", "min_filled": "3"}, (None, "min_filled"), "Au plus 2"),
    (
        {"segments": "A1 ; Jules-Ferry ; 200\nA1 ; Loti ; 100"},
        (None, "segments"),
        "Ligne 2 : le code « A1 » est déjà celui de la ligne 1.",
    ),
    ({"segments": "A 1 ; Jules-Ferry ; 200"}, (None, "segments"), "Ligne 1 : le code « A 1 »"),
    ({"segments": "A1 ; Jules-Ferry ; -4"}, (None, "segments"), "ne peut pas être négatif"),
]


@pytest.mark.parametrize(("over", "where", "words"), CASES)
def test_builder_error_is_a_sentence_on_its_field(client, members, org, over, where, words):
    client.force_login(members["coordinator"])
    response = client.post(reverse("consult-create", args=[org.slug]), _post(**over))
    assert response.status_code == 200
    number, field = where
    form = response.context["form"]
    errors = form.errors if number is None else response.context["questions"].forms[number].errors
    assert any(words in e for e in errors.get(field, [])), dict(errors)
    assert not form.non_field_errors()
    page = response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert words.replace("« ", "« ") in page.replace("&laquo;", "«")
    assert not Consultation.objects.exists()


def test_builder_without_any_question_says_so(client, members, org):
    client.force_login(members["coordinator"])
    response = client.post(
        reverse("consult-create", args=[org.slug]), _post(**{"q-0-label": "", "q-1-label": ""})
    )
    assert response.status_code == 200
    assert response.context["questions"].non_form_errors() == [
        "Ajoutez au moins une question : son libellé suffit."
    ]


def test_builder_errors_in_english(client, members, org):
    client.force_login(members["coordinator"])
    with english():
        page = client.post(
            reverse("consult-create", args=[org.slug]),
            _post(**{"q-0-options": "Oui", "q-1-code": "repas_bio"}),
            HTTP_ACCEPT_LANGUAGE="en",
        ).content.decode()
    assert "Give at least two options, one per line." in page
    assert "The code “repas_bio” is already that of question 1" in page
    assert "Donnez au moins" not in page


def test_what_the_core_still_refuses_names_the_question_not_its_path() -> None:
    spec = {"questions": [{"code": "a"}, {"code": "q3"}]}
    assert readable_spec_error("questions[1].max_length: entier positif attendu", spec) == (
        "Question 2 : entier positif attendu"
    )
    assert readable_spec_error("question « q3 »: au moins deux options", spec) == (
        "Question 2 : au moins deux options"
    )
    assert readable_spec_error("segments[0]: segment « A1 » en double", spec) == (
        "Segments, ligne 1 : segment « A1 » en double"
    )
    assert readable_spec_error("rows.min_filled: hors limites", spec) == (
        "Lignes répétées : hors limites"
    )
    assert readable_spec_error("Autre chose.", spec) == "Autre chose."


_code = st.sampled_from(["", "a", "b", "a b", "é", "x" * 70, "q-1"])
_option_lines = st.lists(
    st.sampled_from(["Oui", "Non", "a : A", "a : B", "b : B", "x y : Z", "  ", "Sans avis"]),
    max_size=4,
)
_question = st.fixed_dictionaries(
    {
        "label": st.sampled_from(["", "Q ?", "Autre question", "Q ?"]),
        "code": _code,
        "kind": st.sampled_from(["single", "multiple", "scale", "text"]),
        "options": _option_lines.map("\n".join),
        "scale_min": st.sampled_from(["", "0", "1", "5", "200"]),
        "scale_max": st.sampled_from(["", "1", "5", "10", "-2"]),
        "max_length": st.sampled_from(["", "0", "-1", "20"]),
        "per_row": st.booleans(),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    questions=st.lists(_question, min_size=1, max_size=3),
    rows=st.booleans(),
    row_labels=st.sampled_from(["", "P1", "P1\nP2"]),
    min_filled=st.sampled_from(["0", "1", "2", "3"]),
    segments=st.sampled_from(
        ["", "A1 ; X ; 10", "A1 ; X ; 10\nA1 ; Y ; 3", "B 2 ; X ; 1", "C ; X ; -1"]
    ),
    access=st.sampled_from(["open", "mixed"]),
)
def test_what_the_forms_accept_the_core_accepts(
    questions, rows, row_labels, min_filled, segments, access
) -> None:
    """Whatever passes the builder's forms makes a spec the pure core accepts: no
    error is left to be shown in the core's own terms."""
    data = _post(
        access=access,
        rows_enabled="on" if rows else None,
        row_labels=row_labels,
        min_filled=min_filled,
        segments=segments,
        **{"q-TOTAL_FORMS": str(len(questions)), "q-1-label": None, "q-0-label": None},
    )
    data = {k: v for k, v in data.items() if not k.startswith("q-") or "FORMS" in k}
    for i, q in enumerate(questions):
        for key, value in q.items():
            if key == "per_row":
                if value:
                    data[f"q-{i}-per_row"] = "on"
            else:
                data[f"q-{i}-{key}"] = value
    form = ConsultationForm(data)
    formset = QuestionFormSet(data, prefix="q")
    if form.is_valid() and formset.is_valid() and check_rows_for_questions(form, formset):
        try:
            spec_from_dict(spec_from_forms(form, formset))
        except SpecError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"the forms accepted what the core refuses: {exc}")
    else:
        shown = [str(e) for e in form.non_field_errors()]
        assert not any(word in e for e in shown for word in INTERNAL), shown
