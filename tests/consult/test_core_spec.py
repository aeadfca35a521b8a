"""Spec format: parsing, canonical hash, answers validation (pure)."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.consult.canonical import (
    CanonicalError,
    canonical_bytes,
    canonical_bytes_parsed,
    loads_strict,
)
from beffroi.consult.examples import all_kinds_spec
from beffroi.consult.spec import (
    AnswersError,
    Rule,
    SpecError,
    spec_from_dict,
    spec_hash,
    validate_answers,
)

SPEC = all_kinds_spec()


def test_round_trip_keeps_hash() -> None:
    d = SPEC.to_dict()
    again = spec_from_dict(json.loads(json.dumps(d)))
    assert again == SPEC
    assert spec_hash(again) == spec_hash(SPEC)


def test_hash_ignores_key_order_and_whitespace() -> None:
    d = SPEC.to_dict()
    shuffled = json.loads(json.dumps(dict(reversed(list(d.items()))), indent=4))
    assert spec_hash(spec_from_dict(shuffled)) == spec_hash(SPEC)


def test_hash_is_pinned() -> None:
    # Pins the canonical encoding: any change to it breaks every published hash.
    assert canonical_bytes({"b": [1, "é"], "a": None, "c": {"z": True}}) == (
        '{"a":null,"b":[1,"é"],"c":{"z":true}}'.encode()
    )
    d = SPEC.to_dict(frozen_only=True)
    import hashlib

    assert spec_hash(SPEC) == hashlib.sha256(canonical_bytes(d)).hexdigest()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["questions"][0]["options"][0].update(label="4 jours"),
        lambda d: d.update(closes="2026-03-16T18:00:01Z"),
        lambda d: d["segments"][0].update(electorate=213),
        lambda d: d["rules"][1]["params"]["flags"].append("other"),
        lambda d: d["questions"].reverse(),
    ],
)
def test_any_frozen_change_changes_hash(mutate: Any) -> None:
    d = copy.deepcopy(SPEC.to_dict())
    mutate(d)
    assert spec_hash(spec_from_dict(d)) != spec_hash(SPEC)


def test_post_hoc_rule_does_not_change_hash() -> None:
    d = SPEC.to_dict()
    d["rules"].append(
        {
            "code": "exclude_entries",
            "params": {"entries": {"ab": "doublon"}},
            "added_after_opening": True,
        }
    )
    later = spec_from_dict(d)
    assert spec_hash(later) == spec_hash(SPEC)
    assert later.rules[-1] == Rule("exclude_entries", {"entries": {"ab": "doublon"}}, True, "")


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.update(access="secret"), "access"),
        (lambda d: d.update(opens="2026-03-02 07:00"), "UTC"),
        (lambda d: d.update(closes="2026-03-01T00:00:00Z"), "closes"),
        (lambda d: d["questions"][1].update(code="semaine"), "double"),
        (lambda d: d["questions"][0].update(kind="ranking"), "ranking"),
        (
            lambda d: d["questions"][0]["options"].pop() and d["questions"][0]["options"].pop(),
            "deux options",
        ),
        (lambda d: d.update(rows=None), "rows"),
        (lambda d: d["rules"].pop(0), "one_ballot_per_key"),
        (lambda d: d["rules"].append({"code": "magic"}), "magic"),
        (lambda d: d["segments"][0].update(electorate=-1), "electorate"),
        (lambda d: d["questions"][2].update(scale_max=0), "échelle"),
    ],
)
def test_invalid_specs_name_the_field(mutate: Any, needle: str) -> None:
    d = copy.deepcopy(SPEC.to_dict())
    mutate(d)
    with pytest.raises(SpecError, match=needle):
        spec_from_dict(d)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(list(SPEC.to_dict())), json_values, max_size=6))
def test_fuzz_spec_parser_only_raises_spec_error(junk: dict[str, Any]) -> None:
    d = SPEC.to_dict()
    d.update(junk)
    with contextlib.suppress(SpecError):
        spec_from_dict(d)


def test_valid_answers_pass() -> None:
    validate_answers(
        SPEC,
        {"satisfaction": 3, "commentaire": "Très bien"},
        [{"semaine": "4j", "mercredi": ["ecole", "famille"]}, {}],
    )


@pytest.mark.parametrize(
    ("answers", "rows", "needle"),
    [
        ({"satisfaction": 6}, [{"semaine": "4j"}, {}], "satisfaction"),
        ({"satisfaction": True}, [{"semaine": "4j"}, {}], "entier"),
        ({}, [{"semaine": "5j"}, {}], "Responsable légal 1, question « semaine »"),
        ({}, [{}, {}], "au moins 1"),
        ({}, [{"mercredi": ["ecole"]}, {}], "semaine » : réponse obligatoire"),
        ({}, [{"semaine": "4j", "mercredi": ["ecole", "ecole"]}, {}], "deux fois"),
        ({"semaine": "4j"}, [{"semaine": "4j"}, {}], "par ligne"),
        ({"inconnue": 1}, [{"semaine": "4j"}, {}], "inconnue"),
        ({}, [{"semaine": "4j"}], "2 ligne"),
        ({"commentaire": "x" * 1001}, [{"semaine": "4j"}, {}], "trop long"),
    ],
)
def test_invalid_answers_name_the_question(
    answers: dict[str, Any], rows: list[dict[str, Any]], needle: str
) -> None:
    with pytest.raises(AnswersError) as info:
        validate_answers(SPEC, answers, rows)
    assert needle in str(info.value)


def test_canonical_refuses_floats_big_ints_and_lone_surrogates() -> None:
    for bad in (1.5, 2**53, {"a": "\ud800"}, {1: "x"}, b"x"):
        with pytest.raises(CanonicalError):
            canonical_bytes(bad)


def test_canonical_sorts_keys_in_utf16_order() -> None:
    # U+1F600 is encoded as surrogates D83D DE00, which sort before U+FB01 in UTF-16
    # although the code point is larger: JavaScript's order wins.
    assert canonical_bytes({"\ufb01": 1, "\U0001f600": 2}) == '{"😀":2,"ﬁ":1}'.encode()


canonical_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(canonical_values, st.booleans())
def test_fast_path_for_parsed_json_equals_canonical(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    parsed = loads_strict(raw)
    assert canonical_bytes_parsed(parsed, raw) == canonical_bytes(value)


@pytest.mark.parametrize("raw", [b'{"a": 1.0}', b"[1e3]", b"[NaN]", b"[-Infinity]"])
def test_strict_loads_refuses_non_canonical_numbers(raw: bytes) -> None:
    with pytest.raises(CanonicalError):
        loads_strict(raw)


@pytest.mark.parametrize("raw", [b"[9007199254740992]", b'{"a": [-90071992547409910]}'])
def test_unsafe_integers_are_refused_by_strict_loads(raw: bytes) -> None:
    with pytest.raises(CanonicalError, match="intervalle"):
        loads_strict(raw)


def test_strict_loads_then_lone_surrogate_is_refused() -> None:
    raw = b'{"a": "\\ud800"}'
    with pytest.raises(CanonicalError):
        canonical_bytes_parsed(loads_strict(raw), raw)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(theme="bleu"),
        lambda d: d["questions"][0].update(hint="…"),
        lambda d: d["questions"][0]["options"][0].update(color="red"),
        lambda d: d["segments"][0].update(city="Talmont"),
        lambda d: d["rules"][0].update(note="x"),
        lambda d: d["rows"].update(max=3),
    ],
)
def test_strict_parsing_refuses_unknown_fields(mutate: Any) -> None:
    d = copy.deepcopy(SPEC.to_dict())
    mutate(d)
    spec_from_dict(d)  # lenient by default (the app's forms)
    with pytest.raises(SpecError, match="inconnu"):
        spec_from_dict(d, strict=True)
