"""Organisation pages of consultations (coordinators, scrutineers).  Thin: every
change goes through beffroi.consult.actions; public pages are in api.py."""

from __future__ import annotations

import json
import shlex
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from beffroi.consult import actions, api, live, tasks
from beffroi.consult.bundle import credentials_for_tally, flags_from_journal, frozen_spec
from beffroi.consult.forms import (
    AUDIT_FLAG,
    ConsultationForm,
    CredentialsImportForm,
    ExcludeEntriesForm,
    PostHocRuleForm,
    QuestionFormSet,
    RevokeForm,
    SelectionError,
    check_rows_for_questions,
    initial_from_spec,
    parse_selection,
    readable_spec_error,
    spec_from_forms,
)
from beffroi.consult.models import BoardEntry, Consultation, Status
from beffroi.consult.spec import (
    SMALL_SEGMENT,
    Spec,
    SpecError,
    format_time,
    small_segments,
    spec_from_dict,
    spec_hash,
)
from beffroi.consult.tally import tally
from beffroi.consult.views_i18n import (
    PROGRESS,
    evidence,
    excluded_by_rule,
    rule_label,
    verdict,
)
from beffroi.core.actions import ActionError
from beffroi.core.roles import can, require


def _get(request: HttpRequest, cid: str) -> Consultation:
    c = get_object_or_404(Consultation, cid=cid)
    if c.organisation_id != request.organisation.pk:  # type: ignore[attr-defined]
        raise Http404(_("Consultation inconnue."))
    return c


def _ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    org = request.organisation  # type: ignore[attr-defined]
    return {"org": org, "can_manage": can(request.user, org, "consult.manage"), **extra}


@require("consult.view")
def consult_list(request: HttpRequest) -> HttpResponse:
    items = Consultation.objects.filter(organisation=request.organisation)  # type: ignore[attr-defined]
    return render(request, "consult/list.html", _ctx(request, consultations=items))


def _builder(request: HttpRequest, c: Consultation | None) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    if request.method == "POST":
        form = ConsultationForm(request.POST, frozen_id=c is not None, initial={"cid": c and c.cid})
        questions = QuestionFormSet(request.POST, prefix="q")
        if form.is_valid() and questions.is_valid() and check_rows_for_questions(form, questions):
            spec_dict = spec_from_forms(form, questions)
            try:
                if c is None:
                    c = actions.create_consultation(org, spec_dict, actor=request.user)
                else:
                    actions.update_draft(c, spec_dict, actor=request.user)
            except ActionError as exc:
                form.add_error(None, readable_spec_error(str(exc), spec_dict))
            else:
                messages.success(request, _("Brouillon enregistré."))
                return redirect("consult-detail", org.slug, c.cid)
    else:
        if c is None:
            form = ConsultationForm()
            questions = QuestionFormSet(prefix="q")
        else:
            main, qs = initial_from_spec(c.spec)
            form = ConsultationForm(initial=main, frozen_id=True)
            questions = QuestionFormSet(prefix="q", initial=qs)
    return render(
        request,
        "consult/builder.html",
        _ctx(request, form=form, questions=questions, consultation=c),
    )


@require("consult.manage")
def consult_create(request: HttpRequest) -> HttpResponse:
    return _builder(request, None)


