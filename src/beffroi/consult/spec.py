"""The definition of a consultation: questions, rows, segments, access, rules.

Plain dataclasses with a JSON form (``to_dict`` / ``from_dict``) and a
canonical hash.  ``spec_hash`` covers everything that is frozen at opening:
rules added after opening are left out of it, so adding a post-hoc rule does
not change the hash that ballots were signed against; such rules are
journaled and labelled instead.

Answers payload checked by :func:`validate_answers`::

    answers = {"q1": "oui", "q3": ["a", "b"], "q4": 4, "q5": "texte libre"}
    rows    = [{"q2": "oui"}, {}]      # one object per repeated row

A question with ``per_row`` set is answered in ``rows`` (never in
``answers``); the others in ``answers``.  Unanswered optional questions are
simply absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from beffroi.consult.canonical import canonical_bytes, sha256_hex
from beffroi.consult.zones import check_zone_name

SPEC_FORMAT = "beffroi-consultation/1"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A scale question spans at most this many steps (a 0–100 slider at the widest).
MAX_SCALE_SPAN = 100
QuestionKind = Literal["single", "multiple", "scale", "text"]
AccessMode = Literal["open", "credentialed", "mixed"]
KINDS: tuple[str, ...] = ("single", "multiple", "scale", "text")
ACCESS_MODES: tuple[str, ...] = ("open", "credentialed", "mixed")
# Rules the tally knows how to apply (see tally.py for their meaning).
KNOWN_RULES: tuple[str, ...] = ("one_ballot_per_key", "integrity_flag", "exclude_entries")


class SpecError(ValueError):
    """An invalid consultation definition; the message names the field."""


class AnswersError(ValueError):
    """Answers that do not fit the consultation; French message naming the question."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Option:
    code: str
    label: str


@dataclass(frozen=True)
class Question:
    code: str
    kind: QuestionKind
    label: str
    options: tuple[Option, ...] = ()
    required: bool = False
    per_row: bool = False
    # scale bounds (inclusive), multiple-choice cap, text length cap
    scale_min: int = 1
    scale_max: int = 5
    max_choices: int | None = None
    max_length: int = 2000

    def option_codes(self) -> list[str]:
        return [o.code for o in self.options]

    @property
    def option_set(self) -> frozenset[str]:
        # Checked for every answer of every ballot a verifier reads: memoised.
        cached = self.__dict__.get("_option_set")
        if cached is None:
            cached = frozenset(o.code for o in self.options)
            object.__setattr__(self, "_option_set", cached)
        return cached


@dataclass(frozen=True)
class Rows:
    """Repeated rows: the ``per_row`` questions are answered once per row."""

    labels: tuple[str, ...] = ("Responsable légal 1", "Responsable légal 2")
    min_filled: int = 1


@dataclass(frozen=True)
class Segment:
    code: str
    label: str
    electorate: int


# Answers are published segment by segment: in a segment of fewer people than this,
# anyone who knows who belongs to it can tell who answered what. The organiser is warned
# before opening (docs/guide/consultations.md); 0 means "not declared".
SMALL_SEGMENT = 5


def small_segments(spec: Spec) -> list[Segment]:
    """Segments whose declared electorate is between 1 and SMALL_SEGMENT - 1."""
    return [s for s in spec.segments if 0 < s.electorate < SMALL_SEGMENT]


@dataclass(frozen=True)
class Rule:
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    added_after_opening: bool = False
    label: str = ""


