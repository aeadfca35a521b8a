from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FORMAT_CHOICES = [
    ("limesurvey", gettext_lazy("Export LimeSurvey (CSV)")),
    ("csv", gettext_lazy("CSV quelconque + fichier de correspondance (TOML)")),
]
ELECTORATE = re.compile(r"^\s*([^=,\s]+)\s*=\s*(\d+)\s*$")


def parse_electorate(text: str) -> dict[str, int]:
    """'A1=212, A2=168' → {'A1': 212, 'A2': 168}, with a French error naming the bad part."""
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        match = ELECTORATE.match(part)
        if match is None:
            raise forms.ValidationError(
                _("« %(part)s » n'est pas de la forme SEGMENT=NOMBRE (ex. A1=212).")
                % {"part": part}
            )
        result[match.group(1)] = int(match.group(2))
    return result


class AuditUploadForm(forms.Form):
    export = forms.FileField(label=gettext_lazy("Export des réponses"))
    fmt = forms.ChoiceField(
        label=gettext_lazy("Format"), choices=FORMAT_CHOICES, initial="limesurvey"
    )
    mapping = forms.FileField(
        label=gettext_lazy("Correspondance des colonnes (TOML)"), required=False
    )
    electorate = forms.CharField(
        label=gettext_lazy("Effectifs par segment (facultatif)"),
        required=False,
        help_text=gettext_lazy("Par exemple : A1=212, A2=168 — pour comparer la participation."),
    )

    def clean_export(self) -> Any:
        upload = self.cleaned_data["export"]
        limit = settings.BEFFROI_AUDIT_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size == 0:
            raise forms.ValidationError(_("Le fichier est vide."))
        if upload.size > limit:
            raise forms.ValidationError(
                _("Fichier trop gros (%(mb)d Mo au plus).")
                % {"mb": settings.BEFFROI_AUDIT_MAX_UPLOAD_MB}
            )
        return upload

    def clean_electorate(self) -> dict[str, int]:
        return parse_electorate(self.cleaned_data.get("electorate") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("fmt") == "csv" and not data.get("mapping"):
            self.add_error("mapping", _("Le format CSV demande un fichier de correspondance."))
        return data
