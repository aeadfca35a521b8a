"""axe-core over the states of the site the every-page pass (test_axe_s9.py) does not
reach: each form refused for a *wrong* value (not an empty one), a closed consultation's
pages, a failed export (the coordinator's and a partner's), a failed audit. Same rules,
same two passes (French at 320 px, English at 1280 px), same blocking impacts, from the
same world (the demo data plus one of everything); only the states differ."""

from __future__ import annotations

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

HERE = Path(__file__).resolve().parent


def _axe_s9() -> Any:
    """The every-page pass: its world, its walk of the URL map and its axe settings
    (loaded by path, as it loads the URL matrix: test modules are no package)."""
    name = "beffroi_axe_s9"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "test_axe_s9.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


S9 = _axe_s9()

# Each form with a value it must refuse (its field named last), field by field (name →
# value; a tuple is a file to upload: name, content). Whatever else the form needs is
# filled right, so that the refusal shown is the wrong value's.
WRONG: dict[str, tuple[str, dict[str, Any], str]] = {
    "login": (
        "anonymous",
        {"username": "coordination", "password": "pas-le-bon-mot"},
        "username",
    ),
    "password_reset": ("anonymous", {"email": "pas-une-adresse"}, "email"),
    "members": ("coordinator", {"email": "pas-une-adresse@"}, "email"),
    "consult-create": (
        "coordinator",
        {
            "cid": "Pas un identifiant !",
            "title": "Cantine",
            "opens": "2026-12-01T10:00",
            "closes": "2026-11-01T10:00",
        },
        "cid",
    ),
    "watch-activation-new": (
        "coordinator",
        {"name": "Crue", "keywords": "crue, inondation"},
        "keywords",
    ),
    "watch-courante": (
        "coordinator",
        {"text": "Pompiers sur place", "source_url": "pas un lien"},
        "source_url",
    ),
    "watch-partner-links": ("coordinator", {"label": "COD", "days": "-3"}, "days"),
    "audits": (
        "coordinator",
        {
            "export": ("export.csv", b"id,submitdate\n1,2024-01-01 10:00:00\n"),
            "electorate": "A1=beaucoup",
        },
        "electorate",
    ),
}


def _fail_exports(ids: dict[str, Any]) -> None:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    failed = DBTaskResult.objects.filter(id__in=[ids["job_id"], ids["partner_job"]])
    assert failed.update(status=TaskResultStatus.FAILED) == 2


def _close_consultation(ids: dict[str, Any], users: dict[str, Any]) -> None:
    from beffroi.consult import actions
    from beffroi.consult.models import Consultation

    consultation = Consultation.objects.get(cid=ids["cid"])
    actions.close_consultation(consultation, actor=users["coordinator"])


def _failed_audit(ids: dict[str, Any], users: dict[str, Any]) -> int:
    from beffroi.audits.models import Audit
    from beffroi.core.models import Organisation

    audit = Audit.objects.create(
        organisation=Organisation.objects.get(slug=ids["org"]),
        created_by=users["coordinator"],
        original_name="export.csv",
        sha256="ab" * 32,
        size=1234,
        fmt="limesurvey",
        status=Audit.Status.FAILED,
        error="Colonne « id » absente de l'en-tête (ligne 1).",
    )
    return audit.pk


