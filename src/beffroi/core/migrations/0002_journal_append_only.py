"""Make the journal append-only in the database itself, and create its head row.

Triggers refuse UPDATE and DELETE on core_journalentry (and TRUNCATE on
PostgreSQL), so that not even a bug or a careless admin shell can rewrite
history; a determined DBA can drop the triggers, which is why the hash chain
exists too.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER core_journalentry_no_update BEFORE UPDATE ON core_journalentry
       BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    """CREATE TRIGGER core_journalentry_no_delete BEFORE DELETE ON core_journalentry
       BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS core_journalentry_no_update",
    "DROP TRIGGER IF EXISTS core_journalentry_no_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION core_journalentry_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the journal is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_journalentry_no_change BEFORE UPDATE OR DELETE ON core_journalentry
       FOR EACH ROW EXECUTE FUNCTION core_journalentry_refuse()""",
    """CREATE TRIGGER core_journalentry_no_truncate BEFORE TRUNCATE ON core_journalentry
       FOR EACH STATEMENT EXECUTE FUNCTION core_journalentry_refuse()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS core_journalentry_no_change ON core_journalentry",
    "DROP TRIGGER IF EXISTS core_journalentry_no_truncate ON core_journalentry",
    "DROP FUNCTION IF EXISTS core_journalentry_refuse()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"no append-only triggers for {schema_editor.connection.vendor}; "
                "Beffroi supports SQLite and PostgreSQL"
            )
        for sql in statements:
            schema_editor.execute(sql)

    return run


def create_head(apps, schema_editor):
    apps.get_model("core", "JournalHead").objects.get_or_create(pk=1, defaults={"hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
