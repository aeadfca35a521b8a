from __future__ import annotations

import secrets
import unicodedata
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from beffroi.core import actions, throttle, usernames
from beffroi.core.client import pseudonyms
from beffroi.core.models import Role
from beffroi.core.pseudonym import pseudonymise


def login_name(raw: str) -> str:
    """The user name as Django authenticates it: ``UsernameField`` NFKC-normalises what
    was typed, so ``ｃoord`` (a full-width c) logs in to ``coord``."""
    return unicodedata.normalize("NFKC", raw).strip()


def counter_name(raw: str) -> str:
    """The key of a name's or an address's counters: every spelling that reaches the same
    account must share them. Keyed on what was typed, ``ｃoord``, ``cｏord``… each opened a
    fresh counter for ``coord`` (32 spellings of a five-letter name from full-width letters
    alone); case-folded too, since the database may compare without case (an address always
    does, in ``PasswordResetForm``)."""
    return login_name(raw).casefold()


def _account_key(name: str) -> str:
    return pseudonymise(name, key=settings.BEFFROI_PSEUDONYM_KEY.encode(), kind="handle")


def _account_counters(
    scope: str,
    name: str,
    network: str,
    *,
    pair_limit: int,
    total_limit: int,
    known_browser: str = "",
) -> list[tuple[str, str, int]]:
    """The counters of one attempt on an account (or a mailbox) from a network: the pair
    at the strict limit, and the account alone at a much higher ceiling
    (docs/decisions/0003-login-throttling.md, "Who can lock whom out"). Keyed on the pair,
    someone who knows a member's name locks them out from their own network only. A
    browser that logged in to the account (``known_browser``, its id) is held, instead of
    the account's ceiling, by a budget of its own at the pair's limit: a stolen cookie
    replayed from many networks shares that one small budget (and, once it is spent, the
    caller holds the browser by the ceiling as any other)."""
    account = _account_key(name)
    counters = [(f"{scope}-account-network", f"{account}|{network}", pair_limit)]
    if known_browser:
        counters.append((f"{scope}-known", f"{account}|{known_browser}", pair_limit))
    else:
        counters.append((f"{scope}-account", account, total_limit))
    return counters


# A browser that logged in to an account keeps a signed cookie: a random id of its own and,
# for each account, a keyed hash of the account's id and its session hash (never a name), so
# that guessing spread over many networks, which fills an account's ceiling, does not keep
# its owner out (OWASP's "device cookies"). The session hash changes with the password, so a
# password change (after a compromise, or on leaving a shared computer) voids every browser
# known to the account, and a re-created account with the same name inherits none of them.
KNOWN_BROWSER_COOKIE = "beffroi_known"
_KNOWN_BROWSER_SALT = "beffroi.core.forms.known-browser"
KNOWN_BROWSER_DAYS = 90
_KNOWN_BROWSER_ACCOUNTS = 5


def _browser_entry(user: Any) -> str:
    return salted_hmac(
        _KNOWN_BROWSER_SALT, f"{user.pk}:{user.get_session_auth_hash()}", algorithm="sha256"
    ).hexdigest()


def _known_browser(request: Any) -> tuple[str, list[str]]:
    """The cookie's browser id and account entries; ``("", [])`` for none, a forged or an
    expired one, or one in an older format."""
    raw = request.COOKIES.get(KNOWN_BROWSER_COOKIE) if request is not None else None
    if not raw:
        return "", []
    try:
        value = signing.loads(
            raw, salt=_KNOWN_BROWSER_SALT, max_age=timedelta(days=KNOWN_BROWSER_DAYS)
        )
    except signing.BadSignature:
        return "", []
    if not isinstance(value, dict):
        return "", []
    browser, entries = value.get("id"), value.get("accounts")
    if not isinstance(browser, str) or not isinstance(entries, list):
        return "", []
    return browser, [e for e in entries if isinstance(e, str)]


def _known_to(request: Any, username: str) -> str:
    """This browser's id if it logged in to the account that ``username`` reaches (the
    lookup Django's own back-end makes) with its current password, else ``""``."""
    browser, entries = _known_browser(request)
    if not entries:
        return ""
    try:
        user = get_user_model()._default_manager.get_by_natural_key(username)
    except (get_user_model().DoesNotExist, ValueError):
        return ""
    return browser if _browser_entry(user) in entries else ""


