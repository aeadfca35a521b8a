"""A pure example consultation and a filled board, for tests, demos and benches.

``affair_spec`` is the consultation of the affair: three measures (the school
smock, the flag-raising ceremony, homework help), each answered once per
parent row (« Responsable légal 1 / 2 »), four schools with their electorate,
mixed mode.  Its schools and measures are those of the LimeSurvey simulation
(``beffroi simulate consultation``, integrity/simulate.py), so that the demo,
the audit of a LimeSurvey export and the example bundle tell one story.

``all_kinds_spec`` uses every question kind (single, multiple, scale, text);
tests of the formats use it.  ``example_board`` fills a board through the same
functions the server uses (credential derivation, signing, ``Board.submit``,
``tally``, ``build_bundle``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from nacl.signing import SigningKey

from beffroi.consult.ballot import KeyInfo, make_ballot, sign
from beffroi.consult.board import Board
from beffroi.consult.bundle import (
    BUNDLE_FORMAT,
    SPEC_ANCHORED_FORMAT,
    JournalEvent,
    build_bundle,
    credential_records,
    journal_lines,
    opened_data,
)
from beffroi.consult.credentials import PublicCredential, Revocation, key_list_fingerprint
from beffroi.consult.spec import Spec, spec_from_dict, spec_hash

# Code -> (name, pupils): the simulation's schools.  One form per pupil, so the
# pupils are the electorate.
SCHOOLS = {
    "A1": ("École Jules-Ferry", 640),
    "A2": ("École Pierre-Loti", 520),
    "A3": ("École Sainte-Marie", 760),
    "A4": ("École des Salines", 380),
}
# Code -> question; the codes are the simulation's BLOUSE, DRAPEAU, AIDE in lower case.
MEASURES = {
    "blouse": "Êtes-vous favorable au port d'une blouse à l'école ?",
    "drapeau": "Êtes-vous favorable à une cérémonie de lever des couleurs (lever du drapeau) ?",
    "aide": "Êtes-vous favorable à l'aide aux devoirs ?",
}
PARENT_ROWS = ["Responsable légal 1", "Responsable légal 2"]
# Share of "non" per measure: honest parents, and the salvo of the affair (the
# simulation's HONEST_NO and ATTACK_NO).
HONEST_NO = {"blouse": 0.38, "drapeau": 0.46, "aide": 0.16}
SALVO_NO = {"blouse": 0.80, "drapeau": 0.85, "aide": 0.35}


def _rules(access: str, flags: list[str]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "code": "integrity_flag",
            "label": "Réponses automatisées écartées",
            "params": {"flags": flags},
        },
    ]
    if access != "open":
        rules.insert(
            0, {"code": "one_ballot_per_key", "label": "La dernière réponse d'un code compte"}
        )
    return rules


def _when(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def affair_spec(
    consultation_id: str = "mesures-ecoles-2026",
    opens: datetime = datetime(2026, 3, 2, 16, 30, tzinfo=UTC),
    closes: datetime = datetime(2026, 3, 16, 16, 30, tzinfo=UTC),
    access: str = "mixed",
) -> Spec:
    """The affair's consultation: three yes/no measures per parent row, four schools."""
    return spec_from_dict(
        {
            "id": consultation_id,
            "title": "Blouse, lever des couleurs, aide aux devoirs : l'avis des familles",
            "description": (
                "Consultation des familles des quatre écoles publiques de la commune sur trois "
                "mesures. Chaque responsable légal donne son avis sur sa propre ligne ; la "
                "seconde ligne peut rester vide."
            ),
            "opens": _when(opens),
            "closes": _when(closes),
            "access": access,
            "questions": [
                {
                    "code": code,
                    "kind": "single",
                    "per_row": True,
                    "label": label,
                    "options": [
                        {"code": "oui", "label": "Oui"},
                        {"code": "non", "label": "Non"},
                    ],
                }
                for code, label in MEASURES.items()
            ],
            "rows": {"labels": PARENT_ROWS, "min_filled": 1},
            "segments": [
                {"code": c, "label": lab, "electorate": n} for c, (lab, n) in SCHOOLS.items()
            ],
            "rules": _rules(access, ["burst", "duplicate_text"]),
        }
    )


