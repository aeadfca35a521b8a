"""Answers arriving at once on a threaded server each run in an event loop of their own:
the shared read of a consultation's spec must not be awaited across loops (the
walkthrough's salvo got a 500, « got Future … attached to a different loop »)."""

from __future__ import annotations

import asyncio
import threading
import time

from beffroi.consult import api


def test_concurrent_first_reads_in_separate_loops_all_succeed(monkeypatch) -> None:
    calls: list[str] = []

    def slow_load(cid: str):
        calls.append(cid)
        time.sleep(0.3)  # the first read is still running when the others arrive
        return ("open", "0" * 64, None)

    monkeypatch.setattr(api, "_load_spec", slow_load)
    api._SPEC_CACHE.clear()
    results: list[object] = []
    errors: list[BaseException] = []

    def request() -> None:
        try:
            results.append(asyncio.run(api._spec("s11-loops")))
        except BaseException as exc:  # reported below, with the thread's result
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for i, t in enumerate(threads):
        t.start()
        if i == 0:
            time.sleep(0.05)
    for t in threads:
        t.join(10)
    api._SPEC_CACHE.clear()
    assert not errors, errors
    assert results == [("open", "0" * 64, None)] * 4
    # Within one loop the reads are still shared: one per loop at most.
    assert 1 <= len(calls) <= 4


def test_requests_in_one_loop_share_one_read(monkeypatch) -> None:
    calls: list[str] = []

    def slow_load(cid: str):
        calls.append(cid)
        time.sleep(0.2)
        return ("open", "1" * 64, None)

    monkeypatch.setattr(api, "_load_spec", slow_load)
    api._SPEC_CACHE.clear()

    async def many():
        return await asyncio.gather(*(api._spec("s11-one-loop") for _ in range(20)))

    got = asyncio.run(many())
    api._SPEC_CACHE.clear()
    assert got == [("open", "1" * 64, None)] * 20
    assert calls == ["s11-one-loop"]
