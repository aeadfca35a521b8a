"""The whole audit on arbitrary small tables: no crash, consistent outputs."""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.integrity.audit import audit_dataset
from beffroi.integrity.load import from_table

row = st.fixed_dictionaries(
    {
        "submitted": st.one_of(
            st.just(math.nan), st.floats(1.7e9, 1.7e9 + 86400 * 3, allow_nan=False)
        ),
        "duration": st.one_of(st.just(math.nan), st.floats(0, 3600, allow_nan=False)),
        "ip": st.sampled_from(["a", "b", "c", None]),
        "net": st.sampled_from(["n1", "n2", None]),
        "S": st.sampled_from(["A1", "A2", None]),
        "Q[P1]": st.sampled_from(["Y", "N", None]),
        "Q[P2]": st.sampled_from(["Y", "N", None]),
        "R": st.sampled_from(["x", "y", "z", None]),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=120), st.booleans())
def test_audit_never_crashes(rows: list[dict[str, object]], burst: bool) -> None:
    data = [{"id": str(i), **r} for i, r in enumerate(rows)]
    if burst:
        # A tight salvo appended, so the burst path runs too.
        data += [
            {
                "id": f"s{i}",
                "submitted": 1.7e9 + 3600 + 10 * i,
                "duration": 3.0,
                "ip": "v",
                "net": "vn",
                "S": "A1",
                "Q[P1]": "N",
                "Q[P2]": "Y" if i % 2 else "N",
                "R": "x",
            }
            for i in range(40)
        ]
    res = audit_dataset(from_table(data, segment="S"), electorate={"A1": 10, "A2": 0})
    out = res.to_json()
    json.dumps(out)
    assert [r["id"] for r in out["responses"]] == [d["id"] for d in data]
    for r in out["responses"]:
        assert 0.0 <= r["score"] <= 1.0
        assert r["flagged"] == (r["score"] >= out["threshold"])
