"""Pages of the watch room. Thin: they check roles, read, and call actions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, FloatField, Func, Max, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.defaults import page_not_found

from beffroi.core import throttle
from beffroi.core.client import pseudonyms
from beffroi.core.models import JournalEntry
from beffroi.core.roles import can, require
from beffroi.watch import actions, exports, keyset, live
from beffroi.watch.forms import (
    ActivationEditForm,
    ActivationForm,
    LogEntryForm,
    LogStatusForm,
    PartnerLinkForm,
    SourceForm,
    translated,
)
from beffroi.watch.models import (
    DECISION_KEYS,
    DECLARABLE_SOURCES,
    SOURCE_TYPE_KEYS,
    Activation,
    Card,
    CardState,
    Decision,
    LogCategory,
    LogChannel,
    LogEntry,
    LogStatus,
    LogUpdate,
    PartnerLink,
    Source,
    SourceKind,
    SourceType,
)
from beffroi.watch.views_i18n import (
    SKIP_REASONS,
    SOURCE_ERRORS,
    SOURCE_STATUS,
    coverage_gap_text,
    explanation,
    export_formats,
    export_label,
    language_choices,
    language_name,
)

QUEUE_SIZE = 200

# The classifier's information types are CrisisLex label names (English, and
# what ``beffroi watch classify`` writes); volunteers read them in their language.
INFO_TYPE_LABELS = {
    "Affected individuals": gettext_lazy("Personnes touchées"),
    "Infrastructure and utilities": gettext_lazy("Infrastructures et réseaux"),
    "Donations and volunteering": gettext_lazy("Dons et bénévolat"),
    "Caution and advice": gettext_lazy("Consignes et conseils"),
    "Sympathy and support": gettext_lazy("Soutien et compassion"),
    "Other Useful Information": gettext_lazy("Autre information utile"),
    "Not applicable": gettext_lazy("Sans objet"),
}

# What the runner reports (``SourceStatus.state``), plus "new" before the worker
# took the source: codes in the database, labels on the page.
SOURCE_STATUS_LABELS = {
    "new": gettext_lazy("En attente"),
    "connecting": gettext_lazy("Connexion en cours"),
    "ok": gettext_lazy("En service"),
    "error": gettext_lazy("En erreur, nouvel essai prévu"),
    "done": gettext_lazy("Terminée"),
    "stopped": gettext_lazy("Arrêtée"),
    "failed": gettext_lazy("En échec, à corriger"),
}


_WEB_LINK = re.compile(r"https?://", re.IGNORECASE)


def web_link(url: str) -> str:
    """``url`` if a page may render it as a link (http or https), else "".

    A post's link comes from outside (an RSS ``<link>`` can say ``javascript:…``) and
    an escalated card hands it to the main courante and the partners' page. The CSP
    blocks such a link in current browsers; this keeps it out of the page anyway. The
    check is on the raw text, so a scheme hidden behind spaces or tabs is refused too."""
    return url if _WEB_LINK.match(url) else ""


def info_type_label(code: str) -> str:
    return str(INFO_TYPE_LABELS.get(code, code))


def source_status_label(code: str) -> str:
    return str(SOURCE_STATUS_LABELS.get(code, code))


def _activation(request: HttpRequest, activation_id: int) -> Activation:
    return get_object_or_404(
        Activation,
        pk=activation_id,
        organisation=request.organisation,  # type: ignore[attr-defined]
    )


def grouped(n: int) -> str:
    """A count as the reader writes it (« 20 305 », "20,305"): a page's counts run to
    tens of thousands in a long night."""
    from django.utils.formats import number_format

    return number_format(n, force_grouping=True)


def _ctx(
    request: HttpRequest, activation: Activation | None = None, **extra: Any
) -> dict[str, Any]:
    org = request.organisation  # type: ignore[attr-defined]
    ctx: dict[str, Any] = {
        "org": org,
        "activation": activation,
        "can_manage": can(request.user, org, "watch.manage"),
        "can_triage": can(request.user, org, "watch.triage"),
    }
    ctx.update(extra)
    return ctx


def _is_partner_view(request: HttpRequest) -> bool:
    """The valve: whoever cannot triage sees only what was sent to partners."""
    return not can(request.user, request.organisation, "watch.triage")  # type: ignore[attr-defined]


# -- activations --------------------------------------------------------------------------


@require("watch.log.view")
def activations(request: HttpRequest) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    items = Activation.objects.filter(organisation=org)
    return render(request, "watch/activations.html", _ctx(request, activations=items))


@require("watch.manage")
@require_http_methods(["GET", "POST"])
def activation_new(request: HttpRequest) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # A commune's name or postcode typed for its INSEE code: say which code it is,
        # under the field, as the main courante does. The action still checks each code.
        if said := _area_error(d["area"]):
            form.add_error("area", said)
            return render(request, "watch/activation_new.html", _ctx(request, form=form))
        try:
            activation = actions.create_activation(
                org,
                name=d["name"],
                event_type=d["event_type"],
                area=d["area"],
                keywords=d["keywords"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                keep_handles=d["keep_handles"],
                actor=request.user,
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Activation ouverte."))
            return redirect("watch-activation", org.slug, activation.pk)
    return render(request, "watch/activation_new.html", _ctx(request, form=form))


@require("watch.log.view")
def activation_detail(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    stats = {}
    if not _is_partner_view(request):
        # One pass over the activation's cards (its (activation, state) index) for the
        # three counts.
        by_state = dict(activation.cards.order_by().values_list("state").annotate(n=Count("pk")))
        stats = {
            "queued": grouped(by_state.get(CardState.QUEUED, 0)),
            "decided": grouped(by_state.get(CardState.DECIDED, 0)),
            "escalated": grouped(by_state.get(CardState.ESCALATED, 0)),
            "posts": grouped(activation.posts.count()),
        }
    return render(request, "watch/activation.html", _ctx(request, activation, stats=stats))


@require("watch.manage")
@require_http_methods(["GET", "POST"])
def activation_edit(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    if not activation.is_open:
        messages.error(request, _("Cette activation est close : elle ne se modifie plus."))
        return redirect("watch-activation", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]
    form = ActivationEditForm(
        request.POST or None, initial=ActivationEditForm.initial_for(activation)
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # As at creation: a commune's name or postcode typed for its code is said under
        # the field with the codes it means; the action words any other wrong entry.
        if form.area_sent() and (said := _area_error(d["area"])):
            form.add_error("area", said)
            return render(
                request, "watch/activation_edit.html", _ctx(request, activation, form=form)
            )
        try:
            changed = actions.update_activation(
                activation,
                name=d["name"],
                event_type=d["event_type"],
                keywords=d["keywords"],
                ends_at=d["ends_at"],
                area=d["area"] if form.area_sent() else None,
                actor=request.user,
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            if changed:
                messages.success(request, _("Activation modifiée."))
            else:
                messages.info(request, _("Rien à modifier."))
            return redirect("watch-activation", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]
    return render(request, "watch/activation_edit.html", _ctx(request, activation, form=form))


@require("watch.manage")
@require_POST
def activation_close(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    try:
        actions.close_activation(activation, actor=request.user)
        messages.success(request, _("Activation close : les sources s'arrêtent."))
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    return redirect("watch-activation", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]


# -- sources ---------------------------------------------------------------------------------


def _clock(at: Any) -> str:
    return timezone.localtime(at).strftime("%H:%M:%S") if at else ""


def _coverage_gaps(sources: Iterable[Source]) -> dict[int, str]:
    """Each source's latest coverage gap, as its status says it. The journal holds
    them all (``actions.record_coverage_gap``, docs/decisions/sources.md)."""
    subjects = {f"source:{s.pk}": s.pk for s in sources}
    gaps: dict[int, str] = {}
    entries = JournalEntry.objects.filter(action="watch.source.gap", subject__in=list(subjects))
    # Only the latest per source is read and said: the page polls every few seconds.
    latest = entries.values("subject").annotate(last=Max("seq")).values_list("last", flat=True)
    latest_gaps = JournalEntry.objects.filter(seq__in=list(latest)).only("subject", "data")
    # A gap fetched afterwards says so (``actions.record_gap_filled``): matched by its
    # end and stream. Rare entries, so all of them are read.
    filled = {
        (e.subject, e.data.get("to"), e.data.get("where", "")): e.data
        for e in JournalEntry.objects.filter(
            action="watch.source.gap.filled", subject__in=list(subjects)
        ).only("subject", "data")
    }
    for entry in latest_gaps:
        done = filled.get((entry.subject, entry.data.get("to"), entry.data.get("where", "")))
        gaps[subjects[entry.subject]] = coverage_gap_text(entry.data, done)
    return gaps


def _source_status(source: Source, gap: str = "") -> dict[str, Any]:
    return {
        "id": source.pk,
        "name": source.name,
        "kind": source.get_kind_display(),
        "enabled": source.enabled,
        "status": source.status,
        "status_label": source_status_label(source.status),
        "message": SOURCE_STATUS.say(source.status_message),
        "at": source.status_at.isoformat() if source.status_at else None,
        "at_display": _clock(source.status_at),
        "retry_at": source.retry_at.isoformat() if source.retry_at else None,
        "retry_display": _clock(source.retry_at),
        "posts": source.posts_count,
        "skipped": source.skipped_count,
        "last_skip_reason": SKIP_REASONS.say(source.last_skip_reason),
        "unknown_deletions": source.unknown_deletions_count,
        "gap": gap,
    }


@require("watch.manage")
@require_http_methods(["GET", "POST"])
def sources(request: HttpRequest, activation_id: int) -> HttpResponse:
    from beffroi.watch.sources import FORMS, ConfigError

    activation = _activation(request, activation_id)
    kind = request.GET.get("type") or request.POST.get("kind") or "rss"
    if kind not in FORMS:
        kind = "rss"
    form = SourceForm(kind, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_source(
                activation,
                kind=kind,
                name=form.cleaned_data["name"],
                data=form.config(),
                actor=request.user,
                declared_source=form.cleaned_data.get("declared_source") or "",
            )
        except ConfigError as exc:
            for field, message in exc.errors.items():
                form.add_error(
                    field if field in form.fields else None, SOURCE_ERRORS.say(str(message))
                )
        else:
            messages.success(request, _("Source ajoutée : le worker la démarre."))
            return redirect("watch-sources", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]
    listed = list(activation.sources.all())
    gaps = _coverage_gaps(listed)
    for s in listed:
        s.gap_text = gaps.get(s.pk, "")  # type: ignore[attr-defined]
        s.status_label = source_status_label(s.status)  # type: ignore[attr-defined]
        s.status_text = SOURCE_STATUS.say(s.status_message)  # type: ignore[attr-defined]
        s.skip_text = SKIP_REASONS.say(s.last_skip_reason)  # type: ignore[attr-defined]
        s.declared_label = (  # type: ignore[attr-defined]
            SourceType(s.declared_source).label if s.declared_source in SourceType.values else ""
        )
    senders = [("", _("À lire dans chaque message (classifieur)"))] + [
        (t.value, t.label) for t in DECLARABLE_SOURCES
    ]
    return render(
        request,
        "watch/sources.html",
        _ctx(
            request,
            activation,
            sources=listed,
            form=form,
            kind=kind,
            kinds=[(k, translated(f.label)) for k, f in FORMS.items()],
            senders=senders,
        ),
    )


@require("watch.manage")
@require_GET
def sources_status(request: HttpRequest, activation_id: int) -> JsonResponse:
    activation = _activation(request, activation_id)
    listed = list(activation.sources.all())
    gaps = _coverage_gaps(listed)
    return JsonResponse({"sources": [_source_status(s, gaps.get(s.pk, "")) for s in listed]})


@require("watch.manage")
@require_POST
def source_toggle(request: HttpRequest, activation_id: int, source_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    source = get_object_or_404(Source, pk=source_id, activation=activation)
    # The button says what it wants: two coordinators pressing « Suspendre » at once (or
    # one pressing twice) must not resume it. A form without it (an older page) flips.
    wanted = request.POST.get("enabled")
    enabled = wanted == "1" if wanted in ("0", "1") else not source.enabled
    try:
        actions.set_source_enabled(source, enabled, actor=request.user)
    except actions.ActionError as exc:  # a closed activation's source is not resumed
        messages.error(request, str(exc))
        return redirect("watch-sources", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]
    if enabled:
        messages.success(
            request,
            _("Source « %(name)s » reprise : le worker la relance.") % {"name": source.name},
        )
    else:
        messages.success(request, _("Source « %(name)s » suspendue.") % {"name": source.name})
    return redirect("watch-sources", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]


@require("watch.manage")
@require_POST
def source_declare(request: HttpRequest, activation_id: int, source_id: int) -> HttpResponse:
    from beffroi.watch.sources import ConfigError

    activation = _activation(request, activation_id)
    source = get_object_or_404(Source, pk=source_id, activation=activation)
    try:
        actions.set_declared_source(
            source, request.POST.get("declared_source", ""), actor=request.user
        )
    except ConfigError as exc:
        for message in exc.errors.values():
            messages.error(request, SOURCE_ERRORS.say(str(message)))
    return redirect("watch-sources", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]


# -- triage ----------------------------------------------------------------------------------


def _holds_nul(value: str) -> bool:
    """Whether a query parameter holds a NUL (``%00`` typed in an address). PostgreSQL
    refuses to compare text with one (a 500), and no stored text can hold one there, so
    such a filter matches nothing and such a value never goes into a link."""
    return "\x00" in value


def _links_query(names: Iterable[str], params: Mapping[str, Any], **changes: Any) -> str:
    """The parameters ``names`` of ``params`` as a query string, with ``changes``: only
    the names a page knows, so nothing else travels in its links and redirects; an empty
    value is left out (the newest page has no starting point)."""
    from urllib.parse import urlencode

    values = {k: str(params.get(k, "")) for k in names}
    values.update({k: str(v) for k, v in changes.items()})
    return urlencode([(k, v) for k, v in values.items() if v and not _holds_nul(v)])


def _commune_codes(typed: str) -> list[str]:
    """The INSEE codes a commune filter means, as the gazetteer reads it: a code, a name
    whatever its accents and case (« lucon », « LUÇON »: Luçon; « Saint-Denis »: each
    of them) or a postcode (its communes). Cards carry the gazetteer's codes, so the
    filter is an indexed look-up; the database's case-insensitive match missed
    « lucon » and, on SQLite, any case change of a letter with an accent."""
    from beffroi.geo import gazetteer

    codes = [typed] if gazetteer.by_code(typed) is not None else []
    codes += [c.current_code for c in gazetteer.by_name(typed)]
    codes += [c.current_code for c in gazetteer.by_postcode(typed)]
    return sorted(set(codes))


def _queue(activation: Activation, params: Any) -> QuerySet[Card]:
    cards = Card.objects.filter(activation=activation, state=CardState.QUEUED)
    if any(_holds_nul(str(value)) for value in params.values()):
        # As the main courante's filters (exports.filtered).
        return cards.none()
    if commune := params.get("commune", "").strip():
        if codes := _commune_codes(commune):
            cards = cards.filter(commune_code__in=codes)
        else:
            cards = cards.filter(Q(commune_code=commune) | Q(commune_name__iexact=commune))
    if info_type := params.get("type", "").strip():
        cards = cards.filter(info_type=info_type)
    if source := params.get("source", "").strip():
        # The volunteer's correction wins over the model's guess.
        cards = cards.filter(
            Q(source_corrected=source) | Q(source_corrected="", source_type=source)
        )
    if platform := params.get("plateforme", "").strip():
        cards = cards.filter(source_kind=platform)
    if lang := params.get("lang", "").strip():
        cards = cards.filter(lang=lang)
    return cards.select_related("claimed_by").order_by("-priority", "created_at", "pk")


def _source_type_label(code: str) -> str:
    return str(dict(SourceType.choices).get(code, code))


def _source_kind_label(code: str) -> str:
    return str(dict(SourceKind.choices).get(code, code))


def _card_json(card: Card, user: Any, now: Any) -> dict[str, Any]:
    claimed = card.claimed_by_id is not None and (
        card.claimed_at is not None and card.claimed_at >= now - actions.CLAIM_TIMEOUT
    )
    return {
        "id": card.pk,
        "text": card.text,
        "url": web_link(card.url),
        "posted_at": card.posted_at.isoformat(),
        "lang": card.lang,
        # With the card, not from the page: a card that arrives live may be in a language
        # the page's filter did not list when it loaded.
        "lang_label": language_name(card.lang) if card.lang else "",
        "count": card.posts_count,
        "priority": round(card.priority, 3),
        "explanation": explanation(card.explanation),
        "commune": card.commune_name,
        "commune_code": card.commune_code,
        "in_area": card.in_area,
        "info_type": card.info_type,
        "info_type_label": info_type_label(card.info_type),
        "source_type": actions.effective_source_type(card),
        "source_type_label": _source_type_label(actions.effective_source_type(card)),
        "source_corrected": bool(card.source_corrected),
        "source_kind": card.source_kind,
        "source_kind_label": _source_kind_label(card.source_kind),
        "state": card.state,
        "decision": card.decision,
        "claimed": claimed,
        "mine": claimed and card.claimed_by_id == user.pk,
        "claimed_by": card.claimed_by.get_username() if claimed and card.claimed_by else "",
        "author_change": "deleted"
        if card.author_deleted_at
        else ("edited" if card.author_edited_at else ""),
    }


@require("watch.triage")
def triage(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    base = reverse("watch-triage", args=[request.organisation.slug, activation.pk])  # type: ignore[attr-defined]
    facets = _facets(activation)
    return render(
        request,
        "watch/triage.html",
        _ctx(
            request,
            activation,
            base=base,
            decisions=[(d.value, d.label, DECISION_KEYS[d.value]) for d in Decision],
            source_types=[(t.value, t.label, SOURCE_TYPE_KEYS[t.value]) for t in SourceType],
            categories=LogCategory.choices,
            # The page warns before a held card is freed, and offers to keep it (WCAG 2.2.1).
            claim_seconds=int(actions.CLAIM_TIMEOUT.total_seconds()),
            # The language's name in the reader's language; the code stays the value.
            langs=language_choices(facets["lang"]),
            types=sorted((t, info_type_label(t)) for t in facets["info_type"]),
            platforms=sorted((k, _source_kind_label(k)) for k in facets["source_kind"]),
        ),
    )


FACETS = ("lang", "info_type", "source_kind")


def _facets(activation: Activation) -> dict[str, set[str]]:
    """The values the queue's filters offer: those of the activation's cards.

    One DISTINCT over the three columns, which the (activation, lang, info_type,
    source_kind) index covers: the rows themselves, with their text, are never read.
    Reading one value per card and naming each in Python made the page take 1.4 s at
    20,000 cards (a language's name is a gettext call)."""
    found: dict[str, set[str]] = {name: set() for name in FACETS}
    combos = Card.objects.filter(activation=activation).values_list(*FACETS).distinct()
    for values in combos.order_by():
        for name, value in zip(FACETS, values, strict=True):
            if value:
                found[name].add(value)
    return found


@require("watch.triage")
@require_GET
def queue_json(request: HttpRequest, activation_id: int) -> JsonResponse:
    activation = _activation(request, activation_id)
    now = timezone.now()
    cards = list(_queue(activation, request.GET)[:QUEUE_SIZE])
    total = _queue(activation, request.GET).count()
    return JsonResponse(
        {"cards": [_card_json(c, request.user, now) for c in cards], "total": total}
    )


def _version(activation_id: int, model: type[Card] | type[LogEntry]) -> str:
    last = model.objects.filter(activation_id=activation_id).aggregate(m=Max("updated_at"))["m"]
    count = model.objects.filter(activation_id=activation_id).count()
    return f"{count}-{last.timestamp() if last else 0}-{_journal_head(activation_id)}"


def _journal_head(activation_id: int) -> int:
    """The organisation's last journal number. Actions stamp ``updated_at`` before they
    wait for row and journal locks, so on PostgreSQL a change can commit with an older
    stamp than one already seen; journal numbers are handed out under the journal's
    head lock, in commit order, so every committed change moves this one."""
    org = Activation.objects.filter(pk=activation_id).values_list("organisation_id", flat=True)
    head = (
        JournalEntry.objects.filter(organisation_id__in=org)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    return head or 0


def _still_following(
    request: HttpRequest, activation: Activation, capability: str
) -> Callable[[], bool]:
    """Whether the member who opened a stream may still follow it, as they would be
    checked now: their session is still valid, and their role still gives ``capability``
    and the same view of the room (internal or partners') as when the stream opened."""
    from django.contrib.auth import get_user_model

    user_id, organisation = request.user.pk, activation.organisation
    # Every request through the middleware has a session; a bare request (tests) has none.
    session = getattr(request, "session", None)
    partner = _is_partner_view(request)

    def allowed() -> bool:
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        if user is None or not can(user, organisation, capability):
            return False
        if session is not None and not _session_still_valid(session, user):
            return False
        return (not can(user, organisation, "watch.triage")) == partner

    return allowed


def _session_still_valid(session: Any, user: Any) -> bool:
    """The stream's session as Django checks it on each request (``auth.get_user``, read
    from the store again): still stored (not logged out), still this user's, and made
    with their current password (a password change ends the other sessions)."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user

    if not session.session_key:
        return False
    stored = type(session)(session.session_key)
    # get_user reads only the request's session.
    return bool(get_user(SimpleNamespace(session=stored)).pk == user.pk)  # type: ignore[arg-type]


@require("watch.triage")
@require_GET
def triage_stream(request: HttpRequest, activation_id: int) -> HttpResponseBase:
    activation = _activation(request, activation_id)
    slot = _account_stream_slot(request)
    if slot is None:
        return _too_many_account_streams()
    return live.sse_response(
        request,
        live.rechecked(
            lambda: _version(activation.pk, Card),
            _still_following(request, activation, "watch.triage"),
        ),
        slot=slot,
    )


def _account_stream_slot(request: HttpRequest) -> live.Slot | None:
    """A place for one more live stream of the signed-in account. Under ASGI a stream runs
    for as long as its browser keeps it: without a cap, one account (or a stolen session)
    could hold hundreds open, each a connection and a database poll a second."""
    return live.take(f"account:{request.user.pk}", live.max_streams_per_account())


def _too_many_account_streams() -> HttpResponse:
    return live.refused(
        _(
            "Trop de pages en direct sont ouvertes avec ce compte (%(n)d au plus) : "
            "fermez-en une, celle-ci reprendra d'elle-même."
        )
        % {"n": live.max_streams_per_account()}
    )


def _card_action(request: HttpRequest, activation_id: int, card_id: int) -> Card:
    activation = _activation(request, activation_id)
    return get_object_or_404(Card, pk=card_id, activation=activation)


def _json_error(exc: Exception) -> JsonResponse:
    # 400: the request itself is wrong; 409: it met a state that refuses it (a card taken).
    status = 400 if isinstance(exc, actions.InvalidInput) else 409
    return JsonResponse({"ok": False, "error": str(exc)}, status=status)


@require("watch.triage")
@require_POST
def card_claim(request: HttpRequest, activation_id: int, card_id: int) -> JsonResponse:
    card = _card_action(request, activation_id, card_id)
    try:
        card = actions.claim(card, actor=request.user)
    except actions.ActionError as exc:
        return _json_error(exc)
    return JsonResponse({"ok": True, "card": _card_json(card, request.user, timezone.now())})


@require("watch.triage")
@require_POST
def card_release(request: HttpRequest, activation_id: int, card_id: int) -> JsonResponse:
    card = _card_action(request, activation_id, card_id)
    try:
        actions.release(card, actor=request.user)
    except actions.ActionError as exc:
        return _json_error(exc)
    return JsonResponse({"ok": True})


@require("watch.triage")
@require_POST
def card_decide(request: HttpRequest, activation_id: int, card_id: int) -> JsonResponse:
    card = _card_action(request, activation_id, card_id)
    evidence = request.POST.get("evidence", "").splitlines()
    try:
        card = actions.decide(
            card,
            request.POST.get("decision", ""),
            actor=request.user,
            notes=request.POST.get("notes", "").strip(),
            evidence=evidence,
        )
    except actions.ActionError as exc:
        return _json_error(exc)
    return JsonResponse({"ok": True, "card": _card_json(card, request.user, timezone.now())})


@require("watch.triage")
@require_POST
def card_source(request: HttpRequest, activation_id: int, card_id: int) -> JsonResponse:
    card = _card_action(request, activation_id, card_id)
    try:
        card = actions.correct_source(card, request.POST.get("source_type", ""), actor=request.user)
    except actions.ActionError as exc:
        return _json_error(exc)
    return JsonResponse({"ok": True, "card": _card_json(card, request.user, timezone.now())})


@require("watch.triage")
@require_POST
def card_escalate(request: HttpRequest, activation_id: int, card_id: int) -> JsonResponse:
    card = _card_action(request, activation_id, card_id)
    try:
        entry = actions.escalate(
            card,
            actor=request.user,
            category=request.POST.get("category", LogCategory.OTHER),
            text=request.POST.get("text", ""),
            notes=request.POST.get("notes", ""),
            # Only an explicit tick shares the line: a request without the field (an old
            # page, a script) keeps it internal, as the decided cards' page does.
            for_partners=request.POST.get("for_partners", "0") == "1",
            decision=request.POST.get("decision", ""),
            evidence=request.POST.get("evidence", "").splitlines(),
            queued_only=True,
        )
    except actions.ActionError as exc:
        return _json_error(exc)
    return JsonResponse({"ok": True, "entry": entry.number})


# -- decided cards ----------------------------------------------------------------------------

DECIDED_PAGE_SIZE = 50
DECIDED_PARAMS = ("decision", "moi", "depuis")
# The decided cards' older pages start at a decision, as the main courante's start at a
# line (keyset paging on the page's order, decision time then card id): decisions taken
# while a volunteer reviews page 2 come in at the top of page 1 and page 2 keeps its
# cards. The cursor is the decision's values (« depuis=<µs since 1970>_<card id> »), not
# a card to look up: a card corrected or sent back to the queue meanwhile leaves its
# place, and the page still starts where it did.
DECIDED = keyset.Keyset("decided_at", "pk", DECIDED_PAGE_SIZE)


def _decided_query(params: Mapping[str, Any], **changes: Any) -> str:
    return _links_query(DECIDED_PARAMS, params, **changes)


def _decided_cursor(card: Card) -> str:
    return keyset.cursor(DECIDED.key(card))


def _decided_page(cards: QuerySet[Card], params: Mapping[str, Any]) -> dict[str, Any]:
    """One page of decided ``cards`` (filtered), newest decision first, from the decision
    ``depuis`` names (absent or malformed: the newest), with its range and links."""
    page = DECIDED.page(
        cards.select_related("decided_by"), keyset.parse_cursor(params.get(FROM_PARAM))
    )
    newer_link = None
    if page.top is not None:
        newer_link = _decided_query(
            params, depuis=keyset.cursor(page.newer) if page.newer is not None else ""
        )
    shown = page.shown
    return {
        "cards": shown,
        "count": page.count,
        "paged": page.count > len(shown),
        "first": grouped(page.first),
        "last": grouped(page.last),
        "total": grouped(page.count),
        "newer": newer_link,
        "older": _decided_query(params, depuis=keyset.cursor(page.older)) if page.older else None,
        # The page as it is, for the forms' way back.
        "here": _decided_query(
            params, depuis=_decided_cursor(shown[0]) if page.top is not None and shown else ""
        ),
        "numbered_page": keyset.numbered_page_link(params, FROM_PARAM),
    }


@require("watch.triage")
@require_GET
def decided(request: HttpRequest, activation_id: int) -> HttpResponse:
    """The cards decided in the triage room, newest decision first: where a decision taken
    by mistake is corrected (a new decision, or the card back in the queue). A decided
    card leaves the queue, so without this page it could not be found again."""
    activation = _activation(request, activation_id)
    cards = Card.objects.filter(activation=activation, state=CardState.DECIDED)
    params = request.GET
    decision = str(params.get("decision", ""))
    if decision in Decision.values:
        cards = cards.filter(decision=decision)
    mine = params.get("moi") == "1"
    if mine:
        cards = cards.filter(decided_by_id=request.user.pk)
    page = _decided_page(cards, params)
    labels = dict(Decision.choices)
    for card in page["cards"]:
        card.decision_label = labels.get(card.decision, card.decision)  # type: ignore[attr-defined]
        card.link = web_link(card.url)  # type: ignore[attr-defined]
        card.lang_label = language_name(card.lang) if card.lang else ""  # type: ignore[attr-defined]
        card.evidence_links = [  # type: ignore[attr-defined]
            (link, web_link(link)) for link in card.evidence if isinstance(link, str)
        ]
        card.decision_options = _option_lists(labels, [card.decision])[card.decision]  # type: ignore[attr-defined]
        card.version = _decision_version(card)  # type: ignore[attr-defined]
    return render(
        request,
        "watch/decided.html",
        _ctx(
            request,
            activation,
            **page,
            decisions=Decision.choices,
            decision=decision,
            mine=mine,
            categories=LogCategory.choices,
        ),
    )


def _decision_version(card: Card) -> str:
    """What a decided card's row showed: its last decision's time (``actions.correct_decision``
    compares it with the card's)."""
    return card.decided_at.isoformat() if card.decided_at else ""


def _back_to_decided(request: HttpRequest, activation: Activation) -> HttpResponse:
    from django.http import QueryDict

    url = reverse("watch-decided", args=[request.organisation.slug, activation.pk])  # type: ignore[attr-defined]
    query = _decided_query(QueryDict(str(request.POST.get("retour", ""))[:2000]))
    return redirect(f"{url}{'?' if query else ''}{query}")


@require("watch.triage")
@require_POST
def decided_correct(request: HttpRequest, activation_id: int, card_id: int) -> HttpResponse:
    """A new decision on a decided card (``actions.correct_decision``)."""
    card = _card_action(request, activation_id, card_id)
    try:
        card = actions.correct_decision(
            card,
            request.POST.get("decision", ""),
            actor=request.user,
            notes=request.POST.get("notes", ""),
            seen=request.POST.get("vu"),
        )
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    else:
        label = dict(Decision.choices).get(card.decision, card.decision)
        messages.success(request, _("Décision corrigée : %(label)s.") % {"label": label})
    return _back_to_decided(request, card.activation)


@require("watch.triage")
@require_POST
def decided_escalate(request: HttpRequest, activation_id: int, card_id: int) -> HttpResponse:
    """Send a decided card to the main courante (« Vérifié » pressed where « e » was
    meant): the line takes the card's decision as its verification."""
    card = _card_action(request, activation_id, card_id)
    try:
        entry = actions.escalate_decided(
            card,
            actor=request.user,
            category=request.POST.get("category", ""),
            # Only an explicit tick shares the line, even a verified card's: the page
            # ticks it for « Vérifié », a request without the field keeps it internal.
            for_partners=request.POST.get("for_partners") == "1",
            seen=request.POST.get("vu"),
        )
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Envoyée en main courante (ligne n° %(n)s).") % {"n": entry.number}
        )
    return _back_to_decided(request, card.activation)


@require("watch.triage")
@require_POST
def card_requeue(request: HttpRequest, activation_id: int, card_id: int) -> HttpResponse:
    card = _card_action(request, activation_id, card_id)
    try:
        actions.return_to_queue(card, actor=request.user, seen=request.POST.get("vu"))
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Carte remise dans la file de tri."))
    return _back_to_decided(request, card.activation)


# -- main courante ----------------------------------------------------------------------------


# The valve and the filters live with the exports, which run outside requests too.
visible_entries = exports.visible_entries
_filtered = exports.filtered


def _option_lists(choices: Mapping[str, Any], currents: Iterable[str]) -> dict[str, str]:
    """For each current value, the <option> list of ``choices`` with it selected."""
    from django.utils.html import format_html_join
    from django.utils.safestring import mark_safe

    return {
        current: format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (v, mark_safe(" selected") if v == current else "", label)
                for v, label in choices.items()
            ),
        )
        for current in currents
    }


