from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "beffroi.core"
    label = "core"
    verbose_name = "Beffroi"

    def ready(self) -> None:
        from django.conf import settings

        from beffroi.core import ops_checks, signals  # noqa: F401  (registers checks, connects auth signal handlers)

        # Every command and the ASGI application stop at start-up (a ConfigError, one line
        # from the CLI), not at the first mail.
        ops_checks.check_mail_backend(settings.EMAIL_BACKEND)
