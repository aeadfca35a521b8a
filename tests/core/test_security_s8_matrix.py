"""The whole site's URL map, session 8 security review (DESIGN rule 5, the valve).

The role × page matrices (tests/core/test_roles_matrix.py, tests/consult/test_web_pages.py,
tests/watch/test_web_matrix.py, tests/audits/test_audit_web.py) each walk part of the URL
map. Here: every URL of the site belongs to a known kind, so a new one cannot be added
without deciding who may see it; every organisation page that takes an object id refuses an
object of another organisation (changing an id in the URL reaches nothing, GET or POST);
every public URL of a draft consultation, and every partner-link URL (the export's status
page and file included) with an expired or revoked token, answers 404.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from beffroi.core.roles import CAPABILITIES
from watch_rooms import rss_room

# Public pages: no account, each decides on its own what it shows (allow-lists).
AUTH_PAGES = {
    "dashboard",
    "healthz",
    "favicon",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "accept-invitation",
    "set_language",
    "openapi",  # the public endpoints' description (docs/formats/http-api.md)
}
CONSULT_PUBLIC = {
    "consult-answer",
    "consult-challenge",
    "consult-submit",
    "consult-receipt",
    "consult-board",
    "consult-board-jsonl",
    "consult-board-csv",
    "consult-results-json",
    "consult-rules-json",
    "consult-bundle",
}
PARTNER_PUBLIC = {
    "watch-partner",
    "watch-partner-rows",
    "watch-partner-stream",
    "watch-partner-export",
    "watch-partner-export-job",
    "watch-partner-export-file",
}


def _site() -> list[tuple[str | None, str, object]]:
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append((p.name, prefix + str(p.pattern), p.callback))

    walk(get_resolver().url_patterns)
    return [f for f in found if not f[1].startswith("admin/")]


def test_every_url_of_the_site_has_a_known_kind():
    unknown = []
    for name, pattern, view in _site():
        if pattern.startswith("o/<slug:org>/"):
            if getattr(view, "capability", None) not in CAPABILITIES:
                unknown.append(pattern)
        elif name not in AUTH_PAGES | CONSULT_PUBLIC | PARTNER_PUBLIC:
            unknown.append(pattern)
    assert unknown == []


def _arguments(pattern: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", pattern)


@pytest.fixture
def worlds(org, members, monkeypatch):
    """The same objects in two organisations; the second one's ids are the targets."""
    from django.core.management import call_command

    from beffroi.audits.models import Audit
    from beffroi.consult.cli_example_bundle import setup_consultation
    from beffroi.core import actions as core
    from beffroi.watch import actions, tasks
    from beffroi.watch.models import Card

    other = core.create_organisation("Autre ville", "autre")
    boss = core.create_account("autre-coord", "pw-test-123456")
    core.set_role(boss, other, "coordinator", actor=None)

    def build(organisation, actor):
        activation, source = rss_room(organisation, actor, name="Crue", source_name="Préfecture")
        card = Card.objects.create(
            activation=activation,
            group_id="g",
            source=source,
            source_kind="rss",
            external_id="x",
            text="L'eau monte",
            posted_at=timezone.now(),
        )
        entry = actions.add_log_entry(
            activation,
            actor=actor,
            text=f"interne {organisation.slug}",
            channel="telephone",
            category="routes",
            for_partners=False,
        )
        link, token = actions.create_partner_link(activation, label="COD", days=1, actor=actor)
        consultation, _ = setup_consultation(
            organisation, cid=f"c-{organisation.slug}", access="open", open_it=False
        )
        audit = Audit.objects.create(
            organisation=organisation,
            created_by=actor,
            original_name="x.csv",
            sha256="",
            size=0,
            fmt="limesurvey",
            status=Audit.Status.DONE,
        )
        job_id = tasks.request_export(
            activation.pk, "csv", {}, partner=True, filename="main-courante.csv"
        )
        invitation, _token = core.invite(
            organisation, f"invite@{organisation.slug}.example", "volunteer", actor=actor
        )
        return {
            "org": organisation.slug,
            "activation_id": activation.pk,
            "source_id": source.pk,
            "card_id": card.pk,
            "entry_id": entry.pk,
            "link_id": link.pk,
            "token": token,
            "cid": consultation.cid,
            "audit_id": audit.pk,
            "membership_id": organisation.memberships.get(user=actor).pk,
            "invitation_id": invitation.pk,
            "job_id": job_id,
            "fmt": "csv",
            "kind": "json",
            "link": link,
        }

    mine = build(org, members["coordinator"])
    theirs = build(other, boss)
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    return mine, theirs


