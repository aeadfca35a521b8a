from django.contrib.auth import views as auth_views
from django.urls import path

from beffroi.core import views
from beffroi.core.forms import ThrottledAuthenticationForm

urlpatterns = [
    path("", views.home, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(
            authentication_form=ThrottledAuthenticationForm, template_name="core/login.html"
        ),
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
        auth_views.PasswordResetConfirmView.as_view(
            template_name="core/password_reset_confirm.html"
        ),
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
]
