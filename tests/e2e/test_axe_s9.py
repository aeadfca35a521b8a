"""axe-core (WCAG 2.1 A and AA rules) over every page of the site, in French and in English.

The pages come from the URL map itself (the walk of tests/core/test_security_s8_matrix.py),
so a new page is checked without anyone adding it here: every URL is filled in from a
world built by the demo data, fetched as the role that uses it (public pages
anonymously, organisation pages as a coordinator, the watch room also as a volunteer),
and every full HTML page is opened in Chromium and run through axe. Anything the site
answers that is not a page (JSON, CSV, streams, htmx fragments, POST-only addresses)
must be named in NOT_PAGES, so a page that starts failing (a 404, a 500) cannot slip
out of the check.

axe is injected by the test only (node_modules/axe-core, a devDependency): the app
never serves it, and its CSP (script-src 'self') is bypassed in the test's browser
context, not weakened.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
# What must pass: WCAG 2.0 and 2.1, levels A and AA (RGAA 4.1's reference), plus 2.2 AA
# (its touch-target size matters on the phones consultations are answered on).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Reported, never failing: axe's best practices (landmarks, heading order...).
INFO_TAGS = ["best-practice"]
BLOCKING = {"serious", "critical"}
# (language, browser locale, viewport): English on a desktop screen, French (the longer
# words) at 320 CSS px, the width WCAG 1.4.10 (reflow) asks a page to work at without
# scrolling sideways (a 1280 px screen zoomed to 400 %), which is also a small phone: each
# page's layout is checked twice for the price of one pass per language.
PASSES = [
    ("fr", "fr-FR", {"width": 320, "height": 640}),
    ("en", "en-GB", {"width": 1280, "height": 900}),
]
# Wider than the window, outside a box that scrolls on its own (data tables may).
OVERFLOW = """
() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((e) => !e.closest(".scroll, .sr-only, .hp, .skip"))
  .slice(0, 5)
  .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + e.className)