def test_an_id_of_another_organisation_reaches_nothing(client, members, worlds):
    from beffroi.core.models import JournalEntry

    mine, theirs = worlds
    client.force_login(members["coordinator"])
    before = JournalEntry.objects.count()
    checked = 0
    for name, pattern, _view in _site():
        names = _arguments(pattern)
        if not pattern.startswith("o/<slug:org>/") or len(names) < 2:
            continue
        url = reverse(name, kwargs={**{n: theirs[n] for n in names}, "org": mine["org"]})
        for method in (client.get, client.post):
            status = method(url).status_code
            # 405: a POST-only page refuses a GET before looking anything up.
            assert status in (404, 405), f"{method.__name__.upper()} {url}: {status}"
        checked += 1
    assert checked >= 30
    assert JournalEntry.objects.count() == before  # nothing was done to their objects


def test_public_pages_of_a_draft_consultation_are_not_found(client, members, worlds):
    mine, _ = worlds
    for name in sorted(CONSULT_PUBLIC - {"consult-submit"}):
        assert client.get(reverse(name, args=[mine["cid"]])).status_code == 404, name
    # The ballot box answers in JSON; a draft takes no ballot.
    response = client.post(
        reverse("consult-submit", args=[mine["cid"]]), b"{}", content_type="application/json"
    )
    assert response.status_code in (403, 404)
    assert response.json()["ok"] is False


def _partner_urls(world):
    token, job = world["token"], world["job_id"]
    return [
        reverse("watch-partner", args=[token]),
        reverse("watch-partner-rows", args=[token]),
        reverse("watch-partner-stream", args=[token]),
        reverse("watch-partner-export", args=[token, "csv"]),
        reverse("watch-partner-export-job", args=[token, job]),
        reverse("watch-partner-export-file", args=[token, job]),
    ]


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_dead_partner_link_reaches_nothing(client, members, worlds, how):
    from beffroi.watch import actions
    from beffroi.watch.models import PartnerLink

    mine, _ = worlds
    urls = _partner_urls(mine)
    for url in urls:  # alive: every page answers
        assert client.get(url).status_code == 200, url
    if how == "revoked":
        actions.revoke_partner_link(mine["link"], actor=members["coordinator"])
    else:
        PartnerLink.objects.filter(pk=mine["link_id"]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code in (404, 405), url


def test_a_partner_link_reaches_no_export_of_another_activation(client, worlds):
    mine, theirs = worlds
    for name in ("watch-partner-export-job", "watch-partner-export-file"):
        url = reverse(name, args=[mine["token"], theirs["job_id"]])
        assert client.get(url).status_code == 404, name


@pytest.mark.parametrize("role", ["volunteer", "partner", "scrutineer", "outsider"])
def test_a_role_without_the_capability_reaches_nothing_of_its_own_organisation(
    client, members, worlds, role
):
    """The other half of the matrices: ``test_roles_matrix`` GETs pages without ids, and
    the test above sends a coordinator at another organisation's ids. Here every role
    lacking a URL's capability sends GET and POST at its own organisation's objects (a
    volunteer posting straight to a revoke or a role change): refused before anything is
    looked up or done (403, or 405 for a method the URL does not take; 404 for someone
    outside the organisation), and the journal does not move."""
    from beffroi.core.models import JournalEntry

    mine, _theirs = worlds
    client.force_login(members[role])
    before = JournalEntry.objects.count()
    refused = (404, 405) if role == "outsider" else (403, 405)
    reached, checked = [], 0
    for name, pattern, view in _site():
        if not pattern.startswith("o/<slug:org>/"):
            continue
        if role in CAPABILITIES[view.capability]:
            continue
        url = reverse(name, kwargs={n: mine[n] for n in _arguments(pattern)})
        for method in (client.get, client.post):
            status = method(url).status_code
            if status not in refused:
                reached.append(f"{method.__name__.upper()} {url}: {status}")
        checked += 1
    assert reached == []
    assert checked >= 10
    assert JournalEntry.objects.count() == before
