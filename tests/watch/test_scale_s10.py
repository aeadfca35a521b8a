"""The watch room at the size of a long night: pages whose cost must not follow the
number of cards or lines (20,000 posts, 2,000 lines of main courante)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Nuit longue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )


def _cards(activation, n, **fields):
    from beffroi.watch.models import Card

    now = timezone.now()
    start = Card.objects.count()
    Card.objects.bulk_create(
        Card(
            activation=activation,
            group_id=f"g{start + i}",
            external_id=str(start + i),
            text=f"message {i}",
            posted_at=now,
            **{k: (v[i % len(v)] if isinstance(v, list) else v) for k, v in fields.items()},
        )
        for i in range(n)
    )


def test_triage_filters_name_each_language_once_not_each_card(
    client, members, activation, monkeypatch
):
    """The filters' languages were named card by card (a gettext call each): 1.4 s for
    the page at 20,000 cards. Each distinct value is named once now."""
    from beffroi.watch import views

    _cards(
        activation,
        300,
        lang=["fr", "en", "es", ""],
        info_type=["Caution and advice", "Not applicable", ""],
        source_kind=["rss", "mastodon"],
    )
    named: list[str] = []
    real = views.language_choices

    def counting(codes):
        codes = list(codes)
        named.extend(codes)
        return real(codes)

    monkeypatch.setattr(views, "language_choices", counting)
    client.force_login(members["volunteer"])
    page = client.get(reverse("watch-triage", args=[activation.organisation.slug, activation.pk]))
    assert page.status_code == 200
    assert sorted(named) == ["en", "es", "fr"]
    html = page.content.decode()
    for value in ("Caution and advice", "Not applicable", "rss", "mastodon"):
        assert f'value="{value}"' in html


def test_triage_facets_read_an_index_not_the_cards(activation):
    """One DISTINCT over three columns that an index covers (no card row, with its text,
    is read); on PostgreSQL the index is there for the planner to choose."""
    from beffroi.watch import views

    _cards(activation, 50, lang=["fr", "en"], info_type="Not applicable", source_kind="rss")
    with CaptureQueriesContext(connection) as queries:
        facets = views._facets(activation)
    assert facets == {"lang": {"fr", "en"}, "info_type": {"Not applicable"}, "source_kind": {"rss"}}
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "COVERING INDEX watch_card_facets" in plan, plan
        indexes = connection.introspection.get_constraints(cursor, "watch_card")
    assert indexes["watch_card_facets"]["columns"] == [
        "activation_id",
        "lang",
        "info_type",
        "source_kind",
    ]


@pytest.mark.parametrize("typed", ["Luçon", "85400"])
def test_a_zone_entry_is_looked_up_once(monkeypatch, typed):
    """_area_error looked each entry up, then _commune_error looked it up again."""
    from beffroi.geo import gazetteer
    from beffroi.watch import views

    calls: list[str] = []
    for name in ("by_postcode", "by_name"):
        real = getattr(gazetteer, name)

        def counting(value, _real=real, _name=name):
            calls.append(_name)
            return _real(value)

        monkeypatch.setattr(gazetteer, name, counting)
    said = views._area_error(["85", "85191", typed])
    assert said.startswith(f"Commune inconnue : {typed}. ")
    assert "85128 (Luçon, 85)" in said
    # Once for each entry that is not a commune's code ("85" is a département).
    assert sorted(calls) == ["by_name", "by_name", "by_postcode", "by_postcode"]
    assert views._area_error(["85", "85128"]) == ""


def test_query_parameters_with_a_nul_match_nothing_and_stay_out_of_links(activation):
    from django.http import QueryDict

    from beffroi.watch import views

    _cards(activation, 3, lang="fr")
    assert views._queue(activation, QueryDict("lang=fr")).count() == 3
    assert views._queue(activation, QueryDict("lang=f%00r")).count() == 0
    assert views._query(QueryDict("q=a%00b&commune=85128&depuis=2&other=1")) == (
        "commune=85128&depuis=2"
    )


def test_the_decided_page_reads_its_page_from_an_index(client, members, activation):
    """Newest decision first: on SQLite, the plan walks the (activation, state,
    -decided_at) index instead of sorting every decided card of the night."""
    from beffroi.watch.models import Card

    now = timezone.now()
    _cards(activation, 120, state="decided", decision="irrelevant")
    for i, card in enumerate(Card.objects.filter(activation=activation)):
        Card.objects.filter(pk=card.pk).update(decided_at=now - timezone.timedelta(minutes=i))
    client.force_login(members["volunteer"])
    url = reverse("watch-decided", args=[activation.organisation.slug, activation.pk])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    (listing,) = [q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"]]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {listing}")
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "INDEX watch_card_decided" in plan, plan
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        indexes = connection.introspection.get_constraints(cursor, "watch_card")
    assert indexes["watch_card_decided"]["columns"] == ["activation_id", "state", "decided_at"]


@pytest.mark.parametrize("typed", ["85128", "Luçon", "lucon", "LUÇON", "85400"])
def test_the_queue_s_commune_filter_reads_the_commune_as_the_gazetteer_does(activation, typed):
    from django.http import QueryDict

    from beffroi.watch import views

    _cards(activation, 2, commune_code="85128", commune_name="Luçon")
    _cards(activation, 1, commune_code="85191", commune_name="La Roche-sur-Yon")
    _cards(activation, 1)
    found = views._queue(activation, QueryDict(f"commune={typed}"))
    assert sorted(c.commune_code for c in found) == ["85128", "85128"]


def test_a_commune_the_gazetteer_does_not_know_still_filters_by_name(activation):
    from django.http import QueryDict

    from beffroi.watch import views

    _cards(activation, 1, commune_code="99999", commune_name="Atlantide")
    _cards(activation, 1, commune_code="85128", commune_name="Luçon")
    found = views._queue(activation, QueryDict("commune=atlantide"))
    assert [c.commune_name for c in found] == ["Atlantide"]