# A line whose time (« Heure ») is further than this from when it was typed says when it
# was typed, under its time. The form's time has no seconds, and writing up a call takes
# a couple of minutes: below five, the gap says nothing a reader needs; from five on,
# other lines may have come in between, and a reader comparing the line with them (or a
# préfecture reading « 09:00 » on a line typed at 15:00) must know it was logged late.
TYPED_LATE = timedelta(minutes=5)


def _typed_note(entry: LogEntry) -> str:
    """« saisie à 15:02 par marie » under a line dated away from its typing (the date
    too when it is another day, the year when another year); without the name for a
    partner (the team's names stay inside the team: only members' rows carry it,
    ``exports.visible_entries``) or an account since deleted. Lines sent from the triage
    room take the time they are sent, so only lines typed by hand can say this."""
    if abs(entry.at - entry.created_at) <= TYPED_LATE:
        return ""
    from django.utils.dateformat import format as date_format

    typed, happened = timezone.localtime(entry.created_at), timezone.localtime(entry.at)
    values = {"time": date_format(typed, "H:i"), "who": getattr(entry, exports.TYPED_BY, "")}
    if typed.date() != happened.date():
        values["date"] = date_format(typed, _("d/m") if typed.year == happened.year else _("d/m/Y"))
        if values["who"]:
            return _("saisie le %(date)s à %(time)s par %(who)s") % values
        return _("saisie le %(date)s à %(time)s") % values
    if values["who"]:
        return _("saisie à %(time)s par %(who)s") % values
    return _("saisie à %(time)s") % values


