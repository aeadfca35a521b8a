"""The public pages' memo (consult.api._memo) keeps one board, results and bundle per
consultation in each process. It held up to 256 of them, and emptied itself whole when
full: about 85 consultations' boards and bundles (megabytes each at thousands of ballots) could
stay in memory at once, and one visit too many dropped every consultation's at once, the
one being voted on included. It now keeps the most recently used few and drops the
least recently used first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from beffroi.consult import api


@pytest.fixture(autouse=True)
def _empty(monkeypatch):
    api._PUBLIC.clear()
    monkeypatch.setattr(api, "_state", lambda c: (c.cid, c.version))
    yield
    api._PUBLIC.clear()


def _c(cid: str, version: int = 1) -> SimpleNamespace:
    return SimpleNamespace(cid=cid, version=version)


def test_the_memo_holds_a_few_entries_at_most():
    assert api._PUBLIC_MAX <= 32
    for n in range(api._PUBLIC_MAX * 3):
        api._memo(_c(f"c{n}"), "bundle", lambda: b"x")
        assert len(api._PUBLIC) <= api._PUBLIC_MAX


def test_the_least_recently_used_goes_first(monkeypatch):
    monkeypatch.setattr(api, "_PUBLIC_MAX", 2)
    built: list[str] = []

    def build(name: str):
        return lambda: built.append(name) or name

    busy, other, third = _c("busy"), _c("other"), _c("third")
    api._memo(busy, "results", build("busy"))
    api._memo(other, "results", build("other"))
    api._memo(busy, "results", build("busy"))  # read again: now the most recent
    api._memo(third, "results", build("third"))  # one too many: "other" goes
    assert api._memo(busy, "results", build("busy")) == "busy"
    assert built == ["busy", "other", "third"]
    api._memo(other, "results", build("other"))
    assert built[-1] == "other"


def test_a_moved_state_is_computed_again():
    api._memo(_c("a", 1), "results", lambda: "old")
    assert api._memo(_c("a", 2), "results", lambda: "new") == "new"
    assert api._memo(_c("a", 2), "results", lambda: "never") == "new"