"""

# Addresses of the site that are not HTML pages a person reads (the reason in each
# comment); every other URL must answer a full page for the role that uses it.
NOT_PAGES = {
    "set_language": "POST only (the language buttons)",
    "logout": "POST only",
    "healthz": "JSON for the supervisor",
    "openapi": "JSON (the public endpoints' OpenAPI document)",
    "favicon": "a redirect to the icon",
    "consult-challenge": "JSON (the ballot's proof of work)",
    "consult-submit": "POST only, JSON",
    "consult-board-jsonl": "data file",
    "consult-board-csv": "data file",
    "consult-results-json": "data file",
    "consult-rules-json": "data file",
    "consult-spec-file": "data file (the questions and rules for credentials generate --spec)",
    "consult-bundle": "zip file",
    "consult-open": "POST only",
    "consult-close": "POST only",
    "consult-import": "POST only",
    "consult-revoke": "POST only",
    "consult-post-hoc": "POST only",
    "member-role": "POST only",
    "invitation-revoke": "POST only",
    "watch-activation-close": "POST only",
    "watch-sources-status": "JSON",
    "watch-source-toggle": "POST only",
    "watch-source-declare": "POST only",
    "watch-queue": "JSON",
    "watch-triage-stream": "event stream",
    "watch-card-claim": "POST only, JSON",
    "watch-card-release": "POST only, JSON",
    "watch-card-decide": "POST only, JSON",
    "watch-card-source": "POST only, JSON",
    "watch-card-escalate": "POST only, JSON",
    "watch-card-requeue": "POST only",
    "watch-decided-correct": "POST only",
    "watch-decided-escalate": "POST only",
    "watch-courante-sharing": "POST only",
    "watch-courante-rows": "htmx fragment (the table's rows)",
    "watch-courante-stream": "event stream",
    "watch-courante-add": "POST only",
    "watch-courante-status": "POST only",
    "watch-courante-verification": "POST only",
    "watch-export-file": "export file",
    "watch-partner-link-revoke": "POST only",
    "watch-partner-rows": "htmx fragment (the table's rows)",
    "watch-partner-stream": "event stream",
    "watch-partner-export-file": "export file",
    "audit-download": "report file (PDF, JSON, CSV)",
}
# The watch room is a volunteer's workplace: its pages are checked as one too.
VOLUNTEER_PAGES = {
    "watch-activations",
    "watch-activation",
    "watch-triage",
    "watch-decided",
    "watch-courante",
}
# The home page lists one's organisations (a member of one only is sent to its page).
ADMIN_PAGES = {"dashboard"}
# Forms also checked once sent empty (the browser's own checks switched off, as in a
# browser without them): the page as the server answers it, with its errors.
FORM_PAGES = {
    "login",
    "password_reset",
    "members",
    "consult-create",
    "watch-activation-new",
    "watch-courante",
    "watch-partner-links",
    "audits",
}
# The consultation builder edits drafts only: it is checked on one.
DRAFT_PAGES = {"consult-edit"}


def _matrix() -> Any:
    """The session 8 URL-map test module: its walk of the resolver is the list of pages."""
    path = REPO / "tests" / "core" / "test_security_s8_matrix.py"
    name = "beffroi_url_matrix_s8"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    role: str  # "anonymous", "admin", "coordinator" or "volunteer"


def _world(live_server: Any, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Demo data plus one of everything a URL can name; returns (ids, users by role)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.tokens import default_token_generator
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from beffroi.audits.models import Audit
    from beffroi.consult.cli_example_bundle import setup_consultation
    from beffroi.consult.demo import CID
    from beffroi.core import actions as core
    from beffroi.core import demo
    from beffroi.core.models import Membership, Organisation
    from beffroi.integrity.simulate import simulate
    from beffroi.watch import actions, tasks
    from beffroi.watch.models import Activation, Card

    list(demo.load())
    org = Organisation.objects.get(slug=demo.ORG_SLUG)
    users = {
        "admin": get_user_model().objects.get(username="admin"),
        "coordinator": get_user_model().objects.get(username="coordination"),
        "volunteer": get_user_model().objects.get(username="veilleur"),
    }
    coordinator = users["coordinator"]
    activation = Activation.objects.get(organisation=org)
    source = activation.sources.first()
    assert source is not None
    for i, text in enumerate(("L'eau monte rue des Écluses", "Route D746 coupée à Luçon")):
        Card.objects.create(
            activation=activation,
            group_id=f"g{i}",
            source=source,
            source_kind=source.kind,
            external_id=f"axe-{i}",
            text=text,
            posted_at=timezone.now(),
        )
    entry = actions.add_log_entry(
        activation,
        actor=coordinator,
        text="Pompiers sur place",
        channel="telephone",
        category="routes",
    )
    setup_consultation(org, cid="brouillon-axe", all_kinds=True, open_it=False)
    link, token = actions.create_partner_link(activation, label="COD", days=1, actor=coordinator)
    job_id = tasks.request_export(
        activation.pk, "csv", {}, partner=False, filename="main-courante.csv"
    )
    partner_job = tasks.request_export(
        activation.pk, "csv", {}, partner=True, filename="main-courante.csv"
    )
    _invitation, invitation_token = core.invite(
        org, "nouveau@example.org", "volunteer", actor=coordinator
    )
    # An audit of a small simulated export, through the upload form as a person does.
    sim = simulate(tmp_path / "sim", attack="seedlike", forms=120, fakes=30, seed=9)
    client = Client()
    client.force_login(coordinator)
    upload = SimpleUploadedFile("export.csv", sim.export.read_bytes(), content_type="text/csv")
    response = client.post(
        reverse("audits", args=[org.slug]), {"export": upload, "fmt": "limesurvey"}
    )
    assert response.status_code == 302, response.content[:500]
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    audit = Audit.objects.get(organisation=org)
    assert audit.status == Audit.Status.DONE, audit.error

    ids = {
        "org": org.slug,
        "activation_id": activation.pk,
        "source_id": source.pk,
        "card_id": Card.objects.filter(activation=activation).first().pk,  # type: ignore[union-attr]
        "entry_id": entry.pk,
        "link_id": link.pk,
        "cid": CID,
        "audit_id": audit.pk,
        "membership_id": Membership.objects.get(organisation=org, user=users["volunteer"]).pk,
        "invitation_id": _invitation.pk,
        "job_id": job_id,
        "fmt": "csv",
        "kind": "json",
        "uidb64": urlsafe_base64_encode(force_bytes(coordinator.pk)),
    }
    # `token` names three different secrets, one per kind of URL.
    ids["tokens"] = {
        "watch-partner": token,
        "watch-partner-export-job": token,
        "accept-invitation": invitation_token,
        "password_reset_confirm": default_token_generator.make_token(coordinator),
    }
    ids["partner_job"] = partner_job
    return ids, users


def _targets(ids: dict[str, Any]) -> list[Target]:
    targets = []
    for name, pattern, _view in _matrix()._site():
        if name is None:
            continue
        kwargs = {}
        for arg in re.findall(r"<(?:\w+:)?(\w+)>", pattern):
            if arg == "token":
                kwargs[arg] = ids["tokens"].get(name, ids["tokens"]["watch-partner"])
            elif arg == "job_id" and name.startswith("watch-partner"):
                kwargs[arg] = ids["partner_job"]
            elif arg == "cid" and name in DRAFT_PAGES:
                kwargs[arg] = "brouillon-axe"
            else:
                kwargs[arg] = ids[arg]
        url = reverse(name, kwargs=kwargs)
        if pattern.startswith("o/<slug:org>/"):
            roles = ["coordinator"] + (["volunteer"] if name in VOLUNTEER_PAGES else [])
        elif name in ADMIN_PAGES:
            roles = ["admin"]
        else:
            roles = ["anonymous"]
        targets += [Target(name, url, role) for role in roles]
    return targets


NO_BROWSER_CHECKS = "document.querySelectorAll('form').forEach((f) => { f.noValidate = true; })"

AXE_RUN = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    tags: v.tags,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}
"""


