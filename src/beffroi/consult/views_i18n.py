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
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import formats
from django.utils.translation import get_language, gettext, gettext_noop, ngettext

from beffroi.consult.zones import english_for
from beffroi.integrity.typography import french_text
from beffroi.web.views_i18n import FrenchTemplates, T, number, word

if TYPE_CHECKING:
    from beffroi.consult.spec import Spec
    from beffroi.integrity.report import Kind

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


def excluded_by_rule(spec: Spec, by_rule: dict[str, int]) -> list[tuple[str, str, int]]:
    """(code, label, count) of each rule that set responses aside: the public reader
    reads the rule's label, the scrutineer comparing with the bundle its code."""
    labels: dict[str, str] = {}
    for r in spec.rules:
        labels.setdefault(r.code, rule_label(r.label, r.code))
    # Always on, so never written in the spec's rules.
    labels.setdefault("revoked_key", gettext("Les réponses d'un code révoqué sont écartées"))
    return [(code, labels.get(code, code), n) for code, n in by_rule.items()]


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


# The same things, one of them: pure code writes « 1 réseaux », English must not.
_NETWORK_WORD_ONE = {
    "réseaux (/24 ou /48)": gettext_noop("réseau (/24 ou /48)"),
    "adresses IP": gettext_noop("adresse IP"),
    "navigateurs": gettext_noop("navigateur"),
    "URL de provenance": gettext_noop("URL de provenance (une)"),
    "langues": gettext_noop("langue"),
}


def _one(value: str) -> str:
    return gettext(_NETWORK_WORD_ONE[value]) if value in _NETWORK_WORD_ONE else word(value)


def _times(value: str) -> str:
    """``1 fois``, ``3 fois``: how often a network was seen outside the bursts."""
    count = value.removesuffix(" fois")
    if count == "1":
        return gettext("1 fois")
    return gettext("%(m)s fois") % {"m": number(count)}


def _nested(value: str) -> str:
    """A piece of evidence inside another (a group's own evidence)."""
    return EVIDENCE.say(value)


