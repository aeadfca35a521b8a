"""What compares user names and addresses without case does not depend on the database's
locale: CI's PostgreSQL runs in the C locale, whose upper() leaves accented letters alone,
while most servers run in a UTF-8 one (``BEFFROI_PG_LOCALE=C.UTF-8
scripts/with-postgres.sh`` runs these against such a cluster). Non-ASCII names and
addresses are compared in Python (NFKC, case-folded); the database compares ASCII only,
which every locale but a Turkish one upper-cases alike, or bytes (the unique
constraint)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from beffroi.core import actions
from beffroi.core.models import JournalEntry
from reset_mails import deliver_reset_mails

RIGHT = "pw-test-123456"


def _database_folds_accents() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT UPPER(%s)", ["é"])
        return cursor.fetchone()[0] == "É"


# Decomposed accents are composed by NFKC before the comparison.
@pytest.mark.parametrize("twin", ["élodie", "ÉLODIE", "e\u0301lodie", "E\u0301LODIE"])
def test_a_case_twin_of_an_accented_name_is_refused(db, twin):
    actions.create_account("Élodie", RIGHT)
    assert actions.username_error(twin) == "Ce nom d'utilisateur est déjà pris."
    with pytest.raises(actions.ActionError):
        actions.create_account(twin, RIGHT)


def test_the_unique_constraint_compares_bytes(db):
    # A deterministic collation in any locale: two spellings are two rows for the
    # database, which is why the check above is made in Python.
    get_user_model().objects.create(username="Élodie")
    with transaction.atomic():
        get_user_model().objects.create(username="élodie")
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create(username="Élodie")


def test_a_failed_log_in_in_another_case_names_the_accented_account(db):
    user = actions.create_account("Élodie", RIGHT)
    Client(REMOTE_ADDR="203.0.113.5").post(
        reverse("login"), {"username": "élodie", "password": "wrong"}
    )
    line = JournalEntry.objects.get(action="auth.login_failed")
    # Whatever upper() does with "é" here (folds: %s).
    assert (line.data["username"], line.subject) == ("Élodie", f"user:{user.pk}"), (
        _database_folds_accents()
    )


def test_a_reset_for_an_accented_domain_in_another_case_is_mailed(db):
    actions.create_account("Elodie", RIGHT, email="elodie@café.fr")
    Client(REMOTE_ADDR="203.0.113.5").post(reverse("password_reset"), {"email": "ELODIE@CAFÉ.FR"})
    deliver_reset_mails()
    assert [m.to for m in mail.outbox] == [["elodie@café.fr"]], _database_folds_accents()


def test_a_sharp_s_reads_as_double_s(db):
    # Case-folded, ß is ss: no ASCII spelling may open a second « Strauß ».
    actions.create_account("Strauß", RIGHT)
    assert actions.username_error("STRAUSS") == "Ce nom d'utilisateur est déjà pris."
    Client(REMOTE_ADDR="203.0.113.5").post(
        reverse("login"), {"username": "strauss", "password": "wrong"}
    )
    assert JournalEntry.objects.get(action="auth.login_failed").data["username"] == "Strauß"
