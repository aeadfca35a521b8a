"""The members table (session-8 walkthrough): each row's role select said « Rôle »
again under the « Rôle » column header; its label is now for screen readers and
names the person."""

from __future__ import annotations

import re

from django.urls import reverse

from english_catalogue import english


def _labels(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<label class="([^"]*)" for="role-\d+">([^<]*)</label>', html)


def test_each_role_select_is_named_for_screen_readers_only(client, org, members) -> None:
    client.force_login(members["coordinator"])
    html = client.get(reverse("members", args=[org.slug])).content.decode()
    labels = _labels(html)
    assert len(labels) == 4
    assert {cls for cls, _ in labels} == {"sr-only"}
    assert ("sr-only", "Rôle (volunteer)") in labels  # no « de » to elide before a vowel


def test_the_label_in_english(client, org, members) -> None:
    client.force_login(members["coordinator"])
    client.cookies["django_language"] = "en"
    with english():
        html = client.get(reverse("members", args=[org.slug])).content.decode()
    assert ("sr-only", "Role (partner)") in _labels(html)
