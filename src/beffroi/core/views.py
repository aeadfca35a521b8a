from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from beffroi.core import actions
from beffroi.core.forms import (
    AcceptInvitationForm,
    InvitationForm,
    RoleForm,
    ThrottledPasswordResetForm,
)
from beffroi.core.models import Invitation, JournalEntry, Membership, Organisation, Role
from beffroi.core.roles import can, require

log = logging.getLogger(__name__)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers, feed readers and bookmarks ask /favicon.ico of pages that name no icon
    (a JSON file, a PDF): the site's icon instead of a 404 in every access log."""
    # Temporary: a browser keeps a permanent redirect for good, and the icon's collected
    # name changes with its content.
    return redirect(static("beffroi/favicon.svg"))


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Public: a load balancer or monitor reads the status code (and ``database``). The
    version, the database engine and the error's class stay out of it: anyone may ask,
    and they would say which known flaws to try; the error goes to the server's log."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # reported, not raised: this is what monitoring reads
        log.exception("healthz: the database does not answer")
        database = "error"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "degraded", "database": database},
        status=status,
    )


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's view with a form that knows the request (its network is throttled)."""

    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=request.user).select_related("organisation")  # type: ignore[misc]
    )
    if len(memberships) == 1 and not request.user.is_superuser:
        return redirect("org-dashboard", memberships[0].organisation.slug)
    organisations = (
        Organisation.objects.all()
        if request.user.is_superuser
        else [m.organisation for m in memberships]
    )
    return render(request, "core/home.html", {"organisations": organisations})


def readable_journal(user: Any, org: Organisation) -> Any:
    """The organisation's journal lines ``user`` may read: none without ``journal.view``;
    the watch room's lines (volunteers' decisions and their notes, main courante,
    sources, partner links) only to those who work in it (``watch.triage``). A
    scrutineer reads the journal for the consultations and has no access to the watch
    room's pages (docs/guide/veille.md, "Qui voit quoi"); its journal must not open it."""
    if not can(user, org, "journal.view"):
        return JournalEntry.objects.none()
    entries = JournalEntry.objects.filter(organisation=org)
    if not can(user, org, "watch.triage"):
        entries = entries.exclude(action__startswith="watch.")
    return entries


def account_lines_visible(user: Any, org: Organisation) -> Any:
    """The members of ``org`` whose instance-wide journal lines (log-ins, log-outs, account
    creation) ``user`` may read in ``org``'s journal (docs/decisions/0005-privacy.md,
    "Log-in lines"): the coordinators' only, since they manage the accounts, and only of
    members whose every organisation ``user`` coordinates. When and how long a person is
    signed in tells what they do in each of their organisations: a scrutineer, whom the
    watch room is closed to, read the volunteers' night shifts there, and another
    organisation's coordinator every log-in of a shared member."""
    if not can(user, org, "members.manage"):
        return Membership.objects.none().values("user_id")
    members = org.memberships.all()
    if not user.is_superuser:
        coordinated = Membership.objects.filter(user=user, role=Role.COORDINATOR).values(
            "organisation_id"
        )
        elsewhere = Membership.objects.exclude(organisation_id__in=coordinated).values("user_id")
        members = members.exclude(user_id__in=elsewhere)
    return members.values("user_id")


@require("dashboard.view")
def org_dashboard(request: HttpRequest) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    # The journal names who did what (volunteers' log-ins, decisions, partner links):
    # only those who may read the journal see its latest lines here.
    recent = readable_journal(request.user, org).order_by("-seq")[:5]
    return render(
        request,
        "core/dashboard.html",
        {
            "org": org,
            "members": org.memberships.count(),
            "recent": recent,
        },
    )


