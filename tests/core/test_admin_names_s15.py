"""The Django admin speaks French for Beffroi's own models: no « Board entrys »,
« Consult events » or « CREATED AT » (Django's guesses from the class and field names).
And the migrations that carry the names leave one leaf per app, nothing pending."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from beffroi.core.models import Organisation

APPS = ("core", "consult", "audits")


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-admin-s15")
    client.force_login(user)
    return client


# French words that are also the field's or the class's English name.
SAME_IN_FRENCH = {"organisation", "consultation", "invitation", "audit", "segment", "action"}


def _registered() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in APPS
    ]


def test_every_model_in_the_admin_has_a_french_name_and_plural():
    assert len(_registered()) >= 8
    for model, _model_admin in _registered():
        opts = model._meta
        guessed = " ".join(re.findall(r"[A-Z][a-z]*", model.__name__)).lower()
        assert str(opts.verbose_name) != guessed or guessed in SAME_IN_FRENCH, model
        assert "verbose_name_plural" in opts.original_attrs, model


def test_every_column_of_their_lists_has_a_french_header():
    for model, model_admin in _registered():
        for name in model_admin.list_display:
            if not isinstance(name, str) or name == "__str__":
                continue
            label = str(label_for_field(name, model, model_admin)).lower()
            assert label != name.replace("_", " ") or name in SAME_IN_FRENCH, (model, name)


def test_the_admin_index_names_the_models_in_french(admin_client):
    page = admin_client.get("/admin/").content.decode()
    for french in (
        "Entrées du tableau public",
        "Événements des consultations",
        "Codes de vote",
        "Adhésions",
        "Invitations",
        "Journal",
    ):
        assert french in page, french
    for english in ("Board entrys", "Consult events", "Credentials", "Memberships"):
        assert english not in page, english


def test_a_list_shows_the_french_header(admin_client):
    Organisation.objects.create(name="Protection civile", slug="pc")
    page = admin_client.get("/admin/core/organisation/").content.decode()
    assert ">Créée le</a>" in page
    assert "Created at" not in page


@pytest.mark.django_db
def test_one_leaf_per_app_and_nothing_left_to_migrate():
    graph = MigrationLoader(connection).graph
    for label in APPS:
        assert len(graph.leaf_nodes(label)) == 1, label
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
