"""The tally: one function used by the server and by the independent verifier.

Input: the spec, the credential list (key → segment, revocation), the board
entries in chain order and the integrity flags raised on entries.  Output: a
plain, JSON-ready dict (``results.json`` in the bundle).  Everything is
integers so that two implementations agree byte for byte; a mean is
``sum / answered``.

Which ballots count:

1. ``revoked_key`` (always on): every ballot of a revoked key is set aside —
   a lost code may have been used by someone else.
2. ``one_ballot_per_key``: for each key only its last entry on the board counts
   (the board guarantees it is also the one with the highest ``seq``).
3. ``integrity_flag`` (params ``flags``): unsigned entries carrying one of
   these integrity flags are set aside.  A flag on a signed entry is ignored:
   the audit looks only at unsigned answers (a credential already proves one
   holder), so such a flag could only be the organiser's own word against a
   signed ballot; setting one aside takes a named ``exclude_entries`` decision.
4. ``exclude_entries`` (params ``entries``: entry hash → reason): a recorded,
   named decision on individual entries.

An entry set aside is listed in ``exclusions`` with the first rule that set
it aside.  ``disabled`` switches rules off to show their effect; results.json
carries, next to the main result, the result without the post-hoc rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from beffroi.consult.spec import Question, Spec, spec_hash

NO_SEGMENT = "_none"
CLASSES = ("all", "verified", "unverified")
RESULTS_FORMAT = "beffroi-results/1"


@dataclass(frozen=True)
class Credential:
    segment: str | None
    revoked: bool = False


def _empty_question(q: Question) -> dict[str, Any]:
    if q.kind in ("single", "multiple"):
        return {"answered": 0, "counts": {o.code: 0 for o in q.options}}
    if q.kind == "scale":
        return {
            "answered": 0,
            "counts": {str(v): 0 for v in range(q.scale_min, q.scale_max + 1)},
            "sum": 0,
        }
    return {"answered": 0}


def _empty_breakdown(spec: Spec) -> dict[str, Any]:
    row_qs = [q for q in spec.questions if q.per_row]
    return {
        "ballots": 0,
        "questions": {q.code: _empty_question(q) for q in spec.questions},
        "rows": [{q.code: _empty_question(q) for q in row_qs} for _ in spec.rows.labels]
        if spec.rows
        else [],
    }


def _add(q: Question, acc: dict[str, Any], value: Any) -> None:
    if q.kind == "single":
        acc["answered"] += 1
        acc["counts"][value] += 1
    elif q.kind == "multiple":
        acc["answered"] += 1
        for v in value:
            acc["counts"][v] += 1
    elif q.kind == "scale":
        acc["answered"] += 1
        acc["counts"][str(value)] += 1
        acc["sum"] += value
    elif isinstance(value, str) and value.strip():
        acc["answered"] += 1


def _active_rules(spec: Spec, disabled: Iterable[str]) -> dict[str, dict[str, Any]]:
    off = set(disabled)
    return {r.code: r.params for r in spec.rules if r.code not in off}


def select(
    spec: Spec,
    credentials: Mapping[str, Credential],
    entries: list[dict[str, Any]],
    flags: Mapping[str, Iterable[str]],
    disabled: Iterable[str] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split the board into counted entries and exclusions (by rule)."""
    rules = _active_rules(spec, disabled)
    excluded: dict[int, dict[str, Any]] = {}

    def exclude(entry: dict[str, Any], rule: str, reason: str) -> None:
        if entry["n"] not in excluded:
            excluded[entry["n"]] = {
                "n": entry["n"],
                "hash": entry["hash"],
                "rule": rule,
                "reason": reason,
            }

    last_of_key: dict[str, int] = {}
    for entry in entries:
        pk = entry["ballot"]["public_key"]
        if pk is not None:
            cred = credentials.get(pk)
            if cred is not None and cred.revoked and "revoked_key" not in set(disabled):
                exclude(entry, "revoked_key", "code révoqué")
            last_of_key[pk] = entry["n"]
    if "one_ballot_per_key" in rules:
        for entry in entries:
            pk = entry["ballot"]["public_key"]
            if pk is not None and last_of_key[pk] != entry["n"]:
                exclude(
                    entry,
                    "one_ballot_per_key",
                    f"remplacé par l'entrée n° {last_of_key[pk]}",
                )
    if "integrity_flag" in rules:
        wanted = set(rules["integrity_flag"].get("flags", []))
        for entry in entries:
            if entry["ballot"]["public_key"] is not None:
                continue
            hit = sorted(wanted.intersection(flags.get(entry["hash"], ())))
            if hit:
                exclude(entry, "integrity_flag", "signalement : " + ", ".join(hit))
    if "exclude_entries" in rules:
        decisions: dict[str, str] = rules["exclude_entries"].get("entries", {})
        for entry in entries:
            reason = decisions.get(entry["hash"])
            if reason is not None:
                exclude(entry, "exclude_entries", reason)
    counted = [e for e in entries if e["n"] not in excluded]
    return counted, sorted(excluded.values(), key=lambda x: x["n"])


def _segment_of(entry: dict[str, Any], credentials: Mapping[str, Credential]) -> str:
    pk = entry["ballot"]["public_key"]
    if pk is not None:
        cred = credentials.get(pk)
        seg = cred.segment if cred is not None else None
    else:
        seg = entry["ballot"]["segment"]
    return seg if isinstance(seg, str) else NO_SEGMENT


