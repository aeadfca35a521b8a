"""The watch room's French sentences from pure code, re-said in the reader's language.

Source validators (``watch.sources``), the priority scorer (``watch.pipeline``)
and the source runner write French; these tables let the views show English to
an English reader (see ``beffroi.web.views_i18n``).  A template must be the exact
French text the pure code writes: tests/watch/test_i18n_s6_watch.py drives the
real validators and scorer and fails on any sentence no template recognises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import get_language_info, gettext, gettext_noop, ngettext

from beffroi.web.views_i18n import FrenchTemplates, T, word


def _french_datetime(value: str) -> str:
    """``dd/mm/YYYY HH:MM`` (how the journal-side text writes a moment) in the
    reader's short date format: 23/11/2026 is 11/23/2026 to an American reader."""
    try:
        moment = datetime.strptime(value, "%d/%m/%Y %H:%M")
    except ValueError:
        return value
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


# Languages the detector knows (watch.pipeline.language.DEFAULT_LANGUAGES) that
# Django's table does not name.
LANGUAGE_NAMES = {
    "oc": gettext_noop("Occitan"),
    "ht": gettext_noop("Créole haïtien"),
    "gcf": gettext_noop("Créole guadeloupéen"),
    "tl": gettext_noop("Tagalog"),
    "zh": gettext_noop("Chinois"),
}


def language_name(code: str) -> str:
    """A post's language code (``en``, ``pt-br``) as the language's name in the reader's
    language (« Anglais », "English"), from Django's own table and catalogue; a code
    nobody names is shown as it is."""
    code = code.lower()
    if code in LANGUAGE_NAMES:
        return gettext(LANGUAGE_NAMES[code])
    try:
        info = get_language_info(code)
    except KeyError:
        return code
    return str(info["name_translated"])


