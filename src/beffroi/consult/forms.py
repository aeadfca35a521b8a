"""Forms of the consultation builder: they produce the spec dict of spec.py.

Validation of the whole consultation is the pure core's (``spec_from_dict``).
These forms turn fields into that dict and back, and check first, on the field
concerned and in a sentence saying what to fix, what the core would refuse in its
own terms (« questions[1]: au moins deux options »); ``readable_spec_error`` words
whatever the core still refuses.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from beffroi.consult.spec import CODE_RE, MAX_SCALE_SPAN, format_time, parse_time
from beffroi.consult.zones import english_zone_words, known_zones, zone_words

DEFAULT_ROWS = "Responsable légal 1\nResponsable légal 2"
AUDIT_FLAG = "audit"

KIND_CHOICES = [
    ("single", _("Choix unique")),
    ("multiple", _("Choix multiple")),
    ("scale", _("Échelle")),
    ("text", _("Texte court")),
]
ACCESS_CHOICES = [
    ("credentialed", _("Sur codes personnels (réponses signées et vérifiables)")),
    ("mixed", _("Mixte : codes personnels et réponses ouvertes, comptées séparément")),
    ("open", _("Ouverte : sans code (réponses non vérifiées)")),
]


def slug_code(label: str, taken: set[str]) -> str:
    base = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_").lower()[:40] or "option"
    code, i = base, 2
    while code in taken:
        code, i = f"{base}_{i}", i + 1
    taken.add(code)
    return code


def _local(dt: datetime, zone: str | None = None) -> str:
    return timezone.localtime(dt, ZoneInfo(zone) if zone else None).strftime("%Y-%m-%dT%H:%M")


# The French zones first (where a French commune's consultation runs), then every
# other IANA name, for an association abroad.
FRENCH_ZONES = (
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
    "America/Miquelon",
    "America/St_Barthelemy",
    "America/Marigot",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Marquesas",
    "Pacific/Gambier",
    "Pacific/Wallis",
)


def zone_label(name: str) -> str:
    """« heure de la Martinique — America/Martinique »: the words the letters and the
    refusals use, in the page's language, then the IANA name (what --timezone takes,
    and the only name for a zone without words of its own)."""
    english = (get_language() or "fr").startswith("en")
    words = english_zone_words(name) if english else zone_words(name)
    if name in words:  # « fuseau US/Eastern », « US/Eastern time zone »
        return name
    return f"{words} — {name}"


def zone_choices() -> list[tuple[Any, Any]]:
    # Called at each rendering (Django wraps a callable), so in the page's language.
    french = [(z, zone_label(z)) for z in FRENCH_ZONES]
    others = [(z, zone_label(z)) for z in sorted(known_zones() - set(FRENCH_ZONES))]
    return [(_("France"), french), (_("Autres fuseaux"), others)]


class ConsultationForm(forms.Form):
    cid = forms.SlugField(
        label=_("Identifiant public"),
        max_length=64,
        help_text=_("Apparaît dans les liens de réponse, ex. rythmes-scolaires-2026."),
    )
    title = forms.CharField(label=_("Titre"), max_length=300)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    opens = forms.DateTimeField(
        label=_("Ouverture"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes = forms.DateTimeField(
        label=_("Clôture"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    timezone = forms.ChoiceField(
        label=_("Fuseau horaire"),
        choices=zone_choices,
        # A post without it (a script, an older page) means the deployment's zone.
        required=False,
        help_text=_(
            "L'ouverture et la clôture se lisent à l'heure de ce fuseau ; les lettres, les "
            "refus et les pages donnent les heures dans ce fuseau. Gelé à l'ouverture."
        ),
    )
    access = forms.ChoiceField(label=_("Mode d'accès"), choices=ACCESS_CHOICES)
    rows_enabled = forms.BooleanField(
        label=_("Lignes répétées (mêmes questions pour plusieurs personnes d'un foyer)"),
        required=False,
    )
    row_labels = forms.CharField(
        label=_("Libellés des lignes (un par ligne)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        initial=DEFAULT_ROWS,
    )
    min_filled = forms.IntegerField(label=_("Lignes à remplir au minimum"), min_value=0, initial=1)
    segments = forms.CharField(
        label=_("Segments et effectifs (un par ligne : code ; libellé ; effectif)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Ex. A1 ; École Jules-Ferry ; 212"),
    )
    exclude_flagged = forms.BooleanField(
        label=_("Écarter les réponses signalées par l'audit d'intégrité (règle gelée)"),
        required=False,
    )

    def __init__(self, *args: Any, frozen_id: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if frozen_id:
            self.fields["cid"].disabled = True
        # The deployment's zone by default (read here, not at import: settings may change).
        self.fields["timezone"].initial = settings.TIME_ZONE

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        zone_name = data["timezone"] = data.get("timezone") or settings.TIME_ZONE
        if zone_name:
            # The browser's datetime-local has no zone: Django read it in the site's;
            # the organiser meant the consultation's (18 h in Martinique is 18 h there).
            zone = ZoneInfo(zone_name)
            for name in ("opens", "closes"):
                if data.get(name):
                    wall = timezone.make_naive(data[name])
                    if (
                        wall.replace(tzinfo=zone, fold=0).utcoffset()
                        != wall.replace(tzinfo=zone, fold=1).utcoffset()
                    ):
                        # A clock change: the hour is skipped or repeated there, so
                        # it names no single instant (the letters would guess).
                        self.add_error(
                            name,
                            _(
                                "Cette heure n'existe pas ou existe deux fois dans le fuseau "
                                "%(zone)s (changement d'heure) : choisissez-en une autre."
                            )
                            % {"zone": zone_name},
                        )
                        continue  # add_error took it out of cleaned_data
                    data[name] = wall.replace(tzinfo=zone)
        # Said here, on the field: the spec's own check names it « closes » at the top.
        opens, closes = data.get("opens"), data.get("closes")
        if opens and closes and closes <= opens:
            self.add_error("closes", _("La clôture doit venir après l'ouverture."))
        if data.get("rows_enabled"):
            labels = [x for x in (data.get("row_labels") or "").splitlines() if x.strip()]
            if not labels:
                self.add_error(
                    "row_labels", _("Donnez au moins un libellé de ligne (un par ligne).")
                )
            elif (data.get("min_filled") or 0) > len(labels):
                self.add_error(
                    "min_filled",
                    _("Au plus %(n)d : c'est le nombre de lignes répétées.") % {"n": len(labels)},
                )
        return data

    def clean_segments(self) -> list[dict[str, Any]]:
        out = []
        lines: dict[str, int] = {}  # code -> line that gave it
        for i, line in enumerate(self.cleaned_data["segments"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) != 3:
                raise forms.ValidationError(
                    _("Ligne %(i)d : « code ; libellé ; effectif » attendu.") % {"i": i}
                )
            try:
                electorate = int(parts[2])
            except ValueError:
                raise forms.ValidationError(
                    _("Ligne %(i)d : l'effectif « %(v)s » n'est pas un nombre entier.")
                    % {"i": i, "v": parts[2]}
                ) from None
            if not CODE_RE.match(parts[0]):
                raise forms.ValidationError(
                    _(
                        "Ligne %(i)d : le code « %(v)s » ne convient pas (lettres, chiffres, "
                        "« _ . - », sans espace, 64 caractères au plus)."
                    )
                    % {"i": i, "v": parts[0]}
                )
            if electorate < 0:
                raise forms.ValidationError(
                    _("Ligne %(i)d : l'effectif ne peut pas être négatif.") % {"i": i}
                )
            if parts[0] in lines:
                raise forms.ValidationError(
                    _("Ligne %(i)d : le code « %(v)s » est déjà celui de la ligne %(j)d.")
                    % {"i": i, "v": parts[0], "j": lines[parts[0]]}
                )
            lines[parts[0]] = i
            out.append({"code": parts[0], "label": parts[1], "electorate": electorate})
        return out


class QuestionForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64, required=False)
    label = forms.CharField(label=_("Question"), max_length=500, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=KIND_CHOICES, initial="single")
    options = forms.CharField(
        label=_("Options (une par ligne ; « code : libellé » ou libellé seul)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    required = forms.BooleanField(label=_("Obligatoire"), required=False)
    per_row = forms.BooleanField(label=_("Posée pour chaque ligne répétée"), required=False)
    scale_min = forms.IntegerField(label=_("Échelle : minimum"), initial=1, required=False)
    scale_max = forms.IntegerField(label=_("Échelle : maximum"), initial=5, required=False)
    max_length = forms.IntegerField(
        label=_("Texte : longueur maximale"), initial=1000, required=False
    )

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if not d.get("label"):
            return d  # ignored question (the builder's empty extra forms)
        code = d.get("code")
        if code and not CODE_RE.match(code):
            self.add_error("code", _CODE_HELP)
        kind = d.get("kind")
        if kind in ("single", "multiple"):
            options = parse_options(d.get("options") or "")
            seen: set[str] = set()
            for ocode, _label in options:
                if not CODE_RE.match(ocode):
                    self.add_error(
                        "options",
                        _("Le code d'option « %(code)s » ne convient pas : %(help)s")
                        % {"code": ocode, "help": _CODE_HELP},
                    )
                    break
                if ocode in seen:
                    self.add_error(
                        "options",
                        _(
                            "L'option « %(code)s » apparaît deux fois : changez son code "
                            "(avant les deux-points) ou retirez la seconde."
                        )
                        % {"code": ocode},
                    )
                    break
                seen.add(ocode)
            else:
                if len(options) < 2:
                    self.add_error("options", _("Donnez au moins deux options, une par ligne."))
        if kind == "scale":
            given_low, given_high = d.get("scale_min"), d.get("scale_max")
            low: int = given_low if given_low is not None else 1
            high: int = given_high if given_high is not None else 5
            if not (low < high and high - low <= MAX_SCALE_SPAN):
                self.add_error(
                    "scale_max",
                    _("Le maximum doit dépasser le minimum (%(low)d), de %(span)d au plus.")
                    % {"low": low, "span": MAX_SCALE_SPAN},
                )
        if kind == "text" and d.get("max_length") is not None and d["max_length"] < 1:
            self.add_error("max_length", _("Donnez une longueur d'au moins 1 caractère."))
        return d

    def to_dict(self, taken: set[str]) -> dict[str, Any] | None:
        d = self.cleaned_data
        if not d.get("label"):
            return None
        code = d.get("code") or slug_code(d["label"], taken)
        taken.add(code)
        q: dict[str, Any] = {
            "code": code,
            "kind": d["kind"],
            "label": d["label"],
            "required": bool(d.get("required")),
            "per_row": bool(d.get("per_row")),
        }
        if d["kind"] in ("single", "multiple"):
            q["options"] = [
                {"code": oc, "label": ol} for oc, ol in parse_options(d.get("options") or "")
            ]
        if d["kind"] == "scale":
            q["scale_min"] = d.get("scale_min") if d.get("scale_min") is not None else 1
            q["scale_max"] = d.get("scale_max") if d.get("scale_max") is not None else 5
        if d["kind"] == "text":
            q["max_length"] = d.get("max_length") or 1000
        return q


def parse_options(text: str) -> list[tuple[str, str]]:
    """(code, label) per non-empty line: « code : libellé », or a label whose code is
    made from it."""
    out, seen = [], set()
    for line in text.splitlines():
        if not line.strip():
            continue
        if ":" in line:
            oc, ol = (p.strip() for p in line.split(":", 1))
            seen.add(oc)
        else:
            ol = line.strip()
            oc = slug_code(ol, seen)
        out.append((oc, ol))
    return out


_CODE_HELP = _("lettres sans accent, chiffres et « _ . - », sans espace, 64 caractères au plus.")


class BaseQuestionFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        # Every problem at once: a question with another error still takes its code.
        taken: set[str] = set()
        first: dict[str, int] = {}  # code -> number of the question that has it
        derived: set[int] = set()  # questions whose code was made from their wording
        asked = 0
        for number, form in enumerate(self.forms, start=1):
            d = getattr(form, "cleaned_data", None)
            if not d or d.get("DELETE") or not d.get("label"):
                continue
            asked += 1
            # The same codes as to_dict gives, in the same order.
            code = d.get("code") or slug_code(d["label"], taken)
            if code in first and first[code] in derived:
                # The other question's field is empty: say where its code came from.
                form.add_error(
                    "code",
                    _(
                        "Le code « %(code)s » est déjà celui de la question %(n)d, tiré de son "
                        "libellé : donnez-en un autre."
                    )
                    % {"code": code, "n": first[code]},
                )
            elif code in first:
                form.add_error(
                    "code",
                    _(
                        "Le code « %(code)s » est déjà celui de la question %(n)d : "
                        "donnez-en un autre (ou laissez vide pour qu'il soit tiré du libellé)."
                    )
                    % {"code": code, "n": first[code]},
                )
            if code not in first and not d.get("code"):
                derived.add(number)
            first.setdefault(code, number)
            taken.add(code)
        if not asked:
            raise forms.ValidationError(_("Ajoutez au moins une question : son libellé suffit."))


QuestionFormSet = forms.formset_factory(
    QuestionForm, formset=BaseQuestionFormSet, extra=2, can_delete=True
)


def check_rows_for_questions(form: ConsultationForm, questions: Any) -> bool:
    """A question asked for each repeated row needs the rows: said on the checkbox."""
    per_row = [
        n
        for n, f in enumerate(questions.forms, start=1)
        if f.cleaned_data
        and f.cleaned_data.get("label")
        and not f.cleaned_data.get("DELETE")
        and f.cleaned_data.get("per_row")
    ]
    if per_row and not form.cleaned_data.get("rows_enabled"):
        form.add_error(
            "rows_enabled",
            _(
                "La question %(n)d est posée pour chaque ligne répétée : cochez cette case "
                "et donnez les libellés des lignes, ou décochez « Posée pour chaque ligne "
                "répétée »."
            )
            % {"n": per_row[0]},
        )
        return False
    return True


_SUBPATH = r"((?:\.\w+|\[\d+\])*): ?"
_SPEC_PATHS = (
    ("question", re.compile(r"^questions\[(\d+)\]" + _SUBPATH)),
    ("question_code", re.compile(r"^question « ([^»]+) »" + _SUBPATH)),
    ("segment", re.compile(r"^segments\[(\d+)\]" + _SUBPATH)),
    ("rows", re.compile(r"^rows()" + _SUBPATH)),
)


def readable_spec_error(message: str, spec: dict[str, Any]) -> str:
    """The core's message with its internal path (« questions[2].max_length »,
    « question « q3 » ») replaced by the part of the form the organiser sees
    (« Question 3 »).  The forms catch what they can first; this words the rest."""
    codes = [q.get("code") for q in spec.get("questions") or []]
    for kind, pattern in _SPEC_PATHS:
        m = pattern.match(message)
        if m is None:
            continue
        what = message[m.end() :]
        if kind == "question":
            where = gettext("Question %(n)s") % {"n": int(m.group(1)) + 1}
        elif kind == "question_code" and m.group(1) in codes:
            where = gettext("Question %(n)s") % {"n": codes.index(m.group(1)) + 1}
        elif kind == "question_code":
            where = gettext("Question « %(code)s »") % {"code": m.group(1)}
        elif kind == "segment":
            where = gettext("Segments, ligne %(n)s") % {"n": int(m.group(1)) + 1}
        else:
            where = gettext("Lignes répétées")
        return gettext("%(where)s : %(what)s") % {"where": where, "what": what}
    return message


# About 600,000 codes: far more than any electorate, and a bound on what the import reads
# into memory (it has no other).
MAX_PUBLIC_LIST_BYTES = 64 * 1024 * 1024


class CredentialsImportForm(forms.Form):
    public_list = forms.FileField(
        label=_("Liste des clés publiques (cles-publiques.jsonl)"),
        help_text=_(
            "Le fichier que remet l'autorité de délivrance (beffroi credentials generate)."
        ),
    )

    def clean_public_list(self) -> Any:
        upload = self.cleaned_data["public_list"]
        if upload.size > MAX_PUBLIC_LIST_BYTES:
            raise forms.ValidationError(
                gettext("Fichier trop gros (%(mb)d Mo au plus).")
                % {"mb": MAX_PUBLIC_LIST_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload


class RevokeForm(forms.Form):
    public_key = forms.CharField(label=_("Clé publique du code perdu"), max_length=64)
    reason = forms.CharField(
        label=_("Motif (publié)"),
        max_length=300,
        help_text=_(
            "Il figure sur le tableau public et dans le dossier de vérification : "
            "n'y mettez aucun nom ni détail qui désigne une personne (par exemple "
            "« lettre perdue », « code divulgué »)."
        ),
    )
    replacement = forms.CharField(
        label=_("Clé publique du nouveau code (facultatif)"), max_length=64, required=False
    )


class PostHocRuleForm(forms.Form):
    label = forms.CharField(label=_("Libellé de la règle"), max_length=200)
    reason = forms.CharField(label=_("Pourquoi l'ajouter maintenant ?"), max_length=500)


def spec_from_forms(form: ConsultationForm, questions: Any) -> dict[str, Any]:
    d = form.cleaned_data
    taken: set[str] = set()
    qs = [
        q
        for f in questions.forms
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
        for q in [f.to_dict(taken)]
        if q is not None
    ]
    rules: list[dict[str, Any]] = []
    if d["access"] != "open":
        rules.append(
            {
                "code": "one_ballot_per_key",
                "label": "La dernière réponse d'un code compte",
                "params": {},
            }
        )
    if d.get("exclude_flagged"):
        rules.append(
            {
                "code": "integrity_flag",
                "label": "Réponses signalées par l'audit d'intégrité écartées",
                "params": {"flags": [AUDIT_FLAG]},
            }
        )
    labels = [x.strip() for x in (d.get("row_labels") or "").splitlines() if x.strip()]
    return {
        "id": d["cid"],
        "title": d["title"],
        "description": d.get("description", ""),
        "opens": format_time(d["opens"].astimezone(UTC)),
        "closes": format_time(d["closes"].astimezone(UTC)),
        "access": d["access"],
        "timezone": d.get("timezone") or settings.TIME_ZONE,
        "questions": qs,
        "rows": {"labels": labels, "min_filled": d.get("min_filled") or 0}
        if d.get("rows_enabled")
        else None,
        "segments": d["segments"],
        "rules": rules,
    }


def initial_from_spec(spec: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rows = spec.get("rows")
    zone_name = spec.get("timezone") or settings.TIME_ZONE
    main = {
        "cid": spec["id"],
        "title": spec["title"],
        "description": spec.get("description", ""),
        "opens": _local(parse_time(spec["opens"], "opens"), zone_name),
        "closes": _local(parse_time(spec["closes"], "closes"), zone_name),
        "timezone": zone_name,
        "access": spec["access"],
        "rows_enabled": rows is not None,
        "row_labels": "\n".join(rows["labels"]) if rows else DEFAULT_ROWS,
        "min_filled": rows["min_filled"] if rows else 1,
        "segments": "\n".join(
            f"{s['code']} ; {s['label']} ; {s['electorate']}" for s in spec.get("segments", [])
        ),
        "exclude_flagged": any(r["code"] == "integrity_flag" for r in spec.get("rules", [])),
    }
    questions = []
    for q in spec.get("questions", []):
        questions.append(
            {
                "code": q["code"],
                "label": q["label"],
                "kind": q["kind"],
                "options": "\n".join(f"{o['code']} : {o['label']}" for o in q.get("options", [])),
                "required": q.get("required", False),
                "per_row": q.get("per_row", False),
                "scale_min": q.get("scale_min", 1),
                "scale_max": q.get("scale_max", 5),
                "max_length": q.get("max_length", 1000),
            }
        )
    return main, questions


# -- post-hoc exclusion of chosen entries --------------------------------------------

HASH_RE = re.compile(r"^[0-9a-f]{8,64}$")
RANGE_RE = re.compile(r"^(\d+)\s*[-–]\s*(\d+)$")


class SelectionError(ValueError):
    """An unreadable entry selection; the message names the item."""


def parse_selection(text: str, *, limit: int) -> tuple[list[int], list[str]]:
    """``"12, 15-18 3f2a9c01"`` → entry numbers and hash prefixes, in order.

    Items are separated by commas, semicolons or blanks: a number, a range
    ``a-b`` or a hash (or its first 8+ hexadecimal characters).  More than
    ``limit`` entries is refused before any range is expanded.
    """
    numbers: list[int] = []
    hashes: list[str] = []
    # "15 - 18" is one range, not three items.
    items = [x for x in re.split(r"[,;\s]+", re.sub(r"\s*[-–]\s*", "-", text)) if x]
    for i, item in enumerate(items, start=1):
        low = item.lower().rstrip("…")
        m = RANGE_RE.match(low)
        if low.isascii() and low.isdigit():
            if int(low) < 1:
                raise SelectionError(
                    _("élément %(i)d « %(item)s » : les numéros commencent à 1")
                    % {"i": i, "item": item}
                )
            numbers.append(int(low))
        elif m:
            a, b = int(m.group(1)), int(m.group(2))
            if a < 1 or b < a:
                raise SelectionError(
                    _("élément %(i)d « %(item)s » : intervalle vide ou à l'envers")
                    % {"i": i, "item": item}
                )
            if b - a + 1 + len(numbers) + len(hashes) > limit:
                raise SelectionError(
                    _("élément %(i)d « %(item)s » : plus de %(max)d entrées en une décision")
                    % {"i": i, "item": item, "max": limit}
                )
            numbers.extend(range(a, b + 1))
        elif HASH_RE.match(low):
            hashes.append(low)
        else:
            raise SelectionError(
                _(
                    "élément %(i)d « %(item)s » : ni numéro (12), ni intervalle (15-18), "
                    "ni empreinte (au moins 8 caractères hexadécimaux)"
                )
                % {"i": i, "item": item[:40]}
            )
        if len(numbers) + len(hashes) > limit:
            raise SelectionError(_("plus de %(max)d entrées en une décision") % {"max": limit})
    if not numbers and not hashes:
        raise SelectionError(_("aucune entrée choisie"))
    return numbers, hashes


class ExcludeEntriesForm(forms.Form):
    entries = forms.CharField(
        label=_("Entrées à écarter"),
        # The confirmation sends back full hashes: up to 500 of 65 characters.
        max_length=40_000,
        help_text=_(
            "Numéros du tableau (12), intervalles (15-18) ou empreintes d'entrée (8 caractères "
            "au moins), séparés par des virgules."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=_("Motif de la décision (publié)"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Il figure dans les règles publiées, à côté de chaque entrée écartée."),
    )