def all_kinds_spec(
    consultation_id: str = "rythmes-scolaires-2026",
    opens: datetime = datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    closes: datetime = datetime(2026, 3, 16, 18, 0, tzinfo=UTC),
    access: str = "mixed",
) -> Spec:
    """A consultation with every question kind (per-row single and multiple
    choices, a global scale and a global free text), the same rows and schools."""
    return spec_from_dict(
        {
            "id": consultation_id,
            "title": "Rythmes scolaires : semaine de quatre jours ou de quatre jours et demi ?",
            "description": "Consultation des familles des écoles publiques de la commune.",
            "opens": _when(opens),
            "closes": _when(closes),
            "access": access,
            "questions": [
                {
                    "code": "semaine",
                    "kind": "single",
                    "required": True,
                    "per_row": True,
                    "label": "Quelle organisation de la semaine préférez-vous ?",
                    "options": [
                        {"code": "4j", "label": "Quatre jours"},
                        {"code": "4j5", "label": "Quatre jours et demi"},
                        {"code": "sans_avis", "label": "Sans avis"},
                    ],
                },
                {
                    "code": "mercredi",
                    "kind": "multiple",
                    "per_row": True,
                    "label": "Le mercredi matin, votre enfant serait plutôt…",
                    "options": [
                        {"code": "ecole", "label": "à l'école"},
                        {"code": "centre", "label": "au centre de loisirs"},
                        {"code": "famille", "label": "en famille"},
                    ],
                },
                {
                    "code": "satisfaction",
                    "kind": "scale",
                    "scale_min": 1,
                    "scale_max": 5,
                    "label": "Êtes-vous satisfait·e de l'organisation actuelle ?",
                },
                {
                    "code": "commentaire",
                    "kind": "text",
                    "max_length": 1000,
                    "label": "Un commentaire ?",
                },
            ],
            "rows": {"labels": PARENT_ROWS, "min_filled": 1},
            "segments": [
                {"code": c, "label": lab, "electorate": n} for c, (lab, n) in SCHOOLS.items()
            ],
            "rules": _rules(access, ["burst", "duplicate_text"]),
        }
    )


