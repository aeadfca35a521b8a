from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from beffroi.core import actions, throttle
from beffroi.core.client import pseudonyms
from beffroi.core.models import Role
from beffroi.core.pseudonym import pseudonymise


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing further attempts after too many failures
    for one account or from one network, and journaling every failure."""

    def clean(self) -> dict[str, Any]:
        request = self.request
        username = (self.data.get("username") or "").strip().lower()
        network = pseudonyms(request).prefix if request is not None else "none"
        account = pseudonymise(username, key=settings.BEFFROI_PSEUDONYM_KEY.encode(), kind="handle")
        window = settings.BEFFROI_LOGIN_WINDOW_SECONDS
        limits = [
            ("login-account", account, settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT),
            ("login-network", network, settings.BEFFROI_LOGIN_LIMIT_PER_NETWORK),
        ]
        # Every attempt is counted before its password is checked, and given back if
        # it succeeds: successful log-ins never use up the limit.
        account_window, network_window = (
            throttle.hit(scope, key, limit=limit, window=window) for scope, key, limit in limits
        )
        exceeded = [w for w in (account_window, network_window) if w.exceeded]
        if exceeded:
            over = max(exceeded, key=lambda w: w.retry_after)
            # The journal is never purged: a refused attempt is journaled only when a
            # counter starts refusing (the network's, or an account's while its network
            # is still let in), not at the rate an attacker sends requests.
            if _first_refusal(network_window) or (
                not network_window.exceeded and _first_refusal(account_window)
            ):
                actions.record_login_failure(username, network=network, throttled=True)
            minutes = throttle.retry_minutes(over.retry_after)
            raise ValidationError(
                ngettext(
                    "Trop de tentatives de connexion. Réessayez dans %(n)d minute.",
                    "Trop de tentatives de connexion. Réessayez dans %(n)d minutes.",
                    minutes,
                )
                % {"n": minutes},
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            actions.record_login_failure(username, network=network, throttled=False)
            raise
        for scope, key, _limit in limits:
            throttle.undo(scope, key, window=window)
        return cleaned


def _first_refusal(window: throttle.Window) -> bool:
    return window.count == window.limit + 1


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, limited per e-mail address and per network: every request
    sends a mail, so without a limit anyone could flood a member's mailbox. The limit
    counts requests for any address, known or not, so a refusal reveals no account."""

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email = str(data.get("email") or "").strip().lower()
        if not email:
            return data
        key = settings.BEFFROI_PSEUDONYM_KEY.encode()
        network = pseudonyms(self.request).prefix if self.request is not None else "none"
        window = settings.BEFFROI_LOGIN_WINDOW_SECONDS
        limits = [
            (
                "reset-account",
                pseudonymise(email, key=key, kind="handle"),
                settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT,
            ),
            ("reset-network", network, settings.BEFFROI_LOGIN_LIMIT_PER_NETWORK),
        ]
        over = throttle.hit_all(limits, window=window)
        if over is not None:
            minutes = throttle.retry_minutes(over.retry_after)
            raise ValidationError(
                ngettext(
                    "Trop de demandes de réinitialisation. Réessayez dans %(n)d minute.",
                    "Trop de demandes de réinitialisation. Réessayez dans %(n)d minutes.",
                    minutes,
                )
                % {"n": minutes},
                code="throttled",
            )
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Adresse e-mail"))
    # No preselected role: the first choice was Coordination, so an invitation sent without
    # looking at the list handed out every right in the organisation.
    role = forms.ChoiceField(
        label=gettext_lazy("Rôle"),
        choices=[("", gettext_lazy("— choisir un rôle —")), *Role.choices],
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Rôle"), choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Nom d'utilisateur"), max_length=150)
    password1 = forms.CharField(
        label=gettext_lazy("Mot de passe"), widget=forms.PasswordInput, strip=False
    )
    password2 = forms.CharField(
        label=gettext_lazy("Confirmation du mot de passe"), widget=forms.PasswordInput, strip=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        elif data.get("password1"):
            try:
                password_validation.validate_password(data["password1"])
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data
