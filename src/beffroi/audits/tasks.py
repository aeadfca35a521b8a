"""The background audit: calls the pure integrity package, writes the outputs."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils import translation
from django_tasks import task

from beffroi.audits import actions
from beffroi.audits.models import Audit
from beffroi.core import jobs

log = logging.getLogger(__name__)


def report_name(language: str, kind: str) -> str:
    """The report's file for a language: French as the audit writes it (``report.html``,
    the name reports had before there was one per language), the others beside it."""
    return f"report.{kind}" if language.startswith("fr") else f"report.{language}.{kind}"


def _summary(result: Any) -> dict[str, Any]:
    # Counted from the result's arrays: building every response's JSON object to count
    # them cost as much memory as the audit (a file of 600,000 flagged responses).
    return {
        "responses": len(result.id_array),
        "flagged": int(result.flagged.sum()),
        "clusters": len(result.clusters),
        "checks_skipped": len(result.checks_skipped),
        # Which detectors that matter could not run (keys, never sentences): the pages
        # must not show such a result as a clean one (integrity.audit.unchecked).
        "unchecked": list(result.summary.get("unchecked", [])),
    }


@task()
def run_audit_task(audit_id: int) -> None:
    from beffroi.consult.views_i18n import ReportWords
    from beffroi.integrity.audit import run_audit
    from beffroi.integrity.errors import InputError
    from beffroi.integrity.report import FRENCH, Words, pdf_from_html, render_html

    audit = Audit.objects.select_related("organisation").get(pk=audit_id)
    # When the progress last moved, for the page's "has not advanced" (Audit.stalled_minutes).
    progress = jobs.throttled(
        jobs.noting_moves(
            audit.moved_name, 24 * 3600, lambda f, m: actions.report_progress(audit, f, m)
        )
    )

    try:
        result = run_audit(
            audit.input_path,
            fmt=audit.fmt,
            mapping=audit.mapping_path if audit.has_mapping else None,
            structure=audit.structure_path if audit.structure_path.exists() else None,
            electorate=audit.electorate or None,
            progress=progress,
        )
        # The report names the file the person uploaded, not where the server keeps it.
        result.source = audit.original_name
        progress(0.95, "rédaction du rapport")
        partial = [audit.output("result.json.part")]
        # Streamed, as the CLI writes it: the whole document as one string held the
        # responses twice over.
        with partial[0].open("w", encoding="utf-8") as fh:
            result.write_json(fh)
        # One report per language of the site, each reader gets theirs (decision 0006).
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                words: Words = FRENCH if language.startswith("fr") else ReportWords()
                page = render_html(result, words)
            html_part = audit.output(report_name(language, "html") + ".part")
            pdf_part = audit.output(report_name(language, "pdf") + ".part")
            html_part.write_text(page, encoding="utf-8")
            pdf_from_html(page, pdf_part)
            partial += [html_part, pdf_part]
        # Outputs appear together, only once all are written: no partial report.
        for path in partial:
            path.rename(path.with_suffix(""))
    except InputError as exc:
        actions.fail_audit(audit, str(exc), journaled=exc.for_the_journal())
        return
    except Exception as exc:
        log.exception("audit %s failed", audit_id)
        actions.fail_audit(audit, f"Erreur interne pendant l'audit ({type(exc).__name__}).")
        return
    actions.complete_audit(audit, _summary(result))