@pytest.mark.slow
def test_refused_closed_and_failed_states_pass_axe_in_french_and_in_english(
    browser, live_server, tmp_path, monkeypatch
):
    monkeypatch.setattr("beffroi.watch.exports.INLINE_BUDGET", -1.0)
    ids, users = S9._world(live_server, tmp_path)
    _fail_exports(ids)
    _close_consultation(ids, users)
    audit_id = _failed_audit(ids, users)
    targets = S9._targets(ids)
    closed = [
        t
        for t in targets
        if "cid" in ids
        and f"/{ids['cid']}/" in t.url
        and t.name not in S9.NOT_PAGES
        and t.name not in S9.DRAFT_PAGES
    ]
    failed = [t for t in targets if t.name in ("watch-export-job", "watch-partner-export-job")]
    failed.append(
        S9.Target(
            "audit-detail (failed)",
            reverse("audit-detail", args=[ids["org"], audit_id]),
            "coordinator",
        )
    )
    forms = [t for t in targets if t.name in WRONG and t.role == WRONG[t.name][0]]
    assert {t.name for t in forms} == set(WRONG), "a form of WRONG is no longer a page"
    # The closed consultation's public pages (answer, receipt, board) and its
    # coordinator's pages are all there.
    assert {"consult-answer", "consult-board", "consult-detail"} <= {t.name for t in closed}

    clients = {"anonymous": Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)

    def statuses() -> dict[str, int]:
        return {t.url: clients[t.role].get(t.url).status_code for t in closed + failed}

    # Each is a page for its role (asked in a thread: the async views refuse the
    # Playwright thread's event loop).
    with ThreadPoolExecutor(1) as pool:
        answered = pool.submit(statuses).result()
    assert set(answered.values()) == {200}, answered

    axe = S9.AXE.read_text(encoding="utf-8")
    blocking: list[str] = []
    minor: list[str] = []
    checked = 0

    states: list[str] = []

    def check(page: Any, where: str) -> None:
        nonlocal checked
        states.append(where)
        for v in page.evaluate(S9.AXE_RUN, S9.TAGS + S9.INFO_TAGS):
            line = f"{where}: {v['id']} ({v['impact']}) {v['help']} at {v['targets']}"
            fails = v["impact"] in S9.BLOCKING and set(v["tags"]) & set(S9.TAGS)
            (blocking if fails else minor).append(line)
        checked += 1

    for lang, locale, viewport in S9.PASSES:
        for role in ("anonymous", "coordinator"):
            context = browser.new_context(locale=locale, viewport=viewport, bypass_csp=True)
            if role != "anonymous":
                cookie = clients[role].cookies["sessionid"].value
                context.add_cookies(
                    [{"name": "sessionid", "value": cookie, "url": live_server.url}]
                )
            context.add_init_script(script=axe)
            page = context.new_page()
            page.set_default_timeout(20_000)
            try:
                for target in (t for t in closed + failed if t.role == role):
                    page.goto(live_server.url + target.url)
                    where = f"{target.name} [{lang}, {role}] {target.url}"
                    assert page.evaluate("document.documentElement.lang") == lang, where
                    if target in failed:
                        status = page.locator("[data-testid=export-status], main")
                        assert status.first.is_visible(), where
                    check(page, where + (" (échec)" if target in failed else " (close)"))
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > viewport["width"]:
                        blocking.append(
                            f"{where}: reflow, {wide} px wide at {viewport['width']} px"
                        )
                for target in (t for t in forms if t.role == role):
                    page.goto(live_server.url + target.url)
                    where = f"{target.name} [{lang}, {role}] {target.url}"
                    page.evaluate(S9.NO_BROWSER_CHECKS)
                    send = page.locator("main form[method=post] button.primary[type=submit]").last
                    form = send.locator("xpath=ancestor::form")
                    for field, value in WRONG[target.name][1].items():
                        box = form.locator(f"[name={field}]")
                        if isinstance(value, tuple):
                            name, content = value
                            box.set_input_files(
                                {"name": name, "mimeType": "text/csv", "buffer": content}
                            )
                        else:
                            box.fill(value)
                    with page.expect_navigation():
                        send.click()
                    refused = page.locator(".errorlist, .card.errors, [role=alert]")
                    assert refused.count() > 0, f"{where}: a wrong value was not refused"
                    # The wrong value is given back to be corrected, not lost.
                    field = WRONG[target.name][2]
                    box = page.locator(f"main form [name={field}]")
                    value = WRONG[target.name][1][field]
                    assert box.input_value() == value, f"{where}: {field} lost"
                    check(page, where + " (valeur refusée)")
            finally:
                context.close()
    for line in minor:
        print("axe, moderate or minor:", line)
    print("states checked:\n" + "\n".join(states))
    assert checked == 2 * (len(closed) + len(failed) + len(forms))
    assert blocking == [], "axe, serious or critical:\n" + "\n".join(blocking)