def _merge(into: Any, other: Any) -> None:
    """Add breakdown ``other`` into ``into`` (same shape: nested dicts/lists of ints)."""
    if isinstance(into, dict):
        for k, v in other.items():
            if isinstance(v, int):
                into[k] += v
            else:
                _merge(into[k], v)
    else:
        for a, b in zip(into, other, strict=True):
            _merge(a, b)


def _aggregate(
    spec: Spec, counted: list[dict[str, Any]], credentials: Mapping[str, Credential]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    # Each ballot is added once, to its (segment, class) cell; the "all" rows and
    # columns are sums of cells, built at the end.
    per_segment: dict[str, dict[str, Any]] = {
        s: {c: _empty_breakdown(spec) for c in CLASSES} for s in [*spec.segment_codes(), NO_SEGMENT]
    }
    global_qs = [q for q in spec.questions if not q.per_row]
    row_qs = [q for q in spec.questions if q.per_row]
    for entry in counted:
        ballot = entry["ballot"]
        cls = "verified" if ballot["public_key"] is not None else "unverified"
        seg = _segment_of(entry, credentials)
        if seg not in per_segment:
            # A credential's segment that the spec does not list: kept visible.
            per_segment[seg] = {c: _empty_breakdown(spec) for c in CLASSES}
        t = per_segment[seg][cls]
        answers = ballot["answers"]
        t["ballots"] += 1
        questions = t["questions"]
        for q in global_qs:
            if q.code in answers:
                _add(q, questions[q.code], answers[q.code])
        for i, row in enumerate(ballot["rows"]):
            if not row:
                continue
            row_acc = t["rows"][i]
            for q in row_qs:
                if q.code in row:
                    _add(q, questions[q.code], row[q.code])
                    _add(q, row_acc[q.code], row[q.code])
    overall = {c: _empty_breakdown(spec) for c in CLASSES}
    for classes in per_segment.values():
        for cls in ("verified", "unverified"):
            _merge(classes["all"], classes[cls])
            _merge(overall[cls], classes[cls])
        _merge(overall["all"], classes["all"])
    return overall, per_segment


def _tally_once(
    spec: Spec,
    credentials: Mapping[str, Credential],
    entries: list[dict[str, Any]],
    flags: Mapping[str, Iterable[str]],
    disabled: Iterable[str],
    selection: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    counted, exclusions = selection or select(spec, credentials, entries, flags, disabled)
    overall, per_segment = _aggregate(spec, counted, credentials)
    return assemble(spec, overall, per_segment, exclusions)


def assemble(
    spec: Spec,
    overall: dict[str, Any],
    per_segment: dict[str, Any],
    exclusions: list[dict[str, Any]],
) -> dict[str, Any]:
    """One pass of results from summed breakdowns (``_aggregate``, or the sums of
    the verifier's parts merged) and the exclusions."""
    electorate = {s.code: s.electorate for s in spec.segments}
    segments_out: dict[str, Any] = {}
    for seg, classes in per_segment.items():
        if seg == NO_SEGMENT and classes["all"]["ballots"] == 0:
            continue
        segments_out[seg] = {
            "electorate": electorate.get(seg),
            "counted": classes["all"]["ballots"],
            "verified": classes["verified"]["ballots"],
            "unverified": classes["unverified"]["ballots"],
            "results": classes,
        }
    by_rule: dict[str, int] = {}
    for ex in exclusions:
        by_rule[ex["rule"]] = by_rule.get(ex["rule"], 0) + 1
    return {
        "counted": {c: overall[c]["ballots"] for c in CLASSES},
        "electorate": sum(s.electorate for s in spec.segments) if spec.segments else None,
        "results": overall,
        "segments": segments_out,
        "exclusions": exclusions,
        "exclusions_by_rule": by_rule,
    }


def tally(
    spec: Spec,
    credentials: Mapping[str, Credential],
    entries: list[dict[str, Any]],
    flags: Mapping[str, Iterable[str]] | None = None,
    *,
    disabled: Iterable[str] = (),
    selection: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Results of the consultation (the content of ``results.json``).

    ``selection`` may pass ``select(spec, credentials, entries, flags, disabled)``
    when the caller has already computed it (the verifier does).
    """
    flags = flags or {}
    main = _tally_once(spec, credentials, entries, flags, disabled, selection)
    post_hoc = sorted({r.code for r in spec.rules if r.added_after_opening})
    access_note = {
        "open": "consultation ouverte : réponses non vérifiées",
        "credentialed": "consultation sur codes personnels : chaque réponse est signée",
        "mixed": "consultation mixte : réponses vérifiées (signées) et non vérifiées comptées "
        "séparément",
    }[spec.access]
    out: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "consultation": spec.id,
        "spec_hash": spec_hash(spec),
        "access": spec.access,
        "access_note": access_note,
        "board": {
            "entries": len(entries),
            "head": entries[-1]["hash"] if entries else spec_hash(spec),
        },
        "revoked_credentials": sum(1 for c in credentials.values() if c.revoked),
        "rules": [
            {"code": r.code, "post_hoc": r.added_after_opening}
            for r in spec.rules
            if r.code not in set(disabled)
        ],
        **main,
        "post_hoc_rules": post_hoc,
        "without_post_hoc": None,
    }
    if post_hoc:
        without = _tally_once(spec, credentials, entries, flags, [*disabled, *post_hoc])
        out["without_post_hoc"] = {
            "counted": without["counted"],
            "results": without["results"],
            "exclusions_by_rule": without["exclusions_by_rule"],
        }
    return out
