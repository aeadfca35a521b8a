"""The integrity audit's French sentences and the default rule labels, re-said for
an English reader of the consultation pages.

``beffroi.integrity`` is pure and writes its verdict and evidence in French; the
flags' evidence is also published in the journal as written.  The pages show them
through these tables (see ``beffroi.web.views_i18n``); a sentence no template
knows is shown as written; the unfinished piece of an evidence the journal cut
(at 500 characters, or at a boundary followed by "…") is shown as "…".
tests/consult/test_i18n_s6_audit.py runs the real audit and fails on any sentence
of it that no template recognises.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language, gettext, gettext_noop

from beffroi.web.views_i18n import FrenchTemplates, T, number, word

# The labels the builder, the examples and the post-hoc decision give the rules;
# they are frozen in the spec, so the pages translate them when shown.  A label an
# organiser typed is shown as typed.
RULE_LABELS = (
    gettext_noop("La dernière réponse d'un code compte"),
    gettext_noop("La dernière réponse compte"),
    gettext_noop("Réponses signalées par l'audit d'intégrité écartées"),
    gettext_noop("Réponses automatisées écartées"),
    gettext_noop("Entrées écartées une à une par décision motivée"),
)


def rule_label(label: str, code: str = "") -> str:
    if not label:
        return code
    return gettext(label) if label in RULE_LABELS else label


def _duration(value: str) -> str:
    """``9 min``, ``41 s``, ``1,5 h``: the unit symbols are the same in English."""
    amount, _, unit = value.partition(" ")
    return f"{number(amount)} {unit}" if unit else value


_RATES = FrenchTemplates(
    [
        T(gettext_noop("%(n)s par heure"), "n"),
        T(gettext_noop("%(n)s par jour"), "n"),
    ]
)

# What the network check counts (integrity.detectors._NET_COLS).
NETWORK_WORDS = (
    gettext_noop("réseaux (/24 ou /48)"),
    gettext_noop("adresses IP"),
    gettext_noop("navigateurs"),
    gettext_noop("URL de provenance"),
    gettext_noop("langues"),
)


def _nested(value: str) -> str:
    """A piece of evidence inside another (a group's own evidence)."""
    return EVIDENCE.say(value)


# One piece of evidence each; a flag's evidence joins several with "; " and a
# check's own parts with " ; " (see ``evidence``).
EVIDENCE = FrenchTemplates(
    [
        T(
            gettext_noop(
                "%(n)s réponses en %(duration)s, alors que le rythme autour est d'environ %(rate)s"
            ),
            "n",
            duration=_duration,
            rate=_RATES.say,
        ),
        T(
            gettext_noop(
                "%(n)s réponses en %(duration)s, alors que le rythme habituel autour est "
                "d'environ %(rate)s"
            ),
            "n",
            duration=_duration,
            rate=_RATES.say,
        ),
        T(
            gettext_noop(
                "arrivées régulières : une toutes les %(low)s à %(high)s (médiane %(median)s), "
                "alors que des personnes indépendantes arrivent au hasard, avec beaucoup "
                "d'écarts très courts et quelques très longs (indice de régularité %(shape)s "
                "au lieu de 1)"
            ),
            "shape",
            low=_duration,
            high=_duration,
            median=_duration,
        ),
        T(
            gettext_noop("temps de remplissage médian %(inside)s contre %(outside)s ailleurs"),
            inside=_duration,
            outside=_duration,
        ),
        T(gettext_noop("%(n)s réponses en moins de %(duration)s"), "n", duration=_duration),
        T(
            gettext_noop("%(n)s réponses viennent de %(k)s %(what)s jamais vus hors des rafales"),
            "n",
            "k",
            what=word,
        ),
        T(
            gettext_noop(
                "%(n)s réponses viennent de %(k)s %(what)s vus seulement %(m)s fois hors des "
                "rafales"
            ),
            "n",
            "k",
            "m",
            what=word,
        ),
        T(
            gettext_noop("réponses très différentes du reste : %(first)s"),
            first=_nested,
        ),
        T(
            gettext_noop(
                "« %(answer)s » à %(question)s : %(inside)s %% dans le groupe contre "
                "%(outside)s %% dans le reste"
            ),
            "inside",
            "outside",
        ),
        T(
            gettext_noop(
                "les lignes d'un même formulaire (parent 1 et parent 2) ne concordent que dans "
                "%(inside)s %% des cas, contre %(outside)s %% ailleurs : comme si chaque ligne "
                "avait été tirée séparément"
            ),
            "inside",
            "outside",
        ),
        T(gettext_noop("jeton utilisé par plusieurs réponses")),
        T(gettext_noop("réponse sans jeton dans une enquête à jetons")),
        T(gettext_noop("réponse identique à plusieurs autres, ce que le hasard n'explique pas")),
        T(
            gettext_noop(
                "réponse identique à plusieurs autres sauf une case, ce que le hasard "
                "n'explique pas"
            )
        ),
        T(
            gettext_noop("rempli en moins de %(duration)s (médiane %(median)s)"),
            duration=_duration,
            median=_duration,
        ),
        T(gettext_noop("groupe %(n)s : %(first)s"), "n", first=_nested),
        T(
            gettext_noop("score d'automatisation %(score)s"),
            score=lambda v: number(v.replace(".", ",")),
        ),
    ]
)

_PIECES = re.compile(r" ?; ")


# Before session 6, consult.tasks.audit_box journaled a flag's evidence cut at this
# many characters, often mid-sentence; since, it cuts at a boundary and ends with "…"
# (tasks.cut_evidence).  Both kinds are in journals and must display.
EVIDENCE_CUT = 500


def evidence(text: str) -> str:
    """A flag's or a group's evidence: pieces joined by "; " or " ; " (French
    typography; English joins them with "; ").  The piece the journal's cut left
    unfinished is shown as "…" rather than as a French fragment."""
    if (get_language() or "fr").startswith("fr"):
        return text
    pieces = _PIECES.split(text)
    said = [EVIDENCE.say(part) for part in pieces]
    cut = len(text) >= EVIDENCE_CUT or text.endswith("…")
    if cut and EVIDENCE.match(pieces[-1]) is None:
        said[-1] = "…"
    return "; ".join(said)


VERDICTS = FrenchTemplates(
    [
        T(
            gettext_noop(
                "%(n)s réponses sur %(total)s sont signalées, dans %(groups)s groupe arrivé en "
                "rafale avec plusieurs anomalies simultanées (détail ci-dessous)."
            ),
            "n",
            "total",
            "groups",
        ),
        T(
            gettext_noop(
                "%(n)s réponses sur %(total)s sont signalées, dans %(groups)s groupes arrivés en "
                "rafale avec plusieurs anomalies simultanées (détail ci-dessous)."
            ),
            "n",
            "total",
            "groups",
        ),
        T(
            gettext_noop(
                "%(n)s réponses sur %(total)s sont signalées individuellement (détail ci-dessous)."
            ),
            "n",
            "total",
        ),
        T(
            gettext_noop(
                "Aucun groupe de réponses automatisées n'a été trouvé. Cela ne prouve pas "
                "l'absence de fraude : des faux formulaires envoyés lentement, à des heures "
                "ordinaires, sont indiscernables de vrais."
            )
        ),
        T(
            gettext_noop(
                "Résultat fragile pour : %(questions)s — quelques formulaires de plus ou de "
                "moins suffiraient à inverser la majorité."
            )
        ),
    ]
)

_FRAGILE = " Résultat fragile pour : "


def verdict(text: str) -> str:
    head, found, tail = text.partition(_FRAGILE)
    if not found:
        return VERDICTS.say(text)
    return VERDICTS.say(head) + " " + VERDICTS.say(found.lstrip() + tail)


# The live audit's progress messages (integrity.audit, integrity.detectors, consult.tasks).
PROGRESS = FrenchTemplates(
    [
        T(gettext_noop("lecture du fichier")),
        T(gettext_noop("%(n)s réponses lues"), "n"),
        T(gettext_noop("réponses encodées")),
        T(gettext_noop("%(n)s rafale(s) repérée(s)"), "n"),
        T(gettext_noop("examen des rafales")),
        T(gettext_noop("détecteurs individuels")),
        T(gettext_noop("scénarios")),
        T(gettext_noop("robustesse")),
        T(gettext_noop("motifs")),
        T(gettext_noop("terminé")),
        T(gettext_noop("inscription des signalements")),
    ]
)
