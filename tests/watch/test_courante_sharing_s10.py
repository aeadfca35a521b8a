"""A line sent to the partners by mistake is withdrawn from them (and an internal line
sent later), journaled; their page, their rows and their exports follow at once; the
button says what it wants, so pressing twice does not undo; only the team can."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from beffroi.core.models import JournalEntry

PHONE = "Appel de Mme X, 06 12 34 56 78 : cave inondée"


@pytest.fixture
def line(org, members):
    from beffroi.watch import actions

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    return actions.add_log_entry(
        activation, actor=members["volunteer"], text=PHONE, channel="telephone", category="degats"
    )


def _share(client, line, value, retour=""):
    a = line.activation
    url = reverse("watch-courante-sharing", args=[a.organisation.slug, a.pk, line.pk])
    response = client.post(url, {"for_partners": value, "retour": retour})
    line.refresh_from_db()
    return response


def _partner_views(client, members, line, token):
    a = line.activation
    client.force_login(members["partner"])
    pages = [
        client.get(reverse("watch-courante", args=[a.organisation.slug, a.pk])),
        client.get(reverse("watch-courante-rows", args=[a.organisation.slug, a.pk])),
        client.get(reverse("watch-courante-export", args=[a.organisation.slug, a.pk, "csv"])),
    ]
    client.logout()
    pages.append(client.get(reverse("watch-partner", args=[token])))
    pages.append(client.get(reverse("watch-partner-rows", args=[token])))
    return [p.content.decode("utf-8-sig") for p in pages]


def test_a_line_is_withdrawn_from_the_partners_and_shared_again(client, members, line):
    from beffroi.watch import actions

    _link, token = actions.create_partner_link(
        line.activation, label="COD", days=1, actor=members["coordinator"]
    )
    assert all(PHONE in page for page in _partner_views(client, members, line, token))

    client.force_login(members["volunteer"])
    response = _share(client, line, "0", retour="page=1&q=cave")
    assert response["Location"].endswith("/main-courante/?q=cave#ligne-1")
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [
        "Ligne n° 1 retirée de la vue des partenaires (les exports qu'ils ont déjà "
        "téléchargés la gardent)."
    ]
    assert line.for_partners is False
    assert not any(PHONE in page for page in _partner_views(client, members, line, token))
    entry = JournalEntry.objects.filter(action="watch.log.share").get()
    # (with the line's content digest: docs/decisions/courante-digest.md)
    assert {k: v for k, v in entry.data.items() if k != "content"} == {
        "number": 1,
        "for_partners": False,
    }
    assert entry.actor == members["volunteer"]

    # Pressed twice (two tabs, a double click): still withdrawn, journaled once.
    client.force_login(members["volunteer"])
    _share(client, line, "0")
    assert line.for_partners is False
    assert JournalEntry.objects.filter(action="watch.log.share").count() == 1

    _share(client, line, "1")
    assert line.for_partners is True
    assert all(PHONE in page for page in _partner_views(client, members, line, token))


def test_the_partners_live_version_moves(members, line):
    from beffroi.watch import actions, views

    before = views._partner_link_version(line.activation_id)
    actions.set_entry_sharing(line, False, actor=members["volunteer"])
    assert views._partner_link_version(line.activation_id) != before


def test_the_row_offers_the_other_way_and_asks_before_sharing(client, members, line):
    a = line.activation
    client.force_login(members["volunteer"])
    url = reverse("watch-courante", args=[a.organisation.slug, a.pk])
    html = client.get(url).content.decode()
    assert 'name="for_partners" value="0">' in html and ">Retirer</button>" in html
    _share(client, line, "0")
    html = client.get(url).content.decode()
    assert 'name="for_partners" value="1">' in html and ">Transmettre</button>" in html
    assert "Transmettre la ligne n° 1 aux partenaires ? Ils la verront aussitôt." in html


def test_an_unknown_choice_changes_nothing(client, members, line):
    client.force_login(members["volunteer"])
    response = _share(client, line, "peut-être")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Choix inconnu pour les partenaires."
    ]
    assert line.for_partners is True


@pytest.mark.parametrize("role", ["partner", "scrutineer"])
def test_only_the_team_shares_or_withdraws(client, members, line, role):
    client.force_login(members[role])
    assert _share(client, line, "0").status_code == 403
    assert line.for_partners is True
    assert not JournalEntry.objects.filter(action="watch.log.share").exists()