def _labelled(
    entries: QuerySet[LogEntry], status_url: str = "", *, history: bool = False
) -> list[LogEntry]:
    """The rows of the main courante with their labels looked up once.

    Every member's page re-renders these rows at each change: calling
    get_FOO_display() and reversing a URL per row made that cost about
    0.8 ms a row."""
    channels = dict(LogChannel.choices)
    categories = dict(LogCategory.choices)
    verifications = dict(Decision.choices)
    statuses = dict(LogStatus.choices)
    options = _option_lists(statuses, statuses)
    checks = _option_lists(verifications, ["", *verifications])
    prefix = status_url.removesuffix("0/statut/") if status_url.endswith("/0/statut/") else ""
    rows = list(entries)
    updates: dict[int, list[Any]] = {}
    if history:
        # Who changed each line's status, when, with which note: the team's follow-up
        # (internal: never on a partner's page). One query for the page's lines.
        for u in LogUpdate.objects.filter(entry__in=[e.pk for e in rows]).select_related("actor"):
            u.status_label = statuses.get(u.status, u.status)  # type: ignore[attr-defined]
            updates.setdefault(u.entry_id, []).append(u)
    for e in rows:
        e.updates_shown = updates.get(e.pk, [])  # type: ignore[attr-defined]
        e.channel_label = channels.get(e.channel, e.channel)  # type: ignore[attr-defined]
        e.category_label = categories.get(e.category, e.category)  # type: ignore[attr-defined]
        e.verification_label = verifications.get(e.verification, "")  # type: ignore[attr-defined]
        e.status_label = statuses.get(e.status, e.status)  # type: ignore[attr-defined]
        e.status_options = options.get(e.status, "")  # type: ignore[attr-defined]
        e.status_url = f"{prefix}{e.pk}/statut/" if prefix else ""  # type: ignore[attr-defined]
        e.verification_options = checks.get(e.verification, "")  # type: ignore[attr-defined]
        e.verification_url = f"{prefix}{e.pk}/verification/" if prefix else ""  # type: ignore[attr-defined]
        e.sharing_url = f"{prefix}{e.pk}/partenaires/" if prefix else ""  # type: ignore[attr-defined]
        e.link = web_link(e.source_url)  # type: ignore[attr-defined]
        e.typed_note = _typed_note(e)  # type: ignore[attr-defined]
    return rows


