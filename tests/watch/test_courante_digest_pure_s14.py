"""The keyed digest of a main courante line (``watch.courante_digest``): pure, no
database. It must change with every field a reader relies on, not with the time zone a
time was given in, and not be computable without the key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beffroi.watch import courante_digest as cd

KEY = cd.derive_key(b"deployment secret")
AT = datetime(2026, 11, 24, 13, 32, 5, 123456, tzinfo=UTC)
PLACE = {"seq": 41, "line_id": 9}


def _digest(key, line):
    return cd.digest(key, line, **PLACE)


def _matches(key, line, journaled):
    return cd.matches(key, line, journaled, **PLACE)


def _line(**changes):
    line = {
        "activation": 3,
        "number": 12,
        "at": AT,
        "created_at": AT + timedelta(minutes=2),
        "channel": "telephone",
        "category": "routes",
        "commune_code": "85128",
        "commune_name": "Luçon",
        "text": "Route coupée à Luçon",
        "withdrawn_text": "",
        "source_url": "https://example.org/1",
        "status": "open",
        "verification": "",
        "for_partners": True,
        "card": None,
        "author_edited_at": None,
        "author_deleted_at": None,
    }
    line.update(changes)
    return line


# Another value for each field, of the field's type.
OTHER = {
    "activation": 4,
    "number": 13,
    "at": AT + timedelta(microseconds=1),
    "created_at": AT,
    "channel": "radio",
    "category": "degats",
    "commune_code": "85194",
    "commune_name": "Les Sables-d'Olonne",
    "text": "Route coupée à Luçon.",
    "withdrawn_text": "Route coupée",
    "source_url": "https://example.org/2",
    "status": "closed",
    "verification": "verified",
    "for_partners": False,
    "card": 7,
    "author_edited_at": AT,
    "author_deleted_at": AT,
}


def test_every_field_is_covered_and_has_another_value_here():
    assert set(OTHER) == set(cd.FIELDS)


@pytest.mark.parametrize("name", cd.FIELDS)
def test_changing_any_field_changes_the_digest(name):
    assert _digest(KEY, _line(**{name: OTHER[name]})) != _digest(KEY, _line())


def test_the_canonical_form_is_sorted_key_json_with_utc_times():
    body = cd.canonical(_line(at=AT.astimezone(ZoneInfo("Europe/Paris"))))
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode()  # fmt: skip
    decoded = json.loads(body)
    assert decoded["at"] == "2026-11-24T13:32:05.123456Z"
    assert decoded["v"] == cd.VERSION
    assert decoded["author_deleted_at"] is None and decoded["card"] is None


def test_a_naive_time_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="aware"):
        _digest(KEY, _line(at=datetime(2026, 11, 24, 13, 32)))


def test_the_key_matters_and_has_a_public_name_that_does_not_reveal_it():
    other = cd.derive_key(b"another secret")
    assert _digest(other, _line()) != _digest(KEY, _line())
    assert cd.key_id(other) != cd.key_id(KEY)
    assert len(cd.key_id(KEY)) == 12 and cd.key_id(KEY) not in KEY.hex()
    # The derived key is not the secret itself (nor a pseudonym made with it).
    assert cd.derive_key(b"s") != b"s"


def test_matches_accepts_its_own_digest_only():
    assert _matches(KEY, _line(), _digest(KEY, _line()))
    assert not _matches(KEY, _line(text="Route ouverte"), _digest(KEY, _line()))


def test_a_digest_is_bound_to_its_journal_entry_and_its_line():
    """Copied into a later entry, or onto another line, a digest no longer matches: an
    earlier state cannot be replayed by appending an entry."""
    journaled = _digest(KEY, _line())
    assert not cd.matches(KEY, _line(), journaled, seq=42, line_id=9)
    assert not cd.matches(KEY, _line(), journaled, seq=41, line_id=10)
    assert cd.matches(KEY, _line(), journaled, seq=41, line_id=9)


texts = st.text(max_size=40)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
lines = st.fixed_dictionaries(
    {
        "activation": st.integers(1, 10**6),
        "number": st.integers(1, 10**6),
        "at": times,
        "created_at": times,
        "channel": texts,
        "category": texts,
        "commune_code": texts,
        "commune_name": texts,
        "text": texts,
        "withdrawn_text": texts,
        "source_url": texts,
        "status": texts,
        "verification": texts,
        "for_partners": st.booleans(),
        "card": st.none() | st.integers(1, 10**6),
        "author_edited_at": st.none() | times,
        "author_deleted_at": st.none() | times,
    }
)


@given(lines, st.sampled_from(["Europe/Paris", "America/Cayenne", "Pacific/Noumea"]))
def test_the_same_instant_in_any_zone_gives_the_same_digest(line, zone):
    moved = {
        name: value.astimezone(ZoneInfo(zone)) if isinstance(value, datetime) else value
        for name, value in line.items()
    }
    assert _digest(KEY, moved) == _digest(KEY, line)
    assert len(_digest(KEY, line)) == 64


@given(lines, lines)
def test_two_lines_share_a_digest_only_when_they_say_the_same(a, b):
    assert (_digest(KEY, a) == _digest(KEY, b)) == (cd.canonical(a) == cd.canonical(b))


@given(lines, st.sampled_from(cd.FIELDS), texts)
def test_a_changed_text_field_never_keeps_the_digest(line, name, value):
    if name in cd.TIMES or name in ("activation", "number", "card", "for_partners"):
        return  # texts only here; the other types are covered field by field above
    changed = {**line, name: value}
    assert (_digest(KEY, changed) == _digest(KEY, line)) == (value == line[name])


@given(st.text(max_size=12))
def test_a_field_is_never_confused_with_its_neighbour(text):
    # Moving characters from one field to the next must not keep the digest (the JSON
    # encoding delimits fields; a naive concatenation would not).
    a = _line(text="Route" + text, withdrawn_text="")
    b = _line(text="Route", withdrawn_text=text)
    assert (_digest(KEY, a) == _digest(KEY, b)) == (text == "")
