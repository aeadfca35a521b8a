"""One entry per kind of source: its form, its config, how to build it.

The web form for "add a source" is generated from ``FORMS``: its labels and help
texts are plain French strings, marked with ``_`` so that makemessages collects them,
and translated at the web edge when the form is shown (``watch.forms.SourceForm``).
The package imports no Django: the command line and tests use sources without it.
``build_source`` turns the submitted data into a running source or raises
``ConfigError`` whose ``errors`` map each field to its message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from beffroi.watch.sources.base import ConfigError, PollingSource, Pseudonymiser, StreamingSource


def _(msgid: str) -> str:
    """Marks a French msgid for makemessages; the web edge translates it."""
    return msgid


# Only files under the deployment's import folders can be read (watch.actions): say
# where before a refused path does.
_IMPORT_PATH_HELP = _(
    "Chemin complet du fichier sur le serveur, dans le dossier « imports » du répertoire "
    "de données de Beffroi (ou dans les jeux de données partagés)."
)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str  # "url" | "text" | "list" | "number" | "bool" | "choice" | "path"
    required: bool = False
    help: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceForm:
    kind: str
    label: str
    description: str
    fields: tuple[Field, ...]


FORMS: dict[str, SourceForm] = {
    "rss": SourceForm(
        "rss",
        _("Flux RSS/Atom"),
        _("Sites d'information, préfecture, Vigicrues, Météo-France : tout flux RSS ou Atom."),
        (
            Field("url", _("Adresse du flux"), "url", required=True, help="https://…/rss.xml"),
            Field("poll_interval", _("Intervalle de relève (s)"), "number", default=120),
            Field("timeout", _("Délai d'attente (s)"), "number", default=20),
        ),
    ),
    "mastodon": SourceForm(
        "mastodon",
        "Mastodon",
        _("Mots-dièse et fils public/local d'une instance, en direct (streaming)."),
        (
            Field("instance_url", _("Instance"), "url", required=True, help="https://piaille.fr"),
            Field("hashtags", _("Mots-dièse"), "list", help=_("Un par ligne, avec ou sans #.")),
            Field(
                "timelines",
                _("Fils"),
                "list",
                help=_("public et/ou local"),
                choices=("public", "local"),
            ),
            Field("access_token", _("Jeton d'accès"), "text", help=_("Si l'instance l'exige.")),
            Field("backfill", _("Messages récents à la première connexion"), "number", default=20),
            Field("catch_up_pages", _("Pages de rattrapage après coupure"), "number", default=25),
            Field(
                "recheck",
                _("Messages revérifiés à la reconnexion"),
                "number",
                default=40,
                help=_("Modifications et suppressions faites pendant une coupure (0 : aucune)."),
            ),
            Field(
                "fill_pages",
                _("Pages récupérées par minute pour combler un trou"),
                "number",
                default=3,
                help=_(
                    "Messages d'une coupure que le rattrapage n'a pas atteints, récupérés "
                    "ensuite en arrière-plan, 40 par page (0 : jamais)."
                ),
            ),
            Field(
                "lookback_minutes",
                _("Minutes relues avant le dernier message à la reconnexion"),
                "number",
                default=15,
                help=_(
                    "Messages que l'instance numérote avant le dernier reçu (diffusés ou "
                    "fédérés en retard), cherchés à chaque reconnexion, 200 au plus "
                    "(0 : jamais)."
                ),
            ),
        ),
    ),
    "bluesky": SourceForm(
        "bluesky",
        "Bluesky",
        _("Tous les posts Bluesky (via Jetstream) contenant un des mots-clés."),
        (
            Field(
                "keywords",
                _("Mots-clés et mots-dièse"),
                "list",
                required=True,
                help=_("Un par ligne ; « #crue » ne retient que le mot-dièse."),
            ),
            Field("languages", _("Langues"), "list", help=_("fr, en… (vide : toutes)")),
            Field(
                "endpoint",
                _("Serveur Jetstream"),
                "url",
                help=_("wss://jetstream.us-east.bsky.network/xrpc par défaut"),
            ),
            Field("compress", _("Compression"), "bool", default=True),
            Field(
                "profiles",
                _("Genre de compte des auteurs"),
                "bool",
                default=True,
                help=_(
                    "Demande à un AppView Bluesky le profil des auteurs des posts retenus ; "
                    "seul le genre de compte (média, institution…) est gardé."
                ),
            ),
            Field(
                "appview",
                _("Serveur AppView"),
                "url",
                help=_("https://public.api.bsky.app par défaut"),
            ),
        ),
    ),
    "file": SourceForm(
        "file",
        _("Import de fichier"),
        _(
            "CSV ou JSON Lines avec au moins les champs id, text et created_at (détail : "
            "docs/formats/import-posts.md), ou un fichier CrisisLexT26."
        ),
        (
            Field("path", _("Fichier"), "path", required=True, help=_IMPORT_PATH_HELP),
            Field(
                "format",
                _("Format"),
                "choice",
                default="auto",
                choices=("auto", "csv", "jsonl", "crisislex"),
            ),
            Field(
                "timestamps_path",
                _("Horodatages CrisisLex"),
                "path",
                help=_("*-tweetids_entire_period.csv (trouvé à côté par défaut)"),
            ),
        ),
    ),
    "replay": SourceForm(
        "replay",
        _("Rejeu d'un jeu de données"),
        _("Rejoue un fichier avec son rythme d'origine, accéléré : démonstrations et exercices."),
        (
            Field("path", _("Fichier"), "path", required=True, help=_IMPORT_PATH_HELP),
            Field("speed", _("Accélération (×)"), "number", default=60),
            Field(
                "max_gap",
                _("Silence maximal (s de données)"),
                "number",
                help=_("Raccourcit les longues pauses (nuits) du jeu de données."),
            ),
            Field(
                "format",
                _("Format"),
                "choice",
                default="auto",
                choices=("auto", "csv", "jsonl", "crisislex"),
            ),
            Field("shift_to_now", _("Dater au moment du rejeu"), "bool", default=True),
        ),
    ),
}


def validate_config(kind: str, data: Mapping[str, Any]) -> Any:
    """The typed config of a submitted form; ConfigError with French messages otherwise."""
    if kind == "rss":
        from beffroi.watch.sources.rss import RssConfig

        return RssConfig.from_form(data)
    if kind == "mastodon":
        from beffroi.watch.sources.mastodon import MastodonConfig

        return MastodonConfig.from_form(data)
    if kind == "bluesky":
        from beffroi.watch.sources.bluesky import BlueskyConfig

        return BlueskyConfig.from_form(data)
    if kind == "file":
        from beffroi.watch.sources.fileimport import FileImportConfig

        return FileImportConfig.from_form(data)
    if kind == "replay":
        from beffroi.watch.sources.replay import ReplayConfig

        return ReplayConfig.from_form(data)
    raise ConfigError({"kind": f"Type de source inconnu : « {kind} »."})


def build_source(
    kind: str,
    source_id: str,
    data: Mapping[str, Any],
    *,
    pseudonymise: Pseudonymiser,
    **options: Any,
) -> PollingSource | StreamingSource:
    """Validate ``data`` and build the source; ``options`` go to its constructor
    (e.g. ``clock``/``sleep`` for replay, ``idle_tick`` for streams)."""
    config = validate_config(kind, data)
    factories: dict[str, Callable[..., PollingSource | StreamingSource]] = {}
    if kind == "rss":
        from beffroi.watch.sources.rss import RssSource

        factories[kind] = RssSource
    elif kind == "mastodon":
        from beffroi.watch.sources.mastodon import MastodonSource

        factories[kind] = MastodonSource
    elif kind == "bluesky":
        from beffroi.watch.sources.bluesky import BlueskySource

        factories[kind] = BlueskySource
    elif kind == "file":
        from beffroi.watch.sources.fileimport import FileImportSource

        factories[kind] = FileImportSource
    else:
        from beffroi.watch.sources.replay import ReplaySource

        factories[kind] = ReplaySource
    return factories[kind](source_id, config, pseudonymise=pseudonymise, **options)