# Lines of the main courante shown at once, newest first. Each member's page fetches its
# rows again at every change: 500 rows were 760 kB and 0.4 s a fetch at 2,000 lines, and
# the older ones could not be reached at all; the rest is a page away.
COURANTE_PAGE_SIZE = 100
# The main courante's older pages start at a line: « depuis=61 » is line 61 and the 99
# older ones (keyset paging, on the lines' time then number, which is their order). Lines
# that arrive while a partner reads an older page do not move it: an offset would skip or
# repeat as many lines at the next « plus anciennes ». Without it: the newest lines, live.
FROM_PARAM = "depuis"
# Every page's live refresh, forms and links to older pages carry what its reader had
# been shown when it was first drawn (« lu=257 », the newest line they could see; a
# partner's also says that second, « lu=257_1732449600 »): the lines numbered above it, or
# shared with a partner since,
# that this reader may see with the page's filters are the news the page announces —
# « 3 nouvelles lignes » above an older page, « 1 ligne ajoutée plus bas » for a line
# whose earlier time puts it below the page. Reaching the newest page starts a new mark.
SEEN_PARAM = "lu"
COURANTE = keyset.Keyset("at", "number", COURANTE_PAGE_SIZE)


def _query(params: Mapping[str, Any], **changes: Any) -> str:
    """The main courante's filters and page as a query string (see ``_links_query``)."""
    return _links_query((*exports.FILTER_PARAMS, FROM_PARAM), params, **changes)


