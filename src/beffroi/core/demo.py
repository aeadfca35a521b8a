"""Demo data for `beffroi demo` / `make run`: loaded idempotently.

Each app may add its own demo content with a `beffroi.<app>.demo.load(org)`
function returning lines to print; they are called in APPS order.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

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
    # Accounts that existed before the demo keep their password: the line printed must
    # not claim the demo's for them (checked without the setter, so no hash is rewritten).
    kept: list[str] = []
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
        elif not check_password(PASSWORD, user.password):
            kept.append(username)
        if role is not None:
            actions.set_role(user, org, role, actor=admin, reason="données de démonstration")
    yield _accounts_line(org.slug, kept)
    for app in APPS:
        try:
            module = importlib.import_module(f"beffroi.{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"beffroi.{app}.demo":
                raise
            continue
        yield from module.load(org)


def _accounts_line(slug: str, kept: list[str]) -> str:
    demo = [u for u, _ in USERS if u not in kept]
    said = f"demo organisation '{slug}': "
    if demo:
        said += f"users {', '.join(demo)} (password: {PASSWORD})"
    if kept:
        own = "keeps its own password" if len(kept) == 1 else "keep their own passwords"
        said += "; " if demo else "users "
        said += f"{', '.join(kept)} existed before the demo and {own}"
    return said
