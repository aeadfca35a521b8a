"""A Bluesky source's AppView over plain http:// only to this machine or a network
the deployment allows (``BEFFROI_SOURCES_ALLOW_NETWORKS``): the authors' profiles
decide how their posts are triaged, and a plain connection across networks nobody
here vouches for can be read and rewritten on the way."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beffroi.watch.sources.base import ConfigError
from beffroi.watch.sources.bluesky import BlueskyConfig
from beffroi.watch.sources.netguard import ALLOW_ENV, NetworkPolicy, parse_networks
from english_catalogue import english

REFUSED = (
    "Adresse AppView en http:// refusée : https:// attendu (http:// seulement vers cette "
    "machine ou un réseau de BEFFROI_SOURCES_ALLOW_NETWORKS)."
)


def appview(url: str) -> str:
    return BlueskyConfig.from_form({"keywords": "crue", "appview": url}).appview


@pytest.mark.parametrize(
    "url",
    [
        "http://public.api.bsky.app",
        "HTTP://api.example.org/",
        "http://93.184.215.14:8080",  # a public address written out
        "http://[2606:4700::1111]",
        "http://127.0.0.1.nip.io",  # a name: not looked up, so not known to be local
    ],
)
def test_plain_http_to_the_outside_is_refused_with_a_field_error(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        appview(url)
    assert err.value.errors == {"appview": REFUSED}


def test_https_anywhere_and_http_to_allowed_networks_are_accepted(monkeypatch) -> None:
    assert appview("https://api.example.org/") == "https://api.example.org"
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8, ::1/128, 10.20.0.0/16")
    assert appview("http://127.0.0.1:8123") == "http://127.0.0.1:8123"
    assert appview("http://[::1]:8123/") == "http://[::1]:8123"
    assert appview("http://localhost:8123") == "http://localhost:8123"
    assert appview("http://10.20.3.4") == "http://10.20.3.4"
    # Another intranet network than the one allowed: refused as internal, first.
    with pytest.raises(ConfigError) as err:
        appview("http://10.30.3.4")
    assert "10.30.3.4" in err.value.errors["appview"]
    assert err.value.errors["appview"] != REFUSED


def test_the_rule_reads_the_written_host_only() -> None:
    policy = NetworkPolicy(parse_networks("192.0.2.0/24"))
    assert policy.plain_http_allowed("http://192.0.2.9/x")
    assert policy.plain_http_allowed("http://[::1]")  # loopback, whatever is allowed
    assert policy.plain_http_allowed("http://app.localhost:80")
    assert not policy.plain_http_allowed("http://198.51.100.1")
    assert not policy.plain_http_allowed("http://intranet.example")
    assert not policy.plain_http_allowed("http://[::1")  # unbalanced bracket
    assert not policy.plain_http_allowed("http:///nohost")


def test_the_sources_form_says_it_in_french_and_english(client, members, source_room, org) -> None:
    from beffroi.watch.models import Source

    activation, _source = source_room("rss")
    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    data = {
        "kind": "bluesky",
        "name": "Bluesky crue",
        "keywords": "crue",
        "profiles": "on",
        "appview": "http://public.api.bsky.app",
    }
    page = client.post(url, data)
    assert page.status_code == 200
    assert " ".join(page.context["form"].errors["appview"]) == REFUSED
    with english():
        page = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert " ".join(page.context["form"].errors["appview"]) == (
        "AppView address over http:// refused: https:// expected (http:// only to this "
        "machine or a network in BEFFROI_SOURCES_ALLOW_NETWORKS)."
    )
    assert Source.objects.filter(activation=activation, kind="bluesky").count() == 0
    page = client.post(url, {**data, "appview": "https://public.api.bsky.app"})
    assert page.status_code == 302
    assert Source.objects.filter(activation=activation, kind="bluesky").count() == 1
