"""Organisation pages of consultations (coordinators, scrutineers).  Thin: every
change goes through beffroi.consult.actions; public pages are in api.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from beffroi.consult import actions, api, live, tasks
from beffroi.consult.forms import (
    AUDIT_FLAG,
    ConsultationForm,
    CredentialsImportForm,
    PostHocRuleForm,
    QuestionFormSet,
    RevokeForm,
    initial_from_spec,
    spec_from_forms,
)
from beffroi.consult.models import Consultation, Status
from beffroi.consult.spec import SpecError, spec_from_dict, spec_hash
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
        if form.is_valid() and questions.is_valid():
            spec_dict = spec_from_forms(form, questions)
            try:
                if c is None:
                    c = actions.create_consultation(org, spec_dict, actor=request.user)
                else:
                    actions.update_draft(c, spec_dict, actor=request.user)
            except ActionError as exc:
                form.add_error(None, str(exc))
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
        draft_hash=spec_hash(spec) if spec and c.status == Status.DRAFT else "",
        n_credentials=creds.count(),
        n_revoked=creds.exclude(revoked_at=None).count(),
        import_form=CredentialsImportForm(),
        revoke_form=RevokeForm(),
        rule_form=PostHocRuleForm(),
        flags=live.flags(c),
    )
    return render(request, "consult/detail.html", ctx)


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
        messages.error(request, _("Choisissez le fichier cles-publiques.jsonl à importer."))
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
    return _run(
        request,
        c,
        lambda: actions.revoke_credential(
            c, d["public_key"], d["reason"], actor=request.user, replacement=d["replacement"]
        ),
        _("Code révoqué (inscrit au journal et compté sur le tableau)."),
    )


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
    c = _get(request, cid)
    if request.method == "POST":
        if not can(request.user, c.organisation, "consult.manage"):
            raise PermissionDenied(_("Votre rôle ne donne pas accès à cette page."))
        try:
            n = tasks.live_audit(c, actor=request.user)
        except ActionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Audit effectué : %(n)d signalement(s) nouveau(x).") % {"n": n}
            )
        return redirect("consult-audit", c.organisation.slug, c.cid)
    report = tasks.audit_summary(c)
    return render(
        request,
        "consult/audit.html",
        _ctx(request, consultation=c, report=report, flags=live.flags(c)),
    )
