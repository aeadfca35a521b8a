"""The Sources page in English when the sources' proxy fails: the status the runner
wrote (French, as stored and journaled) is shown in English, in the page and in its
live status feed."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from english_catalogue import english
from source_runs import closed_port


def _runner_statuses(monkeypatch: pytest.MonkeyPatch, proxy: str) -> list[Any]:
    """What the real runner reports for an RSS source behind ``proxy`` (two attempts)."""
    import threading

    from beffroi.watch.sources.netguard import ALLOW_ENV, PROXY_ENV
    from beffroi.watch.sources.rss import RssConfig, RssSource
    from beffroi.watch.sources.runner import run_source

    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    monkeypatch.setenv(PROXY_ENV, proxy)
    source = RssSource(
        "r",
        RssConfig(url=f"http://127.0.0.1:{closed_port()}/rss.xml", timeout=2),
        pseudonymise=str,
    )
    statuses: list[Any] = []
    run_source(
        source,
        None,
        lambda posts, checkpoint: None,
        stop_event=threading.Event(),
        sleep=lambda _seconds: None,
        on_status=statuses.append,
        max_failures=2,
    )
    return statuses


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )


def test_sources_page_in_english_shows_the_proxys_failure_in_english(
    client, members, org, activation, monkeypatch
) -> None:
    from beffroi.watch import actions

    where = f"127.0.0.1:{closed_port()}"
    error = next(s for s in _runner_statuses(monkeypatch, f"http://{where}") if s.state == "error")
    # The runner's own words, as the worker stores them.
    assert error.message.startswith(f"Proxy des sources injoignable ({where}) : ")
    coordinator = members["coordinator"]
    down = actions.add_source(
        activation, kind="rss", name="Vigicrues", data={"url": "https://a.example/rss"},
        actor=coordinator,
    )  # fmt: skip
    actions.record_source_status(
        down.pk, state="error", message=error.message, at=timezone.now(), retry_in=error.retry_in
    )
    # A wrong setting stops a source for good, with the form's words: the worker
    # cannot build it.
    from beffroi.watch.sources import build_source
    from beffroi.watch.sources.runner import describe_error

    monkeypatch.setenv("BEFFROI_SOURCES_PROXY", "http://proxy")
    with pytest.raises(ValueError) as built:
        build_source("rss", "r", {"url": "https://b.example/rss"}, pseudonymise=str)
    monkeypatch.delenv("BEFFROI_SOURCES_PROXY")
    wrong = actions.add_source(
        activation, kind="rss", name="Préfecture", data={"url": "https://b.example/rss"},
        actor=coordinator,
    )  # fmt: skip
    actions.record_source_status(
        wrong.pk, state="failed", message=describe_error(built.value), at=timezone.now()
    )

    client.force_login(coordinator)
    page_url = reverse("watch-sources", args=[org.slug, activation.pk])
    status_url = reverse("watch-sources-status", args=[org.slug, activation.pk])
    with english():
        page = client.get(page_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        feed = client.get(status_url, HTTP_ACCEPT_LANGUAGE="en").json()
    said = {s["id"]: s["message"] for s in feed["sources"]}
    unreachable = f"Sources proxy unreachable ({where}): "
    assert said[down.pk].startswith(unreachable) and said[down.pk].endswith(" s."), said
    assert "Next attempt in" in said[down.pk]
    assert said[wrong.pk] == (
        "Invalid configuration: Invalid server setting: BEFFROI_SOURCES_PROXY: "
        "“http://proxy” gives no port (http://host:port expected)."
    )
    # The page itself too, not only its live feed (HTML-escaped there).
    for message in said.values():
        assert escape(message) in page
    assert "injoignable" not in page and "Réglage du serveur" not in page
    # French readers read the runner's words.
    page = client.get(page_url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"Proxy des sources injoignable ({where}) : " in page
    assert "ne précise pas de port" in page
