"""Threads that act on the test database as separate clients (race tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def start_thread(
    target: Callable[..., Any], *args: Any, name: str, errors: list[BaseException]
) -> threading.Thread:
    """Run ``target(*args)`` in a thread named ``name`` with its own database connection
    (closed at the end); what it raises goes to ``errors`` for the test to assert on."""

    def work() -> None:
        try:
            target(*args)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name=name)
    thread.start()
    return thread