@dataclass(frozen=True)
class Spec:
    id: str
    title: str
    opens: datetime
    closes: datetime
    access: AccessMode
    questions: tuple[Question, ...]
    description: str = ""
    rows: Rows | None = None
    segments: tuple[Segment, ...] = ()
    rules: tuple[Rule, ...] = ()
    # The IANA zone the consultation's hours are said in (letters, refusals, pages);
    # None when the spec names none (specs written before the field, whose hash must
    # not move): the deployment's zone then applies.
    timezone: str | None = None
    # The scrutineer bundle's format (bundle.BUNDLE_FORMAT), stamped at the opening so
    # the published hash covers it; None in specs opened before the stamp existed
    # (their hash must not move) and in drafts.
    bundle_format: int | None = None

    # -- lookups -------------------------------------------------------
    def question(self, code: str) -> Question:
        for q in self.questions:
            if q.code == code:
                return q
        raise KeyError(code)

    def segment_codes(self) -> list[str]:
        return [s.code for s in self.segments]

    def frozen_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.added_after_opening)

    def is_open_at(self, when: datetime) -> bool:
        return self.opens <= when < self.closes

    # -- JSON ----------------------------------------------------------
    def to_dict(self, *, frozen_only: bool = False) -> dict[str, Any]:
        rules = self.frozen_rules() if frozen_only else self.rules
        out: dict[str, Any] = {
            "format": SPEC_FORMAT,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "opens": format_time(self.opens),
            "closes": format_time(self.closes),
            "access": self.access,
            "questions": [_question_to_dict(q) for q in self.questions],
            "rows": None
            if self.rows is None
            else {"labels": list(self.rows.labels), "min_filled": self.rows.min_filled},
            "segments": [
                {"code": s.code, "label": s.label, "electorate": s.electorate}
                for s in self.segments
            ],
            "rules": [
                {
                    "code": r.code,
                    "label": r.label,
                    "params": r.params,
                    "added_after_opening": r.added_after_opening,
                }
                for r in rules
            ],
        }
        # Written only when set: a spec without a zone keeps its bytes, so its hash.
        if self.timezone is not None:
            out["timezone"] = self.timezone
        if self.bundle_format is not None:
            out["bundle_format"] = self.bundle_format
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Spec:
        return spec_from_dict(data)


# -- time ---------------------------------------------------------------


def parse_time(value: Any, where: str) -> datetime:
    """ISO 8601 with an explicit UTC offset (``Z`` or ``+00:00``) → aware datetime."""
    if not isinstance(value, str):
        raise SpecError(f"{where}: date ISO 8601 attendue")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SpecError(f"{where}: date ISO 8601 invalide {value!r}") from exc
    if dt.tzinfo is None or dt.utcoffset() != UTC.utcoffset(None):
        raise SpecError(f"{where}: la date doit être en UTC (suffixe Z), reçu {value!r}")
    return dt.astimezone(UTC)