def remember_browser(request: Any, response: Any, user: Any) -> None:
    """After a successful log-in: this browser is known to ``user``'s account."""
    browser, entries = _known_browser(request)
    entry = _browser_entry(user)
    entries = [entry, *(e for e in entries if e != entry)][:_KNOWN_BROWSER_ACCOUNTS]
    value = {"id": browser or secrets.token_urlsafe(16), "accounts": entries}
    response.set_cookie(
        KNOWN_BROWSER_COOKIE,
        signing.dumps(value, salt=_KNOWN_BROWSER_SALT),
        max_age=KNOWN_BROWSER_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing further attempts after too many failures
    for one account from one network, for one account from anywhere (a higher ceiling)
    or from one network, and journaling every failure."""

    def clean(self) -> dict[str, Any]:
        request = self.request
        username = login_name(self.data.get("username") or "")
        network = pseudonyms(request).prefix if request is not None else "none"
        window = settings.BEFFROI_LOGIN_WINDOW_SECONDS
        name = counter_name(username)
        known = _known_to(request, username)

        def counters(browser: str) -> list[tuple[str, str, int]]:
            return [
                ("login-network", network, settings.BEFFROI_LOGIN_LIMIT_PER_NETWORK),
                *_account_counters(
                    "login",
                    name,
                    network,
                    pair_limit=settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT,
                    total_limit=settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL,
                    known_browser=browser,
                ),
            ]

        # Every attempt is counted before its password is checked, and given back if
        # it succeeds: successful log-ins never use up the limit. In turn, from the
        # network to the account from anywhere: one refused is not counted further.
        limits = counters(known)
        windows = throttle.hit_in_turn(limits, window=window)
        if known and windows[-1].exceeded and len(windows) == len(limits):
            # This browser spent its own budget: from now on it is held by the account's
            # ceiling like any other, never by less (the earlier counters were given back).
            limits = counters("")
            windows = throttle.hit_in_turn(limits, window=window)
        if windows[-1].exceeded:
            over = windows[-1]
            # The journal is never purged: a refused attempt is journaled only when a
            # counter starts refusing (the network's, or an account's while its network
            # is still let in), not at the rate an attacker sends requests.
            if _first_refusal(over):
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


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """The admin's log-in: throttled and journaled as the site's, and still for staff only
    (``AdminAuthenticationForm.confirm_login_allowed``, which the plain throttled form
    dropped: a volunteer could open a session through /admin/login/)."""


def _first_refusal(window: throttle.Window) -> bool:
    return window.count == window.limit + 1


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, limited per e-mail address and network, per address and per
    network: every request sends a mail, so without a limit anyone could flood a member's
    mailbox. The limit counts requests for any address, known or not, so a refusal reveals
    no account."""

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email = counter_name(str(data.get("email") or ""))
        if not email:
            return data
        network = pseudonyms(self.request).prefix if self.request is not None else "none"
        window = settings.BEFFROI_LOGIN_WINDOW_SECONDS
        limits = [
            ("reset-network", network, settings.BEFFROI_LOGIN_LIMIT_PER_NETWORK),
            *_account_counters(
                "reset",
                email,
                network,
                pair_limit=settings.BEFFROI_LOGIN_LIMIT_PER_ACCOUNT,
                total_limit=settings.BEFFROI_RESET_LIMIT_PER_ADDRESS,
            ),
        ]
        over = throttle.hit_in_turn(limits, window=window)[-1]
        if over.exceeded:
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

    def save(  # type: ignore[override]
        self,
        domain_override: str | None = None,
        subject_template_name: str = "registration/password_reset_subject.txt",
        email_template_name: str = "registration/password_reset_email.html",
        use_https: bool = False,
        request: Any = None,
        **_ignored: Any,
    ) -> None:
        """Queue the mail rather than send it: the same steps for any address, a member's
        or not (``core/tasks.py``). Django's ``save`` looked the address up, built a token
        and sent a mail inline for members only, so the answer's delay told who has an
        account."""
        from beffroi.core.tasks import hold_address, send_password_reset_task

        request = request if request is not None else self.request
        domain = domain_override or (request.get_host() if request is not None else "")
        send_password_reset_task.enqueue(
            hold_address(self.cleaned_data["email"]),
            domain,
            bool(use_https),
            translation.get_language() or settings.LANGUAGE_CODE,
            subject_template_name,
            email_template_name,
        )


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
    username = forms.CharField(
        label=gettext_lazy("Nom d'utilisateur"),
        max_length=usernames.MAX_LENGTH,
        help_text=gettext_lazy("Lettres (accentuées ou non), chiffres, « . », « - » et « _ »."),
    )
    password1 = forms.CharField(
        label=gettext_lazy("Mot de passe"), widget=forms.PasswordInput, strip=False
    )
    password2 = forms.CharField(
        label=gettext_lazy("Confirmation du mot de passe"), widget=forms.PasswordInput, strip=False
    )

    def clean_username(self) -> str:
        # Said under the field, before the account is attempted (core/usernames.py).
        error = actions.username_error(self.cleaned_data["username"])
        if error is not None:
            raise ValidationError(error, code="username")
        return usernames.normalise(self.cleaned_data["username"])

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
