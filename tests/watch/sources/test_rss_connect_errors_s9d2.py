"""A feed whose host name does not resolve read « connexion refusée », as a server
that was down did: nothing had refused anything, and the person checking the source
looked at the wrong thing. The status now tells the two apart (and any other failure
to connect), in French and in English."""

from __future__ import annotations

import errno
import socket
from typing import Any

import httpx
import pytest

from beffroi.watch.sources.base import SourceError
from beffroi.watch.sources.rss import RssConfig, RssSource, _connect_failure
from beffroi.watch.views_i18n import SOURCE_STATUS
from english_catalogue import english

UNKNOWN = "flux.example.invalid"


def _poll(url: str, pseudonymise: Any) -> str:
    source = RssSource("pref", RssConfig(url=url, timeout=2), pseudonymise=pseudonymise)
    with pytest.raises(SourceError) as err:
        source.poll({})
    return str(err.value)


@pytest.fixture
def unknown_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver says what it says of a name no DNS knows, without asking one."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == UNKNOWN:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_that_does_not_resolve_is_not_a_refusal(unknown_host: None, pseudonymise) -> None:
    said = _poll(f"https://{UNKNOWN}/rss.xml", pseudonymise)
    assert said == (
        f"Flux injoignable (https://{UNKNOWN}/rss.xml) : adresse introuvable "
        "(nom de domaine inconnu)."
    )


def test_a_closed_port_is_still_a_refusal(dead_url: str, pseudonymise) -> None:
    said = _poll(dead_url + "/rss", pseudonymise)
    assert said == f"Flux injoignable ({dead_url}/rss) : connexion refusée."


def test_another_failure_to_connect_says_neither() -> None:
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    try:
        try:
            raise unreachable
        except OSError as exc:
            raise httpx.ConnectError("[Errno 101] Network is unreachable") from exc
    except httpx.ConnectError as wrapped:
        assert _connect_failure(wrapped) == "connexion impossible (serveur ou réseau injoignable)"


@pytest.mark.parametrize(
    ("french", "english_text"),
    [
        (
            "Flux injoignable (https://a.invalid/f) : adresse introuvable (nom de domaine "
            "inconnu).",
            "Feed unreachable (https://a.invalid/f): address not found (unknown domain name).",
        ),
        (
            "Flux injoignable (https://a.invalid/f) : connexion impossible (serveur ou "
            "réseau injoignable).",
            "Feed unreachable (https://a.invalid/f): cannot connect (server or network "
            "unreachable).",
        ),
        (
            "Flux injoignable (https://a.invalid/f) : connexion refusée.",
            "Feed unreachable (https://a.invalid/f): connection refused.",
        ),
    ],
)
def test_the_sources_page_says_them_in_english(french: str, english_text: str) -> None:
    with english():
        assert SOURCE_STATUS.say(french) == english_text
    assert SOURCE_STATUS.say(french) == french