def _line_number(value: object) -> int | None:
    """A line number from a query parameter, or None. ASCII digits only: « ² » is a digit
    to str.isdigit() but not to int(), which made a partner link's page a 500."""
    text = str(value or "")
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def _shared_since(activation: Activation) -> Callable[[datetime], list[int]]:
    """The ids of the lines sent to the partners from a given time on, read from the
    journal (``actions.set_entry_sharing``): a line shared after the fact keeps its old
    number, so only this says it is new to them. Sharing changes are rare: a handful of
    journal rows on its action's index. Never before the activation was created, so a
    mark of the reader's own making (« lu=0_0 ») reads this activation's changes at most,
    not those of every activation of the organisation."""

    def since(at: datetime) -> list[int]:
        found = JournalEntry.objects.filter(
            action="watch.log.share",
            organisation_id=activation.organisation_id,
            at__gte=max(at, activation.created_at),
        ).values_list("subject", "data")
        return sorted(
            {
                int(subject[4:])
                for subject, data in found
                if re.fullmatch(r"log:[0-9]{1,12}", subject)
                and isinstance(data, dict)
                and data.get("for_partners") is True
            }
        )

    return since


def _paged(
    entries: QuerySet[LogEntry],
    params: Mapping[str, Any],
    visible: QuerySet[LogEntry],
    *,
    shared_later: Callable[[datetime], list[int]] | None = None,
) -> dict[str, Any]:
    """One page of ``entries`` (filtered, newest first) and what the page says about it:
    which lines of how many, the links to the newer and older ones (same filters), and
    the lines its reader has not been shown yet (see ``SEEN_PARAM``).

    The page starts at the line ``depuis`` names, looked up among ``visible`` (the lines
    this reader may see, filters aside: a line whose status changed out of the filter
    still marks the place; a partner naming an internal line gets the newest page, so
    nothing tells them where it sits). Unknown or absent: the newest page. A partner's
    page passes ``shared_later`` (``_shared_since``)."""
    top = None
    start_line = _line_number(params.get(FROM_PARAM))
    if start_line is not None:
        top = visible.filter(number=start_line).values_list("at", "number").first()
    page = COURANTE.page(entries, top)
    shown = page.shown

    def seen_now() -> keyset.Mark:
        # Among all the lines this reader may see, filters aside: a line that later
        # enters the filters (its status changed) is not news.
        # Only a partner's mark needs its second: every line is a member's already.
        newest = visible.aggregate(top=Max("number"))["top"] or 0
        return keyset.Mark.now(newest, timezone.now() if shared_later else None)

    given = keyset.Mark.parse(params.get(SEEN_PARAM))
    mark = given or seen_now()
    news = below = 0
    below_first = None
    if given is not None:  # (a mark drawn just now has nothing after it: no queries)
        # Counted among the lines this reader may see with these filters (``entries``): a
        # partner never learns that internal lines arrived or were shared (the valve).
        fresh = Q(number__gt=mark.number)
        since = mark.since
        if shared_later is not None and since is not None and (shared := shared_later(since)):
            fresh |= Q(pk__in=shared)
        arrived = entries.filter(fresh)
        if page.top is not None:
            news = arrived.exclude(COURANTE.before_or_same(page.top)).count()
        if page.bottom is not None:
            under = arrived.filter(COURANTE.older_than(page.bottom))
            below = under.count()
            if below:
                below_first = COURANTE.newest_first(under).values_list("number", flat=True)[0]
    # The mark the links down carry: an older page's own; the newest page's reader has
    # its top under their eyes (it is live), so what is there now is not news below.
    onward = mark if page.top is not None or given is None else seen_now()

    def link(depuis: object, lu: keyset.Mark) -> str:
        return _links_query(
            (*exports.FILTER_PARAMS, FROM_PARAM, SEEN_PARAM), params, depuis=depuis, lu=lu
        )

    newer_link = None
    if page.top is not None:
        # The newest page has no mark in its link: reaching it is catching up.
        newer_link = (
            link(page.newer[1], mark) if page.newer is not None else _query(params, depuis="")
        )
    here = link(shown[0].number if page.top is not None and shown else "", mark)
    return {
        "shown": shown,
        "count": page.count,
        "paged": page.count > len(shown),
        "first": grouped(page.first),
        "last": grouped(page.last),
        "total": grouped(page.count),
        "newer": newer_link,
        "older": link(page.older[1], onward) if page.older is not None else None,
        # Exports take every line of the filters, whatever the page.
        "query": _query(params, depuis=""),
        # What its live refresh fetches and where its forms come back: the page and its
        # mark (« voir les plus récentes » leads to the newest page, ``query``).
        "live": here,
        "here": here,
        "news": news,
        "news_below": below,
        "news_total": news + below,
        "below": link(below_first, onward) if below_first is not None else None,
        "below_line": below_first,
        "numbered_page": keyset.numbered_page_link(params, FROM_PARAM),
    }


def _courante_ctx(request: HttpRequest, activation: Activation, partner: bool) -> dict[str, Any]:
    entries = _filtered(visible_entries(activation, partner=partner), request.GET)
    slug = request.organisation.slug  # type: ignore[attr-defined]
    # Reversed once; each row puts its own id in place of the 0.
    status_url = reverse("watch-courante-status", args=[slug, activation.pk, 0])
    paged = _paged(
        entries,
        request.GET,
        visible_entries(activation, partner=partner),
        shared_later=_shared_since(activation) if partner else None,
    )
    return {
        **paged,
        "entries": _labelled(paged["shown"], status_url, history=not partner),
        "partner": partner,
        "categories": LogCategory.choices,
        "statuses": LogStatus.choices,
    }


