"""Django settings, all read from the environment through beffroi.config."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from beffroi import config
from beffroi.core import retention

CONFIG = config.load()

PACKAGE_DIR = Path(__file__).resolve().parent
# The source checkout (holds node_modules/ after `npm ci`); absent when installed as a wheel.
REPO_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = CONFIG.data_dir

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
# TLS is terminated by the reverse proxy in production; plain HTTP only for local use.
HTTPS = os.environ.get("BEFFROI_HTTPS", "0" if DEBUG else "1").strip().lower() in {"1", "true"}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, so that its system checks run and `manage runserver` serves
    # static files the way `beffroi serve` does.
    "servestatic",
    "beffroi.web.static_files.StaticFilesConfig",
    "django_tasks",
    "django_tasks_db",
    "beffroi.core",
    "beffroi.consult",
    "beffroi.watch",
    "beffroi.audits",
    "beffroi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # ServeStatic: /static/ through an asynchronous file iterator under ASGI (WhiteNoise's
    # synchronous one made Django warn on every file): docs/decisions/static-files-asgi.md.
    "beffroi.web.static_files.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store on signed-in and partner-link pages.
    "beffroi.core.middleware.private_pages",
    # After any log-in, the known-browser cookie (docs/decisions/0003-login-throttling.md).
    "beffroi.core.middleware.known_browsers",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "beffroi.urls"
ASGI_APPLICATION = "beffroi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "beffroi.core.roles.navigation",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=0)}
if CONFIG.uses_sqlite:
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE avoids
        # "database is locked" on read-then-write transactions.
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    # Shared by every app process (rate limits must hold across workers).
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "beffroi_cache",
        # It holds security state (rate counters, used proof-of-work challenges). Past
        # MAX_ENTRIES Django deletes the expired entries, then a third of the live ones:
        # Django's default of 300 forgot used challenges after a few hundred open-mode
        # answers. Live entries all expire within the hour; a million rows is ~200 MB.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
FORMAT_MODULE_PATH = ["beffroi.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
if not config.read_only:  # a read-only command creates nothing (config.read_only)
    STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [
    (name, REPO_DIR / "node_modules" / path)
    for name, path in [("htmx", "htmx.org/dist"), ("leaflet", "leaflet/dist")]
    if (REPO_DIR / "node_modules" / path).is_dir()
]
MEDIA_ROOT = DATA_DIR / "uploads"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, precompressed copies in STATIC_ROOT, made by `beffroi manage collectstatic`
    # at each install or upgrade; until then the plain names are served from the apps.
    "staticfiles": {"BACKEND": "beffroi.web.static_files.HashedStaticStorage"},
}
# Files not collected yet (a `manage runserver`, the test suite) are found in the apps.
SERVESTATIC_USE_FINDERS = True
# zstd needs Python 3.14's compression.zstd; gzip and Brotli cover every browser.
SERVESTATIC_USE_ZSTD = False

EMAIL_BACKEND = config.email_backend(os.environ.get("BEFFROI_EMAIL_BACKEND"))
DEFAULT_FROM_EMAIL = os.environ.get("BEFFROI_FROM_EMAIL", "beffroi@localhost")
# The SMTP backend's server: a provider's relay needs its host, port, account and TLS.
EMAIL_HOST = os.environ.get("BEFFROI_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("BEFFROI_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("BEFFROI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("BEFFROI_EMAIL_PASSWORD", "")
# STARTTLS (port 587) or implicit TLS (port 465): both at once is refused at start-up.
EMAIL_USE_TLS, EMAIL_USE_SSL = config.email_tls(
    os.environ.get("BEFFROI_EMAIL_STARTTLS"), os.environ.get("BEFFROI_EMAIL_SSL")
)
EMAIL_TIMEOUT = 30

# Security defaults (DESIGN: security is a feature).
SESSION_COOKIE_HTTPONLY = True
# How long a sign-in lasts, counted from the log-in, not from the last page: core/signals.py
# fixes the session's end when it opens, so working on does not extend it (Django's own
# expiry restarts at every write of the session). Half a day covers a shift, and a shared
# crisis-room computer left signed in is not open the next morning
# (docs/decisions/0003-login-throttling.md, "How long a sign-in lasts").
BEFFROI_SESSION_HOURS = int(os.environ.get("BEFFROI_SESSION_HOURS", "12"))
if BEFFROI_SESSION_HOURS < 1:
    raise ValueError(f"BEFFROI_SESSION_HOURS must be at least 1 (got {BEFFROI_SESSION_HOURS})")
SESSION_COOKIE_AGE = BEFFROI_SESSION_HOURS * 3600
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
# A local probe (systemd, a monitor on the host) asks over plain HTTP behind the proxy: it
# must get the health answer, not a redirect to https://127.0.0.1 (docs/operations.md, Health).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Login throttling (beffroi.core.throttle): failures per account from one network prefix,
# per account from anywhere (a ceiling against guessing spread over many networks), and per
# network prefix; reset mails per address from anywhere (docs/decisions/0003-login-throttling.md).
BEFFROI_LOGIN_LIMIT_PER_ACCOUNT = int(os.environ.get("BEFFROI_LOGIN_LIMIT_PER_ACCOUNT", "5"))
BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL = int(
    os.environ.get("BEFFROI_LOGIN_LIMIT_PER_ACCOUNT_TOTAL", "50")
)
BEFFROI_RESET_LIMIT_PER_ADDRESS = int(os.environ.get("BEFFROI_RESET_LIMIT_PER_ADDRESS", "10"))
BEFFROI_LOGIN_LIMIT_PER_NETWORK = int(os.environ.get("BEFFROI_LOGIN_LIMIT_PER_NETWORK", "30"))
BEFFROI_LOGIN_WINDOW_SECONDS = int(os.environ.get("BEFFROI_LOGIN_WINDOW_SECONDS", "900"))
# Uses of one watch partner link per hour (each is journaled, and the journal is never purged).
BEFFROI_PARTNER_LINK_LIMIT = int(os.environ.get("BEFFROI_PARTNER_LINK_LIMIT", "1000"))
BEFFROI_PSEUDONYM_KEY = os.environ.get("BEFFROI_PSEUDONYM_KEY") or SECRET_KEY
BEFFROI_AUDIT_MAX_UPLOAD_MB = int(os.environ.get("BEFFROI_AUDIT_MAX_UPLOAD_MB", "200"))
BEFFROI_INVITATION_DAYS = int(os.environ.get("BEFFROI_INVITATION_DAYS", "14"))
# Watch room: child processes for the pipeline's stateless steps (0 = all in the
# worker's own thread), and how long prepared exports stay on disk.
BEFFROI_WATCH_PIPELINE_PROCESSES = int(os.environ.get("BEFFROI_WATCH_PIPELINE_PROCESSES", "2"))
BEFFROI_WATCH_EXPORT_HOURS = int(os.environ.get("BEFFROI_WATCH_EXPORT_HOURS", "24"))
# Shares of the one task queue and of the public board one party may take (a forwarded
# partner link, a scrutineer, one code's holder): past them, a clear refusal.
BEFFROI_WATCH_MAX_PENDING_EXPORTS = int(os.environ.get("BEFFROI_WATCH_MAX_PENDING_EXPORTS", "3"))
BEFFROI_AUDIT_MAX_PENDING = int(os.environ.get("BEFFROI_AUDIT_MAX_PENDING", "3"))
# A running export or audit whose progress has not moved for this long says so on its
# page (a warning: a live worker may hold a hung job; a slow step reports nothing either).
BEFFROI_JOB_STALL_MINUTES = int(os.environ.get("BEFFROI_JOB_STALL_MINUTES", "15"))
BEFFROI_CONSULT_MAX_BALLOTS_PER_KEY = int(
    os.environ.get("BEFFROI_CONSULT_MAX_BALLOTS_PER_KEY", "50")
)

# Retention periods in days, or None for "never" (DESIGN rule 7; `beffroi prune` applies
# them; docs/decisions/retention.md gives each default its reason). A bad value stops the
# start-up with one line naming the variable.
_RETENTION = retention.from_environ()
BEFFROI_RETENTION_PSEUDONYMS_DAYS = _RETENTION["BEFFROI_RETENTION_PSEUDONYMS_DAYS"]
BEFFROI_RETENTION_WATCH_POSTS_DAYS = _RETENTION["BEFFROI_RETENTION_WATCH_POSTS_DAYS"]
BEFFROI_RETENTION_INVITATIONS_DAYS = _RETENTION["BEFFROI_RETENTION_INVITATIONS_DAYS"]
BEFFROI_RETENTION_JOBS_DAYS = _RETENTION["BEFFROI_RETENTION_JOBS_DAYS"]

# Paths reach the log through many loggers (a 4xx/5xx answer, a CSRF refusal, an access
# line, a traceback) and partner links carry their token in the path: every handler here
# redacts it (beffroi.watch.logfilter), whatever logger the record comes from.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"partner_tokens": {"()": "beffroi.watch.logfilter.PartnerTokenFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["partner_tokens"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["partner_tokens"],
        },
    },
    "loggers": {
        # Django's defaults hang on "django" a console handler (DEBUG) and mail_admins,
        # whose mail quotes the request: neither redacts, so its records go to the
        # root's handler instead. No ADMINS are set: nothing was mailed before either.
        "django": {"handlers": [], "level": "INFO"},
        # runserver's access lines.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # Also on the two loggers that quote paths, for a handler added outside this dict.
        "django.request": {"filters": ["partner_tokens"]},
        "django.security.csrf": {"filters": ["partner_tokens"]},
        # Under uvicorn (`beffroi serve`), whose logging is set before the app is loaded:
        # its error lines come here rather than to its own handler. Its access log,
        # which `serve` leaves off, is not touched (docs/operations.md).
        "uvicorn.error": {"handlers": ["console"], "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}
