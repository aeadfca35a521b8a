from __future__ import annotations

import json
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.sources import FORMS, ConfigError, build_source, run_source, validate_config
from beffroi.watch.sources.replay import ReplaySource


def test_every_kind_has_a_form_whose_fields_the_config_accepts(tmp_path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "t", "created_at": 0}) + "\n")
    samples = {
        "rss": {"url": "https://ex.invalid/rss"},
        "mastodon": {"instance_url": "https://ex.invalid", "hashtags": "crue"},
        "bluesky": {"keywords": "crue"},
        "file": {"path": str(path)},
        "replay": {"path": str(path)},
    }
    assert set(FORMS) == set(samples)
    for kind, form in FORMS.items():
        data = dict(samples[kind])
        for field in form.fields:
            if field.default is not None and field.name not in data:
                data[field.name] = field.default
        config = validate_config(kind, data)
        names = set(config.__dataclass_fields__)
        assert {f.name for f in form.fields} <= names, kind


def test_unknown_kind_and_required_fields() -> None:
    with pytest.raises(ConfigError) as err:
        validate_config("telegram", {})
    assert err.value.errors == {"kind": "Type de source inconnu : « telegram »."}
    for kind, form in FORMS.items():
        required = {f.name for f in form.fields if f.required}
        with pytest.raises(ConfigError) as err:
            validate_config(kind, {})
        assert required <= set(err.value.errors), kind


def test_build_and_run_a_replay(tmp_path, pseudonymise, recorder) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": str(i), "text": f"t{i}", "created_at": i}) + "\n" for i in range(3)
        )
    )
    source = build_source(
        "replay", "demo", {"path": str(path), "speed": "1000"}, pseudonymise=pseudonymise
    )
    assert isinstance(source, ReplaySource)
    run_source(source, None, recorder.sink, stop_event=threading.Event())
    assert recorder.ids == ["0", "1", "2"]


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(FORMS)),
    values=st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["http://[::1", "https://[", "http://a:b@[x]/", "https://ex.invalid"]),
        ),
        min_size=8,
        max_size=8,
    ),
)
def test_any_form_input_is_accepted_or_refused_with_messages(kind, values) -> None:
    """Whatever a coordinator types, a source form gives a config or field errors,
    never an exception (an unbalanced IPv6 bracket used to escape as ValueError)."""
    data = {f.name: v for f, v in zip(FORMS[kind].fields, values, strict=False)}
    try:
        validate_config(kind, data)
    except ConfigError as err:
        assert err.errors and all(isinstance(m, str) and m for m in err.errors.values())
