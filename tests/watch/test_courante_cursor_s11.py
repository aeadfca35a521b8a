"""The main courante's older pages do not shift: they start at a line (keyset on the
lines' time and number), so lines arriving while someone reads page 3 neither skip nor
repeat a line at the next « plus anciennes ». The newest page stays live; filters, search
and the count keep working; a partner's read-only view pages the same way and shows only
what it showed before (the valve)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-entry="(\d+)"', html)]


def _link(html: str, testid: str) -> str | None:
    found = re.search(rf'<a href="\?([^"]*)" rel="[a-z]+" data-testid="{testid}"', html)
    return unescape(found.group(1)) if found else None


def _url(name, activation, *args):
    return reverse(name, args=[activation.organisation.slug, activation.pk, *args])


def _arrive(activation, count: int, **fields):
    from beffroi.watch import actions

    for i in range(count):
        actions.add_log_entry(
            activation,
            actor=None,
            text=fields.get("text", f"Nouvelle ligne {i}"),
            channel="autre",
            category=fields.get("category", "routes"),
            for_partners=fields.get("for_partners", True),
        )


def _walk(get, first_query: str = "", limit: int = 10) -> list[int]:
    """Every line, following « plus anciennes » from the first page."""
    seen: list[int] = []
    query: str | None = first_query
    while query is not None and limit:
        html = get(query)
        seen += _numbers(html)
        query = _link(html, "courante-older")
        limit -= 1
    return seen


def test_lines_arriving_while_reading_neither_skip_nor_repeat(client, members, night):
    client.force_login(members["volunteer"])
    url = _url("watch-courante", night)

    def get(query: str) -> str:
        return client.get(f"{url}?{query}").content.decode()

    first = get("")
    assert _numbers(first) == list(range(250, 150, -1))
    # The link down carries what the reader had been shown (« lu »): see
    # test_courante_notice_gaps_s12.py.
    assert _link(first, "courante-older") == "depuis=150&lu=250"
    second = get("depuis=150")
    assert _numbers(second) == list(range(150, 50, -1))
    assert "Lignes 101 à 200 sur 250" in second
    # Seven lines arrive while page 2 is read: it shows the same lines (its place in the
    # whole moves down by seven, which its range says), and page 3 follows on from it.
    _arrive(night, 7)
    again = get("depuis=150")
    assert _numbers(again) == _numbers(second)
    assert "Lignes 108 à 207 sur 257" in again
    older = _link(again, "courante-older")
    assert older == "depuis=50&lu=257"
    third = get(older)
    assert _numbers(third) == list(range(50, 0, -1))
    assert _link(third, "courante-older") is None
    # Back up: the page above page 2 is the 100 lines just newer than it, then the
    # newest page, live, without a starting line.
    assert _link(again, "courante-newer") == "depuis=250&lu=257"
    above = get("depuis=250")
    assert _numbers(above) == list(range(250, 150, -1))
    assert "Lignes 8 à 107 sur 257" in above
    assert _link(above, "courante-newer") == ""
    top = get("")
    assert _numbers(top)[:8] == [257, 256, 255, 254, 253, 252, 251, 250]
    # Every line once, from the top.
    assert _walk(get) == list(range(257, 0, -1))


def test_the_live_refresh_and_the_way_back_keep_the_page_s_first_line(client, members, night):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    page = client.get(_url("watch-courante", night), {"depuis": 150, "q": "Ligne"}).content
    assert re.search(
        r'data-rows-url="[^"]*/main-courante/lignes/\?q=Ligne&amp;depuis=150&amp;lu=250"',
        page.decode(),
    )
    _arrive(night, 3, text="Ligne arrivée")
    rows = client.get(_url("watch-courante-rows", night), {"q": "Ligne", "depuis": 150})
    assert _numbers(rows.content.decode())[0] == 150
    entry = LogEntry.objects.get(activation=night, number=120)
    response = client.post(
        _url("watch-courante-status", night, entry.pk),
        {"status": "clos", "retour": "q=Ligne&depuis=150"},
    )
    assert response["Location"].endswith("/main-courante/?q=Ligne&depuis=150#ligne-120")
    # The newest page's refresh is the newest page: new lines come in at the top.
    top = client.get(_url("watch-courante", night)).content.decode()
    assert re.search(r'data-rows-url="[^"]*/main-courante/lignes/\?lu=253"', top)
    assert _numbers(client.get(_url("watch-courante-rows", night)).content.decode())[0] == 253


def test_filters_page_by_their_own_lines(client, members, night):
    client.force_login(members["volunteer"])
    url = _url("watch-courante", night)

    def get(query: str) -> str:
        return client.get(f"{url}?{query}").content.decode()

    first = get("categorie=routes&q=Ligne")
    assert "Lignes 1 à 100 sur 125" in first
    older = _link(first, "courante-older")
    assert older == "q=Ligne&categorie=routes&depuis=49&lu=250"
    second = get(older)
    assert _numbers(second) == list(range(49, 0, -2))
    assert "Lignes 101 à 125 sur 125" in second
    assert _walk(get, "categorie=routes&q=Ligne") == list(range(249, 0, -2))
    # Exports take every line of the filters, whatever the page.
    assert re.findall(r'href="[^"]*/export\.csv\?([^"]*)"', second) == [
        "q=Ligne&amp;categorie=routes"
    ]
    # A line outside the filter still marks a place (looked up among every line the
    # reader may see, filters aside): a page's first line whose status changed out of a
    # status filter does not send the reader back to the top.
    assert _numbers(get("categorie=routes&depuis=50"))[0] == 49
    from beffroi.watch.models import LogEntry

    LogEntry.objects.filter(activation=night, number=49).update(status="clos")
    assert _numbers(get("statut=ouvert&depuis=49"))[:2] == [48, 47]


@pytest.mark.parametrize("value", ["", "deux", "0", "99999", "-3", "1e3", "9" * 40])
def test_an_unknown_starting_line_gives_the_newest_page(client, members, night, value):
    client.force_login(members["volunteer"])
    html = client.get(_url("watch-courante", night), {"depuis": value}).content.decode()
    assert _numbers(html)[0] == 250 and "Lignes 1 à 100 sur 250" in html


def test_a_page_emptied_by_a_filter_shows_the_oldest_lines(client, members, night):
    """« depuis=2 » with the odd lines only: nothing from line 2 down but line 1… and
    with a search that matches only recent lines, nothing at all from there: the oldest
    lines of the filter, as the last page, rather than an empty page."""
    client.force_login(members["volunteer"])
    url = _url("watch-courante", night)
    html = client.get(url, {"q": "numéro 2", "depuis": 3}).content.decode()
    # "numéro 2xx" lines are 200–250; line 3 is older than all of them.
    assert _numbers(html) == list(range(250, 199, -1))
    assert _link(html, "courante-older") is None


def test_a_partner_pages_through_partner_lines_only(client, members, night):
    from beffroi.watch import actions

    _link_obj, token = actions.create_partner_link(
        night, label="COD", days=1, actor=members["coordinator"]
    )
    url = reverse("watch-partner", args=[token])

    def get(query: str) -> str:
        html = client.get(f"{url}?{query}").content.decode()
        assert "interne" not in html
        return html

    first = get("")
    assert "Lignes 1 à 100 sur 200" in first
    # Line 125 is internal; a partner's mark also says when the page was drawn.
    assert re.fullmatch(r"depuis=124&lu=249_\d+", _link(first, "courante-older") or "")
    _arrive(night, 4, for_partners=False)  # internal lines: nothing moves for partners
    _arrive(night, 2)
    second = get("depuis=124")
    assert _numbers(second) == [n for n in range(124, 0, -1) if n % 5]
    assert "Lignes 103 à 202 sur 202" in second
    assert _walk(get) == [256, 255] + [n for n in range(250, 0, -1) if n % 5]
    rows = client.get(reverse("watch-partner-rows", args=[token]), {"depuis": 124})
    assert _numbers(rows.content.decode()) == _numbers(second)
    # An internal line's number tells a partner nothing: the newest page, as for any
    # number they cannot see.
    probe = get("depuis=100")
    assert _numbers(probe) == _numbers(get(""))
    # The team's view of the same line starts there.
    client.force_login(members["partner"])
    partner_page = client.get(_url("watch-courante", night), {"depuis": 100}).content.decode()
    assert _numbers(partner_page) == _numbers(probe)
    client.force_login(members["volunteer"])
    team = client.get(_url("watch-courante", night), {"depuis": 100}).content.decode()
    assert _numbers(team)[0] == 100
