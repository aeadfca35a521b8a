"""Role × page matrix: every organisation page declares a capability, and the
server enforces it for every role (DESIGN rule 5: nothing restricted leaks)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from beffroi.core.roles import CAPABILITIES

ROLES = ["coordinator", "volunteer", "partner", "scrutineer"]


def _org_patterns():
    """(url name, view) for every named URL under o/<org>/ without other arguments."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                route = prefix + str(p.pattern)
                if route.startswith("o/<slug:org>/") and route.count("<") == 1:
                    found.append((p.name, p.callback))

    walk(get_resolver().url_patterns)
    return found


def test_every_org_page_declares_a_capability():
    pages = _org_patterns()
    assert len(pages) >= 3
    for name, view in pages:
        assert getattr(view, "capability", None) in CAPABILITIES, name


@pytest.mark.parametrize("role", [*ROLES, "outsider", "anonymous"])
def test_matrix(client, members, org, role):
    if role != "anonymous":
        client.force_login(members[role])
    for name, view in _org_patterns():
        url = reverse(name, args=[org.slug])
        status = client.get(url).status_code
        if role == "anonymous":
            expected = 302
        elif role == "outsider":
            expected = 404
        else:
            expected = 200 if role in CAPABILITIES[view.capability] else 403
        assert status == expected, f"{role} GET {url}: {status} != {expected}"


def test_forbidden_page_is_explained_in_french(client, members, org):
    client.force_login(members["volunteer"])
    response = client.get(reverse("members", args=[org.slug]))
    assert response.status_code == 403
    assert "Votre rôle ne donne pas accès" in response.content.decode()


def test_volunteer_cannot_change_roles_by_posting(client, members, org):
    client.force_login(members["volunteer"])
    membership = members["volunteer"].memberships.get()
    response = client.post(
        reverse("member-role", args=[org.slug, membership.pk]), {"role": "coordinator"}
    )
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == "volunteer"


def test_navigation_follows_role(client, members, org):
    client.force_login(members["volunteer"])
    html = client.get(reverse("org-dashboard", args=[org.slug])).content.decode()
    assert reverse("journal", args=[org.slug]) not in html
    client.force_login(members["coordinator"])
    html = client.get(reverse("org-dashboard", args=[org.slug])).content.decode()
    assert reverse("journal", args=[org.slug]) in html
