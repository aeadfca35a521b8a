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
MAX_MAPPING_BYTES = 1024 * 1024
# The structure of a survey of a few hundred questions in several languages stays
# under a few MB; it is parsed whole (XML) in the request, so it is bounded far below
# the export.
MAX_STRUCTURE_BYTES = 10 * 1024 * 1024
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
    structure = forms.FileField(
        label=gettext_lazy("Structure de l'enquête (.lss, facultatif)"),
        required=False,
        help_text=gettext_lazy(
            "Exportée par LimeSurvey avec l'enquête (Afficher / exporter → Structure de "
            "l'enquête (.lss)) : le rapport nomme alors les questions par leur libellé. "
            "Exports LimeSurvey seulement."
        ),
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

    def clean_mapping(self) -> Any:
        # A mapping names a few columns: its limit is far below the export's, so that
        # an upload cannot fill the disk (or the worker's memory) through this field.
        upload = self.cleaned_data.get("mapping")
        if upload is not None and upload.size > MAX_MAPPING_BYTES:
            raise forms.ValidationError(
                _("Fichier de correspondance trop gros (%(mb)d Mo au plus).")
                % {"mb": MAX_MAPPING_BYTES // (1024 * 1024)}
            )
        return upload

    def clean_structure(self) -> Any:
        """Read the structure as the audit will, so that a wrong file is said under its
        field before anything is stored, not as the audit's failure afterwards."""
        upload = self.cleaned_data.get("structure")
        if upload is None:
            return None
        if upload.size == 0:
            raise forms.ValidationError(_("Le fichier est vide."))
        if upload.size > MAX_STRUCTURE_BYTES:
            raise forms.ValidationError(
                _("Fichier de structure trop gros (%(mb)d Mo au plus).")
                % {"mb": MAX_STRUCTURE_BYTES // (1024 * 1024)}
            )
        from beffroi.consult.views_i18n import audit_error
        from beffroi.integrity.errors import InputError
        from beffroi.integrity.lss import parse_lss

        upload.seek(0)
        raw = upload.read()
        upload.seek(0)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _(
                    "La structure doit être le fichier .lss tel que LimeSurvey l'exporte "
                    "(texte UTF-8)."
                )
            ) from None
        try:
            labels, _options = parse_lss(text, upload.name or "structure.lss")
        except InputError as exc:
            raise forms.ValidationError(audit_error(str(exc))) from None
        if not labels:
            raise forms.ValidationError(
                _(
                    "Aucune question dans cette structure : est-ce bien le fichier .lss de "
                    "l'enquête ?"
                )
            )
        return upload

    def clean_electorate(self) -> dict[str, int]:
        return parse_electorate(self.cleaned_data.get("electorate") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("fmt") == "csv" and data.get("structure"):
            self.add_error(
                "structure",
                _(
                    "La structure (.lss) ne sert qu'aux exports LimeSurvey ; pour un CSV "
                    "quelconque, donnez les libellés dans la correspondance ([labels])."
                ),
            )
        if data.get("fmt") == "csv" and not data.get("mapping"):
            self.add_error("mapping", _("Le format CSV demande un fichier de correspondance."))
        elif data.get("export") is not None and data.get("fmt"):
            self._check_header(data)
        return data

    def _check_header(self, data: dict[str, Any]) -> None:
        """Refuse, before anything is stored or journaled, an export whose header cannot
        be audited (no submission date, no answer column…): the loader's own check, on
        the first line only; the rest of the file is read by the background audit."""
        from beffroi.consult.views_i18n import audit_error
        from beffroi.integrity.errors import InputError
        from beffroi.integrity.load import check_header, check_rows

        export, mapping = data["export"], data.get("mapping")
        toml = None
        if mapping is not None and mapping.size <= HEAD_BYTES:
            toml = _head(mapping)
        try:
            check_header(_head(export), data["fmt"], toml, getattr(mapping, "name", ""))
        except InputError as exc:
            # The mapping's own faults go under its field, the rest under the export's.
            own = str(exc).startswith(("La correspondance", "Correspondance TOML"))
            self.add_error("mapping" if own else "export", audit_error(str(exc)))
            return
        # Too many responses is said here too, before the file is stored and queued:
        # counting the lines of 200 MB takes a fraction of a second, and the records
        # (answers may hold line breaks) are parsed only when the lines are too many.
        try:
            check_rows(getattr(export, "file", export))
        except InputError as exc:
            self.add_error("export", audit_error(str(exc)))


# The first line of an export is its header; read one byte past the loader's limit on
# headers (``integrity.load.MAX_HEADER_BYTES``, not imported here: the loader brings Arrow
# and NumPy with it), so that a longer one is refused here too.
HEAD_BYTES = 4 * 1024 * 1024 + 1


def _head(upload: Any) -> bytes:
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    # The upload is stored from its start afterwards (chunks() seeks back too).
    upload.seek(0)
    return bytes(head)
