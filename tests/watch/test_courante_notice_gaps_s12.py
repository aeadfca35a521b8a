"""The main courante's notice of lines its reader has not been shown
(docs/decisions/watch-room-scale.md): the mark (« lu ») travels along the page links; a
line shared with the partners after the fact is news to them; a line whose earlier time
puts it below the page is said (« 1 ligne ajoutée plus bas »); an old « ?page=N » link
says it shows the newest lines. Through it all a partner is told of no line they may not
see, count included (the valve)."""

from __future__ import annotations

import re
import time
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.usesdb


def _url(name, activation):
    return reverse(name, args=[activation.organisation.slug, activation.pk])


def _arrive(activation, count: int = 1, *, for_partners: bool = True, at=None, text="Arrivée"):
    from beffroi.watch import actions

    return [
        actions.add_log_entry(
            activation,
            actor=None,
            text=f"{text} {i}",
            channel="telephone",
            category="routes",
            for_partners=for_partners,
            at=at,
        )
        for i in range(count)
    ]


def _at(activation, number: int):
    """The time of line ``number`` of the night, 20 seconds earlier: a backdated line
    lands just below it."""
    from beffroi.watch.models import LogEntry

    line = LogEntry.objects.get(activation=activation, number=number)
    return line.at - timezone.timedelta(seconds=20)


def _share(activation, number: int, on: bool, who):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    entry = LogEntry.objects.get(activation=activation, number=number)
    assert actions.set_entry_sharing(entry, on, actor=who)


def _rows_query(html: str) -> str:
    found = re.search(r'data-rows-url="[^"?]*\?([^"]*)"', html)
    assert found, "no live query"
    return unescape(found.group(1))


def _link(html: str, testid: str) -> str | None:
    found = re.search(rf'<a href="\?([^"#]*)[^"]*"[^>]* data-testid="{testid}"', html)
    return unescape(found.group(1)) if found else None


def _news(html: str) -> int:
    found = re.search(r'data-news="(\d+)"', html)
    return int(found.group(1)) if found else 0


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-entry="(\d+)"', html)]


@pytest.fixture
def partner_link(night, members):
    from beffroi.watch import actions

    _link_obj, token = actions.create_partner_link(
        night, label="COD", days=1, actor=members["coordinator"]
    )
    return reverse("watch-partner", args=[token]), reverse("watch-partner-rows", args=[token])


# -- the mark travels along the page links ---------------------------------------------


def test_lines_arrived_before_paging_down_are_announced_on_the_older_page(client, members, night):
    client.force_login(members["volunteer"])
    url = _url("watch-courante", night)
    top = client.get(url).content.decode()
    older = _link(top, "courante-older")
    assert older == "depuis=150&lu=250"
    # Three lines arrive after the newest page was drawn, before « plus anciennes »: the
    # reader never saw them, and page 2 says so (it used to start counting afresh).
    _arrive(night, 3)
    second = client.get(f"{url}?{older}").content.decode()
    assert _news(second) == 3 and "3 nouvelles lignes — " in second
    # On down and back up between older pages: the same mark, the same count.
    third = client.get(f"{url}?{_link(second, 'courante-older')}").content.decode()
    assert _link(second, "courante-older") == "depuis=50&lu=250"
    assert _news(third) == 3
    assert _link(third, "courante-newer") == "depuis=150&lu=250"
    # Up: the page just above keeps the mark; the newest page is caught up, so the links
    # to it carry none (it is live: what arrives comes in at its top).
    assert _link(second, "courante-newer") == "depuis=250&lu=250"
    above = client.get(f"{url}?depuis=250&lu=250").content.decode()
    assert _news(above) == 3
    assert _link(above, "courante-newer") == "" and _link(above, "courante-newest") == ""


def test_lines_seen_live_on_the_newest_page_are_not_news_below(client, members, night):
    client.force_login(members["volunteer"])
    _arrive(night, 2)
    # The newest page's refresh showed lines 251 and 252 at its top: its link down says
    # the reader has had them under their eyes.
    query = _rows_query(client.get(_url("watch-courante", night)).content.decode())
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    older = _link(rows, "courante-older")
    assert older == "depuis=152&lu=252"
    page = client.get(f"{_url('watch-courante', night)}?{older}").content.decode()
    assert _news(page) == 0 and "courante-news" not in page


def test_the_forms_way_back_keeps_the_mark(client, members, night):
    from beffroi.watch.models import LogEntry

    client.force_login(members["coordinator"])
    entry = LogEntry.objects.get(activation=night, number=120)
    response = client.post(
        reverse("watch-courante-status", args=[night.organisation.slug, night.pk, entry.pk]),
        {"status": "clos", "note": "vu", "retour": "depuis=150&lu=250"},
    )
    assert response["Location"].endswith("?depuis=150&lu=250#ligne-120")


