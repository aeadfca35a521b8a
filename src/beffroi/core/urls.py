from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import path

from beffroi.core import views
from beffroi.core.forms import ThrottledAuthenticationForm, remember_browser


class LoginView(auth_views.LoginView):
    """A signed-in user opening the log-in page goes where signing in would take
    them (a safe ``next``, else the dashboard) instead of seeing the form again."""

    authentication_form = ThrottledAuthenticationForm
    template_name = "core/login.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            # get_success_url keeps only a same-host ``next``.  Django's own option
            # raises (a 500) when it points back here; a ``next`` naming this page
            # with a query would bounce between the two, so both go to the dashboard.
            target = self.get_success_url()
            if urlsplit(target).path == request.path:
                target = resolve_url(settings.LOGIN_REDIRECT_URL)
            return HttpResponseRedirect(target)
        return super().dispatch(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view; the browser that sets a new password through the mailed link is
    known to the account from then on. It is the owner's way back when guessing from many
    networks has filled the account's ceiling and they are on a new browser: holding the
    mailbox is proof enough, and the new password voids every other browser's entry
    (docs/decisions/0003-login-throttling.md, "The owner's way back")."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        remember_browser(self.request, response, form.user)
        return response


urlpatterns = [
    path("", views.home, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "connexion/",
        LoginView.as_view(),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/oubli/",
        views.ThrottledPasswordResetView.as_view(
            template_name="core/password_reset.html",
            email_template_name="core/password_reset_email.txt",
            subject_template_name="core/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "mot-de-passe/envoye/",
        auth_views.PasswordResetDoneView.as_view(template_name="core/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(template_name="core/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/fait/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="core/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("invitation/<str:token>/", views.accept_invitation, name="accept-invitation"),
    path("o/<slug:org>/", views.org_dashboard, name="org-dashboard"),
    path("o/<slug:org>/journal/", views.journal_list, name="journal"),
    path("o/<slug:org>/membres/", views.members, name="members"),
    path("o/<slug:org>/membres/<int:membership_id>/", views.member_role, name="member-role"),
    path(
        "o/<slug:org>/membres/invitations/<int:invitation_id>/revoquer/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
]
