"""The source form in the web app refuses an internal address under its field,
and saves nothing."""

from __future__ import annotations

import contextlib

import pytest
from django.urls import reverse
from django.utils.html import escape

from beffroi.watch.sources.netguard import ALLOW_ENV
from english_catalogue import english


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"kind": "rss", "url": "http://169.254.169.254/latest/meta-data/"},
            "url",
            "Adresse interne refusée : 169.254.169.254 (lien local).",
        ),
        (
            {"kind": "mastodon", "instance_url": "http://localhost:5432", "hashtags": "crue"},
            "instance_url",
            "Adresse interne refusée : localhost → 127.0.0.1 (boucle locale).",
        ),
    ],
)
def test_the_sources_page_refuses_an_internal_address(
    client, members, org, monkeypatch, data, field, message
) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    monkeypatch.delenv(ALLOW_ENV, raising=False)
    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    client.force_login(coord)
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    page = client.post(url, {"name": "Métadonnées", **data})
    assert page.status_code == 200
    assert list(page.context["form"].errors[field]) == [message]
    assert message in page.content.decode()
    assert not Source.objects.filter(activation=activation).exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "fr",
            "Réglage du serveur invalide : BEFFROI_SOURCES_PROXY : "
            "« socks5://proxy.pref.local:1080 » n'est pas un proxy http:// "
            "(http://hôte:port attendu).",
        ),
        (
            "en",
            "Invalid server setting: BEFFROI_SOURCES_PROXY: “socks5://proxy.pref.local:1080” "
            "is not an http:// proxy (http://host:port expected).",
        ),
    ],
)
def test_a_wrong_proxy_setting_is_the_address_fields_error(
    client, members, org, monkeypatch, language, message
) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources.netguard import PROXY_ENV

    monkeypatch.setenv(PROXY_ENV, "socks5://proxy.pref.local:1080")
    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    client.force_login(coord)
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    data = {"name": "Vigicrues", "kind": "rss", "url": "https://www.vigicrues.gouv.fr/rss"}
    with english() if language == "en" else contextlib.nullcontext():
        page = client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    assert list(page.context["form"].errors["url"]) == [message]
    assert escape(message) in page.content.decode()
    assert not Source.objects.filter(activation=activation).exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "fr",
            "Réglage du serveur invalide : BEFFROI_SOURCES_CA_FILE : « {path} » ne contient "
            "aucun certificat au format PEM (-----BEGIN CERTIFICATE-----).",
        ),
        (
            "en",
            "Invalid server setting: BEFFROI_SOURCES_CA_FILE: “{path}” holds no certificate "
            "in PEM format (-----BEGIN CERTIFICATE-----).",
        ),
    ],
)
def test_a_wrong_authorities_file_is_the_address_fields_error(
    client, members, org, monkeypatch, tmp_path, language, message
) -> None:
    """An operator who named a key, or a DER file, reads it when adding a source."""
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources.netguard import CA_FILE_ENV

    path = tmp_path / "pref-ca.der"
    path.write_bytes(b"0\x82\x03\x1c0\x82\x02\x04\xa0\x03\x02\x01\x02")
    monkeypatch.setenv(CA_FILE_ENV, str(path))
    message = message.format(path=path)
    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    client.force_login(coord)
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    data = {"name": "Instance", "kind": "mastodon", "instance_url": "https://mastodon.social"}
    with english() if language == "en" else contextlib.nullcontext():
        page = client.post(url, {**data, "hashtags": "crue"}, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    assert list(page.context["form"].errors["instance_url"]) == [message]
    assert escape(message) in page.content.decode()
    assert not Source.objects.filter(activation=activation).exists()


def test_a_wrong_authorities_file_on_a_sources_status_in_english(tmp_path) -> None:
    """What a network source's status says (retried), read by an English reader."""
    from beffroi.watch.sources.netguard import CA_FILE_ENV, SettingError, current_authorities
    from beffroi.watch.sources.runner import describe_error
    from beffroi.watch.views_i18n import SOURCE_STATUS

    path = tmp_path / "absent.pem"
    with pytest.raises(SettingError) as caught:
        current_authorities({CA_FILE_ENV: str(path)})
    status = f"{describe_error(caught.value)} Nouvel essai dans 8 s."
    with english():
        assert SOURCE_STATUS.say(status) == (
            f"Invalid configuration: Invalid server setting: BEFFROI_SOURCES_CA_FILE: “{path}” "
            "not found. Next attempt in 8 s."
        )
        assert SOURCE_STATUS.say(
            "Flux injoignable (https://a.example/rss) : certificat du serveur non reconnu "
            "(self-signed certificate) ; derrière un proxy qui déchiffre TLS, voir "
            "BEFFROI_SOURCES_CA_FILE. Nouvel essai dans 8 s."
        ) == (
            "Feed unreachable (https://a.example/rss): server certificate not recognised "
            "(self-signed certificate); behind a proxy that decrypts TLS, see "
            "BEFFROI_SOURCES_CA_FILE. Next attempt in 8 s."
        )