# -- a line shared after the fact -------------------------------------------------------


def test_a_line_shared_later_is_news_to_a_partner_link(client, members, night, partner_link):
    page_url, rows_url = partner_link
    query = _rows_query(client.get(page_url, {"depuis": 124}).content.decode())
    assert re.fullmatch(r"depuis=124&lu=249_\d+", query)
    # Line 200 was internal; the team sends it to the partners. It keeps its number
    # (below the mark) and its place above page 2: it is news to them all the same.
    _share(night, 200, True, members["coordinator"])
    rows = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(rows) == 1 and "1 nouvelle ligne — " in rows
    # Withdrawn again: gone from their count as from their pages (the valve).
    _share(night, 200, False, members["coordinator"])
    rows = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(rows) == 0 and "interne" not in rows


def test_a_line_shared_later_below_the_page_is_said_below(client, members, night, partner_link):
    page_url, rows_url = partner_link
    # A partner's newest page: their 100 newest lines, 249 down to 126; line 10
    # (internal) would sit far below it.
    page = client.get(page_url).content.decode()
    query = _rows_query(page)
    assert re.fullmatch(r"lu=249_\d+", query)
    assert _numbers(page)[-1] == 126
    _share(night, 10, True, members["coordinator"])
    rows = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(rows) == 1 and "1 ligne ajoutée plus bas — " in rows
    below = _link(rows, "courante-below")
    assert below is not None and below.startswith("depuis=10&lu=249_")
    assert rows.count('#ligne-10"') == 1


def test_a_partner_account_hears_of_lines_shared_later(client, members, night):
    client.force_login(members["partner"])
    query = _rows_query(client.get(_url("watch-courante", night), {"depuis": 124}).content.decode())
    _share(night, 150, True, members["coordinator"])
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert _news(rows) == 1


def test_sharing_is_no_news_to_the_team(client, members, night):
    client.force_login(members["volunteer"])
    query = _rows_query(client.get(_url("watch-courante", night), {"depuis": 150}).content.decode())
    assert query == "depuis=150&lu=250"  # a member's mark has no second: no use for it
    _share(night, 200, True, members["coordinator"])
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert _news(rows) == 0


def test_a_line_shared_before_the_mark_is_not_news(client, members, night, partner_link):
    _page_url, rows_url = partner_link
    _share(night, 200, True, members["coordinator"])
    later = int(time.time()) + 60  # a page drawn a minute after the sharing
    rows = client.get(rows_url, {"depuis": 124, "lu": f"249_{later}"}).content.decode()
    assert _news(rows) == 0
    # A mark without its second (a page drawn before marks had one) cannot tell.
    rows = client.get(rows_url, {"depuis": 124, "lu": "249"}).content.decode()
    assert _news(rows) == 0


# -- a line written with an earlier time ------------------------------------------------


def test_a_backdated_line_below_the_newest_page_is_announced(client, members, night):
    client.force_login(members["volunteer"])
    url = _url("watch-courante", night)
    query = _rows_query(client.get(url).content.decode())
    assert query == "lu=250"
    # A phone call logged with the time it happened: between lines 100 and 99, far
    # below the newest page (250 to 151).
    (call,) = _arrive(night, at=_at(night, 100), text="Appel de la mairie")
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert call.number not in _numbers(rows)
    assert _news(rows) == 1 and "1 ligne ajoutée plus bas — " in rows
    assert re.search(r'data-testid="courante-below">la voir</a>', rows)
    below = _link(rows, "courante-below")
    assert below == f"depuis={call.number}&lu={call.number}"
    assert f'#ligne-{call.number}"' in rows
    # The link leads to the page that starts at it; there it is in front of the reader.
    there = client.get(f"{url}?{below}").content.decode()
    assert _numbers(there)[0] == call.number and _news(there) == 0


def test_a_backdated_line_on_the_page_is_shown_not_announced(client, members, night):
    client.force_login(members["volunteer"])
    query = _rows_query(client.get(_url("watch-courante", night), {"depuis": 150}).content.decode())
    (call,) = _arrive(night, at=_at(night, 120))
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert call.number in _numbers(rows) and _news(rows) == 0