# One piece of evidence each; a flag's evidence joins several with "; " and a
# check's own parts with " ; " (see ``evidence``).
EVIDENCE = FrenchTemplates(
    [
        # A salvo before the consultation has a rhythm of its own, flagged on its rate
        # (integrity.detectors._salvo_evidence; decision audit-first-salvo).
        T(
            gettext_noop(
                "%(n)s réponses en %(duration)s avant que le rythme habituel de la "
                "consultation soit connu : au moins %(count)s en %(window)s, un rythme "
                "qu'aucune ouverture ordinaire n'atteint"
            ),
            "n",
            "count",
            duration=_duration,
            window=_duration,
        ),
        # A flagged group measured by its dense part, members apart from it counted
        # (integrity.detectors._core_evidence). First: the sentence below would take
        # « 32 s, plus 1 à l'écart … » for its duration.
        T(
            gettext_noop(
                "%(n)s réponses en %(duration)s, plus 1 à l'écart dans le temps (%(total)s en "
                "tout), alors que le rythme habituel autour est d'environ %(rate)s"
            ),
            "n",
            duration=_duration,
            total=_duration,
            rate=_RATES.say,
        ),
        T(
            gettext_noop(
                "%(n)s réponses en %(duration)s, plus %(m)s à l'écart dans le temps (%(total)s "
                "en tout), alors que le rythme habituel autour est d'environ %(rate)s"
            ),
            "n",
            "m",
            duration=_duration,
            total=_duration,
            rate=_RATES.say,
        ),
        # Reports stored before the dense part: the group from first to last member.
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
        # A script with a fixed delay: gaps nearly all equal (first, so that the number
        # of the next template does not take this sentence's words).
        T(
            gettext_noop(
                "arrivées régulières : une toutes les %(low)s à %(high)s (médiane %(median)s), "
                "alors que des personnes indépendantes arrivent au hasard, avec beaucoup "
                "d'écarts très courts et quelques très longs (écarts presque tous égaux : "
                "indice de régularité de plus de 1000 au lieu de 1)"
            ),
            low=_duration,
            high=_duration,
            median=_duration,
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
        # Since session 14 a fixed gap of one second (or less) is said in words
        # (integrity.detectors._EVERY_ONE); evidence stored before keeps the shapes below.
        T(
            gettext_noop(
                "arrivées régulières : une par seconde, alors que des personnes "
                "indépendantes arrivent au hasard, avec beaucoup d'écarts très courts et "
                "quelques très longs (écarts presque tous égaux : indice de régularité de "
                "plus de 1000 au lieu de 1)"
            ),
        ),
        T(
            gettext_noop(
                "arrivées régulières : une par seconde, alors que des personnes "
                "indépendantes arrivent au hasard, avec beaucoup d'écarts très courts et "
                "quelques très longs (indice de régularité %(shape)s au lieu de 1)"
            ),
            "shape",
        ),
        T(
            gettext_noop(
                "arrivées régulières : plusieurs par seconde, alors que des personnes "
                "indépendantes arrivent au hasard, avec beaucoup d'écarts très courts et "
                "quelques très longs (écarts presque tous égaux : indice de régularité de "
                "plus de 1000 au lieu de 1)"
            ),
        ),
        T(
            gettext_noop(
                "arrivées régulières : plusieurs par seconde, alors que des personnes "
                "indépendantes arrivent au hasard, avec beaucoup d'écarts très courts et "
                "quelques très longs (indice de régularité %(shape)s au lieu de 1)"
            ),
            "shape",
        ),
        T(
            gettext_noop(
                "arrivées régulières : une toutes les %(every)s, alors que des personnes "
                "indépendantes arrivent au hasard, avec beaucoup d'écarts très courts et "
                "quelques très longs (écarts presque tous égaux : indice de régularité de "
                "plus de 1000 au lieu de 1)"
            ),
            every=_duration,
        ),
        T(
            gettext_noop(
                "arrivées régulières : une toutes les %(every)s, alors que des personnes "
                "indépendantes arrivent au hasard, avec beaucoup d'écarts très courts et "
                "quelques très longs (indice de régularité %(shape)s au lieu de 1)"
            ),
            "shape",
            every=_duration,
        ),
        T(
            gettext_noop("temps de remplissage médian %(inside)s contre %(outside)s ailleurs"),
            inside=_duration,
            outside=_duration,
        ),
        T(gettext_noop("%(n)s réponses en moins de %(duration)s"), "n", duration=_duration),
        T(gettext_noop("0 réponse en moins de %(duration)s"), duration=_duration),
        T(gettext_noop("1 réponse en moins de %(duration)s"), duration=_duration),
        # Since session 7 the network evidence agrees in number and gender (« 1 adresse IP
        # jamais vue », « 3 langues jamais vues »); the masculine plural kept its words.
        T(
            gettext_noop("%(n)s réponses viennent de 1 %(what)s jamais vu hors des rafales"),
            "n",
            what=_one,
        ),
        T(
            gettext_noop("%(n)s réponses viennent de 1 %(what)s jamais vue hors des rafales"),
            "n",
            what=_one,
        ),
        T(
            gettext_noop(
                "%(n)s réponses viennent de 1 %(what)s vu seulement %(times)s hors des rafales"
            ),
            "n",
            what=_one,
            times=_times,
        ),
        T(
            gettext_noop(
                "%(n)s réponses viennent de 1 %(what)s vue seulement %(times)s hors des rafales"
            ),
            "n",
            what=_one,
            times=_times,
        ),
        T(
            gettext_noop("%(n)s réponses viennent de %(k)s %(what)s jamais vues hors des rafales"),
            "n",
            "k",
            what=word,
        ),
        T(
            gettext_noop(
                "%(n)s réponses viennent de %(k)s %(what)s vues seulement %(times)s hors des "
                "rafales"
            ),
            "n",
            "k",
            what=word,
            times=_times,
        ),
        # The wording journals hold from before session 7 (« 1 réseaux … jamais vus »).
        # Before the general shapes: the first template that matches is used.
        T(
            gettext_noop("%(n)s réponses viennent de 1 %(what)s jamais vus hors des rafales"),
            "n",
            what=_one,
        ),
        T(
            gettext_noop(
                "%(n)s réponses viennent de 1 %(what)s vus seulement 1 fois hors des rafales"
            ),
            "n",
            what=_one,
        ),
        T(
            gettext_noop(
                "%(n)s réponses viennent de 1 %(what)s vus seulement %(m)s fois hors des rafales"
            ),
            "n",
            "m",
            what=_one,
        ),
        T(
            gettext_noop(
                "%(n)s réponses viennent de %(k)s %(what)s vus seulement 1 fois hors des rafales"
            ),
            "n",
            "k",
            what=word,
        ),
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
            # LimeSurvey's Y/N/U are written « Oui », « Non », « Incertain ».
            answer=lambda value: report_word(value),
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
# A separator however it was spaced, for the French display.
_SEPARATORS = re.compile(r"[ \u202f\u00a0]*; ")


# Before session 6, consult.tasks.audit_box journaled a flag's evidence cut at this
# many characters, often mid-sentence; since, it cuts at a boundary and ends with "…"
# (tasks.cut_evidence).  Both kinds are in journals and must display.
EVIDENCE_CUT = 500


def evidence(text: str) -> str:
    """A flag's or a group's evidence: pieces joined by "; " or " ; " (English joins
    them with "; ").  The piece the journal's cut left unfinished is shown as "…"
    rather than as a French fragment.

    French readers get the text as written, set the French way: the audit joined its
    pieces with "; " and a check's clauses with " ; ", so the stored text mixes both;
    every separator is shown as one « ; » with a narrow no-break space before it, like
    the colon and the guillemets (integrity.typography). The stored, journaled and
    published bytes are not changed."""
    if (get_language() or "fr").startswith("fr"):
        return french_text(_SEPARATORS.sub(" ; ", text))
    pieces = _PIECES.split(text)
    said = [EVIDENCE.say(part) for part in pieces]
    cut = len(text) >= EVIDENCE_CUT or text.endswith("…")
    if cut and EVIDENCE.match(pieces[-1]) is None:
        said[-1] = "…"
    return "; ".join(said)


VERDICTS = FrenchTemplates(
    [
        # Since session 7 one flagged response is said in the singular; a verdict stored
        # before (« 1 réponses sur 96 sont signalées ») still matches the plural shape.
        T(
            gettext_noop(
                "1 réponse sur %(total)s est signalée, dans 1 groupe arrivé en rafale avec "
                "plusieurs anomalies simultanées (détail ci-dessous)."
            ),
            "total",
        ),
        T(
            gettext_noop(
                "1 réponse sur %(total)s est signalée, dans %(groups)s groupes arrivés en "
                "rafale avec plusieurs anomalies simultanées (détail ci-dessous)."
            ),
            "total",
            "groups",
        ),
        T(
            gettext_noop(
                "1 réponse sur %(total)s est signalée individuellement (détail ci-dessous)."
            ),
            "total",
        ),
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
        # A group flagged on its rate alone (integrity.audit._verdict, decision
        # audit-first-salvo); a salvo has at least 50 members: never « 1 réponse ».
        T(
            gettext_noop(
                "%(n)s réponses sur %(total)s sont signalées, dans %(groups)s groupe arrivé en "
                "rafale avec plusieurs anomalies simultanées ou à un rythme qu'aucune ouverture "
                "ordinaire n'atteint (détail ci-dessous)."
            ),
            "n",
            "total",
            "groups",
        ),
        T(
            gettext_noop(
                "%(n)s réponses sur %(total)s sont signalées, dans %(groups)s groupes arrivés en "
                "rafale avec plusieurs anomalies simultanées ou à un rythme qu'aucune ouverture "
                "ordinaire n'atteint (détail ci-dessous)."
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
        # Since session 14 it says what the checks cannot see, with the salvo rule's rate
        # (integrity.audit._verdict); verdicts stored before keep the shape above.
        T(
            gettext_noop(
                "Aucun groupe de réponses automatisées n'a été trouvé. Cela ne prouve pas "
                "l'absence de fraude : ces vérifications ne voient pas un programme qui envoie "
                "moins de %(count)s réponses en %(window)s secondes (environ %(rate)s par "
                "seconde), à intervalles irréguliers, en imitant les temps de remplissage et "
                "les adresses de vraies personnes : en dessous de ce rythme, une rafale n'est "
                "signalée que si elle réunit au moins deux anomalies simultanées (espacement "
                "régulier, remplissage trop rapide, réseaux inhabituels, réponses différentes "
                "du reste, lignes d'un formulaire incohérentes). De faux formulaires envoyés "
                "lentement, à des heures ordinaires, sont indiscernables de vrais."
            ),
            "count",
            "window",
            "rate",
        ),
        T(
            gettext_noop(
                "Résultat fragile pour : %(questions)s — quelques formulaires de plus ou de "
                "moins suffiraient à inverser la majorité."
            )
        ),
        # Since session 8 the verdict says what could not be looked for
        # (integrity.audit.unchecked); verdicts stored before keep their shapes above.
        T(
            gettext_noop(
                "Aucune réponse n'est signalée par les vérifications qui ont pu être faites."
            )
        ),
        T(
            gettext_noop(
                "Les groupes de réponses automatisées n'ont pas pu être recherchés : les "
                "arrivées des réponses n'ont pas pu être examinées (dates de soumission "
                "absentes ou toutes identiques)."
            )
        ),
        T(
            gettext_noop(
                "Les groupes de réponses automatisées n'ont pas été recherchés : le détecteur "
                "des rafales d'arrivées est désactivé."
            )
        ),
        T(
            gettext_noop(
                "Les groupes ont été recherchés sans adresses IP ni temps de remplissage : un "
                "groupe de réponses automatisées peut être manqué en partie."
            )
        ),
    ]
)

_FRAGILE = " Résultat fragile pour : "
# Where the sentences that follow the finding start (integrity.audit._verdict): what could
# not be looked for, then (after _FRAGILE, which may quote any question label) fragility.
_LIMITS = (" Les groupes de réponses automatisées n'ont pas", " Les groupes ont été recherchés ")


def verdict(text: str) -> str:
    """The audit's verdict in the reader's language: French readers get it as the
    audit wrote it, set the French way like the evidence (the stored bytes are
    unchanged); English readers get it said piece by piece."""
    if (get_language() or "fr").startswith("fr"):
        return french_text(text)
    head, found, tail = text.partition(_FRAGILE)
    pieces = [head]
    for start in _LIMITS:
        at = pieces[0].find(start)
        if at > 0:
            pieces = [pieces[0][:at], pieces[0][at + 1 :]]
            break
    if found:
        pieces.append(found.lstrip() + tail)
    return " ".join(VERDICTS.say(p) for p in pieces)


# The audits' progress messages (integrity.audit, integrity.detectors, consult.tasks,
# audits.tasks): the live audit's status and an uploaded export's audit page.
PROGRESS = FrenchTemplates(
    [
        T(gettext_noop("lecture du fichier")),
        T(gettext_noop("rédaction du rapport")),
        T(gettext_noop("%(n)s réponses lues"), "n"),
        T(gettext_noop("réponses encodées")),
        T(gettext_noop("aucune rafale repérée")),
        T(gettext_noop("1 rafale repérée")),
        T(gettext_noop("%(n)s rafales repérées"), "n"),
        T(gettext_noop("examen des rafales")),
        T(gettext_noop("détecteurs individuels")),
        T(gettext_noop("scénarios")),
        T(gettext_noop("robustesse")),
        T(gettext_noop("motifs")),
        T(gettext_noop("terminé")),
        T(gettext_noop("inscription des signalements")),
    ]
)


def _quoted_list(value: str) -> str:
    """« a », « b », … as English quotes a list of column names."""
    return value.replace("« ", "“").replace(" »", "”")


# Why an uploaded export's audit failed (integrity.load's InputError, audits.tasks'
# internal error), for English readers of the audit page. The more specific shape
# comes first: the first template that matches is used.
AUDIT_ERRORS = FrenchTemplates(
    [
        T(gettext_noop("CSV mal formé : le fichier ne peut pas être lu comme un tableau.")),
        T(gettext_noop("CSV mal formé : guillemet ouvert à la ligne %(line)s et jamais refermé.")),
        T(gettext_noop("Le fichier est vide (ligne 1) : aucune en-tête, aucune réponse.")),
        T(gettext_noop("Le fichier ne contient aucune réponse (rien après la ligne 1).")),
        T(
            gettext_noop(
                "Date illisible à la ligne %(line)s, colonne « %(column)s » : « %(value)s » "
                "(formats acceptés : AAAA-MM-JJ HH:MM:SS, JJ/MM/AAAA HH:MM…)."
            )
        ),
        T(
            gettext_noop(
                "Date illisible à la ligne %(line)s, colonne « %(column)s » : « %(value)s » "
                "semble écrite le mois d'abord (MM/JJ/AAAA, à l'américaine) ; exportez les "
                "dates au format AAAA-MM-JJ, ou donnez leur format (`time_format`) dans une "
                "correspondance."
            )
        ),
        T(
            gettext_noop(
                "Année sur deux chiffres à la ligne %(line)s, colonne « %(column)s » : "
                "« %(value)s ». L'année doit avoir quatre chiffres (2026, pas 26) : exportez "
                "à nouveau les dates avec l'année complète (AAAA-MM-JJ HH:MM:SS)."
            )
        ),
        T(
            gettext_noop(
                "Séparateur non reconnu (ligne 1) : les colonnes semblent séparées par « | ». "
                "L'audit lit les CSV séparés par la virgule, le point-virgule ou la "
                "tabulation : exportez à nouveau les réponses au format CSV de LimeSurvey."
            )
        ),
        T(
            gettext_noop(
                "Colonne d'identifiant absente : il faut une colonne « id » (LimeSurvey) ou une "
                "correspondance `id = …` dans le fichier de correspondance."
            )
        ),
        T(gettext_noop("Identifiant vide à la ligne %(line)s, colonne « %(column)s ».")),
        T(
            gettext_noop(
                "Colonne « id » absente de l'en-tête (ligne 1) : ce n'est pas un export de "
                "réponses LimeSurvey ; pour un autre CSV, choisissez le format « CSV quelconque » "
                "et son fichier de correspondance (--format csv --mapping en ligne de commande)."
            )
        ),
        T(
            gettext_noop(
                'La correspondance doit avoir une table [columns] avec au moins `id = "…"`.'
            )
        ),
        T(
            gettext_noop(
                "La correspondance doit donner `time_format` comme un texte entre guillemets."
            )
        ),
        T(gettext_noop("La table n'a pas de colonne « id ».")),
        T(gettext_noop("Identifiants en double dans la table.")),
        T(
            gettext_noop(
                "CSV mal formé à la ligne %(line)s : %(n)s champs au lieu de %(width)s "
                "(séparateur « %(sep)s »)."
            )
        ),
        T(gettext_noop("CSV mal formé à la ligne %(line)s : %(detail)s.")),
        T(
            gettext_noop(
                "En-tête illisible (ligne 1) : elle contient des caractères nuls (fichier "
                "binaire ?)."
            )
        ),
        T(
            gettext_noop(
                "En-tête illisible (ligne 1) : un retour chariot isolé coupe une en-tête hors "
                "guillemets (fichier binaire, ou enregistré avec des fins de ligne d'un ancien "
                "Mac ?)."
            )
        ),
        T(gettext_noop("En-tête illisible (ligne 1) : ce n'est pas une ligne CSV valable.")),
        T(gettext_noop("En-tête illisible (ligne 1) : %(detail)s.")),
        T(
            gettext_noop(
                "Ce fichier est un classeur (Excel .xlsx ou LibreOffice .ods) ou une archive "
                "zip, pas un fichier CSV : dans le tableur ou LimeSurvey, enregistrez ou "
                "exportez les réponses au format « CSV » en UTF-8, puis envoyez ce fichier-là."
            )
        ),
        T(
            gettext_noop(
                "Ce fichier est un classeur Excel ancien (.xls), pas un fichier CSV : dans le "
                "tableur ou LimeSurvey, enregistrez ou exportez les réponses au format « CSV » "
                "en UTF-8, puis envoyez ce fichier-là."
            )
        ),
        T(
            gettext_noop(
                "Ce fichier est encodé en UTF-16 (« texte Unicode » d'Excel), pas en UTF-8 : "
                "dans le tableur ou LimeSurvey, enregistrez ou exportez les réponses au format "
                "« CSV » en UTF-8, puis envoyez ce fichier-là."
            )
        ),
        T(
            gettext_noop(
                "Ce fichier contient des octets nuls : ce n'est pas du texte CSV (fichier "
                "binaire, ou texte UTF-16 sans marque d'encodage) ; dans le tableur ou "
                "LimeSurvey, enregistrez ou exportez les réponses au format « CSV » en UTF-8, "
                "puis envoyez ce fichier-là."
            )
        ),
        T(gettext_noop("En-tête trop longue (ligne 1) : plus de %(mb)s Mo."), "mb"),
        T(
            gettext_noop("En-tête trop large (ligne 1) : %(n)s colonnes, %(max)s au plus."),
            "n",
            "max",
        ),
        T(
            gettext_noop(
                "Trop de réponses : le fichier en compte plus de %(n)s, le plus qu'un audit "
                "accepte. Aucune consultation réelle n'en approche : vérifiez qu'il s'agit "
                "bien d'un export de réponses, ou découpez-le."
            ),
            # Written with no-break spaces between thousands (1 000 000), re-said grouped
            # the reader's way (1,000,000).
            n=lambda v: formats.number_format(int(v.replace("\u00a0", "")), force_grouping=True),
        ),
        T(
            gettext_noop(
                "Réglage du serveur invalide : BEFFROI_AUDIT_MAX_ROWS doit être un nombre "
                "entier positif, pas « %(value)s »."
            )
        ),
        T(gettext_noop("En-tête vide à la colonne %(column)s (ligne 1).")),
        T(
            gettext_noop(
                "Colonne « %(column)s » en double dans l'en-tête (colonnes %(a)s et %(b)s)."
            )
        ),
        T(
            gettext_noop(
                "Colonne « %(column)s » en double dans l'en-tête (colonnes %(a)s et %(b)s) : "
                "en-têtes abrégés de LimeSurvey, qui ne gardent que le début des questions ; "
                "exportez à nouveau les réponses avec les codes des questions ou le texte "
                "complet."
            )
        ),
        T(gettext_noop("Colonne de segment « %(column)s » introuvable.")),
        T(gettext_noop("Impossible de lire la correspondance %(path)s : %(detail)s.")),
        T(gettext_noop("Correspondance TOML invalide (%(path)s) : %(detail)s.")),
        T(gettext_noop("Impossible de lire le fichier %(path)s : %(detail)s.")),
        # The survey structure (.lss): integrity.lss, also on the audit upload form.
        T(gettext_noop("Impossible de lire la structure %(path)s : %(detail)s.")),
        T(gettext_noop("Structure %(path)s refusée : déclarations DOCTYPE/ENTITY interdites.")),
        T(gettext_noop("Structure .lss illisible (%(path)s), ligne %(line)s : %(detail)s.")),
        T(gettext_noop("%(path)s n'est pas une structure d'enquête LimeSurvey (.lss).")),
        T(gettext_noop("Colonne de réponse « %(column)s » absente de l'en-tête (ligne 1).")),
        T(
            gettext_noop(
                "Identifiant « %(id)s » en double (colonne « %(column)s », lignes %(a)s et %(b)s)."
            )
        ),
        T(
            gettext_noop(
                "Colonne « %(column)s » (correspondance `%(key)s`) absente de l'en-tête (ligne 1)."
            )
        ),
        T(gettext_noop("Colonne « %(column)s » (répétition %(q)s) absente.")),
        T(
            gettext_noop(
                "Nombre illisible à la ligne %(line)s, colonne « %(column)s » : « %(value)s »."
            )
        ),
        T(gettext_noop("Erreur interne pendant l'audit (%(kind)s).")),
        # Since session 8, what makes an export auditable (integrity.load).
        T(
            gettext_noop(
                "Ni colonne « submitdate » ni colonne de réponse dans l'en-tête (ligne 1) : ce "
                "n'est pas un export de réponses LimeSurvey utilisable. Il faut au moins « id », "
                "« submitdate » (date de soumission) et une colonne par question ; pour un autre "
                "CSV, choisissez le format « CSV quelconque » et son fichier de correspondance "
                "(--format csv --mapping en ligne de commande)."
            )
        ),
        T(
            gettext_noop(
                "Colonne « submitdate » absente de l'en-tête (ligne 1) : un export de réponses "
                "LimeSurvey la contient toujours (« Date de soumission » ou « Date submitted » "
                "en titres complets). Sans elle, on ne sait ni quelles réponses sont complètes "
                "ni quand elles sont arrivées : exportez à nouveau en gardant cette colonne."
            )
        ),
        T(
            gettext_noop(
                'La correspondance doit nommer la colonne de date de soumission (`time = "…"` '
                "dans [columns]) : sans elle, on ne sait ni quelles réponses sont complètes ni "
                "quand elles sont arrivées."
            )
        ),
        T(
            gettext_noop(
                "Aucune colonne de réponse dans l'en-tête (ligne 1) : seulement %(columns)s, qui "
                "décrivent les réponses sans en contenir ; il n'y a rien à compter."
            ),
            columns=_quoted_list,
        ),
        T(
            gettext_noop(
                "Aucune réponse complète : la colonne « %(column)s » est vide à chaque ligne (un "
                "export des seules réponses incomplètes ?). L'audit compte les réponses "
                "envoyées : exportez à nouveau avec les réponses complètes."
            )
        ),
        T(
            gettext_noop(
                "Aucune réponse aux questions : les colonnes de réponse (%(columns)s) sont vides "
                "à chaque ligne ; il n'y a rien à compter."
            ),
            columns=_quoted_list,
        ),
    ]
)


def audit_error(text: str) -> str:
    """Why an export was refused or its audit failed, in the active language."""
    return AUDIT_ERRORS.say(text)


# -- an uploaded export's audit report (integrity.report) ------------------------------
# The report's own sentences are msgids in integrity/report.py; what the audit wrote
# in it is re-said through the tables below (REPORT_SAY, by kind of sentence).
# tests/audits/test_report_i18n.py renders the real report in English and fails on
# any French left outside the survey's own words.

# Words the audit takes from closed lists: the detectors' names (detectors.DETECTORS),
# LimeSurvey's fixed answers (detectors.DEFAULT_ANSWERS, load.OTHER_LABEL) and the
# checks a loader skips (integrity.load).
REPORT_WORDS = (
    gettext_noop("rafales d'arrivées"),
    gettext_noop("espacement régulier"),
    gettext_noop("temps de remplissage"),
    gettext_noop("concentration réseau"),
    gettext_noop("déplacement des réponses"),
    gettext_noop("cohérence des lignes d'un formulaire"),
    gettext_noop("réponses identiques"),
    gettext_noop("état des jetons"),
    gettext_noop("Oui"),
    gettext_noop("Non"),
    gettext_noop("Incertain"),
    gettext_noop("segments"),
    gettext_noop("arrivées et rafales"),
    gettext_noop("navigateur (user agent)"),
    gettext_noop("provenance (referrer)"),
    gettext_noop("langue"),
    gettext_noop("ordre du jour et du mois"),
    gettext_noop("Autre"),
    gettext_noop("types des questions"),
)


def report_word(value: str) -> str:
    """One of REPORT_WORDS in the active language; any other word (an answer label
    of the survey) as written."""
    return gettext(value) if value in REPORT_WORDS else value


# Why a check could not run (integrity.load: Dataset.skip).
SKIPPED = FrenchTemplates(
    [
        T(gettext_noop("aucune question à choix unique ne ressemble à un segment (école…)")),
        T(gettext_noop("toutes les adresses IP sont identiques (anonymisées)")),
        T(
            gettext_noop(
                "toutes les dates de soumission sont identiques (enquête anonymisée ou sans "
                "horodatage : LimeSurvey date alors chaque réponse du 1er janvier 1980)"
            )
        ),
        T(gettext_noop("pas de date de soumission")),
        T(gettext_noop("ni durée (interviewtime) ni date de début")),
        T(gettext_noop("pas d'adresse IP (ipaddr)")),
        T(gettext_noop("pas de colonne de navigateur dans l'export")),
        T(gettext_noop("pas de colonne de jeton (enquête ouverte)")),
        T(gettext_noop("pas d'URL de provenance")),
        T(gettext_noop("pas de langue de départ")),
        T(gettext_noop("pas de colonne « %(role)s » dans la table")),
        T(gettext_noop("colonne « %(role)s » vide dans la table")),
        T(
            gettext_noop(
                "les dates JJ/MM/AAAA de « %(column)s » ont toutes un premier nombre de 12 au "
                "plus : elles ont été lues le jour d'abord, à la française ; si l'export écrit "
                "le mois d'abord, dates et rafales sont fausses : exportez-le au format AAAA-MM-JJ"
            )
        ),
        # A LimeSurvey export audited without its structure (integrity.load).
        T(
            gettext_noop(
                "pas de structure de l'enquête (.lss) : une colonne est lue comme une question "
                "à choix d'après ses réponses (30 réponses différentes au plus, chacune un code "
                "court de cinq lettres ou chiffres au plus, ou un nombre), et ses réponses sont "
                "alors comptées et affichées, même si les répondants les ont tapées ; donnez la "
                "structure de l'enquête (--structure enquete.lss, ou le champ « Structure de "
                "l'enquête (.lss, facultatif) » de l'audit) : ses questions à texte libre ne "
                "sont alors jamais comptées ni affichées"
            )
        ),
        # A structure that does not know some of the export's questions.
        T(
            gettext_noop(
                "la structure de l'enquête (.lss) ne donne pas le type des questions "
                "%(questions)s : elles sont lues comme des questions à choix d'après leurs "
                "réponses, qui sont alors comptées et affichées, même si les répondants les "
                "ont tapées ; donnez la structure de la version de l'enquête qui a produit "
                "l'export"
            )
        ),
        # Abbreviated headings that fit several columns of the structure (integrity.load).
        T(
            gettext_noop(
                "en-têtes qui peuvent désigner plusieurs colonnes de la structure de l'enquête "
                "(.lss) : %(headings)s ; ces colonnes ne prennent aucun type et sont lues "
                "d'après leurs réponses ; exportez les réponses avec les codes des questions "
                "(« Code de la question » dans l'export de LimeSurvey) ou le texte complet"
            )
        ),
    ]
)

# The scenarios' labels (integrity.scenarios).
SCENARIOS = FrenchTemplates(
    [
        T(gettext_noop("Toutes les réponses complètes (brut)")),
        T(gettext_noop("Une réponse par adresse IP (filtre courant, pour comparaison)")),
        # Reports stored before session 14.
        T(gettext_noop("Une réponse par adresse IP (filtre de la mairie)")),
        T(gettext_noop("Filtre Beffroi (réponses signalées retirées)")),
        T(gettext_noop("Filtre Beffroi sans le détecteur « %(name)s »"), name=report_word),
    ]
)

# How a majority would flip (integrity.robustness.question_robustness) ends in one
# of these, after "… passe devant".
_FLIP_TAILS = FrenchTemplates(
    [
        T(
            gettext_noop(" : résultat fragile (%(flip)s formulaires sur %(forms)s)."),
            "flip",
            "forms",
        ),
        T(gettext_noop(" (%(flip)s formulaires sur %(forms)s)."), "flip", "forms"),
        T(gettext_noop(" : résultat fragile (1 formulaire sur %(forms)s)."), "forms"),
        T(gettext_noop(" (1 formulaire sur %(forms)s)."), "forms"),
    ]
)

# The robustness and participation statements (integrity.robustness, integrity.audit).
# A participation statement may be several of these sentences in a row.
STATEMENTS = FrenchTemplates(
    [
        T(
            gettext_noop("%(question)s : égalité parfaite entre « %(a)s » et « %(b)s »."),
            a=report_word,
            b=report_word,
        ),
        T(
            gettext_noop(
                "%(question)s : « %(a)s » l'emporte avec %(share)s %% ; il suffirait d'ajouter "
                "%(add)s formulaire ou d'en retirer %(remove)s pour que « %(b)s » passe "
                "devant%(tail)s"
            ),
            "share",
            "add",
            a=report_word,
            b=report_word,
            tail=_FLIP_TAILS.say,
        ),
        T(
            gettext_noop(
                "%(question)s : « %(a)s » l'emporte avec %(share)s %% ; il suffirait d'ajouter "
                "%(add)s formulaires ou d'en retirer %(remove)s pour que « %(b)s » passe "
                "devant%(tail)s"
            ),
            "share",
            "add",
            a=report_word,
            b=report_word,
            tail=_FLIP_TAILS.say,
        ),
        T(
            gettext_noop(
                "%(question)s : « %(a)s » l'emporte avec %(share)s %% ; il suffirait d'ajouter "
                "%(add)s formulaire (aucun retrait de formulaires ne suffirait) pour que "
                "« %(b)s » passe devant%(tail)s"
            ),
            "share",
            "add",
            a=report_word,
            b=report_word,
            tail=_FLIP_TAILS.say,
        ),
        T(
            gettext_noop(
                "%(question)s : « %(a)s » l'emporte avec %(share)s %% ; il suffirait d'ajouter "
                "%(add)s formulaires (aucun retrait de formulaires ne suffirait) pour que "
                "« %(b)s » passe devant%(tail)s"
            ),
            "share",
            "add",
            a=report_word,
            b=report_word,
            tail=_FLIP_TAILS.say,
        ),
        T(
            gettext_noop(
                "Un taux de participation de %(claimed)s %% est annoncé, mais aucun électorat "
                "n'est déclaré : ce taux ne peut pas être vérifié."
            ),
            "claimed",
        ),
        T(
            gettext_noop(
                "Segment %(segment)s : %(n)s formulaires pour un électorat déclaré de %(e)s — "
                "une participation de %(rate)s %% est impossible ; des réponses ne viennent pas "
                "d'électeurs de ce segment."
            ),
            "n",
            "e",
            "rate",
        ),
        T(
            gettext_noop(
                "%(n)s formulaires indiquent le segment « %(segment)s », absent de l'électorat "
                "déclaré."
            ),
            "n",
        ),
        T(
            gettext_noop(
                "Segment %(segment)s : 1 formulaire pour un électorat déclaré de %(e)s — "
                "une participation de %(rate)s %% est impossible ; des réponses ne viennent pas "
                "d'électeurs de ce segment."
            ),
            "e",
            "rate",
        ),
        T(
            gettext_noop(
                "1 formulaire indique le segment « %(segment)s », absent de l'électorat déclaré."
            )
        ),
        T(
            gettext_noop(
                "Segment %(segment)s : 1 formulaire pour un électorat déclaré de 0 — aucun "
                "électeur n'y est déclaré ; des réponses ne viennent pas d'électeurs de ce segment."
            )
        ),
        T(
            gettext_noop(
                "Segment %(segment)s : %(n)s formulaires pour un électorat déclaré de 0 — aucun "
                "électeur n'y est déclaré ; des réponses ne viennent pas d'électeurs de ce segment."
            ),
            "n",
        ),
        T(
            gettext_noop(
                "Taux annoncé : %(claimed)s %%, soit environ %(implied)s participants sur "
                "%(total)s."
            ),
            "claimed",
            "implied",
            "total",
        ),
        T(
            gettext_noop(
                "L'export contient %(forms)s formulaires complets (%(filtered)s après le filtre "
                "Beffroi)."
            ),
            "forms",
            "filtered",
        ),
        # French says « 0 formulaire », English "0 forms": 1 has a template of its own.
        T(
            gettext_noop(
                "Taux annoncé : %(claimed)s %%, soit environ 1 participant sur %(total)s."
            ),
            "claimed",
            "total",
        ),
        T(
            gettext_noop(
                "Taux annoncé : %(claimed)s %%, soit environ %(implied)s participant sur %(total)s."
            ),
            "claimed",
            "implied",
            "total",
        ),
        T(
            gettext_noop(
                "L'export contient 1 formulaire complet (%(filtered)s après le filtre Beffroi)."
            ),
            "filtered",
        ),
        T(
            gettext_noop(
                "L'export contient %(forms)s formulaire complet (%(filtered)s après le filtre "
                "Beffroi)."
            ),
            "forms",
            "filtered",
        ),
        T(gettext_noop("Un taux supérieur à 100 %% est impossible.")),
        T(
            gettext_noop(
                "Dans une enquête ouverte, sans contrôle d'éligibilité, personne ne sait combien "
                "d'électeurs ont réellement répondu : ce taux ne peut pas être connu."
            )
        ),
        T(
            gettext_noop(
                "Même après filtrage, il y a plus de formulaires que le taux ne l'implique."
            )
        ),
        T(gettext_noop("Aucune question de segment ne correspond aux clés de --electorate.")),
    ]
)

# Between two sentences of one statement: a full stop, a space, a capital.
_NEXT_SENTENCE = re.compile(r"(?<=\.) (?=[A-ZÀ-Ý])")


def statement(text: str) -> str:
    """A robustness or participation statement; one made of several known sentences
    is re-said sentence by sentence, one with an unknown sentence is shown as written."""
    if (get_language() or "fr").startswith("fr") or STATEMENTS.match(text) is not None:
        return STATEMENTS.say(text)
    sentences = _NEXT_SENTENCE.split(text)
    if len(sentences) > 1 and all(STATEMENTS.match(s) is not None for s in sentences):
        return " ".join(STATEMENTS.say(s) for s in sentences)
    return text


REPORT_SAY: dict[str, Callable[[str], str]] = {
    "verdict": verdict,
    "evidence": evidence,
    "statement": statement,
    "skipped": SKIPPED.say,
    "scenario": SCENARIOS.say,
    "word": report_word,
}


class ReportWords:
    """The report (``integrity.report.Words``) in the active language: make it inside
    ``translation.override`` (audits.tasks renders one report per language)."""

    def __init__(self) -> None:
        self.language = get_language() or "fr"

    def gettext(self, message: str) -> str:
        return gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)

    def number(self, value: float, decimals: int) -> str:
        # number_format cuts a float's digits (225.59 -> "225.5"): rounded first, as the
        # French report rounds, so both languages print the same figure.
        return formats.number_format(Decimal(f"{value:.{decimals}f}"), decimal_pos=decimals)

    def say(self, kind: Kind, text: str) -> str:
        return REPORT_SAY[kind](text)


# -- the ballot API's refusals ------------------------------------------------------
# consult.api, consult.ballot, consult.spec (answer checks) and consult.actions
# (the writer) word a refused ballot in French; the API re-says the message for the
# respondent's language where it writes the reply (its ``error`` code never changes).
# tests/consult/test_api_i18n.py reads those modules' messages and fails on one that
# no template below recognises.


def _utc_moment(value: str) -> str:
    """``23/11/2026 18:05`` in the reader's short date order."""
    try:
        moment = datetime.strptime(value, "%d/%m/%Y %H:%M")
    except ValueError:
        return value
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


def _zone_words(value: str) -> str:
    """« heure de la Martinique », « UTC+4 » (consult.zones.zone_words) in the reader's
    language: the French phrase as written, or its English."""
    if (get_language() or "fr").startswith("fr"):
        return value
    return english_for(value) or value


# One answer error each (consult.spec.validate_answers); in a repeated row the error
# starts with the row's label and a comma (see ``answer_error``).
ANSWER_ERRORS = FrenchTemplates(
    [
        T(gettext_noop("question « %(code)s » : choix %(value)s inconnu")),
        T(gettext_noop("question « %(code)s » : liste de choix attendue")),
        T(gettext_noop("question « %(code)s » : choix inconnu %(values)s")),
        T(gettext_noop("question « %(code)s » : choix inconnus %(values)s")),
        T(gettext_noop("question « %(code)s » : un même choix est coché deux fois")),
        # French « choix » is the same for one and several; English is not.
        T(gettext_noop("question « %(code)s » : au plus 1 choix")),
        T(gettext_noop("question « %(code)s » : au plus %(n)s choix"), "n"),
        T(gettext_noop("question « %(code)s » : réponse obligatoire")),
        T(gettext_noop("question « %(code)s » : nombre entier attendu")),
        T(gettext_noop("question « %(code)s » : valeur %(value)s hors de [%(low)s, %(high)s]")),
        T(gettext_noop("question « %(code)s » : texte attendu")),
        T(gettext_noop("question « %(code)s » : texte trop long (%(length)s > %(max)s)")),
        T(gettext_noop("question « %(code)s » : par ligne ici")),
        T(gettext_noop("question « %(code)s » : inconnue ici")),
        T(gettext_noop("question « %(code)s » : inconnue dans une ligne")),
        T(gettext_noop("objet attendu")),
        T(gettext_noop("réponses : objet attendu")),
        T(gettext_noop("lignes : cette consultation n'a pas de lignes répétées")),
        T(gettext_noop("lignes : 1 ligne attendue")),
        T(gettext_noop("lignes : %(n)s lignes attendues"), "n"),
        T(gettext_noop("lignes : au moins 1 ligne à remplir")),
        T(gettext_noop("lignes : au moins %(n)s lignes à remplir"), "n"),
    ]
)


def answer_error(text: str) -> str:
    if ANSWER_ERRORS.match(text) is not None:
        return ANSWER_ERRORS.say(text)
    # "<row label>, question « … » : …" or "<row label>, objet attendu".
    at = text.find(", question « ")
    if at < 0 and text.endswith(", objet attendu"):
        at = len(text) - len(", objet attendu")
    if at < 0:
        return text
    return text[: at + 2] + ANSWER_ERRORS.say(text[at + 2 :])


def _answer_errors(value: str) -> str:
    return "; ".join(answer_error(part) for part in value.split(" ; "))


def _nested_refusal(value: str) -> str:
    return REFUSALS.say(value)


REFUSALS = FrenchTemplates(
    [
        # consult.api: the anti-robot checks of open mode, the request's form.
        T(gettext_noop("Calcul anti-robot absent : rechargez la page.")),
        T(gettext_noop("Calcul anti-robot illisible : rechargez la page.")),
        T(gettext_noop("Défi anti-robot inconnu : rechargez la page.")),
        T(gettext_noop("Défi anti-robot illisible : rechargez la page.")),
        T(gettext_noop("Défi anti-robot expiré : renvoyez la réponse.")),
        T(gettext_noop("Calcul anti-robot incorrect : renvoyez la réponse.")),
        T(gettext_noop("Défi anti-robot déjà utilisé : renvoyez la réponse.")),
        T(gettext_noop("Le champ « Site web » doit rester vide : il sert à repérer les robots.")),
        T(
            gettext_noop(
                "Beaucoup de réponses viennent de votre réseau : votre réponse n'a pas encore "
                "été enregistrée. Gardez cette page ouverte : elle sera renvoyée "
                "automatiquement."
            )
        ),
        T(gettext_noop("Réponse trop volumineuse.")),
        T(gettext_noop("Réponse illisible (JSON attendu).")),
        T(gettext_noop("Réponse illisible (objet JSON attendu).")),
        T(gettext_noop("Consultation inconnue.")),
        T(gettext_noop("La consultation n'est pas ouverte aux réponses.")),
        T(gettext_noop("Signature : texte hexadécimal attendu.")),
        T(gettext_noop("Bulletin non encodable : %(reason)s"), reason=_nested_refusal),
        T(
            gettext_noop(
                "Le serveur n'a pas pu enregistrer votre réponse : elle ne figure pas sur le "
                "tableau. Réessayez dans un instant."
            )
        ),
        T(gettext_noop("Les réponses s'envoient depuis la page du questionnaire.")),
        T(gettext_noop("Envoyez la réponse avec POST.")),
        T(gettext_noop("Hôte non autorisé.")),
        T(gettext_noop("Envoyez la réponse en HTTPS.")),
        # consult.ballot: the ballot's shape, signature and place on the board.
        T(gettext_noop("Bulletin illisible : objet JSON attendu.")),
        # The plural first: « champ %(fields)s » would also match « champs a, b ».
        T(gettext_noop("Bulletin incomplet : champs %(fields)s.")),
        T(gettext_noop("Bulletin incomplet : champ %(fields)s.")),
        T(gettext_noop("Bulletin : champs inattendus %(fields)s.")),
        T(gettext_noop("Bulletin : champ inattendu %(fields)s.")),
        T(gettext_noop("Bulletin : version %(version)s non prise en charge.")),
        T(gettext_noop("Bulletin : « seq » doit être un entier positif.")),
        T(gettext_noop("Bulletin : clé publique invalide (64 caractères hexadécimaux).")),
        T(gettext_noop("Bulletin : « answers » doit être un objet, « rows » une liste.")),
        T(gettext_noop("Signature impossible à vérifier : clé publique absente.")),
        T(gettext_noop("Signature invalide : 128 caractères hexadécimaux attendus.")),
        T(
            gettext_noop(
                "Signature invalide : le bulletin a été modifié ou n'a pas été signé par ce code."
            )
        ),
        T(gettext_noop("Ce bulletin est destiné à une autre consultation.")),
        T(
            gettext_noop(
                "Ce bulletin a été préparé pour une autre version des questions : "
                "rechargez la page."
            )
        ),
        T(
            gettext_noop(
                "La consultation n'est pas ouverte : réponses acceptées du %(opens)s au "
                "%(closes)s (UTC)."
            ),
            opens=_utc_moment,
            closes=_utc_moment,
        ),
        T(gettext_noop("Cette consultation demande un code personnel.")),
        T(gettext_noop("Bulletin sans clé : il ne doit pas porter de signature.")),
        T(
            gettext_noop(
                "La consultation est close depuis le %(closes)s (%(zone)s) : votre réponse n'a "
                "pas été enregistrée."
            ),
            closes=_utc_moment,
            zone=_zone_words,
        ),
        T(
            gettext_noop(
                "La consultation n'est pas encore ouverte : réponses acceptées à partir du "
                "%(opens)s (%(zone)s)."
            ),
            opens=_utc_moment,
            zone=_zone_words,
        ),
        T(gettext_noop("La consultation est close : votre réponse n'a pas été enregistrée.")),
        T(gettext_noop("Choisissez votre école / secteur dans la liste.")),
        T(gettext_noop("Segment « %(segment)s » inconnu : choisissez-en un dans la liste.")),
        T(gettext_noop("Segment %(segment)s inconnu : choisissez-en un dans la liste.")),
        T(gettext_noop("Cette consultation n'a pas de segments.")),
        T(gettext_noop("Consultation ouverte : les bulletins ne portent pas de clé.")),
        T(gettext_noop("Code inconnu : il ne fait pas partie de cette consultation.")),
        T(gettext_noop("Ce code a été révoqué ; utilisez le nouveau code qui vous a été remis.")),
        T(gettext_noop("Bulletin avec clé : le segment vient de la liste des codes.")),
        T(gettext_noop("Bulletin avec clé mais sans signature.")),
        T(
            gettext_noop(
                "Une réponse plus récente avec ce code figure déjà sur le tableau ; "
                "celle-ci n'a pas été enregistrée."
            )
        ),
        T(
            gettext_noop(
                "Ce code a atteint le nombre maximal de réponses (%(n)s) : la dernière "
                "enregistrée compte ; celle-ci n'a pas été enregistrée."
            )
        ),
        T(gettext_noop("Réponses invalides : %(errors)s"), errors=_answer_errors),
        # consult.canonical: why a ballot has no canonical encoding (after "Bulletin
        # non encodable : "); the path names a field of the ballot.
        T(gettext_noop("%(path)s: entier hors de l'intervalle sûr (±2^53-1)")),
        T(gettext_noop("%(path)s: clé non textuelle %(key)s")),
        T(gettext_noop("%(path)s: nombre décimal refusé (entiers seulement)")),
        T(gettext_noop("%(path)s: type non encodable %(type)s")),
        T(gettext_noop("chaîne non encodable en UTF-8 (demi-paire de substitution)")),
        T(gettext_noop("caractère nul (\\u0000) refusé")),
        T(gettext_noop("nombre non entier refusé (%(text)s)")),
        T(gettext_noop("entier hors de l'intervalle sûr (%(text)s)")),
    ]
)


def refusal(message: str) -> str:
    """A refused ballot's message in the active language (as written when unknown)."""
    return REFUSALS.say(message)
