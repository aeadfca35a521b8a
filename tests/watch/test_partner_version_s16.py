"""A partner link's page and stream carry a version of what the partner sees, compared for
equality only. It used to hold the sum of the shared lines' database ids, which are
instance-wide: two readings around one new shared line gave that line's id, and the gap
counted every line created meanwhile, internal ones and other organisations' ones
(review R16, finding 7). It is now opaque, and moves exactly with what this partner sees."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from beffroi.watch import live

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    shared = actions.add_log_entry(
        activation, actor=coord, text="Route coupée", channel="telephone", category="routes"
    )
    _link, token = actions.create_partner_link(activation, label="COD", days=1, actor=coord)
    return {"activation": activation, "coord": coord, "shared": shared, "token": token}


@pytest.fixture
def other_room():
    """Another organisation's activation, unrelated to the partner."""
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions

    other = core_actions.create_organisation("Autre commune", "autre")
    boss = core_actions.create_account("boss", "pw-test-123456")
    core_actions.set_role(boss, other, "coordinator", actor=None)
    activation = actions.create_activation(other, name="Feu", event_type="incendie", actor=boss)
    return activation, boss


def _page_version(token: str) -> str:
    page = Client().get(reverse("watch-partner", args=[token])).content.decode()
    found = re.search(r'data-version="([^"]*)"', page)
    assert found is not None
    return found.group(1)


def _stream_version(token: str) -> str:
    return _first_version(Client().get(reverse("watch-partner-stream", args=[token])))


def _first_version(response) -> str:
    """The version a live stream starts with."""
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    first = next(chunks).decode()
    assert first.startswith("event: change\ndata: ")
    return first.split("data: ", 1)[1].strip()


def _line(activation, actor, text: str, *, shared: bool):
    from beffroi.watch import actions

    return actions.add_log_entry(
        activation,
        actor=actor,
        text=text,
        channel="telephone",
        category="routes",
        for_partners=shared,
    )


def test_the_version_is_opaque_and_the_same_on_the_page_and_the_stream(room, monkeypatch):
    version = _page_version(room["token"])
    # 128 bits of a keyed hash: no count, id or date can be read out of it.
    assert re.fullmatch(r"[0-9a-f]{32}", version)
    assert str(room["shared"].pk) not in version.split("-")
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    assert _stream_version(room["token"]) == version


def test_lines_the_partner_does_not_see_leave_it_alone(room, other_room):
    before = _page_version(room["token"])
    activation, boss = other_room
    for i in range(7):
        _line(activation, boss, f"interne {i}", shared=False)
    _line(activation, boss, "partagé ailleurs", shared=True)
    for i in range(2):
        _line(room["activation"], room["coord"], f"note {i}", shared=False)
    assert _page_version(room["token"]) == before


@pytest.mark.parametrize("change", ["new line", "status", "withdrawn", "requalified"])
def test_a_change_the_partner_sees_moves_it(room, change):
    from beffroi.watch import actions

    before = _page_version(room["token"])
    line, coord = room["shared"], room["coord"]
    if change == "new line":
        _line(room["activation"], coord, "Pont fermé", shared=True)
    elif change == "status":
        actions.update_log_status(line, "clos", actor=coord)
    elif change == "withdrawn":
        actions.set_entry_sharing(line, False, actor=coord)
    else:
        actions.requalify_entry(line, "verified", actor=coord)
    assert _page_version(room["token"]) != before


def test_an_internal_line_shared_later_moves_it(room):
    from beffroi.watch import actions

    internal = _line(room["activation"], room["coord"], "note interne", shared=False)
    before = _page_version(room["token"])
    actions.set_entry_sharing(internal, True, actor=room["coord"])
    assert _page_version(room["token"]) != before


def test_it_is_keyed_with_the_deployments_secret(room, settings):
    """Without the key, a partner cannot test guesses of the counts and ids behind it."""
    before = _page_version(room["token"])
    settings.SECRET_KEY = "another-deployment-" + "k" * 40
    assert _page_version(room["token"]) != before


def test_a_partner_members_stream_carries_the_same_opaque_version(
    room, members, client, monkeypatch
):
    """A partner with an account follows the same lines through the team's main
    courante: its stream carries the same version as the link's."""
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    activation = room["activation"]
    client.force_login(members["partner"])
    url = reverse("watch-courante-stream", args=[activation.organisation.slug, activation.pk])
    assert _first_version(client.get(url)) == _page_version(room["token"])
