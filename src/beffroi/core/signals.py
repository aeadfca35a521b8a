"""Journal successful logins and logouts, wherever they happen (site or admin), and fix
when a new session ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from beffroi.core import actions
from beffroi.core.client import pseudonyms
from beffroi.core.middleware import LOGGED_IN_ATTRIBUTE


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        # An end fixed now, which later writes of the session keep: with Django's default
        # the expiry restarted at each write, so a session used now and then never ended.
        request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
        # The answer marks this browser known to the account (middleware.known_browsers).
        setattr(request, LOGGED_IN_ATTRIBUTE, user)
    network = pseudonyms(request).prefix if request is not None else ""
    actions.record_login(user, network=network)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        actions.record_logout(user)
