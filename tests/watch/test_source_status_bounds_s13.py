"""The feed bounds' statuses (sources/rss.py) read in English for an English reader."""

from __future__ import annotations

from django.utils import translation

from beffroi.watch.sources.rss import MAX_FEED_MB
from beffroi.watch.views_i18n import SOURCE_STATUS


def test_a_feed_too_large_or_too_slow_is_said_in_english():
    with translation.override("en"):
        assert SOURCE_STATUS.say(f"Flux trop volumineux (plus de {MAX_FEED_MB} Mo).") == (
            f"Feed too large (over {MAX_FEED_MB} MB)."
        )
        assert (
            SOURCE_STATUS.say(
                "Flux injoignable (https://x.example/f) : flux non reçu en entier en 20 s."
            )
            == "Feed unreachable (https://x.example/f): feed not received in full within 20 s."
        )
