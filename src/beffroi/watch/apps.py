from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "beffroi.watch"
    label = "watch"

    def ready(self) -> None:
        # Menu entries of this app (the role check stays in beffroi.core.roles).
        from beffroi.watch import navigation  # noqa: F401
