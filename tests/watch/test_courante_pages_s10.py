"""The main courante after a long night: its lines in pages (every line reachable, the
count said, each refresh bounded), the way back after a status change, and the follow-up
of each line (status changes with their notes) for the team only."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry


def _numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-entry="(\d+)"', html)]


def _url(name, activation, *args):
    return reverse(name, args=[activation.organisation.slug, activation.pk, *args])


def test_every_line_is_reachable_page_by_page_newest_first(client, members, night):
    client.force_login(members["volunteer"])
    url = _url("watch-courante", night)
    first = client.get(url).content.decode()
    assert _numbers(first) == list(range(250, 150, -1))
    assert "Lignes 1 à 100 sur 250, les plus récentes en premier." in first
    # Older pages start at a line (« depuis »): see test_courante_cursor_s11.py.
    assert 'href="?depuis=150&amp;lu=250" rel="next"' in first and 'rel="prev"' not in first
    seen = []
    for query in ({}, {"depuis": 150}, {"depuis": 50}):
        seen += _numbers(client.get(url, query).content.decode())
    assert seen == list(range(250, 0, -1))
    last = client.get(url, {"depuis": 50}).content.decode()
    assert "Lignes 201 à 250 sur 250" in last
    assert 'href="?depuis=150&amp;lu=250" rel="prev"' in last and 'rel="next"' not in last
    # A line that is not there, or not a number: the newest page.
    assert _numbers(client.get(url, {"depuis": 999}).content.decode())[0] == 250
    assert _numbers(client.get(url, {"depuis": "deux"}).content.decode())[0] == 250


def test_pages_keep_the_filters_and_exports_take_every_page(client, members, night):
    client.force_login(members["volunteer"])
    html = client.get(_url("watch-courante", night), {"categorie": "routes", "q": "Ligne"})
    text = html.content.decode()
    # 125 odd lines: two pages, whose links keep the search and the category.
    assert "Lignes 1 à 100 sur 125" in text
    assert 'href="?q=Ligne&amp;categorie=routes&amp;depuis=49&amp;lu=250"' in text
    exports = re.findall(r'href="[^"]*/export\.csv\?([^"]*)"', text)
    assert exports == ["q=Ligne&amp;categorie=routes"]
    rows = client.get(
        _url("watch-courante-rows", night), {"categorie": "routes", "q": "Ligne", "depuis": 49}
    ).content.decode()
    assert _numbers(rows) == [n for n in range(49, 0, -2)]
    assert "Lignes 101 à 125 sur 125" in rows


def test_a_short_main_courante_says_its_count_without_page_links(client, members, night):
    from beffroi.watch.models import LogEntry

    LogEntry.objects.filter(activation=night, number__gt=1).delete()
    client.force_login(members["volunteer"])
    html = client.get(_url("watch-courante", night)).content.decode()
    assert "1 ligne." in html and "courante-pager" not in html


def test_the_live_refresh_is_one_page_not_every_line(client, members, night):
    client.force_login(members["volunteer"])
    page = client.get(_url("watch-courante", night), {"depuis": 150}).content.decode()
    # The page's script fetches its own page again, not the whole main courante.
    assert re.search(r'data-rows-url="[^"]*/main-courante/lignes/\?depuis=150&amp;lu=\d+"', page)
    rows = client.get(_url("watch-courante-rows", night)).content.decode()
    assert len(_numbers(rows)) == 100


def test_partner_link_pages_hold_only_partner_lines(client, members, night):
    from beffroi.watch import actions

    _link, token = actions.create_partner_link(
        night, label="COD", days=1, actor=members["coordinator"]
    )
    url = reverse("watch-partner", args=[token])
    shown = []
    for query in ({}, {"depuis": 124}):  # line 125 is internal: the second page's first
        html = client.get(url, query).content.decode()
        assert "interne" not in html
        shown += _numbers(html)
    assert shown == [n for n in range(250, 0, -1) if n % 5]
    assert "Lignes 101 à 200 sur 200" in client.get(url, {"depuis": 124}).content.decode()
    rows = client.get(reverse("watch-partner-rows", args=[token]), {"depuis": 124})
    assert _numbers(rows.content.decode()) == shown[100:]


def test_a_status_change_comes_back_to_its_page_and_line_with_its_note(client, members, night):
    from beffroi.watch.models import LogEntry, LogUpdate

    client.force_login(members["volunteer"])
    entry = LogEntry.objects.get(activation=night, number=61)
    response = client.post(
        _url("watch-courante-status", night, entry.pk),
        {
            "status": "transmis",
            "note": "Transmis au COD par téléphone",
            "retour": "q=Ligne&depuis=150",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/main-courante/?q=Ligne&depuis=150#ligne-61")
    update = LogUpdate.objects.get(entry=entry)
    assert (update.status, update.note) == ("transmis", "Transmis au COD par téléphone")
    journaled = JournalEntry.objects.filter(action="watch.log.status").last()
    assert journaled.reason == "Transmis au COD par téléphone"
    # The line shows who changed what, when, with the note (the team's follow-up).
    html = client.get(_url("watch-courante", night), {"q": "numéro 061"}).content.decode()
    assert "Suivi (1 changement de statut)" in html
    assert "Transmis · volunteer · Transmis au COD par téléphone" in html


def test_the_way_back_keeps_only_the_page_s_own_parameters(client, members, night):
    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    entry = LogEntry.objects.get(activation=night, number=3)
    for retour in ("next=https://evil.example/", "//evil.example/", "q=a%00b", "x" * 5000):
        response = client.post(
            _url("watch-courante-verification", night, entry.pk),
            {"verification": "verified", "retour": retour},
        )
        assert response["Location"].endswith("/main-courante/#ligne-3"), retour


def test_a_too_long_note_is_said_and_changes_nothing(client, members, night):
    from django.contrib.messages import get_messages

    from beffroi.watch.models import LogEntry

    client.force_login(members["volunteer"])
    entry = LogEntry.objects.get(activation=night, number=7)
    response = client.post(
        _url("watch-courante-status", night, entry.pk), {"status": "clos", "note": "x" * 2001}
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == ["Ligne n° 7 : la note compte 2 000 caractères au plus ; statut inchangé."]
    entry.refresh_from_db()
    assert entry.status == "ouvert"


def test_partners_never_see_the_follow_up_notes(client, members, night):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    entry = LogEntry.objects.get(activation=night, number=250)
    assert entry.for_partners is False
    shared = LogEntry.objects.get(activation=night, number=249)
    actions.update_log_status(
        shared, "en-cours", actor=members["volunteer"], note="Appelé le maire, pas de réponse"
    )
    _link, token = actions.create_partner_link(
        night, label="COD", days=1, actor=members["coordinator"]
    )
    client.force_login(members["partner"])
    pages = [
        client.get(_url("watch-courante", night)).content.decode(),
        client.get(_url("watch-courante-rows", night)).content.decode(),
    ]
    client.logout()
    pages.append(client.get(reverse("watch-partner", args=[token])).content.decode())
    pages.append(client.get(reverse("watch-partner-rows", args=[token])).content.decode())
    for html in pages:
        assert "Ligne numéro 249" in html
        assert "pas de réponse" not in html and "Suivi" not in html
        assert 'name="note"' not in html


def test_large_counts_are_written_as_the_reader_writes_them(client, members, night):
    from beffroi.watch.models import LogEntry

    now = timezone.now()
    LogEntry.objects.bulk_create(
        LogEntry(
            activation=night,
            number=n,
            at=now,
            channel="telephone",
            category="routes",
            text=f"Ligne {n}",
        )
        for n in range(251, 2101)
    )
    client.force_login(members["volunteer"])
    # Lines 2,100 to 251 share one time: the 1,101st is line 1,000 (ties by number).
    html = client.get(_url("watch-courante", night), {"depuis": 1000}).content.decode()
    # French groups thousands with a no-break space.
    assert "Lignes 1\xa0101 à 1\xa0200 sur 2\xa0100" in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(_url("watch-courante", night), {"depuis": 1000}).content.decode()
    assert "1,101" in html and "2,100" in html


def test_a_closed_activation_says_so_on_its_main_courante(client, members, night):
    from beffroi.watch import actions

    client.force_login(members["volunteer"])
    url = _url("watch-courante", night)
    assert 'data-testid="activation-closed"' not in client.get(url).content.decode()
    actions.close_activation(night, actor=members["coordinator"])
    _link, token = actions.create_partner_link(
        night, label="COD", days=1, actor=members["coordinator"]
    )
    for page in (client.get(url), client.get(reverse("watch-partner", args=[token]))):
        html = page.content.decode()
        assert "plus aucun message n'arrive. La main courante reste consultable." in html
