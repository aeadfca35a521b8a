"""Processes started together (a server and its worker, two web processes) each check that
the data folder is writable: with one shared probe file, one removed the other's and
failed to start (seen in CI with two `beffroi serve` processes)."""

from __future__ import annotations

import threading

import pytest

from beffroi.config import ConfigError, ensure_data_dir


def test_checks_made_at_once_all_pass(tmp_path):
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def check() -> None:
        start.wait()
        for _ in range(300):
            try:
                ensure_data_dir(tmp_path)
            except BaseException as exc:  # any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=check) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(tmp_path.iterdir()) == []  # no probe left behind


def test_a_folder_that_cannot_be_made_is_refused_clearly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="is not writable"):
        ensure_data_dir(blocker / "var")