def test_lines_above_and_below_are_said_together(client, members, night):
    client.force_login(members["volunteer"])
    query = _rows_query(client.get(_url("watch-courante", night), {"depuis": 150}).content.decode())
    _arrive(night, 2)
    _arrive(night, 1, at=_at(night, 30))
    _arrive(night, 1, at=_at(night, 20))
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert _news(rows) == 4
    assert "2 nouvelles lignes — " in rows and "2 lignes ajoutées plus bas — " in rows
    assert re.search(r'data-testid="courante-below">voir la plus récente</a>', rows)
    # The higher of the two (written first, at line 30's time) is where the link goes.
    assert _link(rows, "courante-below") == "depuis=253&lu=250"


def test_a_partner_is_not_told_of_a_backdated_internal_line(client, members, night, partner_link):
    page_url, rows_url = partner_link
    query = _rows_query(client.get(page_url).content.decode())
    _arrive(night, at=_at(night, 100), for_partners=False, text="Appel interne")
    rows = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(rows) == 0 and "courante-news" not in rows
    _arrive(night, at=_at(night, 100), text="Appel transmis")
    rows = client.get(f"{rows_url}?{query}").content.decode()
    assert _news(rows) == 1
    # The link names the shared line, never the internal one (252, not 251).
    assert _link(rows, "courante-below").startswith("depuis=252&")


@pytest.mark.parametrize(("start", "news"), [("", 2), ("199", 4)])
def test_a_partner_count_is_only_of_lines_they_may_see(client, members, night, start, news):
    """Every kind of news at once, half of it internal: the partner's count is the
    count of what they may see, found again line by line."""
    client.force_login(members["partner"])
    query = _rows_query(
        client.get(
            _url("watch-courante", night), {"depuis": start} if start else {}
        ).content.decode()
    )
    _arrive(night, 3, for_partners=False)
    _arrive(night, 2)
    _arrive(night, 2, at=_at(night, 20), for_partners=False)
    _arrive(night, 1, at=_at(night, 20))
    _share(night, 5, True, members["coordinator"])  # below every page
    _share(night, 244, False, members["coordinator"])  # withdrawn: gone, not news
    rows = client.get(f"{_url('watch-courante-rows', night)}?{query}").content.decode()
    assert "interne" not in rows
    # New to them: 2 arrived (the newest page shows them itself), and below either
    # page 1 backdated and line 5 shared.
    assert _news(rows) == news


# -- old numbered links -----------------------------------------------------------------


def test_an_old_numbered_link_says_it_shows_the_newest_lines(client, members, night):
    client.force_login(members["volunteer"])
    html = client.get(_url("watch-courante", night), {"page": 3}).content.decode()
    assert _numbers(html)[0] == 250
    assert 'data-testid="numbered-page"' in html
    assert "ce que la main courante ne fait plus : voici les lignes les plus récentes" in html
    plain = client.get(_url("watch-courante", night)).content.decode()
    assert 'data-testid="numbered-page"' not in plain
    # A page that names its line is not an old link, whatever else it holds.
    paged = client.get(_url("watch-courante", night), {"page": 3, "depuis": 150})
    assert 'data-testid="numbered-page"' not in paged.content.decode()


def test_an_old_numbered_partner_link_says_so_too(client, night, partner_link):
    page_url, _rows_url = partner_link
    html = client.get(page_url, {"page": "2"}).content.decode()
    assert 'data-testid="numbered-page"' in html and "interne" not in html


def test_an_old_numbered_decided_link_says_it_shows_the_newest_decisions(client, members, night):
    client.force_login(members["volunteer"])
    url = _url("watch-decided", night)
    html = client.get(url, {"page": 2}).content.decode()
    assert html.count('data-testid="numbered-page"') == 1
    assert "voici les décisions les plus récentes" in html
    assert 'data-testid="numbered-page"' not in client.get(url).content.decode()


def test_a_mark_of_their_own_making_counts_only_this_activation(
    client, org, members, night, partner_link
):
    """« lu=249_0 » reaches back to 1970: the lines shared in another activation of the
    same organisation are neither counted nor named."""
    from beffroi.watch import actions

    other = actions.create_activation(
        org, name="Autre crue", event_type="inondation", actor=members["coordinator"]
    )
    (line,) = _arrive(other, for_partners=False, text="Ailleurs")
    assert actions.set_entry_sharing(line, True, actor=members["coordinator"])
    _page_url, rows_url = partner_link
    rows = client.get(rows_url, {"depuis": 124, "lu": "249_0"}).content.decode()
    assert _news(rows) == 0 and "Ailleurs" not in rows
    _share(night, 200, True, members["coordinator"])
    rows = client.get(rows_url, {"depuis": 124, "lu": "249_0"}).content.decode()
    assert _news(rows) == 1
