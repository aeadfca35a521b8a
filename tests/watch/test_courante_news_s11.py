"""An older page of the main courante says how many lines arrived at the top since it was
drawn (« 3 nouvelles lignes — voir les plus récentes »): its live refresh carries the
newest line its reader could see then (``lu``), and the count is taken among the lines
this reader may see with the page's filters, so a partner never learns that internal
lines arrived (the valve)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

pytestmark = pytest.mark.usesdb


def _arrive(activation, count: int, *, for_partners: bool = True, category: str = "routes"):
    from beffroi.watch import actions

    for i in range(count):
        actions.add_log_entry(
            activation,
            actor=None,
            text=f"Arrivée {i}",
            channel="autre",
            category=category,
            for_partners=for_partners,
        )


def _rows_query(html: str) -> str:
    found = re.search(r'data-rows-url="[^"?]*\?([^"]*)"', html)
    assert found, "no live query on an older page"
    return unescape(found.group(1))


def _news(html: str) -> int:
    found = re.search(r'data-news="(\d+)"', html)
    return int(found.group(1)) if found else 0


def _url(name, activation):
    return reverse(name, args=[activation.organisation.slug, activation.pk])


def test_a_member_on_an_older_page_is_told_of_new_lines(client, members, night):
    client.force_login(members["volunteer"])
    page = client.get(_url("watch-courante", night), {"depuis": 150}).content.decode()
    query = _rows_query(page)
    assert query == "depuis=150&lu=250"
    assert _news(page) == 0
    rows_url = _url("watch-courante-rows", night)
    assert _news(client.get(f"{rows_url}?{query}").content.decode()) == 0
    _arrive(night, 3)
    _arrive(night, 1, for_partners=False)  # the team sees internal lines too
    rows = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(rows) == 4
    assert "4 nouvelles lignes — " in rows
    # The link goes to the newest page, the filters kept, no starting line.
    assert re.search(r'<a href="\?" data-testid="courante-newest">voir les plus récentes</a>', rows)
    # The page itself has not moved.
    assert re.findall(r'<tr data-entry="(\d+)"', rows)[0] == "150"
    # The newest page shows them at its top: no notice there; its mark starts again.
    top = client.get(_url("watch-courante", night)).content.decode()
    assert _news(top) == 0 and 'data-testid="courante-news"' not in top
    assert re.search(r'data-rows-url="[^"]*/main-courante/lignes/\?lu=254"', top)


def test_the_count_keeps_the_page_s_filters(client, members, night):
    client.force_login(members["volunteer"])
    page = client.get(
        _url("watch-courante", night), {"depuis": 149, "categorie": "routes"}
    ).content.decode()
    query = _rows_query(page)
    assert query == "categorie=routes&depuis=149&lu=250"
    _arrive(night, 2, category="routes")
    _arrive(night, 5, category="degats")
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert _news(rows) == 2
    assert "2 nouvelles lignes" in rows
    assert 'href="?categorie=routes" data-testid="courante-newest"' in rows


def test_one_line_is_said_in_the_singular(client, members, night):
    client.force_login(members["volunteer"])
    query = _rows_query(client.get(_url("watch-courante", night), {"depuis": 150}).content.decode())
    _arrive(night, 1)
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert "1 nouvelle ligne — " in rows and _news(rows) == 1


def test_a_partner_link_counts_shared_lines_only(client, members, night):
    from beffroi.watch import actions

    _link, token = actions.create_partner_link(
        night, label="COD", days=1, actor=members["coordinator"]
    )
    page = client.get(reverse("watch-partner", args=[token]), {"depuis": 124}).content.decode()
    # The newest line a partner could see was 249 (250 is internal): « lu » names no
    # internal line.
    query = _rows_query(page)
    # A partner's mark also says when the page was drawn (lines shared since are news).
    assert re.fullmatch(r"depuis=124&lu=249_\d+", query)
    _arrive(night, 3, for_partners=False)
    rows_url = reverse("watch-partner-rows", args=[token])
    quiet = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(quiet) == 0 and "courante-news" not in quiet
    _arrive(night, 2)
    rows = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(rows) == 2 and "interne" not in rows
    # A « lu » of their own choosing counts only what they may see anyway.
    probe = client.get(f"{rows_url}?depuis=124&lu=0").content.decode()
    # (202 lines, less the 100 on the page itself, which are in front of the reader.)
    assert _news(probe) == 102


def test_a_partner_account_counts_shared_lines_only(client, members, night):
    client.force_login(members["partner"])
    page = client.get(_url("watch-courante", night), {"depuis": 124}).content.decode()
    query = _rows_query(page)
    # A partner's mark also says when the page was drawn (lines shared since are news).
    assert re.fullmatch(r"depuis=124&lu=249_\d+", query)
    _arrive(night, 2, for_partners=False)
    _arrive(night, 1)
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert _news(rows) == 1


@pytest.mark.parametrize("value", ["", "x", "-1", "9" * 40])
def test_a_malformed_mark_says_nothing(client, members, night, value):
    client.force_login(members["volunteer"])
    _arrive(night, 2)
    rows = client.get(_url("watch-courante-rows", night), {"depuis": 150, "lu": value})
    assert rows.status_code == 200 and _news(rows.content.decode()) == 0


def test_a_status_change_on_an_older_page_keeps_its_notice(client, members, night):
    """The forms come back to the page with its mark: a volunteer who changes a line's
    status on page 2 is still told of the lines that arrived meanwhile."""
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    page = client.get(_url("watch-courante", night), {"depuis": 150}).content.decode()
    retour = unescape(re.search(r'name="retour" value="([^"]*)"', page).group(1))
    assert retour == "depuis=150&lu=250"
    _arrive(night, 3)
    entry = LogEntry.objects.get(activation=night, number=120)
    response = client.post(
        reverse("watch-courante-status", args=[night.organisation.slug, night.pk, entry.pk]),
        {"status": "clos", "retour": retour},
    )
    assert response["Location"].endswith("/main-courante/?depuis=150&lu=250#ligne-120")
    back = client.get(response["Location"].split("#")[0]).content.decode()
    assert _news(back) == 3 and "3 nouvelles lignes" in back
    assert _rows_query(back) == "depuis=150&lu=250"