def random_answers(spec: Spec, rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Answers drawn uniformly for any spec (every row up to ``min_filled``, then
    each further row half of the time)."""

    def one(q: Any) -> Any:
        if q.kind == "single":
            return rng.choice(q.option_codes())
        if q.kind == "multiple":
            return rng.sample(q.option_codes(), rng.randint(0, len(q.options)))
        if q.kind == "scale":
            return rng.randint(q.scale_min, q.scale_max)
        return rng.choice(["", "Très bien comme ça.", "Plus de périscolaire, svp 🙏", "Non"])

    answers = {q.code: one(q) for q in spec.questions if not q.per_row and rng.random() < 0.9}
    rows: list[dict[str, Any]] = []
    if spec.rows:
        for i, _ in enumerate(spec.rows.labels):
            if i < max(1, spec.rows.min_filled) or rng.random() < 0.5:
                rows.append({q.code: one(q) for q in spec.questions if q.per_row})
            else:
                rows.append({})
    return answers, rows


def household_answers(
    rng: random.Random,
    no_share: Mapping[str, float],
    *,
    second_parent: float = 0.68,
    agree: float = 0.8,
    blank: float = 0.04,
) -> list[dict[str, str]]:
    """The two parent rows of one form of ``affair_spec``, drawn as the simulation
    does: parent 1 says "non" to each measure with ``no_share``; a second parent
    answers with probability ``second_parent`` and agrees with parent 1 with
    probability ``agree`` (else draws anew); each answer is left blank with
    probability ``blank``."""

    def draw(code: str) -> str:
        return "non" if rng.random() < no_share[code] else "oui"

    first = {code: draw(code) for code in MEASURES}
    second: dict[str, str] = {}
    if rng.random() < second_parent:
        second = {c: v if rng.random() < agree else draw(c) for c, v in first.items()}
    rows = [{c: v for c, v in row.items() if rng.random() >= blank} for row in (first, second)]
    if not rows[0]:
        rows[0] = first  # the first row must be filled
    return rows


@dataclass
class ExampleBoard:
    spec: Spec
    opened_at: datetime
    seeds: dict[str, bytes]
    public: list[PublicCredential]
    revocations: list[Revocation]
    board: Board
    journal: list[dict[str, Any]]

    def bundle(self) -> bytes:
        return build_bundle(
            self.spec,
            self.opened_at,
            credential_records(self.public, self.revocations),
            self.board.entries,
            self.journal,
        )


def example_board(
    n_ballots: int = 200,
    *,
    seed: int = 0,
    spec: Spec | None = None,
    replace_share: float = 0.1,
    unverified_share: float = 0.2,
    bundle_format: int = BUNDLE_FORMAT,
) -> ExampleBoard:
    """A board with about ``n_ballots`` entries: signed ballots, some replacements,
    some unverified ones (mixed mode), one revocation and one integrity flag.

    ``bundle_format`` is the format the consultation was opened with: from
    ``SPEC_ANCHORED_FORMAT`` on, the spec is stamped with it (its hash covers it);
    an older one gives the board of a consultation opened by an older Beffroi."""
    rng = random.Random(seed)
    spec = spec or affair_spec()
    if bundle_format >= SPEC_ANCHORED_FORMAT:
        spec = replace(spec, bundle_format=bundle_format)
    opened_at = spec.opens
    seg_codes: list[str | None] = [*spec.segment_codes()] or [None]
    n_keys = max(2, int(n_ballots * (1 - unverified_share) / (1 + replace_share)) + 1)
    seeds: dict[str, bytes] = {}
    public: list[PublicCredential] = []
    for _ in range(n_keys):
        sd = rng.randbytes(32)
        pk = bytes(SigningKey(sd).verify_key).hex()
        seeds[pk] = sd
        public.append(PublicCredential(pk, rng.choice(seg_codes)))
    board = Board(spec, {p.public_key: KeyInfo(p.segment) for p in public})
    journal_events = [
        JournalEvent(opened_at, "opened", opened_data(spec_hash(spec), bundle_format)),
    ]
    if spec.access != "open":
        # The app imports no key into an open consultation (and verify refuses one);
        # the keys are still drawn, so the board is the same whatever the mode.
        journal_events.append(
            JournalEvent(
                opened_at,
                "credentials_imported",
                {
                    "count": len(public),
                    "keys_fingerprint": key_list_fingerprint(
                        (p.public_key, p.segment) for p in public
                    ),
                },
            )
        )
    keys = [p.public_key for p in public]
    step = (spec.closes - spec.opens) / (n_ballots + 2)
    t = spec.opens + step
    seqs: dict[str, int] = {}
    for _ in range(n_ballots):
        answers, rows = random_answers(spec, rng)
        if spec.access != "credentialed" and (
            spec.access == "open" or rng.random() < unverified_share
        ):
            ballot = make_ballot(
                spec, answers, rows, public_key=None, seq=1, segment=rng.choice(seg_codes)
            )
            board.submit(ballot, None, t)
        else:
            if seqs and rng.random() < replace_share:
                pk = rng.choice(list(seqs))
            else:
                pk = keys[len(seqs) % len(keys)]
            seqs[pk] = seqs.get(pk, 0) + rng.randint(1, 1000)
            ballot = make_ballot(spec, answers, rows, public_key=pk, seq=seqs[pk])
            board.submit(ballot, sign(ballot, seeds[pk]), t)
        t += step
    revocations: list[Revocation] = []
    if spec.access != "open" and len(keys) > 1:
        # The first key has voted: its letter is lost and the authority reissues it (a
        # code that has served is never revoked without a replacement). Drawn after
        # the ballots, so the board is the same as without the reissue.
        revoked_at = t
        new_seed = rng.randbytes(32)
        new_pk = bytes(SigningKey(new_seed).verify_key).hex()
        seeds[new_pk] = new_seed
        segment = next(p.segment for p in public if p.public_key == keys[0])
        rev = Revocation(keys[0], "lettre perdue", revoked_at, new_pk)
        revocations.append(rev)
        board.revoke(keys[0], revoked_at)
        board.keys[new_pk] = KeyInfo(segment)
        public.append(PublicCredential(new_pk, segment))
        journal_events.append(
            JournalEvent(
                revoked_at,
                "credential_revoked",
                {"public_key": keys[0], "reason": rev.reason, "replaced_by": new_pk},
            )
        )
        journal_events.append(
            JournalEvent(revoked_at, "credential_added", {"public_key": new_pk, "segment": segment})
        )
    unkeyed = [e for e in board.entries if e["ballot"]["public_key"] is None]
    if unkeyed:
        journal_events.append(
            JournalEvent(
                t,
                "flag",
                {
                    "entry": unkeyed[0]["hash"],
                    "flag": "burst",
                    "evidence": "12 réponses en 40 secondes depuis le même préfixe",
                },
            )
        )
    journal_events.append(
        JournalEvent(
            spec.closes + timedelta(seconds=1),
            "closed",
            {"head": board.head, "entries": len(board.entries)},
        )
    )
    journal = journal_lines(spec, journal_events)
    if spec.access == "open":
        public = []
    return ExampleBoard(spec, opened_at, seeds, public, revocations, board, journal)
