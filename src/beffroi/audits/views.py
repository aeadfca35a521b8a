from __future__ import annotations

import re
from pathlib import Path

from csp.constants import NONE
from csp.decorators import csp
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from beffroi.audits import actions
from beffroi.audits.forms import AuditUploadForm
from beffroi.audits.models import Audit
from beffroi.audits.tasks import report_name
from beffroi.consult.views_i18n import PROGRESS, audit_error
from beffroi.core.roles import require


@require("audit.run")
@require_http_methods(["GET", "POST"])
def audit_list(request: HttpRequest) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    form = AuditUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            audit = actions.start_audit(
                org,
                form.cleaned_data["export"],
                fmt=form.cleaned_data["fmt"],
                actor=request.user,
                electorate=form.cleaned_data["electorate"],
                mapping=form.cleaned_data.get("mapping"),
                structure=form.cleaned_data.get("structure"),
            )
        except actions.AuditsBusy as busy:
            form.add_error(
                None,
                ngettext(
                    "%(n)d audit de cette organisation est déjà en attente ou en cours : "
                    "envoyez ce fichier quand il sera terminé.",
                    "%(n)d audits de cette organisation sont déjà en attente ou en cours : "
                    "envoyez ce fichier quand l'un d'eux sera terminé.",
                    busy.pending,
                )
                % {"n": busy.pending},
            )
        else:
            return redirect("audit-detail", org.slug, audit.pk)
    return render(
        request,
        "audits/list.html",
        {
            "org": org,
            "form": form,
            "audits": org.audits.select_related("created_by")[:100],
        },
    )


def _audit(request: HttpRequest, audit_id: int) -> Audit:
    org = request.organisation  # type: ignore[attr-defined]
    return get_object_or_404(Audit, pk=audit_id, organisation=org)


@require("audit.run")
def audit_detail(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = _audit(request, audit_id)
    template = "audits/_status.html" if request.headers.get("HX-Request") else "audits/detail.html"
    # The pure audit reports its progress and its refusals in French; English readers
    # see them re-said.
    return render(
        request,
        template,
        {
            "org": audit.organisation,
            "audit": audit,
            "progress_message": PROGRESS.say(audit.progress_message),
            "error": audit_error(audit.error),
            "french_only": french_only(audit),
        },
    )


def report_file(audit: Audit, kind: str) -> Path:
    """The report (``html`` or ``pdf``) in the reader's language. Audits finished before
    there was one report per language have only the French one, which is served (and
    said: see ``french_only``)."""
    own = audit.output(report_name(get_language() or "fr", kind))
    return own if own.exists() else audit.output(report_name("fr", kind))


def french_only(audit: Audit) -> bool:
    """The reader is not French and the audit has only its French report (finished
    before session 7): the pages say so rather than switch language silently."""
    if (get_language() or "fr").startswith("fr") or audit.status != Audit.Status.DONE:
        return False
    return report_file(audit, "html") == audit.output(report_name("fr", "html"))


def _french_only_notice() -> bytes:
    # Inside the report's own page, which has its own inline styles (REPORT_CSP).
    text = escape(
        _(
            "Ce rapport n'existe qu'en français : l'audit s'est terminé avant que Beffroi "
            "rédige aussi ses rapports dans votre langue."
        )
    )
    style = "background:#eef1f6;border-left:6px solid #2b4c7e;padding:.6rem 1rem"
    return f'<p lang="{get_language()}" style="{style}">{text}</p>'.encode()


def _with_notice(page: bytes, notice: bytes) -> bytes:
    """The notice first inside the report's ``<main>``, so it belongs to the page's main
    region (older reports have none: their body becomes one)."""
    opening = re.search(rb"<main\b[^>]*>", page)
    if opening is not None:
        return page[: opening.end()] + notice + page[opening.end() :]
    body = re.search(rb"<body\b[^>]*>", page)
    end = page.rfind(b"</body>")
    if body is None or end < body.end():
        return notice + page
    return (
        page[: body.end()] + b"<main>" + notice + page[body.end() : end] + b"</main>" + page[end:]
    )


# The report is a self-contained document with its own inline styles and SVG charts,
# and no script: it gets a CSP of its own that allows exactly that, sandboxed.
# (django-csp types its decorator for views without URL arguments.)
REPORT_CSP = {
    "default-src": [NONE],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "script-src": [NONE],
    "sandbox": [""],
    "frame-ancestors": [NONE],
}
DOWNLOADS = {"json": ("result.json", "application/json"), "pdf": ("report.pdf", "application/pdf")}


@require("audit.run")
@csp(REPORT_CSP)  # type: ignore[arg-type]
def audit_report(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = _audit(request, audit_id)
    path = report_file(audit, "html")
    if audit.status != Audit.Status.DONE or not path.exists():
        raise Http404
    page = path.read_bytes()
    response = HttpResponse(content_type="text/html; charset=utf-8")
    if french_only(audit):
        page = _with_notice(page, _french_only_notice())
        response["Content-Language"] = "fr"
    response.content = page
    return response


@require("audit.run")
def audit_download(request: HttpRequest, audit_id: int, kind: str) -> FileResponse:
    audit = _audit(request, audit_id)
    if kind not in DOWNLOADS or audit.status != Audit.Status.DONE:
        raise Http404
    name, content_type = DOWNLOADS[kind]
    path = report_file(audit, kind) if kind == "pdf" else audit.output(name)
    stem = audit.original_name.rsplit(".", 1)[0]
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"audit-{audit.pk}-{stem}.{kind}",
        content_type=content_type,
    )
