from django.apps import AppConfig


class ConsultConfig(AppConfig):
    name = "beffroi.consult"
    label = "consult"

    def ready(self) -> None:
        # Menu entries of this app (the role check stays in beffroi.core.roles).
        from beffroi.consult import navigation  # noqa: F401