@require("consult.manage")
def consult_edit(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    if c.status != Status.DRAFT:
        messages.error(request, _("Consultation ouverte : questions et règles sont gelées."))
        return redirect("consult-detail", c.organisation.slug, c.cid)
    return _builder(request, c)


def _shell(text: str) -> str:
    # Double quotes read better than shlex's '…'"'"'…' around a French apostrophe;
    # kept only where the shell would take nothing inside them as special.
    if text and not any(ch in text for ch in '"$`\\!\n'):
        return f'"{text}"'
    return shlex.quote(text)


def _closing_options(spec: Spec, zone_name: str) -> list[str]:
    """``--closes`` for the letters, in the consultation's zone with its offset (what the
    authority reads is the hour parents will), and that zone when it is not the
    command's default: the letters then say the hour and the zone a late ballot's
    refusal says."""
    from beffroi.consult.zones import DEFAULT_ZONE

    local = spec.closes.astimezone(ZoneInfo(zone_name))
    options = ["--closes " + local.isoformat(timespec="seconds" if local.second else "minutes")]
    if zone_name != DEFAULT_ZONE:
        options.append("--timezone " + _shell(zone_name))
    return options


def _authority_command(request: HttpRequest, c: Consultation, spec: Spec | None) -> str:
    """The credential authority's command for this consultation, ready to hand over:
    the organiser knew « beffroi credentials generate » but not which id, address and
    counts per school the letters need (a letter for the wrong id signs nothing)."""
    if spec is None or c.access == "open":
        return ""
    if spec.segments:
        counts = "--segments " + ",".join(f"{s.code}={s.electorate}" for s in spec.segments)
    else:
        counts = "--count " + _("NOMBRE")
    return " ".join(
        [
            "beffroi credentials generate",
            "--consultation-id " + c.cid,
            "--base-url " + _shell(request.build_absolute_uri("/").rstrip("/")),
            counts,
            *(f"--label {_shell(f'{s.code}={s.label}')}" for s in spec.segments),
            "--title " + _shell(spec.title),
            *_closing_options(spec, c.zone_name),
            "--out codes/",
        ]
    )


def _rate_limit(c: Consultation) -> dict[str, Any]:
    if c.access == "credentialed":
        return {}
    limit, window = api.open_limit()
    return {
        "refused": api.refused_lately(c.cid),
        "open_limit": limit,
        "open_window_minutes": max(1, window // 60),
    }


@require("consult.view")
def consult_detail(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    spec = None
    error = ""
    try:
        spec = spec_from_dict(c.spec)
    except SpecError as exc:
        error = str(exc)
    creds = c.credentials.all()
    ctx = _ctx(
        request,
        consultation=c,
        spec=spec,
        spec_error=error,
        # What the opening will publish: the spec stamped with the bundle format.
        draft_hash=spec_hash(frozen_spec(spec)) if spec and c.status == Status.DRAFT else "",
        small_segments=small_segments(spec) if spec and c.status == Status.DRAFT else [],
        small_segment=SMALL_SEGMENT,
        n_credentials=creds.count(),
        n_revoked=creds.exclude(revoked_at=None).count(),
        import_form=CredentialsImportForm(),
        authority_command=_authority_command(request, c, spec),
        keys_fingerprint=(
            actions.keys_fingerprint(c) if c.access != "open" and creds.exists() else ""
        ),
        revoke_form=RevokeForm(initial=request.session.pop(REVOKE_TYPED + c.cid, None)),
        rule_form=PostHocRuleForm(),
        flags=live.flags(c),
        **_rate_limit(c),
    )
    return render(request, "consult/detail.html", ctx)


@require("consult.view")
def consult_spec_file(request: HttpRequest, cid: str) -> HttpResponse:
    """The questions and rules as a file for ``beffroi credentials generate --spec``,
    before the opening too: the public board's copy exists only once the consultation
    is open, while a credentialed one needs its letters (and keys) before that.

    A draft is given as the opening would freeze it (stamped with the bundle format),
    so its hash is the one the page announces, with ``"opening": null``: the tool then
    says that this hash is still only a promise (docs/decisions/credentials.md)."""
    c = _get(request, cid)
    try:
        spec = spec_from_dict(c.spec)
    except SpecError as exc:
        messages.error(request, str(exc))
        return redirect("consult-detail", c.organisation.slug, c.cid)
    if c.status == Status.DRAFT:
        body = frozen_spec(spec).to_dict() | {"opening": None}
    else:
        opened = format_time(c.opened_at) if c.opened_at else None
        body = c.spec | {"opening": {"spec_hash": c.spec_hash, "at": opened}}
    return api._download(
        json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True),
        f"{c.cid}-consultation.json",
        "application/json; charset=utf-8",
    )


def _run(request: HttpRequest, c: Consultation, fn: Any, ok: str) -> HttpResponse:
    try:
        fn()
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, ok)
    return redirect("consult-detail", c.organisation.slug, c.cid)


@require("consult.view")
def consult_preview(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    try:
        return api.render_answer_page(request, c, preview=True)
    except SpecError as exc:
        messages.error(request, str(exc))
        return redirect("consult-detail", c.organisation.slug, c.cid)


@require_POST
@require("consult.manage")
def consult_open(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    return _run(
        request,
        c,
        lambda: actions.open_consultation(c, actor=request.user),
        _("Consultation ouverte : questions et règles gelées, empreinte publiée."),
    )


@require_POST
@require("consult.manage")
def consult_close(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    return _run(
        request,
        c,
        lambda: actions.close_consultation(c, actor=request.user),
        _("Consultation close : la tête du tableau est inscrite au journal."),
    )


@require_POST
@require("consult.manage")
def consult_import(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    form = CredentialsImportForm(request.POST, request.FILES)
    if not form.is_valid():
        too_large = form.has_error("public_list", "too_large")
        messages.error(
            request,
            str(form.errors["public_list"][0])
            if too_large
            else _("Choisissez le fichier cles-publiques.jsonl à importer."),
        )
        return redirect("consult-detail", c.organisation.slug, c.cid)
    raw = form.cleaned_data["public_list"].read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        messages.error(request, _("Le fichier n'est pas en UTF-8."))
        return redirect("consult-detail", c.organisation.slug, c.cid)
    return _run(
        request,
        c,
        lambda: actions.import_credentials(c, text, actor=request.user),
        _("Clés publiques importées."),
    )


@require_POST
@require("consult.manage")
def consult_revoke(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Clé et motif sont nécessaires."))
        return redirect("consult-detail", c.organisation.slug, c.cid)
    d = form.cleaned_data
    try:
        actions.revoke_credential(
            c, d["public_key"], d["reason"], actor=request.user, replacement=d["replacement"]
        )
    except ActionError as exc:
        messages.error(request, str(exc))
        # The form comes back filled in: the organiser adds the replacement key (or
        # corrects one) instead of copying the old key and the reason again.
        request.session[REVOKE_TYPED + c.cid] = {
            k: d[k] for k in ("public_key", "reason", "replacement")
        }
    else:
        messages.success(request, _("Code révoqué (inscrit au journal et compté sur le tableau)."))
    return redirect("consult-detail", c.organisation.slug, c.cid)


REVOKE_TYPED = "consult_revoke_typed:"


@require_POST
@require("consult.manage")
def consult_post_hoc(request: HttpRequest, cid: str) -> HttpResponse:
    c = _get(request, cid)
    form = PostHocRuleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Libellé et motif sont nécessaires."))
        return redirect("consult-detail", c.organisation.slug, c.cid)
    rule = {
        "code": "integrity_flag",
        "label": form.cleaned_data["label"],
        "params": {"flags": [AUDIT_FLAG]},
    }
    return _run(
        request,
        c,
        lambda: actions.add_post_hoc_rule(
            c, rule, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("Règle ajoutée, étiquetée « post hoc » : son effet est affiché à côté du résultat."),
    )


@require("consult.view")
def consult_audit(request: HttpRequest, cid: str) -> HttpResponse:
    """The live integrity audit: reads the background job's last report (it never
    runs the audit itself), polls while a run is waiting or in progress, and lets
    a coordinator ask for a fresh run."""
    c = _get(request, cid)
    if request.method == "POST":
        if not can(request.user, c.organisation, "consult.manage"):
            raise PermissionDenied(_("Votre rôle ne donne pas accès à cette page."))
        try:
            queued = tasks.request_audit(c, actor=request.user)
        except ActionError as exc:
            messages.error(request, str(exc))
        else:
            if queued:
                messages.success(
                    request,
                    _(
                        "Audit demandé : il tourne en arrière-plan ; les nouveaux signalements "
                        "seront inscrits au journal."
                    ),
                )
            else:
                messages.info(request, _("Un audit est déjà en attente ou en cours."))
        return redirect("consult-audit", c.organisation.slug, c.cid)
    jobs = tasks.audit_jobs(c.cid)
    ctx = _ctx(
        request,
        consultation=c,
        jobs=jobs,
        report=_audit_report_shown(jobs.report),
        progress_message=PROGRESS.say(str((jobs.progress or {}).get("message", ""))),
        flags=[f | {"evidence": evidence(str(f.get("evidence", "")))} for f in live.flags(c)],
        unverified=c.entries.filter(public_key=None).count(),
        minimum=tasks.MIN_RESPONSES,
        **_rate_limit(c),
    )
    if request.headers.get("HX-Request"):
        return render(request, "consult/_audit_status.html", ctx)
    return render(request, "consult/audit.html", ctx)


def _audit_report_shown(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored report with its pure-core French re-said in the reader's language."""
    if not report or not report.get("summary"):
        return report
    summary = report["summary"] | {"verdict": verdict(str(report["summary"].get("verdict", "")))}
    clusters = [
        cl | {"evidence": evidence(str(cl.get("evidence", "")))} for cl in report["clusters"]
    ]
    return report | {"summary": summary, "clusters": clusters}


# -- post-hoc exclusion of chosen entries, and the effect of every rule -------------


def _resolve(c: Consultation, numbers: list[int], prefixes: list[str]) -> list[BoardEntry]:
    """Board entries named by number or by (a prefix of) their hash; ActionError
    names the first item that matches nothing or more than one entry."""
    found = {e.n: e for e in BoardEntry.objects.filter(consultation=c, n__in=set(numbers))}
    for n in numbers:
        if n not in found:
            raise ActionError(
                _("Le tableau n'a pas d'entrée n° %(n)d (il en compte %(total)d).")
                % {"n": n, "total": c.board_count}
            )
    for prefix in prefixes:
        matches = list(BoardEntry.objects.filter(consultation=c, hash__startswith=prefix)[:2])
        if not matches:
            raise ActionError(
                _("Aucune entrée du tableau n'a une empreinte commençant par %(h)s.")
                % {"h": prefix}
            )
        if len(matches) > 1:
            raise ActionError(
                _("%(h)s désigne plusieurs entrées : donnez plus de caractères de l'empreinte.")
                % {"h": prefix}
            )
        found[matches[0].n] = matches[0]
    return [found[n] for n in sorted(found)]


def _switchable(spec: Spec) -> list[tuple[str, str, bool]]:
    """(code, label, post hoc) of every rule that can be switched off."""
    out = [(r.code, rule_label(r.label, r.code), r.added_after_opening) for r in spec.rules]
    if spec.access != "open":
        out.insert(0, ("revoked_key", _("Les réponses d'un code révoqué sont écartées"), False))
    return out


def _compare(spec: Spec, shown: dict[str, Any], other: dict[str, Any]) -> list[dict[str, Any]]:
    """Per question, each count of the published result next to the same count
    with some rules switched off (the tally's BREAKDOWN of all counted answers)."""
    out = []
    for q in spec.questions:
        a = shown["results"]["all"]["questions"][q.code]
        b = other["results"]["all"]["questions"][q.code]
        lines: list[tuple[str, int, int]] = [(_("réponses"), a["answered"], b["answered"])]
        if q.kind in ("single", "multiple"):
            lines += [(o.label, a["counts"][o.code], b["counts"][o.code]) for o in q.options]
        elif q.kind == "scale":
            lines += [(k, v, b["counts"][k]) for k, v in a["counts"].items()]
        item: dict[str, Any] = {
            "q": q,
            "lines": [(label, x, y, x - y) for label, x, y in lines],
        }
        if q.kind == "scale":
            item["means"] = (
                a["sum"] / a["answered"] if a["answered"] else None,
                b["sum"] / b["answered"] if b["answered"] else None,
            )
        out.append(item)
    return out


def _tally_inputs(c: Consultation) -> tuple[Any, list[dict[str, Any]], Any]:
    return (
        credentials_for_tally(live.credential_records(c)),
        live.entries(c),
        flags_from_journal(live.journal_lines(c)),
    )


def _entry_rows(
    entries: list[BoardEntry],
    result: dict[str, Any],
    flags: Any,
    creds: dict[str, Any],
    labels: dict[str, str],
) -> list[dict[str, Any]]:
    set_aside = {ex["n"]: ex for ex in result["exclusions"]}

    def segment(e: BoardEntry) -> str | None:
        # A signed ballot carries no segment: its key's, from the imported list, counts.
        if e.public_key is not None:
            cred = creds.get(e.public_key)
            return cred.segment if cred is not None else None
        return e.ballot.get("segment") if isinstance(e.ballot, dict) else None

    return [
        {
            "n": e.n,
            "hash": e.hash,
            "received_at": e.received_at,
            "verified": e.public_key is not None,
            "segment": segment(e),
            "flags": sorted(flags.get(e.hash, ())),
            "excluded": set_aside.get(e.n),
            "excluded_label": labels.get(set_aside[e.n]["rule"], "") if e.n in set_aside else "",
        }
        for e in entries
    ]


def _rule_labels(spec: Any) -> dict[str, str]:
    """Each rule's label as the board shows it, by code (the revoked-key rule included)."""
    codes = [r.code for r in spec.rules] + ["revoked_key"]
    return {code: label for code, label, _n in excluded_by_rule(spec, dict.fromkeys(codes, 0))}


@require("consult.view")
def consult_exclude(request: HttpRequest, cid: str) -> HttpResponse:
    """Rules and decisions: the effect of switching any rule off, the entries set
    aside one by one, and (coordinators) a new decision — previewed with its
    effect, then confirmed through ``actions.exclude_entries``."""
    c = _get(request, cid)
    spec = c.get_spec()
    creds, board, flags = _tally_inputs(c)
    shown = tally(spec, creds, board, flags)
    form = ExcludeEntriesForm()
    preview: dict[str, Any] | None = None
    if request.method == "POST":
        if not can(request.user, c.organisation, "consult.manage"):
            raise PermissionDenied(_("Votre rôle ne donne pas accès à cette page."))
        form = ExcludeEntriesForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                numbers, prefixes = parse_selection(
                    d["entries"], limit=actions.MAX_EXCLUDED_AT_ONCE
                )
                chosen = _resolve(c, numbers, prefixes)
                reason = actions.exclusion_reason(d["reason"])
                if "confirm" in request.POST:
                    actions.exclude_entries(c, [e.hash for e in chosen], reason, actor=request.user)
                    messages.success(
                        request,
                        ngettext(
                            "%(n)d entrée écartée par décision post hoc, inscrite au "
                            "journal : le résultat sans elle reste affiché.",
                            "%(n)d entrées écartées par décision post hoc, inscrite au "
                            "journal : le résultat sans elles reste affiché.",
                            len(chosen),
                        )
                        % {"n": len(chosen)},
                    )
                    return redirect("consult-exclude", c.organisation.slug, c.cid)
                rules = actions.rules_with_exclusions(
                    c.spec.get("rules", []),
                    [e.hash for e in chosen],
                    reason,
                    {e.hash: e.n for e in chosen},
                )
                after = tally(spec_from_dict({**c.spec, "rules": rules}), creds, board, flags)
                preview = {
                    "entries": _entry_rows(chosen, shown, flags, creds, _rule_labels(spec)),
                    "reason": reason,
                    "after": after,
                    "compare": _compare(spec, after, shown),
                }
            except (SelectionError, ActionError) as exc:
                form.add_error("entries", str(exc))
    codes = [code for code, _label, _ph in _switchable(spec)]
    if request.GET.get("comparer"):
        off = [x for x in request.GET.getlist("sans") if x in codes]
    else:
        off = [r.code for r in spec.rules if r.added_after_opening]
    other = tally(spec, creds, board, flags, disabled=off) if off else None
    decisions: dict[str, str] = next(
        (r.params.get("entries", {}) for r in spec.rules if r.code == actions.EXCLUDE_RULE), {}
    )
    numbers_of = {e["hash"]: e["n"] for e in board if e["hash"] in decisions}
    ctx = _ctx(
        request,
        consultation=c,
        spec=spec,
        results=shown,
        excluded_by_rule=excluded_by_rule(spec, shown["exclusions_by_rule"]),
        rules=[(code, label, ph, code in off) for code, label, ph in _switchable(spec)],
        off=off,
        other=other,
        delta=shown["counted"]["all"] - other["counted"]["all"] if other else 0,
        compare=_compare(spec, shown, other) if other else None,
        decisions=sorted((numbers_of.get(h, 0), h, reason) for h, reason in decisions.items()),
        form=form,
        preview=preview,
        max_at_once=actions.MAX_EXCLUDED_AT_ONCE,
    )
    return render(request, "consult/exclude.html", ctx)
