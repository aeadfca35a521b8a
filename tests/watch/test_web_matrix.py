"""Role × page matrix of the watch room, including pages with extra URL
arguments (DESIGN rule 5: the valve). Every named watch URL is visited by
every role; partners never see what was not sent to them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from beffroi.core.models import JournalEntry
from beffroi.core.roles import CAPABILITIES
from watch_rooms import rss_room

ROLES = ["coordinator", "volunteer", "partner", "scrutineer"]
SECRET = "Information interne : ne pas diffuser"
SHARED = "Route D948 coupée à Luçon"


def _watch_patterns():
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name and p.name.startswith("watch-"):
                found.append((p.name, prefix + str(p.pattern), p.callback))

    walk(get_resolver().url_patterns)
    return found


@pytest.fixture
def world(org, members, monkeypatch):
    from django.core.management import call_command

    from beffroi.watch import actions, tasks
    from beffroi.watch.models import Card

    coord = members["coordinator"]
    activation, source = rss_room(org, coord, name="Crue du Lay", source_name="Préfecture")
    card = Card.objects.create(
        activation=activation,
        group_id="g1",
        source=source,
        source_kind="rss",
        external_id="x1",
        text="L'eau monte rue des Halles",
        posted_at=timezone.now(),
    )
    shared = actions.add_log_entry(
        activation, actor=coord, text=SHARED, channel="telephone", category="routes"
    )
    internal = actions.add_log_entry(
        activation,
        actor=coord,
        text=SECRET,
        channel="observation",
        category="autre",
        for_partners=False,
    )
    link, token = actions.create_partner_link(activation, label="COD 85", days=1, actor=coord)
    # A finished background export of the partners' view: its status page and
    # its file are pages of the matrix too.
    job_id = tasks.request_export(
        activation.pk, "csv", {}, partner=True, filename="main-courante.csv"
    )
    # The worker closes stale connections between tasks: not the test's transaction.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    return {
        "org": org.slug,
        "activation_id": activation.pk,
        "source_id": source.pk,
        "card_id": card.pk,
        "entry_id": internal.pk,
        "link_id": link.pk,
        "fmt": "csv",
        "token": token,
        "job_id": job_id,
        "shared": shared,
    }


def _url(route_name, pattern, world):
    names = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
    return reverse(route_name, kwargs={n: world[n] for n in names})


def test_every_watch_page_declares_a_capability():
    pages = [(n, p, v) for n, p, v in _watch_patterns() if p.startswith("o/<slug:org>/")]
    assert len(pages) >= 15
    for name, _pattern, view in pages:
        assert getattr(view, "capability", None) in CAPABILITIES, name


@pytest.mark.parametrize("role", [*ROLES, "outsider", "anonymous"])
def test_matrix_get(client, members, world, role):
    if role != "anonymous":
        client.force_login(members[role])
    checked = 0
    for name, pattern, view in _watch_patterns():
        if not pattern.startswith("o/<slug:org>/"):
            continue
        url = _url(name, pattern, world)
        status = client.get(url).status_code
        if role == "anonymous":
            expected = {302}
        elif role == "outsider":
            expected = {404}
        elif role in CAPABILITIES[view.capability]:
            # POST-only endpoints answer 405 to a GET from someone allowed.
            expected = {200, 405}
        else:
            expected = {403}
        assert status in expected, f"{role} GET {url}: {status} not in {expected}"
        checked += 1
    assert checked >= 15


@pytest.mark.parametrize("role", ["partner", "scrutineer", "outsider"])
def test_no_triage_or_management_by_posting(client, members, world, role):
    from beffroi.watch.models import Card, LogEntry, Source

    client.force_login(members[role])
    denied = {"partner": 403, "scrutineer": 403, "outsider": 404}[role]
    for name, kwargs, data in [
        ("watch-card-claim", {"card_id": world["card_id"]}, {}),
        ("watch-card-decide", {"card_id": world["card_id"]}, {"decision": "relevant"}),
        ("watch-card-source", {"card_id": world["card_id"]}, {"source_type": "Eyewitness"}),
        ("watch-card-escalate", {"card_id": world["card_id"]}, {"category": "autre"}),
        ("watch-courante-add", {}, {"text": "x", "channel": "autre", "category": "autre"}),
        ("watch-courante-status", {"entry_id": world["entry_id"]}, {"status": "clos"}),
        ("watch-courante-verification", {"entry_id": world["entry_id"]}, {"verification": "false"}),
        ("watch-source-toggle", {"source_id": world["source_id"]}, {}),
        ("watch-source-declare", {"source_id": world["source_id"]}, {"declared_source": "Media"}),
        ("watch-partner-link-revoke", {"link_id": world["link_id"]}, {}),
    ]:
        url = reverse(
            name, kwargs={"org": world["org"], "activation_id": world["activation_id"], **kwargs}
        )
        assert client.post(url, data).status_code == denied, name
    card = Card.objects.get(pk=world["card_id"])
    assert (card.state, card.claimed_by_id, card.decision) == ("queued", None, "")
    assert card.source_corrected == ""
    assert LogEntry.objects.count() == 2
    assert LogEntry.objects.get(pk=world["entry_id"]).status == "ouvert"
    assert LogEntry.objects.get(pk=world["entry_id"]).verification == ""
    source = Source.objects.get(pk=world["source_id"])
    assert source.enabled and source.declared_source == ""


def test_partner_sees_only_what_was_sent_to_partners(client, members, world):
    client.force_login(members["partner"])
    base = {"org": world["org"], "activation_id": world["activation_id"]}
    page = client.get(reverse("watch-courante", kwargs=base)).content.decode()
    assert SHARED in page and SECRET not in page
    rows = client.get(reverse("watch-courante-rows", kwargs=base)).content.decode()
    assert SHARED in rows and SECRET not in rows
    for fmt in ("csv", "ods", "xlsx"):
        body = client.get(reverse("watch-courante-export", kwargs={**base, "fmt": fmt})).content
        assert _text_of(body, fmt).count("Luçon") == 1, fmt
        assert "ne pas diffuser" not in _text_of(body, fmt), fmt
    # The volunteer sees both.
    client.force_login(members["volunteer"])
    page = client.get(reverse("watch-courante", kwargs=base)).content.decode()
    assert SHARED in page and SECRET in page


def _text_of(body: bytes, fmt: str) -> str:
    import io
    import zipfile

    if fmt == "csv":
        return body.decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return " ".join(
            z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
        )


def test_partner_link_is_read_only_journaled_and_revocable(client, members, world):
    from beffroi.watch import actions
    from beffroi.watch.models import PartnerLink

    url = reverse("watch-partner", args=[world["token"]])
    before = JournalEntry.objects.filter(action="watch.partner_link.view").count()
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert SHARED in html and SECRET not in html
    assert page["Referrer-Policy"] == "strict-origin"
    export = client.get(reverse("watch-partner-export", args=[world["token"], "csv"]))
    assert export.status_code == 200 and SECRET not in export.content.decode("utf-8-sig")
    views = JournalEntry.objects.filter(action="watch.partner_link.view").order_by("seq")
    assert views.count() == before + 2
    assert views.last().data["client"].startswith("addr:")  # a pseudonym, not the address
    assert PartnerLink.objects.get(pk=world["link_id"]).views == 2

    link = PartnerLink.objects.get(pk=world["link_id"])
    actions.revoke_partner_link(link, actor=members["coordinator"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("watch-partner", args=["not-a-token"])).status_code == 404


def test_expired_partner_link_is_refused(client, members, world):
    from beffroi.watch.models import PartnerLink

    PartnerLink.objects.filter(pk=world["link_id"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.get(reverse("watch-partner", args=[world["token"]])).status_code == 404


def test_navigation_offers_the_watch_room_to_partners_not_scrutineers(client, members, world):
    url = reverse("watch-activations", args=[world["org"]])
    client.force_login(members["partner"])
    assert url in client.get(reverse("org-dashboard", args=[world["org"]])).content.decode()
    client.force_login(members["scrutineer"])
    assert url not in client.get(reverse("org-dashboard", args=[world["org"]])).content.decode()
