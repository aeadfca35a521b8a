"""A partner link's death as its open page meets it. The server's answer to a dead link
(expired, revoked, unknown) is marked ``Beffroi-Link: gone``: the page's script says « lien
expiré ou révoqué » for it only, and waits out any other 404 (a proxy's page) instead of
sending partners to ask for a new link. Under ASGI a stream that only sends keep-alives
(nothing changes) still rechecks its link, and ends once it expired."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from beffroi.watch import live
from live_answers import shared_courante


@pytest.fixture
def shared(org, members):
    _activation, link, token = shared_courante(org, members["coordinator"])
    return link, token


def _expire(link) -> None:
    from beffroi.watch.models import PartnerLink

    PartnerLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))


@pytest.mark.parametrize("name", ["watch-partner", "watch-partner-rows", "watch-partner-stream"])
@pytest.mark.parametrize("how", ["expired", "revoked", "unknown"])
def test_a_dead_links_answer_says_so(client, shared, members, name, how):
    from beffroi.watch import actions

    link, token = shared
    if how == "expired":
        _expire(link)
    elif how == "revoked":
        actions.revoke_partner_link(link, actor=members["coordinator"])
    else:
        token = "pas-un-jeton"
    response = client.get(reverse(name, args=[token]))
    assert response.status_code == 404
    assert response["Beffroi-Link"] == "gone"


def test_other_404s_are_not_marked(client, shared):
    _link, token = shared
    # A format that does not exist says nothing of the link.
    response = client.get(reverse("watch-partner-export", args=[token, "docx"]))
    assert response.status_code == 404 and not response.has_header("Beffroi-Link")
    assert client.get(reverse("watch-partner-rows", args=[token])).status_code == 200


def test_a_quiet_asgi_stream_ends_once_its_link_expired(transactional_db, shared, monkeypatch):
    """Nothing changes: the stream sends only keep-alives, and the link is still
    rechecked between them (every RECHECK_SECONDS, here each poll)."""
    from asgiref.sync import sync_to_async
    from django.test import Client

    link, token = shared
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.02)
    seen = []

    def capture(request, version, **kwargs):
        seen.append(version)
        return live.StreamingHttpResponse(iter(()), content_type="text/event-stream")

    monkeypatch.setattr(live, "sse_response", capture)
    assert Client().get(reverse("watch-partner-stream", args=[token])).status_code == 200

    async def scenario() -> list[str]:
        from django.db import connection

        chunks: list[str] = []
        stream = live._async_stream(seen[0], 0.01)
        try:
            async for chunk in stream:
                chunks.append(chunk)
                if chunks.count(": keepalive\n\n") == 2:
                    await sync_to_async(_expire)(link)
                assert len(chunks) < 50, "the stream ran on after its link expired"
            return chunks
        finally:
            await sync_to_async(lambda: connection.close())()

    chunks = contextvars.Context().run(asyncio.run, asyncio.wait_for(scenario(), 10))
    assert chunks[0].startswith("retry:") and chunks[1].startswith("event: change")
    # Ended at the next poll after the expiry: no keep-alive went out once it was past.
    assert chunks[2:] == [": keepalive\n\n"] * 2