@require("watch.log.view")
def courante(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    partner = _is_partner_view(request)
    ctx = _ctx(request, activation, **_courante_ctx(request, activation, partner))
    # A refused line comes back filled in (see courante_add): nothing typed is lost.
    ctx["entry_form"] = _draft_form(request.session.pop(COURANTE_DRAFT, None))
    slug = request.organisation.slug  # type: ignore[attr-defined]
    ctx["rows_url"] = reverse("watch-courante-rows", args=[slug, activation.pk])
    if ctx["live"]:
        ctx["rows_url"] += f"?{ctx['live']}"
    ctx["stream_url"] = reverse("watch-courante-stream", args=[slug, activation.pk])
    ctx["formats"] = export_formats(list(exports.FORMATS))
    return render(request, "watch/courante.html", ctx)


@require("watch.log.view")
@require_GET
def courante_rows(request: HttpRequest, activation_id: int) -> HttpResponse:
    """The live part of the page (its count, page links and rows), fetched again by its
    script when the stream says the lines changed."""
    activation = _activation(request, activation_id)
    ctx = _ctx(request, activation, **_courante_ctx(request, activation, _is_partner_view(request)))
    return render(request, "watch/_courante_live.html", ctx)


@require("watch.log.view")
@require_GET
def courante_stream(request: HttpRequest, activation_id: int) -> HttpResponseBase:
    activation = _activation(request, activation_id)
    partner = _is_partner_view(request)
    slot = _account_stream_slot(request)
    if slot is None:
        return _too_many_account_streams()
    return live.sse_response(
        request,
        live.rechecked(
            lambda: _log_version(activation.pk, partner),
            _still_following(request, activation, "watch.log.view"),
        ),
        slot=slot,
    )


def _log_version(activation_id: int, partner: bool) -> str:
    entries = LogEntry.objects.filter(activation_id=activation_id)
    if partner:
        return _partner_log_version(entries.filter(for_partners=True))
    agg = entries.aggregate(m=Max("updated_at"))
    stamp = agg["m"].timestamp() if agg["m"] else 0
    return f"{entries.count()}-{stamp}-{_journal_head(activation_id)}"


class _Epoch(Func):
    """Seconds since 1970 of a timestamp, with its fraction, on SQLite and PostgreSQL."""

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores "YYYY-MM-DD HH:MM:SS.ffffff" (UTC); julianday keeps the fraction.
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8"
        )


_PARTNER_VERSION_SALT = "beffroi.watch.views.partner-version"


def _partner_log_version(entries: QuerySet[LogEntry]) -> str:
    """What the partners see and its last changes, summed up by the database. Not the
    journal head, which would turn every internal change into an event for them; and not
    only the newest ``updated_at``, which misses a change that commits with an older stamp
    than one already seen (see ``_journal_head``): the sum of every line's stamp moves
    whenever any line is stamped again, whatever the order of commits. A line stamped
    again moves from its previous stamp, seconds or hours earlier, far above the sum's
    rounding (milliseconds for 10,000 lines). One aggregate query, once a second per open
    partner page.

    The partner's page and stream only compare versions for equality, so they get an
    HMAC of that sum, keyed with the deployment's secret: the sum of the ids itself told
    a partner, between two readings, how many lines every organisation had created
    meanwhile (ids are instance-wide), internal ones included."""
    agg = entries.aggregate(n=Count("pk"), ids=Sum("pk"), stamps=Sum(_Epoch("updated_at")))
    summed = f"{agg['n']}-{agg['ids'] or 0}-{agg['stamps'] or 0:.3f}"
    return salted_hmac(_PARTNER_VERSION_SALT, summed, algorithm="sha256").hexdigest()[:32]


def _communes_meant(code: str) -> dict[str, Any] | None:
    """None when ``code`` is a known INSEE code (or blank); else the communes it may
    mean, by current INSEE code, when it is a commune's name or postcode (what people
    type when asked for a commune): each gazetteer look-up done once."""
    from beffroi.geo import gazetteer

    if not code or gazetteer.by_code(code) is not None:
        return None
    found = {c.current_code: c for c in gazetteer.by_postcode(code)}
    for c in gazetteer.by_name(code):
        current = gazetteer.by_code(c.current_code)
        if current is not None:
            found.setdefault(current.code, current)
    return found


def _commune_error(code: str, found: dict[str, Any] | None = None) -> str:
    """Why ``code`` names no commune, with the INSEE codes meant when the field holds a
    commune's name or postcode, or "" when the code is known. The action checks the
    code too; this says it under the field. ``found``: ``_communes_meant(code)`` when
    the caller already has it."""
    code = code.strip()
    if found is None:
        found = _communes_meant(code)
        if found is None:
            return ""
    said = _("Commune inconnue : %(code)s") % {"code": code}
    if not found:
        return f"{said}. " + _("Un code INSEE compte 5 caractères, par exemple 85128 pour Luçon.")
    choices = ", ".join(f"{c.code} ({c.name}, {c.dep})" for c in list(found.values())[:5])
    return f"{said}. " + ngettext(
        "Code INSEE de cette commune : %(choices)s.",
        "Codes INSEE possibles : %(choices)s.",
        len(found),
    ) % {"choices": choices}


def _area_error(area: list[str]) -> str:
    """For the first entry of an activation's zone that is a commune's name or postcode
    rather than its INSEE code, the error with the codes it means; "" otherwise (the
    action words any other wrong entry)."""
    for code in area:
        if found := _communes_meant(code.strip()):
            return _commune_error(code, found)
    return ""


COURANTE_DRAFT = "courante_draft"


