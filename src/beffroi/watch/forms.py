"""Forms of the watch room (French labels; the actions do the real checks)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from beffroi.watch.models import (
    DECLARABLE_SOURCES,
    EventType,
    LogCategory,
    LogChannel,
    LogStatus,
)

_SPLIT = re.compile(r"[\s,;]+")


class ActivationForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=200)
    event_type = forms.ChoiceField(label=_("Type d'événement"), choices=EventType.choices)
    area = forms.CharField(
        label=_("Zone"),
        required=False,
        help_text=_(
            "Codes INSEE de communes (85191) et numéros de départements (85), séparés "
            "par des espaces ou des virgules."
        ),
    )
    keywords = forms.CharField(
        label=_("Mots-clés et mots-dièse par langue"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Une ligne par langue : « fr: crue, inondation, #vigicrues »."),
    )
    starts_at = forms.DateTimeField(
        label=_("Début"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Fin"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    keep_handles = forms.BooleanField(
        label=_("Conserver les identifiants des comptes (sinon : pseudonymes)"), required=False
    )

    def clean_area(self) -> list[str]:
        return [c for c in _SPLIT.split(self.cleaned_data["area"].strip()) if c]

    def clean_keywords(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for number, line in enumerate(self.cleaned_data["keywords"].splitlines(), start=1):
            if not line.strip():
                continue
            lang, sep, words = line.partition(":")
            lang = lang.strip().lower()
            if not sep or not re.fullmatch(r"[a-z]{2,3}", lang):
                raise forms.ValidationError(
                    _("Ligne %(n)s : écrire « fr: mot, mot » (code de langue, deux-points, mots)."),
                    params={"n": number},
                )
            items = [w.strip() for w in words.split(",") if w.strip()]
            result.setdefault(lang, []).extend(items)
        return result


class ActivationEditForm(forms.Form):
    """What changes during an open activation; the handles' choice does not (see
    ``actions.update_activation``)."""

    name = ActivationForm.base_fields["name"]
    event_type = ActivationForm.base_fields["event_type"]
    area = ActivationForm.base_fields["area"]
    keywords = ActivationForm.base_fields["keywords"]
    ends_at = ActivationForm.base_fields["ends_at"]
    clean_area = ActivationForm.clean_area
    clean_keywords = ActivationForm.clean_keywords

    def area_sent(self) -> bool:
        """Whether the request carried the zone at all: a page opened before the zone
        could change (or a script) leaves it out, and keeps it."""
        return self.is_bound and "area" in self.data

    def clean_ends_at(self) -> Any:
        from django.utils import timezone

        ends = self.cleaned_data["ends_at"]
        # Said under the field; the action refuses it too.
        if ends is not None and ends <= timezone.now():
            raise forms.ValidationError(
                _(
                    "La fin doit être à venir. Pour arrêter l'activation maintenant, "
                    "utilisez « Clore l'activation »."
                )
            )
        return ends

    @staticmethod
    def initial_for(activation: Any) -> dict[str, Any]:
        from django.utils import timezone

        lines = [f"{lang}: {', '.join(words)}" for lang, words in activation.keywords.items()]
        ends = activation.ends_at
        return {
            "name": activation.name,
            "event_type": activation.event_type,
            "area": " ".join(activation.area),
            "keywords": "\n".join(lines),
            # The browser's datetime-local field reads the local time without a zone.
            "ends_at": timezone.localtime(ends).strftime("%Y-%m-%dT%H:%M") if ends else "",
        }


def translated(msgid: str) -> str:
    """A msgid of the sources package in the active language ("" stays "": gettext
    would give the catalogue's header)."""
    return gettext(msgid) if msgid else ""


class SourceForm(forms.Form):
    """Built from the sources package's FORMS entry for one kind."""

    name = forms.CharField(label=_("Nom de la source"), max_length=200)

    def __init__(self, kind: str, *args: Any, **kwargs: Any) -> None:
        from beffroi.watch.sources import FORMS

        super().__init__(*args, **kwargs)
        self.kind = kind
        spec = FORMS[kind]
        # The sources package holds French msgids without Django; they are translated here.
        self.description = translated(spec.description)
        for f in spec.fields:
            field: forms.Field
            label = translated(f.label)
            if f.type == "bool":
                field = forms.BooleanField(label=label, required=False, initial=f.default)
            elif f.type == "list":
                field = forms.CharField(
                    label=label, required=f.required, widget=forms.Textarea(attrs={"rows": 3})
                )
            elif f.type == "choice":
                field = forms.ChoiceField(
                    label=label, choices=[(c, c) for c in f.choices], initial=f.default
                )
            elif f.type == "number":
                field = forms.FloatField(label=label, required=f.required, initial=f.default)
            else:
                field = forms.CharField(label=label, required=f.required, max_length=1000)
            field.help_text = translated(f.help)
            self.fields[f.name] = field
        self.fields["declared_source"] = forms.ChoiceField(
            label=_("Émetteur des messages"),
            required=False,
            choices=[("", _("À lire dans chaque message (classifieur)"))]
            + [(t.value, t.label) for t in DECLARABLE_SOURCES],
            help_text=_(
                "Si toute la source parle pour un même émetteur (flux d'une préfecture, "
                "compte d'une rédaction), ses messages prennent ce type de source."
            ),
        )

    def config(self) -> dict[str, Any]:
        """The submitted values in the shape the sources package validates."""
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name in ("name", "declared_source") or value in (None, ""):
                continue
            data[name] = value
        return data


class LogEntryForm(forms.Form):
    text = forms.CharField(label=_("Information"), widget=forms.Textarea(attrs={"rows": 3}))
    # A call taken at 02:10 is often typed at 02:25: the line says when it happened.
    at = forms.DateTimeField(
        label=_("Heure"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Laissez vide pour maintenant ; pour un appel reçu plus tôt, son heure."),
    )
    channel = forms.ChoiceField(label=_("Canal"), choices=LogChannel.choices)
    category = forms.ChoiceField(label=_("Catégorie"), choices=LogCategory.choices)
    commune_code = forms.CharField(label=_("Commune (code INSEE)"), required=False, max_length=5)
    # LogEntry.source_url holds 1,000 characters: past that PostgreSQL refused the row (a
    # 500, the typed line lost). Said under the field instead, the line kept as typed.
    source_url = forms.URLField(
        label=_("Lien"),
        required=False,
        assume_scheme="https",
        max_length=1000,
        error_messages={
            "max_length": _(
                "Lien trop long (%(show_value)d caractères, %(limit_value)d au plus) : "
                "gardez l'adresse de la page sans ses paramètres de suivi."
            )
        },
    )
    # The valve: a line typed by hand carries no verification, so it reaches the partners
    # only when the volunteer ticks the box (a missing field, as from an old page, is False).
    for_partners = forms.BooleanField(
        label=_("Transmettre aux partenaires"), required=False, initial=False
    )

    def __init__(self, *args: Any, activation: Any = None, **kwargs: Any) -> None:
        """``activation``: the one the line is for, which bounds how far back its time
        may go; without it only a time to come is refused."""
        super().__init__(*args, **kwargs)
        self.activation = activation
        # The browser's maxlength would cut a pasted link silently to a broken one: the
        # server says it is too long instead, and the person shortens it.
        self.fields["source_url"].widget.attrs.pop("maxlength", None)

    def clean_at(self) -> Any:
        from django.utils import timezone
        from django.utils.formats import date_format

        at = self.cleaned_data["at"]
        # A minute of slack for a clock a little ahead of the server's.
        if at is not None and at > timezone.now() + timedelta(minutes=1):
            raise forms.ValidationError(_("L'heure ne peut pas être dans le futur."))
        earliest = earliest_line_time(self.activation)
        if at is not None and earliest is not None and at < earliest:
            start = timezone.localtime(self.activation.starts_at)
            raise forms.ValidationError(
                _(
                    "L'heure est antérieure au début de l'activation (%(start)s) : "
                    "vérifiez la date."
                ),
                params={"start": date_format(start, "SHORT_DATETIME_FORMAT")},
            )
        return at


# How long before its activation began a manual line may be dated. The first calls of
# a crisis often come before the room opens (the person on call takes them at night,
# the coordinator opens the activation in the morning), and an activation's start
# cannot be changed once it is created; a wrong day, month or year, the typos a date
# picker invites, fall far outside.
BACKDATE_MARGIN = timedelta(hours=12)


def earliest_line_time(activation: Any) -> datetime | None:
    """The earliest time a manual line of ``activation`` may carry: its start (or its
    creation, when it was created with a start to come) less ``BACKDATE_MARGIN``."""
    if activation is None:
        return None
    created = activation.created_at or activation.starts_at
    return min(activation.starts_at, created) - BACKDATE_MARGIN


class LogStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), choices=LogStatus.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class _DecimalCommaField(forms.FloatField):
    """A number typed with a decimal comma (« 0,5 ») or point: a French coordinator
    writes the comma, which a browser without number fields sends as typed."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace("\u202f", "").replace("\xa0", "").replace(",", ".")
        return super().to_python(value)


class PartnerLinkForm(forms.Form):
    label = forms.CharField(
        label=_("Destinataire"),
        max_length=200,
        help_text=_("Par exemple : COD préfecture de la Vendée."),
    )
    days = _DecimalCommaField(
        label=_("Durée de validité (jours)"),
        initial=3,
        min_value=0.05,
        max_value=30,
        help_text=_("Par exemple 0,25 pour six heures, 3 pour trois jours (30 au plus)."),
    )
