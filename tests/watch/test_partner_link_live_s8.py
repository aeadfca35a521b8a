"""A partner link's page is live like the partner account's (session 8 walkthrough: a line
shared with partners reached the account's page in 0.5 s and never the link's, which had
no stream). Its rows endpoint is a journaled, counted use of the link; its stream carries
no line, is neither journaled nor counted in the link's uses, and ends once the link is
revoked or expires."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry
from beffroi.watch import live

SHARED = "Route D746 coupée à Chasnais"
SECRET = "Information interne : ne pas diffuser"


@pytest.fixture
def world(org, members, monkeypatch):
    from beffroi.watch import actions

    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(live, "WSGI_MAX", 5.0)
    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    actions.add_log_entry(
        activation, actor=coord, text=SHARED, channel="telephone", category="routes"
    )
    actions.add_log_entry(
        activation,
        actor=coord,
        text=SECRET,
        channel="observation",
        category="routes",
        for_partners=False,
    )
    actions.add_log_entry(
        activation, actor=coord, text="Gymnase ouvert", channel="officiel", category="officiel"
    )
    link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    return {"activation": activation, "link": link, "token": token, "coord": coord}


def _uses() -> list[str]:
    entries = JournalEntry.objects.filter(action="watch.partner_link.view").order_by("seq")
    return [e.data["what"] for e in entries]


def _rows(client, token, query=""):
    return client.get(reverse("watch-partner-rows", args=[token]) + query)


def _headers_ok(response) -> bool:
    return response["Referrer-Policy"] == "strict-origin" and response["X-Robots-Tag"] == "noindex"


def test_the_rows_are_what_a_partner_sees_with_the_pages_filters(client, world):
    response = _rows(client, world["token"])
    html = response.content.decode()
    assert response.status_code == 200 and _headers_ok(response)
    assert SHARED in html and "Gymnase ouvert" in html and SECRET not in html
    # No column or form of the team's page.
    assert "status-form" not in html and "csrfmiddlewaretoken" not in html
    filtered = _rows(client, world["token"], "?categorie=routes").content.decode()
    assert SHARED in filtered and "Gymnase ouvert" not in filtered
    assert _uses() == ["rows", "rows"]


def test_the_rows_die_with_the_link_and_count_in_its_limit(client, world, settings):
    from beffroi.watch import actions
    from beffroi.watch.models import PartnerLink

    settings.BEFFROI_PARTNER_LINK_LIMIT = 2
    assert client.get(reverse("watch-partner", args=[world["token"]])).status_code == 200
    assert _rows(client, world["token"]).status_code == 200
    over = _rows(client, world["token"])
    assert over.status_code == 429 and "trop souvent" in over.content.decode()
    assert _uses() == ["page", "rows"]  # a refused use writes nothing

    actions.revoke_partner_link(world["link"], actor=world["coord"])
    assert _rows(client, world["token"]).status_code == 404
    _other, token = actions.create_partner_link(
        world["activation"], label="SDIS", days=1, actor=world["coord"]
    )
    PartnerLink.objects.filter(label="SDIS").update(expires_at=timezone.now() - timedelta(1))
    assert _rows(client, token).status_code == 404


def _open(client, token):
    response = client.get(reverse("watch-partner-stream", args=[token]))
    assert response.status_code == 200 and _headers_ok(response)
    assert response["Content-Type"] == "text/event-stream"
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    first = next(chunks).decode()
    assert first.startswith("event: change\ndata: ")
    return chunks, first.split("data: ", 1)[1].strip()


def test_the_page_says_its_version_and_the_stream_starts_from_it(client, world):
    html = client.get(reverse("watch-partner", args=[world["token"]]) + "?q=Route").content
    page = html.decode()
    version = re.search(r'data-version="([^"]+)"', page).group(1)
    rows_url = reverse("watch-partner-rows", args=[world["token"]]) + "?q=Route"
    # With the mark of what the page showed (« lu »), for its notice of new lines.
    assert re.search(rf'data-rows-url="{re.escape(rows_url)}&amp;lu=\d+_\d+"', page)
    assert "watch/courante.js" in page
    _chunks, streamed = _open(client, world["token"])
    # Nothing changed since the page: the script has nothing to fetch.
    assert streamed == version


def test_a_shared_line_is_announced_an_internal_one_is_not(client, world):
    from beffroi.watch import actions

    chunks, first = _open(client, world["token"])
    actions.add_log_entry(
        world["activation"],
        actor=world["coord"],
        text="Autre information interne",
        channel="autre",
        category="autre",
        for_partners=False,
    )
    actions.add_log_entry(
        world["activation"], actor=world["coord"], text="Pont fermé", channel="autre",
        category="routes",
    )  # fmt: skip
    event = next(chunks).decode()
    assert event.startswith("event: change") and first not in event
    # The event carries a version, never a line.
    assert "Pont fermé" not in event and "interne" not in event
    assert _uses() == []  # the stream is not a use


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_the_stream_ends_when_the_link_dies(client, world, how):
    from beffroi.watch import actions
    from beffroi.watch.models import PartnerLink

    chunks, _first = _open(client, world["token"])
    if how == "revoked":
        actions.revoke_partner_link(world["link"], actor=world["coord"])
    else:
        PartnerLink.objects.filter(pk=world["link"].pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    # A line shared afterwards: a stream still running would announce it.
    actions.add_log_entry(
        world["activation"], actor=world["coord"], text="Pont fermé", channel="autre",
        category="routes",
    )  # fmt: skip
    assert list(chunks) == []
    # The browser's reconnection meets a 404: the page's script then says so.
    assert client.get(reverse("watch-partner-stream", args=[world["token"]])).status_code == 404


def test_opening_the_stream_uses_none_of_the_links_reads(client, world, settings):
    # A page reconnects on its own (every WSGI_MAX seconds under WSGI, after a network
    # cut): that must not eat what the partners may read, nor grow the journal.
    settings.BEFFROI_PARTNER_LINK_LIMIT = 2
    for _ in range(2):
        assert client.get(reverse("watch-partner-stream", args=[world["token"]])).status_code == 200
    assert client.get(reverse("watch-partner", args=[world["token"]])).status_code == 200
    assert _uses() == ["page"]
    # Its own count has a limit too: a leaked link cannot open streams without bound.
    over = client.get(reverse("watch-partner-stream", args=[world["token"]]))
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    assert _rows(client, world["token"]).status_code == 200


def test_an_unknown_token_reaches_neither(client, world):
    for name in ("watch-partner-rows", "watch-partner-stream"):
        assert client.get(reverse(name, args=["pas-un-jeton"])).status_code == 404
        assert client.post(reverse(name, args=[world["token"]])).status_code == 405
    assert _uses() == []


def test_the_dead_link_sentence_is_in_the_readers_language(client, world):
    from english_catalogue import english

    url = reverse("watch-partner", args=[world["token"]])
    assert "Ce lien n&#x27;est plus valable" in client.get(url).content.decode()
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This link is no longer valid (expired or revoked)" in page
