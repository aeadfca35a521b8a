"""Priority score in [0, 1] with its explanation (DESIGN rule 8).

    urgency u      1 - Π(1 - w) over the distinct urgency cues found (lexicon below)
    eyewitness e   the classifier's probability that the source is an eyewitness
    novelty n      1 for the first post of a group, 1 / (1 + log2(size)) for a repeat
    area a         1 inside the activation's area, 0.5 unknown, 0 located only outside
    relevance g    max(0.25 + 0.75 × informative probability, u)

    priority = g × (0.40 u + 0.25 e + 0.20 n + 0.15 a)

The relevance gate keeps off-topic chatter low however new it is, but a call for help that
the classifier missed still rises through its urgency cues. A repeat keeps some novelty so
that a post copied by many still shows, but its group's first post ranks above it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from beffroi.geo.text import strip_accents
from beffroi.watch.pipeline.model import Enriched

W_URGENCY, W_EYEWITNESS, W_NOVELTY, W_AREA = 0.40, 0.25, 0.20, 0.15

# Folded cue -> weight. French first, then English, Spanish, Italian (CrisisLex languages).
URGENCY_CUES: dict[str, float] = {
    # French
    "au secours": 1.0, "a l aide": 1.0, "aidez nous": 1.0, "aidez moi": 1.0,
    "besoin d aide": 0.9, "besoin de secours": 1.0, "coince": 0.9, "coinces": 0.9,
    "coincee": 0.9, "coincees": 0.9, "bloque": 0.5, "bloques": 0.6, "bloquee": 0.5,
    "bloquees": 0.5, "piege": 0.9, "pieges": 0.9, "piegee": 0.9, "piegees": 0.9,
    "sur le toit": 1.0, "sur les toits": 0.9, "l eau monte": 1.0, "eau monte": 1.0,
    "eau arrive": 0.8, "montee des eaux": 0.6, "on est a l etage": 0.9, "sans nouvelles": 0.7,
    "disparu": 0.6, "disparus": 0.6, "disparue": 0.6, "blesse": 0.7, "blesses": 0.7,
    "blessee": 0.7, "ensevelis": 1.0, "enseveli": 1.0, "noyade": 0.9, "urgence": 0.5,
    "urgent": 0.6, "sos": 0.9, "evacuer": 0.5, "evacuation": 0.4, "effondre": 0.6,
    "effondrement": 0.6, "personne agee": 0.5, "personnes agees": 0.5, "bebe": 0.4,
    "secours": 0.3, "pompiers": 0.3, "feu": 0.3, "incendie": 0.4, "victimes": 0.5,
    # English
    "help": 0.6, "help us": 1.0, "please help": 1.0, "need help": 1.0, "trapped": 1.0,
    "stranded": 0.9, "stuck": 0.6, "rescue": 0.5, "need rescue": 1.0, "on the roof": 1.0,
    "on our roof": 1.0, "water rising": 1.0, "water is rising": 1.0, "injured": 0.7,
    "missing": 0.5, "emergency": 0.5, "evacuate": 0.5, "buried": 0.8, "collapsed": 0.6,
    "911": 0.6, "casualties": 0.5, "dead": 0.4,
    # Spanish, Italian
    "ayuda": 0.8, "socorro": 1.0, "atrapados": 1.0, "atrapado": 1.0, "heridos": 0.7,
    "desaparecidos": 0.6, "aiuto": 0.9, "intrappolati": 1.0, "feriti": 0.7, "dispersi": 0.6,
}  # fmt: skip

_CUE_RE = re.compile(
    r"(?<![\w])("
    + "|".join(re.escape(c) for c in sorted(URGENCY_CUES, key=len, reverse=True))
    + r")(?![\w])"
)
_FOLD_SEP = re.compile(r"[\s'’\-]+")


def _fold(text: str) -> str:
    return _FOLD_SEP.sub(" ", strip_accents(text).lower())


def urgency(text: str) -> tuple[float, tuple[str, ...]]:
    cues = tuple(dict.fromkeys(_CUE_RE.findall(_fold(text))))
    rest = 1.0
    for cue in cues:
        rest *= 1.0 - URGENCY_CUES[cue]
    return 1.0 - rest, cues


def novelty(item: Enriched) -> float:
    if item.is_new_group:
        return 1.0
    return 1.0 / (1.0 + math.log2(max(item.group_size, 2)))


def _area_value(item: Enriched) -> float:
    return _zone_value(item.in_area)


class PriorityScorer:
    def __call__(self, items: list[Enriched], *, urgency_known: bool = False) -> list[Enriched]:
        """`urgency_known`: `urgency` and `urgency_cues` were already set from the text
        (by a `Preparer`'s child), unrounded."""
        for item in items:
            if urgency_known:
                u, cues = item.urgency, item.urgency_cues
            else:
                u, cues = urgency(item.clean_text or item.text)
            pred = item.prediction
            informative_p = float(pred.informative_p) if pred is not None else 0.5
            source_p = dict(getattr(pred, "source_p", {}) or {}) if pred is not None else {}
            e = float(source_p.get("Eyewitness", 0.0))
            n = novelty(item)
            a = _area_value(item)
            gate = max(0.25 + 0.75 * informative_p, u)
            raw = W_URGENCY * u + W_EYEWITNESS * e + W_NOVELTY * n + W_AREA * a
            item.urgency, item.urgency_cues = round(u, 3), cues
            item.priority = round(min(1.0, max(0.0, gate * raw)), 4)
            item.explanation = tuple(_explain(item, u, cues, e, n, informative_p, pred))
        return items


# French names of the senders a source may declare (the pure core has no Django labels).
_SENDERS = {
    "Media": "média",
    "Government": "institution",
    "NGOs": "ONG",
    "Business": "entreprise",
}


# A card's sender, when a declared post joins it: the line of its explanation that says so.
DECLARED_LINE = "émetteur déclaré pour la source : "
JOINED_LINE = "émetteur déclaré d'un message du groupe : "
_SOURCE_LINES = ("témoin direct p=", DECLARED_LINE, JOINED_LINE)
# Declarable senders, most authoritative first. When a préfecture and a newsroom both
# carry a message, it is the préfecture's: the newsroom relays it.
SENDER_AUTHORITY = ("Government", "NGOs", "Media", "Business")
_SENDER_OF = {name: sender for sender, name in _SENDERS.items()}


def declared_sender(explanation: list[str] | tuple[str, ...]) -> str | None:
    """The declared sender a card's explanation records (its first post's source, or a
    declared post that joined it), or None when its source type is the classifier's."""
    for line in explanation:
        for prefix in (DECLARED_LINE, JOINED_LINE):
            if line.startswith(prefix):
                return _SENDER_OF.get(line[len(prefix) :])
    return None


def outranks(sender: str, current: str | None) -> bool:
    """Whether a declared post's sender should become the card's source type."""
    if sender not in SENDER_AUTHORITY:
        return False
    if current not in SENDER_AUTHORITY:
        return True
    return SENDER_AUTHORITY.index(sender) < SENDER_AUTHORITY.index(current)


def with_joined_sender(explanation: list[str], sender: str) -> list[str]:
    """The explanation of a card that a declared post from `sender` joined: its line on
    who speaks (the classifier's eyewitness probability, or an earlier declared sender)
    becomes the joined sender's."""
    line = JOINED_LINE + _SENDERS.get(sender, sender)
    out = [line if x.startswith(_SOURCE_LINES) else x for x in explanation]
    if line not in out:
        out.insert(min(2, len(out)), line)
    return out


def _fr(x: float) -> str:
    """A score as the French lines around it write numbers: 0,69."""
    return f"{x:.2f}".replace(".", ",")


def _explain(
    item: Enriched,
    u: float,
    cues: tuple[str, ...],
    e: float,
    n: float,
    informative_p: float,
    pred: object,
) -> list[str]:
    out: list[str] = []
    if cues:
        shown = ", ".join(f"« {c} »" for c in cues[:4])
        out.append(f"urgence {_fr(u)} : {shown}")
    else:
        out.append("aucun indice d'urgence")
    if pred is None:
        out.append("pas de classifieur : informativité supposée 0,5")
    else:
        out.append(f"informatif p={_fr(informative_p)}")
        declared = item.post.declared_source
        if declared:
            out.append(DECLARED_LINE + _SENDERS.get(declared, declared))
        else:
            out.append(f"témoin direct p={_fr(e)}" + (" (probable)" if e >= 0.5 else ""))
    if item.is_new_group:
        out.append("nouveau : premier message de son groupe")
    else:
        kind = "copie exacte" if item.duplicate == "exact" else "quasi-copie"
        out.append(f"{kind}, groupe de {item.group_size} messages (nouveauté {_fr(n)})")
    out.append(
        area_line(
            item.in_area,
            [m.name for m in item.communes],
            [m.name for m in item.communes if m.in_area],
        )
    )
    return out


_AREA_LINES = ("dans la zone : ", "localisé hors de la zone : ", "localisé : ", "non localisé")


def area_line(in_area: bool | None, names: list[str], inside: list[str]) -> str:
    """The explanation's line on where a post is: ``names`` of the communes found, most
    confident first, and ``inside`` those within the activation's zone."""
    if in_area is True:
        return "dans la zone : " + ", ".join(inside[:3])
    if in_area is False:
        return "localisé hors de la zone : " + ", ".join(names[:3])
    if names:
        return "localisé : " + ", ".join(names[:3])
    return "non localisé"


@dataclass(frozen=True)
class Rezoned:
    """A stored card (or a post not yet stored) scored again for another zone."""

    in_area: bool | None
    priority: float
    explanation: list[str]


def commune_in_zone(code: str, dep: str, area: set[str] | None) -> bool | None:
    """Whether a commune lies in a zone of INSEE codes and département numbers (None
    without a zone), as the geocoder decides it."""
    if not area:
        return None
    return code in area or dep in area


def _zone(area: set[str] | None) -> set[str] | None:
    return {a.strip().upper() for a in area} if area else None


def in_zone(communes: list[dict[str, Any]], area: set[str] | None) -> bool | None:
    """A stored card's "inside the zone" for ``area``, from the communes it was located
    in (``rezone`` without the score: enough to know whether a card changes)."""
    zone = _zone(area)
    if not zone or not communes:
        return None
    return any(
        commune_in_zone(str(c.get("code", "")), str(c.get("dep", "")), zone) for c in communes
    )


def rezone(
    *,
    priority: float,
    informative_p: float | None,
    urgency_cues: list[str] | tuple[str, ...],
    communes: list[dict[str, Any]],
    in_area: bool | None,
    explanation: list[str] | tuple[str, ...],
    area: set[str] | None,
) -> Rezoned:
    """A card's "inside the zone" and priority for a new ``area``, from what the card
    stored: the communes found then (not searched again: a name shared by two communes
    keeps the reading chosen when the post arrived), its urgency cues and its
    informativeness. Only the zone term of the score changes, by its weight times the
    card's relevance gate; the other terms are the card's. A card whose priority is that
    of a repeat with other cues than its first post's moves by the first post's gate: the
    closest the stored card allows."""
    zone = _zone(area)
    flags = [commune_in_zone(str(c.get("code", "")), str(c.get("dep", "")), zone) for c in communes]
    new_in_area = (any(bool(f) for f in flags) if flags else None) if zone else None
    if new_in_area == in_area:
        return Rezoned(in_area, priority, list(explanation))
    u = 1.0
    for cue in dict.fromkeys(urgency_cues):
        u *= 1.0 - URGENCY_CUES.get(cue, 0.0)
    gate = max(0.25 + 0.75 * (0.5 if informative_p is None else informative_p), 1.0 - u)
    delta = W_AREA * (_zone_value(new_in_area) - _zone_value(in_area))
    new_priority = round(min(1.0, max(0.0, priority + gate * delta)), 4)
    names = [str(c.get("name", "")) for c in communes]
    inside = [n for n, f in zip(names, flags, strict=True) if f]
    line = area_line(new_in_area, names, inside)
    lines = [line if x.startswith(_AREA_LINES) else x for x in explanation]
    if line not in lines:
        lines.append(line)
    return Rezoned(new_in_area, new_priority, lines)


def _zone_value(in_area: bool | None) -> float:
    return 1.0 if in_area is True else 0.0 if in_area is False else 0.5


def score(items: list[Enriched]) -> list[Enriched]:
    return PriorityScorer()(items)
