"""The mapping's nesting is measured before tomllib sees it, so a deep text is refused
without the parser recursing (whose half-built leftovers once crashed pytest's hooks)."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.integrity import load
from beffroi.integrity.errors import InputError
from beffroi.integrity.toml_depth import max_nesting

# A TOML value of known depth: scalars (some strings holding brackets) or nested containers.
scalars = st.one_of(
    st.integers(-5, 5).map(str),
    st.sampled_from(['"[{"', "'}]]'", '"a\\"]"', '"""\n[[\n"""', "'''{'''"]),
)


def _depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth_of(v) for v in value), default=0)
    return 0


values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=20)


def _render(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_the_measured_depth_is_the_values_depth(value):
    text = f"x = {_render(value)}  # a comment with ] and [[\n"
    assert tomllib.loads(text)  # the generated text is valid TOML
    assert max_nesting(text) == _depth_of(value)


def test_inline_tables_and_table_headers_count():
    assert max_nesting("[a]\nx = {b = [{c = 1}]}\n") == 3
    assert max_nesting("[[a]]\n") == 2


def test_a_deep_mapping_never_reaches_the_parser(monkeypatch):
    def parser_must_not_run(text: str) -> dict:
        raise AssertionError("tomllib was called on a mapping too deep to parse safely")

    monkeypatch.setattr(load.tomllib, "loads", parser_must_not_run)
    deep = "x = " + "[" * 65 + "]" * 65 + "\n"
    with pytest.raises(InputError, match="imbriqués trop profondément"):
        load._parse_mapping(deep, "map.toml")


def test_a_mapping_at_the_limit_is_parsed():
    text = "x = " + "[" * 64 + "1" + "]" * 64 + "\n"
    assert load._parse_mapping(text, "map.toml")["x"]
