from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "beffroi.core"
    label = "core"
    verbose_name = "Beffroi"

    def ready(self) -> None:
        from beffroi.core import ops_checks, signals  # noqa: F401  (registers checks, connects auth signal handlers)
