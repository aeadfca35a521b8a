"""Hypothesis strategies shared by the fuzz tests of source payloads."""

from __future__ import annotations

from hypothesis import strategies as st

# Any JSON document, small: what a server, honest or not, may send in a field.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
