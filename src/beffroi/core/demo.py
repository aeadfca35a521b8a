"""Demo data for `beffroi demo` / `make run`: loaded idempotently.

Each app may add its own demo content with a `beffroi.<app>.demo.load(org)`
function returning lines to print; they are called in APPS order.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from django.contrib.auth import get_user_model

from beffroi.core import actions
from beffroi.core.models import Organisation, Role

PASSWORD = "beffroi-demo"  # noqa: S105 (public demo password, documented)
ORG_SLUG = "demo"
USERS = [
    ("admin", None),
    ("coordination", Role.COORDINATOR),
    ("veilleur", Role.VOLUNTEER),
    ("veilleuse", Role.VOLUNTEER),
    ("partenaire", Role.PARTNER),
    ("observateur", Role.SCRUTINEER),
]
APPS = ("consult", "watch")


def load() -> Iterator[str]:
    User = get_user_model()
    org = Organisation.objects.filter(slug=ORG_SLUG).first()
    if org is None:
        org = actions.create_organisation("Beffroi — démonstration", ORG_SLUG)
    admin = User.objects.filter(username="admin").first()
    for username, role in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = actions.create_account(
                username,
                PASSWORD,
                superuser=role is None,
                email=f"{username}@demo.invalid",
                actor=admin,
            )
            admin = admin or user
        if role is not None:
            actions.set_role(user, org, role, actor=admin, reason="données de démonstration")
    yield (
        f"demo organisation '{org.slug}': users {', '.join(u for u, _ in USERS)} "
        f"(password: {PASSWORD})"
    )
    for app in APPS:
        try:
            module = importlib.import_module(f"beffroi.{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"beffroi.{app}.demo":
                raise
            continue
        yield from module.load(org)
