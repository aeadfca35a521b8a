from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "beffroi.core"
    label = "core"
    verbose_name = "Beffroi"

    def ready(self) -> None:
        from beffroi.core import signals  # noqa: F401  (connects auth signal handlers)
