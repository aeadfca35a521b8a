from django.apps import AppConfig


class AuditsConfig(AppConfig):
    """The web door to the pure `integrity` package: upload an export, get the report."""

    name = "beffroi.audits"
    label = "audits"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from beffroi.core.roles import NAVIGATION

        NAVIGATION.append(("audits", _("Audits"), "audit.run"))
