"""Large exports of the main courante run as background jobs: asked for with a
POST, followed on a live status page, downloaded once ready, with the same
valve and journal as the exports built inside the request."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from beffroi.core.models import JournalEntry

SECRET = "Information interne : ne pas diffuser"
SHARED = "Route D948 coupée à Luçon"


@pytest.fixture
def courante(org, members):
    from beffroi.watch import actions

    coord = members["coordinator"]
    activation = actions.create_activation(
        org, name="Crue du Lay", event_type="inondation", actor=coord
    )
    actions.add_log_entry(
        activation, actor=coord, text=SHARED, channel="telephone", category="routes"
    )
    actions.add_log_entry(
        activation,
        actor=coord,
        text=SECRET,
        channel="observation",
        category="autre",
        for_partners=False,
    )
    actions.add_log_entry(
        activation, actor=coord, text="=1+1 digue", channel="autre", category="degats"
    )
    return activation


@pytest.fixture
def background(monkeypatch):
    """Every export goes to the background, whatever its size."""
    from beffroi.watch import exports

    monkeypatch.setattr(exports, "INLINE_BUDGET", 0.0)


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_transaction(monkeypatch):
    # The real worker closes stale connections between tasks; inside a test's
    # transaction (cheaper than transactional_db) that would close it under us.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def _run_worker():
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)


def _jobs():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path__endswith="export_courante_task")


def _courante_url(name, org, activation, **kw):
    return reverse(name, kwargs={"org": org.slug, "activation_id": activation.pk, **kw})


def _xlsx_texts(body: bytes) -> list[str]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(body))
    return [str(v) for row in wb.active.iter_rows(values_only=True) for v in row if v]


def test_large_export_is_prepared_in_the_background(client, members, org, courante, background):
    client.force_login(members["volunteer"])
    url = _courante_url("watch-courante-export", org, courante, fmt="xlsx")
    # A GET explains and offers the button; it never queues anything.
    page = client.get(url, {"q": "digue"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "compte 1 ligne" in html and 'name="q" value="digue"' in html
    assert not _jobs().exists()

    asked = client.post(url, {"q": "digue"})
    assert asked.status_code == 302
    job_url = asked["Location"]
    assert _jobs().count() == 1
    waiting = client.get(job_url).content.decode()
    assert "Export en attente" in waiting and 'hx-trigger="every 1s"' in waiting
    # htmx asks for the fragment only.
    fragment = client.get(job_url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment

    _run_worker()
    ready = client.get(job_url, headers={"HX-Request": "true"}).content.decode()
    assert "L'export est prêt." in ready and "hx-trigger" not in ready  # polling stops
    assert 'data-status="successful"' in ready
    file_url = job_url + "fichier"
    assert f'href="{file_url}"' in ready
    got = client.get(file_url)
    assert got.status_code == 200
    assert got["Content-Disposition"].startswith('attachment; filename="main-courante-crue-du-lay-')
    body = b"".join(got.streaming_content)
    texts = _xlsx_texts(body)
    # The filter of the request holds in the job; the formula stays text.
    assert "=1+1 digue" in texts and SHARED not in texts


def test_pdf_always_runs_in_the_background(client, members, org, courante):
    client.force_login(members["coordinator"])
    url = _courante_url("watch-courante-export", org, courante, fmt="pdf")
    page = client.get(url)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "Préparer l'export" in page.content.decode()
    job_url = client.post(url)["Location"]
    _run_worker()
    body = b"".join(client.get(job_url + "fichier").streaming_content)
    assert body.startswith(b"%PDF")


def test_small_exports_stay_in_the_request(client, members, org, courante):
    client.force_login(members["volunteer"])
    for fmt in ("csv", "xlsx", "ods"):
        got = client.get(_courante_url("watch-courante-export", org, courante, fmt=fmt))
        assert got["Content-Disposition"].startswith("attachment;"), fmt
    assert not _jobs().exists()


def test_jobs_keep_the_valve(client, members, org, courante, background):
    url = _courante_url("watch-courante-export", org, courante, fmt="xlsx")
    # The volunteer's job holds internal lines; the partner's does not.
    client.force_login(members["volunteer"])
    internal = client.post(url)["Location"]
    client.force_login(members["partner"])
    shared = client.post(url)["Location"]
    _run_worker()
    assert client.get(internal).status_code == 404
    assert client.get(internal + "fichier").status_code == 404
    texts = _xlsx_texts(b"".join(client.get(shared + "fichier").streaming_content))
    assert SHARED in texts and SECRET not in texts
    client.force_login(members["volunteer"])
    texts = _xlsx_texts(b"".join(client.get(internal + "fichier").streaming_content))
    assert SHARED in texts and SECRET in texts
    # A scrutineer has no access to the main courante at all; an outsider
    # does not even learn the activation exists.
    client.force_login(members["scrutineer"])
    assert client.get(shared).status_code == 403
    client.logout()
    assert client.get(shared + "fichier").status_code == 302  # to the login page


def test_partner_link_jobs_are_journaled_and_die_with_the_link(
    client, members, org, courante, background
):
    from beffroi.watch import actions

    link, token = actions.create_partner_link(
        courante, label="COD 85", days=1, actor=members["coordinator"]
    )
    # A member's internal job is out of reach of the link.
    client.force_login(members["volunteer"])
    internal = client.post(_courante_url("watch-courante-export", org, courante, fmt="xlsx"))
    internal_id = internal["Location"].rstrip("/").rsplit("/", 1)[1]
    client.logout()

    url = reverse("watch-partner-export", args=[token, "xlsx"])
    assert client.get(url).status_code == 200
    job_url = client.post(url)["Location"]
    assert job_url.startswith(f"/partenaire/{token}/exports/")
    _run_worker()
    before = JournalEntry.objects.filter(action="watch.partner_link.view").count()
    status = client.get(job_url)
    assert status.status_code == 200 and status["Referrer-Policy"] == "strict-origin"
    # Polling the status is not a view of the data; the download is.
    assert JournalEntry.objects.filter(action="watch.partner_link.view").count() == before
    texts = _xlsx_texts(b"".join(client.get(job_url + "fichier").streaming_content))
    assert SHARED in texts and SECRET not in texts
    views = JournalEntry.objects.filter(action="watch.partner_link.view").order_by("seq")
    assert views.count() == before + 1 and views.last().data["what"] == "export.xlsx.file"

    other = reverse("watch-partner-export-job", args=[token, internal_id])
    assert client.get(other).status_code == 404
    assert client.get(other + "fichier").status_code == 404

    actions.revoke_partner_link(link, actor=members["coordinator"])
    assert client.get(job_url).status_code == 404
    assert client.get(job_url + "fichier").status_code == 404


def test_failed_running_and_expired_jobs_say_so(client, members, org, courante, settings):
    from django.core.cache import cache
    from django_tasks.base import TaskResultStatus

    from beffroi.watch import tasks

    client.force_login(members["volunteer"])

    def page(job_id):
        return client.get(
            reverse("watch-export-job", args=[org.slug, courante.pk, job_id])
        ).content.decode()

    # Running: the progress written by the task shows as a bar.
    job_id = tasks.request_export(courante.pk, "xlsx", {}, partner=False, filename="x.xlsx")
    _jobs().filter(id=job_id).update(status=TaskResultStatus.RUNNING)
    cache.set(tasks._progress_key(job_id), {"fraction": 0.4, "message": "écriture"}, 60)
    html = page(job_id)
    assert "Export en cours" in html and 'value="0.400"' in html and "écriture" in html

    # Failed: said in French, polling stops.
    _jobs().filter(id=job_id).update(status=TaskResultStatus.FAILED)
    html = page(job_id)
    assert "L'export a échoué" in html and "hx-trigger" not in html

    # Done, then swept: the link is gone and the page says the file expired.
    done_id = tasks.request_export(courante.pk, "csv", {}, partner=False, filename="y.csv")
    _run_worker()
    path = tasks.export_path(done_id, "csv")
    assert path.exists() and "L'export est prêt." in page(done_id)
    old = time.time() - tasks.keep_files().total_seconds() - 60
    os.utime(path, (old, old))
    tasks._sweep(time.time())
    assert not path.exists()
    assert "a expiré" in page(done_id)
    url = reverse("watch-export-file", args=[org.slug, courante.pk, done_id])
    assert client.get(url).status_code == 404


def test_unknown_or_foreign_job_ids_are_not_found(client, members, org, courante):
    import uuid

    from beffroi.watch import actions, tasks

    client.force_login(members["coordinator"])
    other = actions.create_activation(
        org, name="Autre", event_type="tempete", actor=members["coordinator"]
    )
    job_id = tasks.request_export(other.pk, "csv", {}, partner=True, filename="z.csv")
    for jid in (job_id, str(uuid.uuid4())):
        url = reverse("watch-export-job", args=[org.slug, courante.pk, jid])
        assert client.get(url).status_code == 404, jid


@pytest.mark.parametrize(
    ("role", "status"), [("scrutineer", 403), ("outsider", 404), ("anonymous", 302)]
)
def test_who_may_not_export_cannot_queue_one(client, members, org, courante, role, status):
    if role != "anonymous":
        client.force_login(members[role])
    url = _courante_url("watch-courante-export", org, courante, fmt="pdf")
    assert client.post(url).status_code == status
    assert client.get(url).status_code == status
    assert not _jobs().exists()
    # Nor through a link that is not one.
    bad = reverse("watch-partner-export", args=["pas-un-jeton", "pdf"])
    assert client.post(bad).status_code == 404
    assert not _jobs().exists()