def language_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, name) for a language filter, in the order of the names the reader sees."""
    named = {(code, language_name(code)) for code in codes}
    return sorted(named, key=lambda pair: (pair[1].casefold(), pair[0]))


def _quoted(value: str) -> str:
    """« mot », « autre » (French guillemets and their spaces) as English quotes."""
    return value.replace("« ", "“").replace(" »", "”")


# The senders a source may declare, as the priority line names them.
SENDER_WORDS = (
    gettext_noop("média"),
    gettext_noop("institution"),
    gettext_noop("ONG"),
    gettext_noop("entreprise"),
)


def _status(value: str) -> str:
    """The error a retry line starts with (itself a status sentence)."""
    return SOURCE_STATUS.say(value)


# Why watch.sources.netguard refuses an address (its refusal_reason).
REFUSAL_WORDS = (
    gettext_noop("adresse non spécifiée"),
    gettext_noop("boucle locale"),
    gettext_noop("lien local"),
    gettext_noop("multidiffusion"),
    gettext_noop("site local"),
    gettext_noop("réseau privé"),
    gettext_noop("plage réservée"),
    gettext_noop("réseau partagé d'opérateur"),
    gettext_noop("adresse non publique"),
)
_REFUSED = T(gettext_noop("Adresse interne refusée : %(where)s (%(reason)s)."), reason=word)

# Why a deployment setting the sources read (watch.sources.netguard.SettingError) is
# wrong: behind « Réglage du serveur invalide : » in a form, or a failed source's status.
SETTING_ERRORS = FrenchTemplates(
    [
        T(
            gettext_noop(
                "BEFFROI_SOURCES_ALLOW_NETWORKS : « %(item)s » n'est pas un réseau (%(detail)s)."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_PROXY : « %(value)s » n'est pas une adresse de proxy "
                "(http://hôte:port attendu)."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_PROXY : « %(value)s » n'est pas un proxy http:// "
                "(http://hôte:port attendu)."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_PROXY : « %(value)s » ne nomme pas d'hôte valide "
                "(http://hôte:port attendu)."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_PROXY : « %(value)s » ne précise pas de port "
                "(http://hôte:port attendu)."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_PROXY : « %(value)s » contient un chemin "
                "(http://hôte:port attendu)."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_NO_PROXY : « %(item)s » n'est ni un réseau ni un nom de "
                "domaine (10.20.0.0/16 ou intranet.example attendu)."
            )
        ),
        T(gettext_noop("BEFFROI_SOURCES_CA_FILE : « %(path)s » n'est pas un fichier.")),
        T(gettext_noop("BEFFROI_SOURCES_CA_FILE : « %(path)s » introuvable.")),
        T(gettext_noop("BEFFROI_SOURCES_CA_FILE : « %(path)s » illisible : accès refusé.")),
        T(gettext_noop("BEFFROI_SOURCES_CA_FILE : « %(path)s » illisible (%(detail)s).")),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_CA_FILE : « %(path)s » dépasse 4 Mo : ce n'est pas une "
                "liste d'autorités."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_CA_FILE : « %(path)s » ne contient aucun certificat au format "
                "PEM (-----BEGIN CERTIFICATE-----)."
            )
        ),
        T(
            gettext_noop(
                "BEFFROI_SOURCES_CA_FILE : « %(path)s » : le certificat n° %(n)s est illisible."
            ),
            "n",
        ),
    ]
)

# Messages of watch.sources' form validation (config.Form and each source's from_form).
SOURCE_ERRORS = FrenchTemplates(
    [
        T(gettext_noop("Ce champ est obligatoire.")),
        T(gettext_noop("Texte attendu.")),
        T(gettext_noop("Nombre attendu.")),
        T(gettext_noop("Doit être au moins %(n)s.")),
        T(gettext_noop("Doit être au plus %(n)s.")),
        T(gettext_noop("Oui ou non attendu.")),
        T(gettext_noop("Liste attendue.")),
        T(gettext_noop("URL de flux invalide (http:// ou https:// attendu).")),
        T(gettext_noop("Adresse d'instance invalide (https://… attendu).")),
        T(gettext_noop("Adresse Jetstream invalide (wss://…/xrpc attendu).")),
        T(gettext_noop("Adresse AppView invalide (https://… attendu).")),
        T(
            gettext_noop(
                "Adresse AppView en http:// refusée : https:// attendu (http:// seulement "
                "vers cette machine ou un réseau de BEFFROI_SOURCES_ALLOW_NETWORKS)."
            )
        ),
        T(gettext_noop("Mot-dièse invalide : « %(tag)s ».")),
        T(gettext_noop("Fil inconnu « %(name)s » : choisir public ou local.")),
        T(gettext_noop("Indiquer au moins un mot-dièse ou un fil public/local.")),
        T(gettext_noop("Indiquer au moins un mot-clé ou un mot-dièse.")),
        T(gettext_noop("Code de langue invalide : « %(code)s » (fr, en… attendus).")),
        T(gettext_noop("Format inconnu : choisir csv, jsonl, crisislex ou auto.")),
        T(gettext_noop("Fichier introuvable.")),
        T(gettext_noop("Fichier des horodatages introuvable.")),
        T(gettext_noop("Type de source inconnu : « %(kind)s ».")),
        _REFUSED,
        T(gettext_noop("Réglage du serveur invalide : %(detail)s"), detail=SETTING_ERRORS.say),
    ]
)

# Lines of a card's priority explanation (watch.pipeline.priority._explain), plus
# the author's edits and deletions the worker prepends (watch.actions).
EXPLANATIONS = FrenchTemplates(
    [
        T(gettext_noop("urgence %(u)s : %(cues)s"), "u", cues=_quoted),
        T(gettext_noop("aucun indice d'urgence")),
        T(gettext_noop("pas de classifieur : informativité supposée 0,5")),
        T(gettext_noop("informatif p=%(p)s"), "p"),
        T(gettext_noop("émetteur déclaré pour la source : %(sender)s"), sender=word),
        T(gettext_noop("émetteur déclaré d'un message du groupe : %(sender)s"), sender=word),
        T(gettext_noop("témoin direct p=%(p)s (probable)"), "p"),
        T(gettext_noop("témoin direct p=%(p)s"), "p"),
        T(gettext_noop("nouveau : premier message de son groupe")),
        T(gettext_noop("copie exacte, groupe de %(n)s messages (nouveauté %(p)s)"), "n", "p"),
        T(gettext_noop("quasi-copie, groupe de %(n)s messages (nouveauté %(p)s)"), "n", "p"),
        T(gettext_noop("dans la zone : %(names)s")),
        T(gettext_noop("localisé hors de la zone : %(names)s")),
        T(gettext_noop("localisé : %(names)s")),
        T(gettext_noop("non localisé")),
        T(
            gettext_noop("modifié par l'auteur le %(when)s ; version précédente : « %(text)s »"),
            when=_french_datetime,
        ),
        T(gettext_noop("supprimé par l'auteur le %(when)s"), when=_french_datetime),
        T(
            gettext_noop(
                "non analysé : le message a dépassé deux fois le délai d'analyse ; "
                "lisez-le vous-même"
            )
        ),
    ]
)

# A running source's status line (watch.sources.runner, watch.worker), and the
# messages of the sources' own errors that the runner shows as they are.
SOURCE_STATUS = FrenchTemplates(
    [
        # A file import's status, and the columns it did not keep (fileimport.py).
        T(gettext_noop("%(status)s Colonne non conservée : %(names)s."), status=_status),
        T(
            gettext_noop("%(status)s Colonnes non conservées (%(n)s) : %(names)s."),
            "n",
            status=_status,
        ),
        T(gettext_noop("Connecté, en écoute.")),
        T(gettext_noop("Connexion en cours…")),
        T(gettext_noop("En écoute : %(n)s messages reçus depuis le démarrage du worker."), "n"),
        T(gettext_noop("%(n)s messages reçus depuis le démarrage du worker."), "n"),
        # French writes 0 and 1 in the singular.
        T(gettext_noop("En écoute : %(n)s message reçu depuis le démarrage du worker."), "n"),
        T(gettext_noop("%(n)s message reçu depuis le démarrage du worker."), "n"),
        T(
            gettext_noop("Import terminé : %(n)s message reçu depuis le démarrage du worker."),
            "n",
        ),
        T(gettext_noop("Flux vide ou illisible : ni RSS ni Atom.")),
        T(gettext_noop("Le flux ne contient plus aucune entrée alors qu'il en publiait.")),
        # A valid feed that published entries and has none now (an alert feed, calm).
        T(
            gettext_noop(
                "Le flux est vide pour l'instant (il a publié des entrées auparavant). "
                "%(n)s message reçu depuis le démarrage du worker."
            ),
            "n",
        ),
        T(
            gettext_noop(
                "Le flux est vide pour l'instant (il a publié des entrées auparavant). "
                "%(n)s messages reçus depuis le démarrage du worker."
            ),
            "n",
        ),
        T(
            gettext_noop("Import terminé : %(n)s messages reçus depuis le démarrage du worker."),
            "n",
        ),
        # As workers before session 8 wrote them (stored until the source reports again).
        T(gettext_noop("En écoute : %(n)s messages reçus."), "n"),
        T(gettext_noop("%(n)s messages reçus."), "n"),
        T(gettext_noop("Source terminée.")),
        T(gettext_noop("Import terminé : %(n)s messages."), "n"),
        T(gettext_noop("Source arrêtée.")),
        T(gettext_noop("En attente du worker.")),
        T(gettext_noop("%(error)s Nouvel essai dans %(n)s s."), "n", error=_status),
        T(gettext_noop("Délai d'attente dépassé.")),
        T(gettext_noop("Erreur réseau : %(detail)s")),
        T(gettext_noop("Erreur inattendue (%(kind)s) : %(detail)s")),
        T(gettext_noop("Erreur interne : %(detail)s.")),
        T(
            gettext_noop("Configuration invalide : %(errors)s"),
            errors=lambda v: "; ".join(SOURCE_ERRORS.say(e) for e in v.split("; ")),
        ),
        T(gettext_noop("Flux injoignable (%(url)s) : connexion refusée.")),
        T(
            gettext_noop(
                "Flux injoignable (%(url)s) : adresse introuvable (nom de domaine inconnu)."
            )
        ),
        T(
            gettext_noop(
                "Flux injoignable (%(url)s) : connexion impossible (serveur ou réseau injoignable)."
            )
        ),
        T(gettext_noop("Flux injoignable (%(url)s) : pas de réponse en %(n)s s."), "n"),
        T(
            gettext_noop("Flux injoignable (%(url)s) : flux non reçu en entier en %(n)s s."),
            "n",
        ),
        T(gettext_noop("Flux trop volumineux (plus de %(n)s Mo)."), "n"),
        T(
            gettext_noop(
                "Flux injoignable (%(url)s) : certificat du serveur non reconnu (%(detail)s) ; "
                "derrière un proxy qui déchiffre TLS, voir BEFFROI_SOURCES_CA_FILE."
            )
        ),
        T(gettext_noop("Flux injoignable (%(url)s) : %(detail)s.")),
        T(gettext_noop("Le serveur du flux répond %(code)s (%(reason)s).")),
        T(gettext_noop("Flux illisible : XML mal formé (%(detail)s).")),
        T(gettext_noop("Flux partiellement mal formé : %(detail)s")),
        T(gettext_noop("Le flux a été fermé par le serveur.")),
        _REFUSED,
        T(gettext_noop("L'instance %(host)s a fermé le flux « %(name)s ».")),
        T(gettext_noop("L'instance %(host)s limite le nombre de requêtes : pause demandée.")),
        T(gettext_noop("Fichier introuvable : %(path)s.")),
        # A line too long to read (fileimport.MAX_LINE) before the csv module's errors.
        T(gettext_noop("En-tête CSV illisible (ligne 1) : ligne trop longue.")),
        T(
            gettext_noop(
                "CSV illisible à partir de la ligne %(n)s : ligne de plus de %(max)s caractères."
            ),
            "n",
            "max",
        ),
        T(gettext_noop("En-tête CSV illisible (ligne 1) : %(detail)s.")),
        T(gettext_noop("CSV illisible à partir de la ligne %(n)s : %(detail)s."), "n"),
        T(gettext_noop("Colonnes obligatoires absentes de l'en-tête (ligne 1) : %(columns)s")),
        # The deployment's proxy (watch.sources.netguard.ProxyFailure); the specific
        # shapes before the general ones that would also match them.
        T(
            gettext_noop("Proxy des sources injoignable (%(where)s) : pas de réponse en %(n)s s."),
            "n",
        ),
        T(gettext_noop("Proxy des sources injoignable (%(where)s) : pas de réponse.")),
        T(gettext_noop("Proxy des sources injoignable (%(where)s) : %(detail)s.")),
        T(gettext_noop("Nom d'hôte illisible pour le proxy : %(host)s.")),
        T(
            gettext_noop("Le proxy des sources (%(where)s) n'a pas ouvert %(target)s en %(n)s s."),
            "n",
        ),
        T(gettext_noop("Le proxy des sources (%(where)s) n'a pas ouvert %(target)s.")),
        T(gettext_noop("Le proxy des sources (%(where)s) a coupé la connexion : %(detail)s.")),
        T(gettext_noop("Le proxy des sources (%(where)s) a fermé la connexion sans répondre.")),
        T(gettext_noop("Le proxy des sources (%(where)s) répond des en-têtes sans fin.")),
        T(gettext_noop("Le proxy des sources (%(where)s) ne répond pas en HTTP.")),
        T(
            gettext_noop(
                "Le proxy des sources (%(where)s) demande une authentification (%(said)s) : "
                "vérifier l'identifiant et le mot de passe de BEFFROI_SOURCES_PROXY."
            )
        ),
        T(gettext_noop("Le proxy des sources (%(where)s) refuse d'ouvrir %(target)s (%(said)s).")),
        # Mastodon's and Jetstream's failures (each source's _describe).
        T(gettext_noop("Accès refusé par l'instance %(host)s (jeton manquant ou invalide).")),
        T(
            gettext_noop(
                "Point d'accès introuvable sur l'instance %(host)s "
                "(est-ce bien une instance Mastodon ?)."
            )
        ),
        T(gettext_noop("L'instance %(host)s refuse le flux en direct (%(reason)s).")),
        T(gettext_noop("Instance injoignable (%(host)s) : %(detail)s")),
        T(gettext_noop("Erreur de l'instance %(host)s : %(detail)s")),
        T(gettext_noop("Erreur Mastodon (%(kind)s) : %(detail)s")),
        T(gettext_noop("Jetstream : %(error)s"), error=_status),
        T(gettext_noop("Jetstream (%(host)s) a fermé la connexion.")),
        T(gettext_noop("Jetstream (%(host)s) a coupé : lecture trop lente.")),
        T(gettext_noop("Jetstream (%(host)s) : point de reprise trop ancien.")),
        T(gettext_noop("Jetstream injoignable (%(host)s) : %(detail)s")),
        T(gettext_noop("Jetstream (%(host)s) a refusé la connexion : %(detail)s")),
        T(gettext_noop("Jetstream (%(host)s) : %(detail)s")),
    ]
)


def _line_reason(value: str) -> str:
    """A skip's reason as a file's line names it (first letter made small), re-said."""
    said = SKIP_REASONS.say(value[:1].upper() + value[1:])
    return said[:1].lower() + said[1:] if said[1:2].islower() else said


# Why an input item did not become a post (the sources' Skipped reasons), shown as
# the source's last skipped item.
SKIP_REASONS = FrenchTemplates(
    [
        T(gettext_noop("Identifiant manquant.")),
        T(gettext_noop("Texte manquant.")),
        T(gettext_noop("Encodage invalide (UTF-8 attendu).")),
        T(gettext_noop("Un objet JSON est attendu sur chaque ligne.")),
        T(gettext_noop("%(found)s colonnes au lieu de %(expected)s."), "found", "expected"),
        T(gettext_noop("Date manquante (colonne created_at).")),
        T(gettext_noop("JSON mal formé (colonne %(column)s) : %(detail)s.")),
        T(gettext_noop("Ligne trop longue (plus de 16 millions de caractères) : ignorée.")),
        T(gettext_noop("Enregistrement de post invalide (schéma app.bsky.feed.post).")),
        T(
            gettext_noop(
                "Modification d'un post suivi ignorée : le nouvel enregistrement n'est pas un "
                "post lisible (schéma app.bsky.feed.post)."
            )
        ),
        T(gettext_noop("Post sans date lisible.")),
        T(gettext_noop("Post illisible : %(detail)s.")),
        T(gettext_noop("Trame Jetstream illisible : %(detail)s.")),
        T(gettext_noop("Avis Jetstream : %(notice)s")),
        T(gettext_noop("Flux partiellement mal formé : %(detail)s.")),
        T(gettext_noop("Entrée sans titre ni contenu.")),
        T(gettext_noop("Entrée de flux inexploitable : %(detail)s")),
        T(gettext_noop("Statut illisible : objet JSON attendu.")),
        T(gettext_noop("Statut sans identifiant.")),
        T(gettext_noop("Statut sans date.")),
        T(gettext_noop("Statut sans texte.")),
        T(gettext_noop("Modification illisible : %(detail)s")),
        T(gettext_noop("Statut illisible : %(detail)s.")),
        T(gettext_noop("Suppression illisible : identifiant de statut attendu.")),
        T(gettext_noop("Date illisible « %(value)s ».")),
        T(gettext_noop("Flux tronqué aux %(n)s entrées les plus récentes."), "n"),
        # A file's line (watch.sources.runner.skip_text): the reason with a small letter.
        T(gettext_noop("Ligne %(line)s ignorée : %(reason)s"), "line", reason=_line_reason),
        # No source writes it since session 6 (a CoverageGap instead), but sources
        # that skipped before still show it as their last skip.
        T(
            gettext_noop(
                "Rattrapage limité à %(n)s messages : des messages plus anciens de la coupure "
                "manquent."
            ),
            "n",
        ),
        T(
            gettext_noop(
                "Revérification des modifications et suppressions faites pendant la coupure "
                "abandonnée (%(n)s messages non revérifiés) : %(detail)s"
            ),
            "n",
        ),
        T(gettext_noop("Revérification : statut illisible, objet JSON attendu.")),
        T(gettext_noop("Événement illisible : %(detail)s.")),
    ]
)


# Why a source could not receive a span of posts (a CoverageGap's reason).
GAP_REASONS = FrenchTemplates(
    [
        T(gettext_noop("Jetstream ne rejoue que les dernières heures : 36 h par défaut")),
        T(gettext_noop("Rattrapage limité à %(n)s messages sur le fil %(stream)s"), "n"),
        T(gettext_noop("Rattrapage désactivé sur le fil %(stream)s")),
    ]
)


def coverage_gap_text(data: Mapping[str, Any], filled: Mapping[str, Any] | None = None) -> str:
    """A gap journaled by ``actions.record_coverage_gap`` (``watch.source.gap``), as the
    sources page says it, with its times in the reader's zone and date order;
    ``filled``: its ``watch.source.gap.filled`` entry, if it was fetched afterwards."""

    def when(value: Any) -> str:
        moment = timezone.localtime(datetime.fromisoformat(str(value)))
        return formats.date_format(moment, "SHORT_DATETIME_FORMAT")

    values = {"end": when(data["to"]), "reason": GAP_REASONS.say(str(data.get("reason", "")))}
    if filled is not None:
        if data.get("from"):
            span = gettext("du %(start)s au %(end)s") % {**values, "start": when(data["from"])}
        else:
            span = gettext("d'avant le %(end)s") % values
        # Entries before session 8 have no outcome: served or not served.
        outcome = filled.get("outcome") or ("filled" if filled.get("served") else "not-served")
        # Posts of the span new to the room (entries before session 8: what the
        # instance returned, as they counted it).
        n = int(filled.get("received") or 0)
        if outcome == "filled":
            return ngettext(
                "Trou de couverture comblé après coup : %(n)s message %(span)s récupéré.",
                "Trou de couverture comblé après coup : %(n)s messages %(span)s récupérés.",
                n,
            ) % {"n": n, "span": span}
        if outcome == "fill-off":
            text = gettext(
                "Trou de couverture : messages %(span)s non reçus ; la récupération après "
                "coup a été désactivée dans la source (%(reason)s)."
            ) % {**values, "span": span}
        elif outcome == "abandoned":
            failures = int(filled.get("failures") or 0)
            text = ngettext(
                "Trou de couverture : messages %(span)s non reçus ; récupération après coup "
                "abandonnée après %(failures)s échec de l'instance (%(reason)s).",
                "Trou de couverture : messages %(span)s non reçus ; récupération après coup "
                "abandonnée après %(failures)s échecs de suite de l'instance (%(reason)s).",
                failures,
            ) % {**values, "span": span, "failures": failures}
        elif outcome == "unwatched":
            text = gettext(
                "Trou de couverture : messages %(span)s non reçus ; ce fil n'est plus suivi "
                "par la source (%(reason)s)."
            ) % {**values, "span": span}
        else:
            text = gettext(
                "Trou de couverture : messages %(span)s non reçus, que l'instance ne sert plus "
                "(%(reason)s)."
            ) % {**values, "span": span}
        if n > 0:
            text += " " + ngettext(
                "%(n)s message de la période avait été récupéré.",
                "%(n)s messages de la période avaient été récupérés.",
                n,
            ) % {"n": n}
        return text
    if data.get("from"):
        return gettext(
            "Trou de couverture : messages du %(start)s au %(end)s non reçus (%(reason)s)."
        ) % {**values, "start": when(data["from"])}
    return gettext("Trou de couverture : messages d'avant le %(end)s non reçus (%(reason)s).") % (
        values
    )


def explanation(lines: list[str]) -> list[str]:
    return [EXPLANATIONS.say(line) for line in lines]


# The main courante's export formats as the menus name them (watch.exports.FORMATS
# keys); the others are named by their key in capitals (ODS, XLSX, PDF).
_EXPORT_NAMES = {"excel.csv": gettext_noop("CSV (Excel)")}
_EXPORT_HINTS = {
    "csv": gettext_noop("Virgules, UTF-8 : scripts et la plupart des tableurs"),
    "excel.csv": gettext_noop(
        "Points-virgules : ce qu'Excel attend quand il est réglé en français"
    ),
}


def export_label(fmt: str) -> str:
    return gettext(_EXPORT_NAMES[fmt]) if fmt in _EXPORT_NAMES else fmt.upper()


def export_formats(keys: list[str]) -> list[tuple[str, str, str]]:
    """(format, name, hint) for the export menus, in the order given."""
    return [
        (fmt, export_label(fmt), gettext(_EXPORT_HINTS[fmt]) if fmt in _EXPORT_HINTS else "")
        for fmt in keys
    ]