@require("watch.triage")
@require_POST
def courante_add(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    form = LogEntryForm(request.POST, activation=activation)
    if form.is_valid() and (error := _commune_error(form.cleaned_data["commune_code"])):
        form.add_error("commune_code", error)
    if form.is_valid():
        d = form.cleaned_data
        try:
            entry = actions.add_log_entry(
                activation,
                actor=request.user,
                text=d["text"],
                channel=d["channel"],
                category=d["category"],
                commune_code=d["commune_code"],
                at=d["at"],
                source_url=d["source_url"],
                for_partners=d["for_partners"],
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            # A refused line from another tab must not come back over the added one.
            request.session.pop(COURANTE_DRAFT, None)
            messages.success(request, _("Ligne n° %(n)s ajoutée.") % {"n": entry.number})
            return redirect("watch-courante", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]
    # Refused: the page shows the line again as typed (a phone call is not typed twice),
    # each error under its field, and opens at the form rather than 1,000 px above it.
    request.session[COURANTE_DRAFT] = {
        "data": {f: request.POST.get(f, "") for f in form.fields},
        "errors": {field: [str(e) for e in errors] for field, errors in form.errors.items()},
    }
    url = reverse("watch-courante", args=[request.organisation.slug, activation.pk])  # type: ignore[attr-defined]
    return redirect(f"{url}#ajouter")


def _draft_form(draft: Any) -> LogEntryForm:
    """The refused line as typed, with the errors it met (see ``courante_add``)."""
    if not isinstance(draft, dict) or not isinstance(draft.get("data"), dict):
        return LogEntryForm()
    form = LogEntryForm(draft["data"])
    form.full_clean()
    # Errors that the form alone does not find (the commune, the action's refusal) come
    # from the session; those it finds again are not repeated.
    for field, errors in dict(draft.get("errors") or {}).items():
        name = field if field in form.fields else None
        for error in errors:
            if error not in form.errors.get(field or "__all__", []):
                form.add_error(name, str(error))
    return form


@require("watch.triage")
@require_POST
def courante_status(request: HttpRequest, activation_id: int, entry_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    entry = get_object_or_404(LogEntry, pk=entry_id, activation=activation)
    form = LogStatusForm(request.POST)
    if form.is_valid():
        actions.update_log_status(
            entry, form.cleaned_data["status"], actor=request.user, note=form.cleaned_data["note"]
        )
    elif "note" in form.errors:
        messages.error(
            request,
            _("Ligne n° %(n)s : la note compte 2 000 caractères au plus ; statut inchangé.")
            % {"n": entry.number},
        )
    else:
        messages.error(request, _("Statut inconnu."))
    return _back_to_courante(request, activation, entry)


def _back_to_courante(
    request: HttpRequest, activation: Activation, entry: LogEntry
) -> HttpResponse:
    """The page the form was sent from (same filters and page, at the line): a volunteer
    working down page 3 of the lines of one commune is not sent back to the top of all."""
    from django.http import QueryDict

    url = reverse("watch-courante", args=[request.organisation.slug, activation.pk])  # type: ignore[attr-defined]
    back = QueryDict(str(request.POST.get("retour", ""))[:2000])
    query = _links_query((*exports.FILTER_PARAMS, FROM_PARAM, SEEN_PARAM), back)
    return redirect(f"{url}{'?' if query else ''}{query}#ligne-{entry.number}")


@require("watch.triage")
@require_POST
def courante_sharing(request: HttpRequest, activation_id: int, entry_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    entry = get_object_or_404(LogEntry, pk=entry_id, activation=activation)
    # The button says what it wants (as a source's pause): pressing twice does not undo.
    wanted = request.POST.get("for_partners")
    if wanted not in ("0", "1"):
        messages.error(request, _("Choix inconnu pour les partenaires."))
    elif actions.set_entry_sharing(entry, wanted == "1", actor=request.user):
        if wanted == "1":
            said = _("Ligne n° %(n)s transmise aux partenaires.")
        else:
            said = _(
                "Ligne n° %(n)s retirée de la vue des partenaires (les exports qu'ils ont "
                "déjà téléchargés la gardent)."
            )
        messages.success(request, said % {"n": entry.number})
    return _back_to_courante(request, activation, entry)


@require("watch.triage")
@require_POST
def courante_verification(request: HttpRequest, activation_id: int, entry_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    entry = get_object_or_404(LogEntry, pk=entry_id, activation=activation)
    try:
        actions.requalify_entry(entry, request.POST.get("verification", ""), actor=request.user)
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    return _back_to_courante(request, activation, entry)


def _export(
    request: HttpRequest,
    activation: Activation,
    entries: QuerySet[LogEntry],
    fmt: str,
    *,
    partner: bool,
    job_url: Any,
    back_url: str,
    member: Any = None,
) -> HttpResponse:
    """A small export is built now; a large one becomes a background job
    (asked for with a POST: a GET never queues work). ``member``: who asks, when not
    a partner link (journaled, ``actions.record_export``)."""
    if fmt not in exports.FORMATS:
        raise Http404(_("Format inconnu."))
    count = entries.count()

    def journal_export(queued: bool) -> None:
        if member is not None:
            params = request.POST if request.method == "POST" else request.GET
            actions.record_export(
                activation,
                actor=member,
                fmt=fmt,
                filters={k: str(params.get(k, "")) for k in exports.FILTER_PARAMS},
                lines=count,
                queued=queued,
            )

    name = exports.filename(activation.name, fmt)
    busy = ""
    if request.method == "POST":
        from beffroi.watch import tasks

        try:
            job_id = tasks.request_export(
                activation.pk,
                fmt,
                {k: request.POST.get(k, "") for k in exports.FILTER_PARAMS},
                partner=partner,
                filename=name,
                base_url=request.build_absolute_uri("/"),
            )
        except tasks.ExportsBusy as exc:
            busy = ngettext(
                "%(n)d export de cette activation est déjà en préparation : attendez qu'il "
                "soit prêt pour en demander un autre.",
                "%(n)d exports de cette activation sont déjà en préparation : attendez que "
                "l'un d'eux soit prêt pour en demander un autre.",
                exc.pending,
            ) % {"n": exc.pending}
        else:
            journal_export(queued=True)
            return redirect(job_url(job_id))
    if busy or not exports.runs_inline(fmt, count):
        asked = request.POST if request.method == "POST" else request.GET
        return render(
            request,
            "watch/export_prepare.html",
            {
                "busy": busy,
                "activation": activation,
                "fmt": fmt,
                "fmt_label": export_label(fmt),
                "count": count,
                "seconds": max(1, round(exports.estimate_seconds(fmt, count))),
                "params": [(k, asked[k]) for k in exports.FILTER_PARAMS if asked.get(k)],
                "back_url": back_url,
                **_org_ctx(request),
            },
            status=429 if busy else 200,
        )
    journal_export(queued=False)
    data = exports.rows(entries.order_by("number"))
    title = f"{activation.name} — main courante — {timezone.localtime():%d/%m/%Y %H:%M}"
    content = exports.build(fmt, data, title, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(content, content_type=exports.FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _org_ctx(request: HttpRequest) -> dict[str, Any]:
    org = getattr(request, "organisation", None)
    return {"org": org} if org is not None else {}


@require("watch.log.view")
@require_http_methods(["GET", "POST"])
def courante_export(request: HttpRequest, activation_id: int, fmt: str) -> HttpResponse:
    activation = _activation(request, activation_id)
    partner = _is_partner_view(request)
    params = request.POST if request.method == "POST" else request.GET
    entries = _filtered(visible_entries(activation, partner=partner), params)
    slug = request.organisation.slug  # type: ignore[attr-defined]

    def member_job_url(job_id: str) -> str:
        return reverse("watch-export-job", args=[slug, activation.pk, job_id])

    back = reverse("watch-courante", args=[slug, activation.pk])
    return _export(
        request,
        activation,
        entries,
        fmt,
        partner=partner,
        job_url=member_job_url,
        back_url=back,
        member=request.user,
    )


def _member_job(request: HttpRequest, activation: Activation, job_id: Any) -> Any:
    """The same check as the export itself: a job built from the internal view is
    not shown to someone who now sees only the partners' view."""
    from beffroi.watch import tasks

    job = tasks.find_export(str(job_id))
    if job is None or job.activation_id != activation.pk:
        raise Http404(_("Export introuvable."))
    if not job.partner and _is_partner_view(request):
        raise Http404(_("Export introuvable."))
    return job


def _job_page(request: HttpRequest, job: Any, file_url: str, **ctx: Any) -> HttpResponse:
    template = "watch/_export_status.html" if request.headers.get("HX-Request") else None
    stage = str(job.progress.get("message", "")) if job.progress else ""
    # The worker stores the stage as its French msgid: said here in the reader's language.
    ctx["progress_message"] = _(stage) if stage in exports.STAGES else stage
    ctx.update(job=job, file_url=file_url)
    return render(request, template or "watch/export_job.html", ctx)


@require("watch.log.view")
@require_GET
def export_job(request: HttpRequest, activation_id: int, job_id: Any) -> HttpResponse:
    activation = _activation(request, activation_id)
    job = _member_job(request, activation, job_id)
    slug = request.organisation.slug  # type: ignore[attr-defined]
    return _job_page(
        request,
        job,
        reverse("watch-export-file", args=[slug, activation.pk, job.id]),
        back_url=reverse("watch-courante", args=[slug, activation.pk]),
        **_ctx(request, activation),
    )


def _withdrawn_since(job: Any) -> bool:
    """Whether a line of the activation was withdrawn from the partners after the job
    began reading its lines (``started_at``): a partners' file built before then may
    still hold it, and « Retirer » must not leave it downloadable for 24 hours. Read from
    the journal (each withdrawal is there); a withdrawn line outside the job's filters
    refuses it too, a new export costing only a click."""
    if not job.partner:
        return False
    since = job.started_at or job.enqueued_at
    subjects = JournalEntry.objects.filter(
        action="watch.log.share", at__gte=since, data__for_partners=False
    ).values_list("subject", flat=True)
    pks = [int(s[4:]) for s in subjects if s.startswith("log:") and s[4:].isdigit()]
    return (
        bool(pks) and LogEntry.objects.filter(pk__in=pks, activation_id=job.activation_id).exists()
    )


def _file_response(job: Any) -> HttpResponseBase:
    from django.http import FileResponse

    if not job.done:
        raise Http404(_("Cet export n'est pas prêt (ou a expiré)."))
    if _withdrawn_since(job):
        return HttpResponse(
            _(
                "Une ligne de cet export a été retirée des partenaires depuis sa "
                "préparation : relancez l'export."
            ),
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    return FileResponse(
        job.path.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type=exports.FORMATS[job.fmt],
    )


@require("watch.log.view")
@require_GET
def export_file(request: HttpRequest, activation_id: int, job_id: Any) -> HttpResponseBase:
    activation = _activation(request, activation_id)
    return _file_response(_member_job(request, activation, job_id))


# -- partner links -----------------------------------------------------------------------------


@require("watch.manage")
@require_http_methods(["GET", "POST"])
def partner_links(request: HttpRequest, activation_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    form = PartnerLinkForm(request.POST or None)
    new_url = ""
    if request.method == "POST" and form.is_valid():
        try:
            _link, token = actions.create_partner_link(
                activation,
                label=form.cleaned_data["label"],
                days=form.cleaned_data["days"],
                actor=request.user,
            )
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
        else:
            # Shown once: only the hash is kept.
            new_url = request.build_absolute_uri(reverse("watch-partner", args=[token]))
            form = PartnerLinkForm()
    return render(
        request,
        "watch/partner_links.html",
        _ctx(
            request,
            activation,
            form=form,
            links=activation.partner_links.all(),
            new_url=new_url,
            now=timezone.now(),
        ),
    )


@require("watch.manage")
@require_POST
def partner_link_revoke(request: HttpRequest, activation_id: int, link_id: int) -> HttpResponse:
    activation = _activation(request, activation_id)
    link = get_object_or_404(PartnerLink, pk=link_id, activation=activation)
    actions.revoke_partner_link(link, actor=request.user)
    messages.success(request, _("Lien révoqué."))
    return redirect("watch-partner-links", request.organisation.slug, activation.pk)  # type: ignore[attr-defined]


PARTNER_LINK_WINDOW = 3600


def partner_link_limit() -> int:
    """Uses of one partner link allowed per hour (pages, exports, downloads)."""
    return int(settings.BEFFROI_PARTNER_LINK_LIMIT)


class _LinkOverused(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class _LinkGone(Http404):
    """The partner link is unknown, expired or revoked."""


# Set on the answer to a dead link: the page's script tells the server's 404 from a proxy's
# or a captive portal's, which says nothing of the link (the page would send partners to
# ask for a new link for nothing).
LINK_GONE_HEADER = "Beffroi-Link"


def _limited(view: Any) -> Any:
    """A partner link's use over its hourly limit gets a 429 in French; a dead link, the
    site's 404 page marked with ``LINK_GONE_HEADER``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response: HttpResponseBase = view(request, *args, **kwargs)
        except _LinkGone as exc:
            response = page_not_found(request, exc)
            response[LINK_GONE_HEADER] = "gone"
        except _LinkOverused as exc:
            minutes = throttle.retry_minutes(exc.retry_after)
            response = HttpResponse(
                ngettext(
                    "Ce lien a été utilisé trop souvent en une heure : réessayez dans "
                    "%(n)d minute.",
                    "Ce lien a été utilisé trop souvent en une heure : réessayez dans "
                    "%(n)d minutes.",
                    minutes,
                )
                % {"n": minutes},
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(exc.retry_after)
        return response

    return wrapped


def _partner_link(request: HttpRequest, token: str, what: str) -> PartnerLink:
    link = actions.find_partner_link(token)
    if link is None:
        raise _LinkGone(_("Ce lien n'est pas valable (expiré ou révoqué)."))
    # Every use is journaled and the journal is never purged: a link (forwarded,
    # leaked) must not let anyone grow it without bound.
    window = throttle.hit(
        "partner-link", str(link.pk), limit=partner_link_limit(), window=PARTNER_LINK_WINDOW
    )
    if window.exceeded:
        raise _LinkOverused(window.retry_after)
    # The client as the login and the ballot box see it (behind the reverse proxies
    # of BEFFROI_PROXY_COUNT), not the proxy's own address.
    actions.record_partner_view(link, client=pseudonyms(request).address, what=what)
    return link


PARTNER_REFERRER_POLICY = "strict-origin"
_Response = TypeVar("_Response", bound=HttpResponseBase)


@require_GET
@_limited
def partner_view(request: HttpRequest, token: str) -> HttpResponse:
    link = _partner_link(request, token, "page")
    activation = link.activation
    # Read before the rows: a change in between costs the page one more fetch, never a
    # missed one (the stream's first event differs from it and the script fetches).
    version = _partner_link_version(activation.pk)
    visible = visible_entries(activation, partner=True)
    paged = _paged(
        _filtered(visible, request.GET),
        request.GET,
        visible,
        shared_later=_shared_since(activation),
    )
    response = render(
        request,
        "watch/partner.html",
        {
            **paged,
            "activation": activation,
            "link": link,
            "entries": _labelled(paged["shown"]),
            "partner": True,
            "token": token,
            "formats": export_formats(list(exports.FORMATS)),
            "categories": LogCategory.choices,
            "statuses": LogStatus.choices,
            "version": version,
        },
    )
    return _partner_headers(response)


def _partner_headers(response: _Response) -> _Response:
    # The token is in the URL: no Referer may carry the path. "strict-origin" sends the
    # site alone (never the path, nothing over plain HTTP); "no-referrer" made the
    # browser send `Origin: null` with the language form, which CSRF refuses.
    response["Referrer-Policy"] = PARTNER_REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex"
    return response


def _partner_link_version(activation_id: int) -> str:
    return _partner_log_version(
        LogEntry.objects.filter(activation_id=activation_id, for_partners=True)
    )


@require_GET
@_limited
def partner_rows(request: HttpRequest, token: str) -> HttpResponseBase:
    """The rows of a partner link's page, fetched by its script when the stream says they
    changed: the lines a partner may see, with the page's filters. They hold lines, so
    each fetch is a use of the link like the page (journaled, counted in its limit)."""
    link = _partner_link(request, token, "rows")
    visible = visible_entries(link.activation, partner=True)
    paged = _paged(
        _filtered(visible, request.GET),
        request.GET,
        visible,
        shared_later=_shared_since(link.activation),
    )
    response = render(
        request,
        "watch/_courante_live.html",
        {
            **paged,
            "entries": _labelled(paged["shown"]),
            "partner": True,
            "activation": link.activation,
        },
    )
    return _partner_headers(response)


PARTNER_STREAM_SCOPE = "partner-link-stream"
# Under ASGI a stream runs for as long as its browser keeps it: the hourly count of
# openings bounded how fast a (leaked) link opened streams, never how many ran at once,
# each polling the database every second. Ending each after this span bounds those running
# at once by the openings of one span; a page's browser reconnects by itself (``retry``).
PARTNER_STREAM_MAX_SECONDS = 600.0


def partner_stream_limit() -> int:
    """Openings of one partner link's stream allowed per hour. Counted apart from the
    link's uses: a page reconnects on its own (after a network cut, and every
    ``live.WSGI_MAX`` seconds under WSGI), which must not use up what the partners may
    read; and a stream carries no line, so it is not journaled either."""
    return partner_link_limit()


@require_GET
@_limited
def partner_stream(request: HttpRequest, token: str) -> HttpResponseBase:
    """Tells a partner link's open page *that* its lines changed (events carry a version,
    never a line). Ends once the link is revoked or expires, checked every
    ``live.RECHECK_SECONDS``: the browser's reconnection then meets a 404 and the page
    says the link is no longer valid."""
    link = actions.find_partner_link(token)
    if link is None:
        raise _LinkGone(_("Ce lien n'est pas valable (expiré ou révoqué)."))
    window = throttle.hit(
        PARTNER_STREAM_SCOPE,
        str(link.pk),
        limit=partner_stream_limit(),
        window=PARTNER_LINK_WINDOW,
    )
    if window.exceeded:
        raise _LinkOverused(window.retry_after)
    # The span below bounds the streams running at once by the openings of ten minutes
    # (a sixth of the hourly limit); this cap bounds them outright.
    slot = live.take(f"link:{link.pk}", live.max_streams_per_link())
    if slot is None:
        return _partner_headers(
            live.refused(
                _(
                    "Trop de pages en direct sont ouvertes avec ce lien (%(n)d au plus) : "
                    "fermez-en une, celle-ci reprendra d'elle-même."
                )
                % {"n": live.max_streams_per_link()}
            )
        )
    link_id, activation_id = link.pk, link.activation_id
    ends = time.monotonic() + PARTNER_STREAM_MAX_SECONDS

    def still_valid() -> bool:
        return (
            time.monotonic() < ends
            and PartnerLink.objects.filter(
                pk=link_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
            ).exists()
        )

    stream = live.sse_response(
        request,
        live.rechecked(lambda: _partner_link_version(activation_id), still_valid),
        slot=slot,
    )
    return _partner_headers(stream)


@require_http_methods(["GET", "POST"])
@_limited
def partner_export(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        # Refused before the link is used: a mistyped URL is not a use of the data.
        raise Http404(_("Format inconnu."))
    link = _partner_link(request, token, f"export.{fmt}")
    params = request.POST if request.method == "POST" else request.GET
    entries = _filtered(visible_entries(link.activation, partner=True), params)

    def partner_job_url(job_id: str) -> str:
        return reverse("watch-partner-export-job", args=[token, job_id])

    back = reverse("watch-partner", args=[token])
    return _export(
        request, link.activation, entries, fmt, partner=True, job_url=partner_job_url, back_url=back
    )


def _partner_job(link: PartnerLink, job_id: Any) -> Any:
    from beffroi.watch import tasks

    job = tasks.find_export(str(job_id))
    # A link reaches only partners' exports of its own activation.
    if job is None or job.activation_id != link.activation_id or not job.partner:
        raise Http404(_("Export introuvable."))
    return job


PARTNER_JOB_SCOPE = "partner-link-job"
PARTNER_JOB_WINDOW = 60
# An export's status page asks again every second while the job waits or runs: five pages
# of one link doing so at once (several readers of a COD exporting together) stay under
# this; a script asking as fast as it can does not.
PARTNER_JOB_LIMIT = 300


@require_GET
@_limited
def partner_export_job(request: HttpRequest, token: str, job_id: Any) -> HttpResponseBase:
    link = actions.find_partner_link(token)
    if link is None:
        raise _LinkGone(_("Ce lien n'est pas valable (expiré ou révoqué)."))
    # The status page holds no line of the main courante: not journaled (it is polled
    # every second) nor counted among the link's uses; the download is. Its own counter
    # keeps a forwarded link from asking without bound.
    window = throttle.hit(
        PARTNER_JOB_SCOPE, str(link.pk), limit=PARTNER_JOB_LIMIT, window=PARTNER_JOB_WINDOW
    )
    if window.exceeded:
        refused = HttpResponse(
            _(
                "L'état de cet export a été demandé trop souvent avec ce lien : "
                "réessayez dans une minute."
            ),
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        refused["Retry-After"] = str(window.retry_after)
        return _partner_headers(refused)
    job = _partner_job(link, job_id)
    response = _job_page(
        request,
        job,
        reverse("watch-partner-export-file", args=[token, job.id]),
        activation=link.activation,
        back_url=reverse("watch-partner", args=[token]),
    )
    response["Referrer-Policy"] = PARTNER_REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
@_limited
def partner_export_file(request: HttpRequest, token: str, job_id: Any) -> HttpResponseBase:
    link = actions.find_partner_link(token)
    if link is None:
        raise _LinkGone(_("Ce lien n'est pas valable (expiré ou révoqué)."))
    job = _partner_job(link, job_id)
    if not job.done:
        raise Http404(_("Cet export n'est pas prêt (ou a expiré)."))
    _partner_link(request, token, f"export.{job.fmt}.file")
    return _file_response(job)
