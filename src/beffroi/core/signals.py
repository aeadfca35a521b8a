"""Journal successful logins and logouts, wherever they happen (site or admin)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from beffroi.core import actions
from beffroi.core.client import pseudonyms


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    network = pseudonyms(request).prefix if request is not None else ""
    actions.record_login(user, network=network)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        actions.record_logout(user)