@pytest.mark.slow
def test_every_page_passes_axe_in_french_and_in_english(
    browser, live_server, tmp_path, monkeypatch
):
    # Every export is "long": its preparation page is what a person reads (the file
    # itself is not a page).
    monkeypatch.setattr("beffroi.watch.exports.INLINE_BUDGET", -1.0)
    ids, users = _world(live_server, tmp_path)
    targets = _targets(ids)
    # Which URLs answer a page: asked in-process (a stream is never read to its end).
    clients = {"anonymous": Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    pages: list[Target] = []
    not_pages: dict[str, str] = {}

    def classify() -> None:
        for target in targets:
            response = clients[target.role].get(target.url)
            kind = response.get("Content-Type", "")
            body = b"" if response.streaming else response.content
            response.close()
            if (
                response.status_code == 200
                and kind.startswith("text/html")
                and (body.lstrip()[:15].lower() == b"<!doctype html>")
            ):
                pages.append(target)
            else:
                not_pages[target.name] = f"{response.status_code} {kind}"

    # In a thread of its own: the async views (the ballot box) refuse to run in the
    # thread where Playwright's event loop lives.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(classify).result()
    unexpected = {n: why for n, why in not_pages.items() if n not in NOT_PAGES}
    assert unexpected == {}, f"URLs that answer no page for their role: {unexpected}"
    # A page that is no longer one must leave NOT_PAGES' list of reasons.
    assert {n for n in NOT_PAGES if n not in not_pages} == set()
    # What the site answers for an address that does not exist is a page too.
    pages.append(Target("404", "/cette-page-n-existe-pas/", "anonymous"))

    axe = AXE.read_text(encoding="utf-8")
    blocking: list[str] = []
    minor: list[str] = []
    checked = 0

    def check(page: Any, where: str) -> None:
        nonlocal checked
        for v in page.evaluate(AXE_RUN, TAGS + INFO_TAGS):
            line = f"{where}: {v['id']} ({v['impact']}) {v['help']} at {v['targets']}"
            fails = v["impact"] in BLOCKING and set(v["tags"]) & set(TAGS)
            (blocking if fails else minor).append(line)
        checked += 1

    for lang, locale, viewport in PASSES:
        for role in ("anonymous", "admin", "coordinator", "volunteer"):
            context = browser.new_context(locale=locale, viewport=viewport, bypass_csp=True)
            if role != "anonymous":
                context.add_cookies(
                    [
                        {
                            "name": "sessionid",
                            "value": clients[role].cookies["sessionid"].value,
                            "url": live_server.url,
                        }
                    ]
                )
            context.add_init_script(script=axe)
            page = context.new_page()
            page.set_default_timeout(20_000)
            try:
                for target in (t for t in pages if t.role == role):
                    page.goto(live_server.url + target.url)
                    if target.name == "watch-triage":
                        # The queue is filled by script: check it with its cards.
                        page.locator("#queue li").first.wait_for()
                    where = f"{target.name} [{lang}, {role}] {target.url}"
                    assert page.evaluate("document.documentElement.lang") == lang, where
                    check(page, where)
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > viewport["width"]:
                        blocking.append(
                            f"{where}: reflow, {wide} px wide at {viewport['width']} px, "
                            f"{page.evaluate(OVERFLOW)}"
                        )
                    if target.name == "watch-triage":
                        # The held card's panel is hidden until a card is taken: taken
                        # with the keyboard, then checked again.
                        page.locator("body").press("Enter")
                        page.locator("#panel").wait_for(state="visible")
                        check(page, where + " (carte prise)")
                        page.locator("body").press("Escape")
                        page.locator("#panel").wait_for(state="hidden")
                    if target.name in FORM_PAGES:
                        page.evaluate(NO_BROWSER_CHECKS)
                        send = page.locator("main form[method=post] button.primary[type=submit]")
                        with page.expect_navigation():
                            send.last.click()
                        refused = page.locator(".errorlist, .card.errors, [role=alert]")
                        assert refused.count() > 0, f"{where}: an empty form was not refused"
                        check(page, where + " (formulaire refusé)")
            finally:
                context.close()
    for line in minor:
        print("axe, moderate or minor:", line)
    assert checked >= 2 * 30
    assert blocking == [], "axe, serious or critical:\n" + "\n".join(blocking)
    print(json.dumps({"pages checked": checked}))


# The focused element's outline colour against the first opaque background behind it
# (WCAG 1.4.11: a focus indicator is non-text content, 3:1 at least); axe does not look
# at focus styles.
RING = """
() => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const e = document.activeElement;
  let bg = [255, 255, 255];
  for (let p = e.parentElement; p; p = p.parentElement) {
    const c = rgb(getComputedStyle(p).backgroundColor);
    if (c.length < 4 || c[3] > 0.9) { bg = c.slice(0, 3); break; }
  }
  const s = getComputedStyle(e);
  const a = lum(rgb(s.outlineColor)), b = lum(bg);
  return [e.tagName + " " + (e.textContent || e.name || "").trim().slice(0, 20),
          s.outlineStyle, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
}
"""


def test_the_keyboard_focus_ring_stands_out_in_the_top_bar_and_the_page(page, live_server, db):
    page.goto(f"{live_server.url}/connexion/")
    seen = []
    for _ in range(20):
        page.keyboard.press("Tab")
        what, style, ratio = page.evaluate(RING)
        if what.startswith("BODY"):  # past the last control, back to the page
            break
        seen.append(what)
        assert style != "none", what
        assert ratio >= 3, f"{what}: {ratio:.2f}"
    # The top bar's links and buttons (blue) and the form's fields (white) were reached.
    assert any(w.startswith("A Beffroi") for w in seen) and any(
        w.startswith("INPUT") for w in seen
    ), seen
