"""Close two holes around the journal's append-only triggers (migration 0002).

- On SQLite, ``INSERT OR REPLACE`` (or ``REPLACE INTO``) rewrote a line: the
  conflicting row is deleted by the conflict resolution, which fires no DELETE
  trigger (unless recursive triggers are on), and the new one inserted. A BEFORE
  INSERT trigger now refuses any insert whose id, seq or hash is already there.
  PostgreSQL needs nothing: its upsert goes through the UPDATE trigger.
- The journal's links to the actor and the organisation were ``SET_NULL``: Django
  then UPDATEs the journal when an account or an organisation is deleted, which the
  triggers refuse, so neither could ever be deleted. They are ``DO_NOTHING`` (there
  is no database constraint): the line keeps the id it was hashed with.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER core_journalentry_no_replace BEFORE INSERT ON core_journalentry
       WHEN EXISTS (SELECT 1 FROM core_journalentry
                    WHERE id = NEW.id OR seq = NEW.seq OR hash = NEW.hash)
       BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS core_journalentry_no_replace"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_journal_org_seq"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(_run(SQLITE), _run(SQLITE_REVERSE)),
        migrations.AlterField(
            model_name="journalentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="journalentry",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="core.organisation",
            ),
        ),
    ]