@require("journal.view")
def journal_list(request: HttpRequest) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    # Coordinators and scrutineers see their organisation's entries, never another
    # organisation's business; the instance-wide lines of members (log-ins, log-outs,
    # account creation) only as account_lines_visible allows. A failed log-in has no actor
    # (nobody got in): it names the account tried in its subject, and the coordinators who
    # must see an account misused see it too.
    visible = account_lines_visible(request.user, org)
    tried = [f"user:{row['user_id']}" for row in visible]
    shown = readable_journal(request.user, org) | JournalEntry.objects.filter(
        Q(actor_id__in=visible) | Q(action="auth.login_failed", subject__in=tried),
        organisation__isnull=True,
    )
    entries = shown.order_by("-seq")
    filters = {
        k: request.GET.get(k, "").strip() for k in ("action", "actor", "q", "since", "until")
    }
    if any("\x00" in value for value in filters.values()):
        # PostgreSQL refuses to compare text with a NUL (a 500); no line holds one.
        entries = entries.none()
    if filters["action"]:
        entries = entries.filter(action__startswith=filters["action"])
    if filters["actor"]:
        entries = entries.filter(actor_label__iexact=filters["actor"])
    if filters["q"]:
        entries = entries.filter(
            Q(subject__icontains=filters["q"]) | Q(reason__icontains=filters["q"])
        )
    tz = timezone.get_current_timezone()
    for key, bound, lookup in (("since", time.min, "at__gte"), ("until", time.max, "at__lte")):
        if filters[key]:
            try:
                day = parse_date(filters[key])
            except ValueError:  # well formed but no such day (2026-02-31): a 500 before
                day = None
            if day is None:
                messages.error(
                    request, _("Date invalide : %(d)s (format AAAA-MM-JJ).") % {"d": filters[key]}
                )
            else:
                entries = entries.filter(**{lookup: datetime.combine(day, bound, tz)})
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    # The filter offers every action the page can list, the log-ins included.
    actions_list = shown.values_list("action", flat=True).distinct().order_by("action")
    return render(
        request,
        "core/journal.html",
        {
            "org": org,
            "page": page,
            "filters": filters,
            "actions": actions_list,
        },
    )


@require("members.manage")
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation, token = actions.invite(
            org, form.cleaned_data["email"], form.cleaned_data["role"], actor=request.user
        )
        link = request.build_absolute_uri(reverse("accept-invitation", args=[token]))
        _send_invitation(invitation.email, org.name, link)
        messages.success(
            request, _("Invitation créée. Lien à transmettre : %(link)s") % {"link": link}
        )
        return redirect("members", org.slug)
    now = timezone.now()
    open_invitations = org.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    return render(
        request,
        "core/members.html",
        {
            "org": org,
            "form": form,
            "role_form": RoleForm(),
            "memberships": org.memberships.select_related("user").order_by("user__username"),
            "invitations": open_invitations.filter(expires_at__gt=now),
            # Shown as expired for as long as they were valid, then no more: a coordinator
            # sees why a link did not work, and the list does not grow for ever.
            "expired": open_invitations.filter(
                expires_at__lte=now,
                expires_at__gt=now - timedelta(days=settings.BEFFROI_INVITATION_DAYS),
            ).order_by("-expires_at"),
        },
    )


def _send_invitation(email: str, org_name: str, link: str) -> None:
    from django.core.mail import send_mail

    send_mail(
        _("Invitation à rejoindre %(org)s sur Beffroi") % {"org": org_name},
        _(
            "Bonjour,\n\nVous êtes invité·e à rejoindre %(org)s sur Beffroi.\n"
            "Ouvrez ce lien pour accepter : %(link)s\n"
        )
        % {"org": org_name, "link": link},
        None,
        [email],
    )


@require("members.manage")
@require_http_methods(["POST"])
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    org = request.organisation  # type: ignore[attr-defined]
    membership = get_object_or_404(Membership, pk=membership_id, organisation=org)
    form = RoleForm(request.POST)
    try:
        if request.POST.get("remove"):
            actions.remove_member(membership, actor=request.user)
            messages.success(request, _("Membre retiré."))
        elif form.is_valid():
            actions.set_role(membership.user, org, form.cleaned_data["role"], actor=request.user)
            messages.success(request, _("Rôle modifié."))
        else:
            messages.error(request, _("Rôle invalide."))
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    return redirect("members", org.slug)


@require("members.manage")
@require_http_methods(["POST"])
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Withdraw a pending invitation: its link stops working at once (a wrong address, a
    role given by mistake), rather than for BEFFROI_INVITATION_DAYS."""
    org = request.organisation  # type: ignore[attr-defined]
    invitation = get_object_or_404(Invitation, pk=invitation_id, organisation=org)
    try:
        actions.revoke_invitation(invitation, actor=request.user)
        messages.success(request, _("Invitation révoquée : son lien ne fonctionne plus."))
    except actions.ActionError as exc:
        messages.error(request, str(exc))
    return redirect("members", org.slug)


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = actions.find_invitation(token)
    except actions.ActionError as exc:
        return render(request, "core/invitation_invalid.html", {"error": str(exc)}, status=410)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                user = actions.accept_invitation(token, user=request.user)
            elif form.is_valid():
                user = actions.accept_invitation(
                    token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                user = None
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
            user = None
        if user is not None:
            messages.success(
                request, _("Bienvenue dans %(org)s.") % {"org": invitation.organisation.name}
            )
            return redirect("org-dashboard", invitation.organisation.slug)
    return render(request, "core/invitation.html", {"invitation": invitation, "form": form})