def format_time(dt: datetime) -> str:
    """The one textual form of a time: UTC, microseconds, ``Z``."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- (de)serialisation ----------------------------------------------------


def _question_to_dict(q: Question) -> dict[str, Any]:
    d: dict[str, Any] = {
        "code": q.code,
        "kind": q.kind,
        "label": q.label,
        "required": q.required,
        "per_row": q.per_row,
    }
    if q.kind in ("single", "multiple"):
        d["options"] = [{"code": o.code, "label": o.label} for o in q.options]
    if q.kind == "multiple":
        d["max_choices"] = q.max_choices
    if q.kind == "scale":
        d["scale_min"] = q.scale_min
        d["scale_max"] = q.scale_max
    if q.kind == "text":
        d["max_length"] = q.max_length
    return d


def _req(d: dict[str, Any], key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise SpecError(f"{where}: champ « {key} » manquant")
    value = d[key]
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise SpecError(f"{where}.{key}: type inattendu {type(value).__name__}")
    return value


def _text(d: dict[str, Any], key: str, default: str, where: str) -> str:
    value = d.get(key, default)
    if not isinstance(value, str):
        raise SpecError(f"{where}.{key}: texte attendu")
    return value


def _list(d: dict[str, Any], key: str) -> list[Any]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"{key}: liste attendue")
    return value


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not CODE_RE.match(value):
        raise SpecError(
            f"{where}: code invalide {value!r} (lettres, chiffres, « _ . - », 64 au plus)"
        )
    return value


def _int(d: dict[str, Any], key: str, default: int | None, where: str) -> int:
    value = d.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpecError(f"{where}.{key}: entier attendu")
    return value


TOP_KEYS = frozenset(
    {
        "format",
        "id",
        "title",
        "description",
        "opens",
        "closes",
        "access",
        "questions",
        "rows",
        "segments",
        "rules",
        "timezone",
        "bundle_format",
    }
)
QUESTION_KEYS = frozenset(
    {
        "code",
        "kind",
        "label",
        "required",
        "per_row",
        "options",
        "max_choices",
        "scale_min",
        "scale_max",
        "max_length",
    }
)
OPTION_KEYS = frozenset({"code", "label"})
ROWS_KEYS = frozenset({"labels", "min_filled"})
SEGMENT_KEYS = frozenset({"code", "label", "electorate"})
RULE_KEYS = frozenset({"code", "label", "params", "added_after_opening"})


def spec_from_dict(
    data: Any, *, strict: bool = False, extra_top: frozenset[str] = frozenset()
) -> Spec:
    """Parse and validate a consultation definition.

    ``strict`` refuses unknown fields at every level (the verifier reads
    published bundles that way, so that no field escapes the spec hash
    unnoticed); ``extra_top`` lists top-level fields allowed besides the spec's.
    """
    if not isinstance(data, dict):
        raise SpecError("consultation: objet JSON attendu")

    def no_extra(d: dict[str, Any], allowed: frozenset[str], where: str) -> None:
        if strict:
            unknown = sorted(set(d) - allowed, key=str)
            if unknown:
                fields = "champ inconnu" if len(unknown) == 1 else "champs inconnus"
                raise SpecError(f"{where}: {fields} {', '.join(map(repr, unknown))}")

    no_extra(data, TOP_KEYS | extra_top, "consultation")
    fmt = data.get("format", SPEC_FORMAT)
    if fmt != SPEC_FORMAT:
        raise SpecError(f"format: {fmt!r} non pris en charge (attendu {SPEC_FORMAT})")
    cid = _code(_req(data, "id", str, "consultation"), "id")
    access = _req(data, "access", str, "consultation")
    if access not in ACCESS_MODES:
        raise SpecError(f"access: {access!r} inconnu (open, credentialed ou mixed)")
    opens = parse_time(data.get("opens"), "opens")
    closes = parse_time(data.get("closes"), "closes")
    if closes <= opens:
        raise SpecError("closes: la clôture doit suivre l'ouverture")

    questions: list[Question] = []
    seen: set[str] = set()
    for i, qd in enumerate(_req(data, "questions", list, "consultation")):
        where = f"questions[{i}]"
        if not isinstance(qd, dict):
            raise SpecError(f"{where}: objet attendu")
        no_extra(qd, QUESTION_KEYS, where)
        code = _code(qd.get("code"), f"{where}.code")
        if code in seen:
            raise SpecError(f"{where}.code: code de question « {code} » en double")
        seen.add(code)
        where = f"question « {code} »"
        kind = qd.get("kind")
        if kind not in KINDS:
            raise SpecError(f"{where}: type {kind!r} inconnu ({', '.join(KINDS)})")
        options: list[Option] = []
        if kind in ("single", "multiple"):
            opt_seen: set[str] = set()
            for j, od in enumerate(_req(qd, "options", list, where)):
                if not isinstance(od, dict):
                    raise SpecError(f"{where}.options[{j}]: objet attendu")
                no_extra(od, OPTION_KEYS, f"{where}.options[{j}]")
                ocode = _code(od.get("code"), f"{where}.options[{j}].code")
                if ocode in opt_seen:
                    raise SpecError(f"{where}: option « {ocode} » en double")
                opt_seen.add(ocode)
                options.append(Option(ocode, _text(od, "label", ocode, f"{where}.options[{j}]")))
            if len(options) < 2:
                raise SpecError(f"{where}: au moins deux options")
        max_choices = qd.get("max_choices")
        if max_choices is not None and (
            not isinstance(max_choices, int) or isinstance(max_choices, bool) or max_choices < 1
        ):
            raise SpecError(f"{where}.max_choices: entier positif attendu")
        scale_min = _int(qd, "scale_min", 1, where)
        scale_max = _int(qd, "scale_max", 5, where)
        if kind == "scale" and not (
            scale_min < scale_max and scale_max - scale_min <= MAX_SCALE_SPAN
        ):
            raise SpecError(f"{where}: échelle invalide [{scale_min}, {scale_max}]")
        max_length = _int(qd, "max_length", 2000, where)
        if max_length < 1:
            raise SpecError(f"{where}.max_length: entier positif attendu")
        questions.append(
            Question(
                code=code,
                kind=kind,
                label=_text(qd, "label", code, where),
                options=tuple(options),
                required=bool(qd.get("required", False)),
                per_row=bool(qd.get("per_row", False)),
                scale_min=scale_min,
                scale_max=scale_max,
                max_choices=max_choices,
                max_length=max_length,
            )
        )
    if not questions:
        raise SpecError("questions: au moins une question")

    rows: Rows | None = None
    rd = data.get("rows")
    if rd is not None:
        if not isinstance(rd, dict):
            raise SpecError("rows: objet attendu")
        no_extra(rd, ROWS_KEYS, "rows")
        labels = _req(rd, "labels", list, "rows")
        if not labels or not all(isinstance(x, str) and x for x in labels):
            raise SpecError("rows.labels: liste de libellés non vides attendue")
        min_filled = _int(rd, "min_filled", 1, "rows")
        if not 0 <= min_filled <= len(labels):
            raise SpecError("rows.min_filled: hors limites")
        rows = Rows(tuple(labels), min_filled)
    if rows is None and any(q.per_row for q in questions):
        raise SpecError("rows: des questions sont par ligne mais aucune ligne n'est définie")

    segments: list[Segment] = []
    seg_seen: set[str] = set()
    for i, sd in enumerate(_list(data, "segments")):
        where = f"segments[{i}]"
        if not isinstance(sd, dict):
            raise SpecError(f"{where}: objet attendu")
        no_extra(sd, SEGMENT_KEYS, where)
        scode = _code(sd.get("code"), f"{where}.code")
        if scode in seg_seen:
            raise SpecError(f"{where}: segment « {scode} » en double")
        seg_seen.add(scode)
        electorate = _int(sd, "electorate", None, where)
        if electorate < 0:
            raise SpecError(f"{where}.electorate: doit être positif ou nul")
        segments.append(Segment(scode, _text(sd, "label", scode, where), electorate))

    rules: list[Rule] = []
    for i, ru in enumerate(_list(data, "rules")):
        where = f"rules[{i}]"
        if not isinstance(ru, dict):
            raise SpecError(f"{where}: objet attendu")
        no_extra(ru, RULE_KEYS, where)
        rcode = ru.get("code")
        if rcode not in KNOWN_RULES:
            raise SpecError(f"{where}.code: règle {rcode!r} inconnue ({', '.join(KNOWN_RULES)})")
        params = ru.get("params") or {}
        if not isinstance(params, dict):
            raise SpecError(f"{where}.params: objet attendu")
        _check_rule_params(rcode, params, where)
        rules.append(
            Rule(
                code=rcode,
                params=params,
                added_after_opening=bool(ru.get("added_after_opening", False)),
                label=_text(ru, "label", "", where),
            )
        )

    if access != "open" and not any(
        r.code == "one_ballot_per_key" and not r.added_after_opening for r in rules
    ):
        raise SpecError(
            "rules: une consultation avec codes doit geler la règle one_ballot_per_key "
            "(la dernière réponse d'un code compte)"
        )

    zone_name: str | None = None
    if "timezone" in data:
        # Absent means « the deployment's zone »; null would be a third, silent state.
        try:
            zone_name = check_zone_name(data["timezone"])
        except ValueError as exc:
            raise SpecError(f"timezone: {exc}") from exc

    bundle_format = data.get("bundle_format")
    # A bool is an int to Python, never a format.
    if "bundle_format" in data and (type(bundle_format) is not int or bundle_format < 1):
        raise SpecError(f"bundle_format: entier ≥ 1 attendu, reçu {bundle_format!r}")

    return Spec(
        id=cid,
        title=str(_req(data, "title", str, "consultation")),
        description=_text(data, "description", "", "consultation"),
        opens=opens,
        closes=closes,
        access=access,
        questions=tuple(questions),
        rows=rows,
        segments=tuple(segments),
        rules=tuple(rules),
        timezone=zone_name,
        bundle_format=bundle_format,
    )


def _check_rule_params(code: str, params: dict[str, Any], where: str) -> None:
    if code == "integrity_flag":
        flags = params.get("flags")
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            raise SpecError(f"{where}.params.flags: liste de noms de signalements attendue")
    if code == "exclude_entries":
        entries = params.get("entries")
        if not isinstance(entries, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in entries.items()
        ):
            raise SpecError(f"{where}.params.entries: objet {{empreinte d'entrée: motif}} attendu")


def spec_hash(spec: Spec) -> str:
    """SHA-256 (hex) of the canonical JSON of the frozen part of the spec."""
    # Every ballot check needs it: memoised on the (immutable) instance.
    cached = spec.__dict__.get("_spec_hash")
    if cached is None:
        cached = sha256_hex(canonical_bytes(spec.to_dict(frozen_only=True)))
        object.__setattr__(spec, "_spec_hash", cached)
    return str(cached)


# -- answers ------------------------------------------------------------------


def _check_value(q: Question, value: Any, where: str, errors: list[str]) -> None:
    label = f"{where}question « {q.code} »"
    if q.kind == "single":
        if not isinstance(value, str) or value not in q.option_set:
            errors.append(f"{label} : choix {value!r} inconnu")
    elif q.kind == "multiple":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(f"{label} : liste de choix attendue")
            return
        options = q.option_set
        unknown = [v for v in value if v not in options]
        listed = ", ".join(map(repr, unknown))
        if len(unknown) == 1:
            errors.append(f"{label} : choix inconnu {listed}")
        elif unknown:
            errors.append(f"{label} : choix inconnus {listed}")
        if len(set(value)) != len(value):
            errors.append(f"{label} : un même choix est coché deux fois")
        if q.max_choices is not None and len(value) > q.max_choices:
            errors.append(f"{label} : au plus {q.max_choices} choix")
        if q.required and not value:
            errors.append(f"{label} : réponse obligatoire")
    elif q.kind == "scale":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{label} : nombre entier attendu")
        elif not q.scale_min <= value <= q.scale_max:
            errors.append(f"{label} : valeur {value} hors de [{q.scale_min}, {q.scale_max}]")
    elif q.kind == "text":
        if not isinstance(value, str):
            errors.append(f"{label} : texte attendu")
        elif len(value) > q.max_length:
            errors.append(f"{label} : texte trop long ({len(value)} > {q.max_length})")
        elif q.required and not value.strip():
            errors.append(f"{label} : réponse obligatoire")


def validate_answers(spec: Spec, answers: Any, rows: Any = None) -> None:
    """Raise :class:`AnswersError` (French, naming each question) if invalid."""
    errors: list[str] = []
    if not isinstance(answers, dict):
        raise AnswersError(["réponses : objet attendu"])
    global_qs = {q.code: q for q in spec.questions if not q.per_row}
    row_qs = {q.code: q for q in spec.questions if q.per_row}
    for code, value in answers.items():
        q = global_qs.get(code)
        if q is None:
            where = "par ligne" if code in row_qs else "inconnue"
            errors.append(f"question « {code} » : {where} ici")
            continue
        _check_value(q, value, "", errors)
    for q in global_qs.values():
        if q.required and q.code not in answers:
            errors.append(f"question « {q.code} » : réponse obligatoire")

    if spec.rows is None:
        if rows not in (None, []):
            errors.append("lignes : cette consultation n'a pas de lignes répétées")
    else:
        n = len(spec.rows.labels)
        if not isinstance(rows, list) or len(rows) != n:
            # API clients read these sentences as written: real singular and plural.
            if n == 1:
                errors.append("lignes : 1 ligne attendue")
            else:
                errors.append(f"lignes : {n} lignes attendues")
        else:
            filled = 0
            for i, row in enumerate(rows):
                prefix = f"{spec.rows.labels[i]}, "
                if not isinstance(row, dict):
                    errors.append(f"{prefix}objet attendu")
                    continue
                if row:
                    filled += 1
                for code, value in row.items():
                    q = row_qs.get(code)
                    if q is None:
                        errors.append(f"{prefix}question « {code} » : inconnue dans une ligne")
                        continue
                    _check_value(q, value, prefix, errors)
                if row:
                    for q in row_qs.values():
                        if q.required and q.code not in row:
                            errors.append(f"{prefix}question « {q.code} » : réponse obligatoire")
            wanted = spec.rows.min_filled
            if filled < wanted and wanted == 1:
                errors.append("lignes : au moins 1 ligne à remplir")
            elif filled < wanted:
                errors.append(f"lignes : au moins {wanted} lignes à remplir")
    if errors:
        raise AnswersError(errors)
