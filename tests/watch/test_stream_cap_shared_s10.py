"""The caps on live streams hold across web processes (``beffroi serve --workers N``,
several hosts): places are leases in the shared database cache, renewed by running
streams, and a process that dies without giving its places back loses them once their
leases run out. The two-process tests start real Python processes on the same database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from beffroi.watch import live

CHILD = r"""
import os, sys, time
import django
from django.conf import settings

settings.DATABASES["default"]["NAME"] = sys.argv[1]
django.setup()
from beffroi.watch import live

live.LEASE_SECONDS = float(sys.argv[4])
holder, want = sys.argv[2], int(sys.argv[3])
limit = int(sys.argv[5])
sys.stdin.readline()  # go: every child starts taking at once
held = [s for s in (live.take(holder, limit) for _ in range(want)) if s is not None]
print(len(held), flush=True)
sys.stdin.readline()  # then hold them until told to leave (or killed)
for slot in held:
    slot.release()
print("released", flush=True)
"""


def _db_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])


def _child(holder: str, want: int, lease: float, limit: int) -> subprocess.Popen[str]:
    tests = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tests), *sys.path]))
    env["DJANGO_SETTINGS_MODULE"] = "testing_settings"
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, _db_name(), holder, str(want), str(lease), str(limit)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def _send(proc: subprocess.Popen[str], text: str = "\n") -> None:
    assert proc.stdin is not None
    proc.stdin.write(text)
    proc.stdin.flush()


@pytest.mark.slow
def test_two_processes_share_one_cap_and_a_killed_one_frees_its_places(transactional_db):
    holder, limit = "account:two-processes", 8
    children = [_child(holder, 10, 3.0, limit) for _ in range(2)]
    try:
        for child in children:
            _send(child)  # both take at once: 20 asked, 8 places
        taken = [int(_line(child)) for child in children]
        assert sum(taken) == limit, taken
        assert live.SLOTS.running(holder) == limit
        assert live.take(holder, limit) is None  # this process meets the same cap
        # One child leaves cleanly, its places free at once; the other is killed and
        # gives nothing back: its places free when their leases run out (3 s here).
        k = 0 if taken[0] >= taken[1] else 1
        killed, clean, left = children[k], children[1 - k], taken[k]
        _send(clean)
        assert _line(clean) == "released"
        assert live.SLOTS.running(holder) == left
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        assert live.SLOTS.running(holder) == left  # the dead one's places still count
        assert live.take(holder, left) is None
        deadline = time.time() + 10
        while live.SLOTS.running(holder) and time.time() < deadline:
            time.sleep(0.2)
        assert live.SLOTS.running(holder) == 0
        again = [live.take(holder, limit) for _ in range(limit)]
        assert all(again) and live.take(holder, limit) is None
        for slot in again:
            assert slot is not None
            slot.release()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait(10)


def test_threads_taking_at_once_never_pass_the_cap(transactional_db):
    from django.db import connection

    holder, limit = "account:threads", 5
    got: list[live.Slot] = []
    start = threading.Barrier(6)

    def grab() -> None:
        try:
            start.wait()
            for _ in range(3):
                slot = live.take(holder, limit)
                if slot is not None:
                    got.append(slot)
        finally:
            connection.close()

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == limit
    assert live.SLOTS.running(holder) == limit
    for slot in got:
        slot.release()
    assert live.SLOTS.running(holder) == 0


def test_a_lease_not_renewed_runs_out(db, monkeypatch):
    monkeypatch.setattr(live, "LEASE_SECONDS", 0.3)
    monkeypatch.setattr(live, "RENEW_SECONDS", 0.1)
    slot = live.take("link:1", 1)
    assert slot is not None and live.take("link:1", 1) is None
    time.sleep(0.4)
    assert live.SLOTS.running("link:1") == 0
    other = live.take("link:1", 1)
    assert other is not None
    # The first stream wakes up (a stalled process): its place was taken meanwhile, so
    # its renewal ends it rather than letting the link hold two.
    with pytest.raises(live.StreamClosed):
        slot.renew()
    assert live.SLOTS.running("link:1") == 1
    other.release()
    slot.release()  # already lost: gives nothing back twice
    assert live.SLOTS.running("link:1") == 0


def test_a_running_stream_renews_its_lease(db, monkeypatch):
    monkeypatch.setattr(live, "LEASE_SECONDS", 0.6)
    monkeypatch.setattr(live, "RENEW_SECONDS", 0.1)
    slot = live.take("account:renew", 1)
    assert slot is not None
    for _ in range(10):  # 1.5 s of polls: more than two leases
        slot.renew()
        time.sleep(0.15)
    assert live.SLOTS.running("account:renew") == 1
    assert live.take("account:renew", 1) is None
    slot.release()
    assert live.take("account:renew", 1) is not None


def test_a_lapsed_lease_with_room_is_taken_again(db, monkeypatch):
    monkeypatch.setattr(live, "LEASE_SECONDS", 0.2)
    monkeypatch.setattr(live, "RENEW_SECONDS", 0.1)
    slot = live.take("account:lapse", 2)
    assert slot is not None
    time.sleep(0.3)
    assert live.SLOTS.running("account:lapse") == 0
    slot.renew()  # nobody took the place: the stream goes on, counted again
    assert live.SLOTS.running("account:lapse") == 1
    slot.release()
    assert live.SLOTS.running("account:lapse") == 0


def test_a_sync_stream_renews_while_it_runs(db, monkeypatch):
    monkeypatch.setattr(live, "LEASE_SECONDS", 0.4)
    monkeypatch.setattr(live, "RENEW_SECONDS", 0.05)
    slot = live.take("account:wsgi", 1)
    assert slot is not None
    stream = live._sync_stream(live._renewing(lambda: "v", slot), 0.05, 1.0, slot)
    next(stream)  # retry line
    next(stream)  # first event
    time.sleep(0.5)  # past the first lease: the next poll renews late, nobody took it
    started = time.monotonic()
    assert list(stream) == []  # the version never moved
    assert time.monotonic() - started > 0.3  # ran to its bound, not ended by a renewal
    assert live.SLOTS.running("account:wsgi") == 0  # given back at its end


def test_the_holders_and_prefixes_do_not_mix(db):
    other = live.Slots(prefix="live-streams-test-other")
    a = live.take("account:1", 1)
    b = other.take("account:1", 1)
    c = live.take("account:2", 1)
    assert a is not None and b is not None and c is not None
    for slot in (a, b, c):
        slot.release()
