"""Session 6: the watch room's forms, errors, status lines and priority lines in English.

The sentences come from pure code (source validators, the priority scorer, the
source runner) and stay French there; the views re-say them.  These tests drive
the real pure code, so a sentence added there without a template fails here.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from beffroi.watch.forms import translated
from beffroi.watch.pipeline import Pipeline, PipelineConfig, PostIn
from beffroi.watch.sources import FORMS, ConfigError, validate_config
from beffroi.watch.views_i18n import (
    EXPLANATIONS,
    SETTING_ERRORS,
    SKIP_REASONS,
    SOURCE_ERRORS,
    SOURCE_STATUS,
    explanation,
)
from english_catalogue import english
from pipeline_fakes import FakeClassifier

# Letters only French writes; an English sentence has none (names and quoted
# words are checked apart).
_FRENCH = re.compile(r"[éèêàçùôî]|\b(?:le|la|les|des|du|attendu|au moins|ou)\b")

# Bad input for every field the source forms validate: each produces its message.
_BAD: list[tuple[str, dict[str, Any]]] = [
    ("rss", {}),
    ("rss", {"url": "ftp://x"}),
    ("rss", {"url": "https://a.example/rss", "poll_interval": "abc"}),
    ("rss", {"url": "https://a.example/rss", "poll_interval": 1}),
    ("rss", {"url": "https://a.example/rss", "timeout": 1000}),
    ("rss", {"url": 12}),
    ("mastodon", {"instance_url": "piaille"}),
    ("mastodon", {"instance_url": "https://a.example", "hashtags": "a b"}),
    ("mastodon", {"instance_url": "https://a.example", "timelines": "federee"}),
    ("mastodon", {"instance_url": "https://a.example"}),
    ("mastodon", {"instance_url": "https://a.example", "hashtags": 3}),
    ("bluesky", {}),
    ("bluesky", {"keywords": "crue", "languages": "francais"}),
    ("bluesky", {"keywords": "crue", "endpoint": "http://x"}),
    ("bluesky", {"keywords": "crue", "compress": "peut-être"}),
    ("file", {"path": "/nonexistent/posts.csv", "format": "xml"}),
    ("file", {"path": "/nonexistent/posts.csv", "timestamps_path": "/nonexistent/t.csv"}),
    ("replay", {"path": "/nonexistent/posts.csv", "format": "xml", "speed": 0}),
    ("telegram", {}),
    # Refused by watch.sources.netguard: the cloud metadata service, a private network.
    ("rss", {"url": "http://169.254.169.254/latest"}),
    ("mastodon", {"instance_url": "https://10.0.0.1", "hashtags": "crue"}),
]


def _messages() -> list[str]:
    found: list[str] = []
    for kind, data in _BAD:
        with pytest.raises(ConfigError) as err:
            validate_config(kind, data)
        found.extend(err.value.errors.values())
    return found


def test_every_source_form_error_is_known_and_said_in_english() -> None:
    messages = _messages()
    assert len(set(messages)) >= 15
    unknown = [m for m in messages if SOURCE_ERRORS.match(m) is None]
    assert unknown == []
    with english():
        for message in messages:
            said = SOURCE_ERRORS.say(message)
            plain = re.sub(r"“[^”]*”", "", said)
            assert said != message and not _FRENCH.search(plain), (message, said)
        assert SOURCE_ERRORS.say("Doit être au moins 10 s.") == "Must be at least 10 s."
        assert SOURCE_ERRORS.say("Adresse interne refusée : 10.0.0.1 (réseau privé).") == (
            "Internal address refused: 10.0.0.1 (private network)."
        )
        assert SOURCE_STATUS.say("Adresse interne refusée : 169.254.169.254 (lien local).") == (
            "Internal address refused: 169.254.169.254 (link-local)."
        )
        assert (
            SOURCE_ERRORS.say("Mot-dièse invalide : « crue inondation ».")
            == "Invalid hashtag: “crue inondation”."
        )
    # French readers get the sentence as the validator wrote it.
    with override("fr"):
        assert [SOURCE_ERRORS.say(m) for m in messages] == messages


def test_source_form_labels_and_help_follow_the_language() -> None:
    same_in_both = {"Mastodon", "Bluesky", "Instance", "Compression", "Format"}
    texts = []
    for form in FORMS.values():
        texts += [form.label, form.description]
        for field in form.fields:
            texts += [field.label, field.help]
    # The sources package keeps plain French msgids; the web edge translates them.
    with override("fr"):
        french = [translated(t) for t in texts]
    with english():
        shown = [translated(t) for t in texts]
    assert french == texts
    for fr, en in zip(french, shown, strict=True):
        # Example addresses are not words to translate.
        if fr and fr not in same_in_both and not fr.startswith("https://"):
            assert en != fr, fr
    assert "RSS/Atom feed" in shown and "Speed-up (×)" in shown
    assert "Adresse du flux" in french


def _explained() -> list[str]:
    """The priority lines the real scorer writes for a few telling posts."""
    now = datetime(2024, 10, 17, 8, 0, tzinfo=UTC)
    texts = [
        "Au secours on est coincés sur le toit à Saint-Jean-de-Monts, l'eau monte",
        "La route de la Jonelière est coupée à Nantes",
        "Pensées pour les sinistrés, courage à tous",
        "Au secours on est coincés sur le toit à Saint-Jean-de-Monts, l'eau monte",
        # A near copy of a longer post.
        "Au secours on est coincés sur le toit de la maison à Saint-Jean-de-Monts, l'eau monte "
        "très vite depuis une heure",
        "Au secours on est coincés sur le toit de la maison à Saint-Jean-de-Monts, l'eau monte "
        "vite depuis une heure",
        "Vigilance rouge : évitez Luçon",
    ]
    posts = [
        PostIn(
            f"p{i}", t, now + timedelta(seconds=i), declared_source="Government" if i == 6 else None
        )
        for i, t in enumerate(texts)
    ]
    lines: list[str] = []
    for classifier in (FakeClassifier(), None):
        pipe = Pipeline(PipelineConfig(area={"85"}), classifier=classifier)
        for item in pipe.process(posts):
            lines.extend(item.explanation)
    return lines


def test_priority_lines_are_all_known_and_read_in_english() -> None:
    lines = _explained()
    starts = {re.split(r"[ ,]", line)[0] for line in lines}
    # The sample reaches each family of line the scorer writes.
    assert {"urgence", "aucun", "pas", "informatif", "émetteur", "témoin", "nouveau"} <= starts
    assert {"copie", "quasi-copie", "dans", "localisé"} <= starts
    assert [line for line in lines if EXPLANATIONS.match(line) is None] == []
    with english():
        said = explanation(lines)
        for before, after in zip(lines, said, strict=True):
            plain = re.sub(r"«[^»]*»|: .*$", "", after)
            assert after != before and not _FRENCH.search(plain), (before, after)
        informative = [s for s in said if s.startswith("informative p=")]
        assert informative and all(
            re.fullmatch(r"informative p=[01]\.\d\d", s) for s in informative
        )
        assert "sender declared for the source: authority" in said
        assert EXPLANATIONS.say("urgence 1,00 : « au secours », « l eau monte »") == (
            "urgency 1.00: “au secours”, “l eau monte”"
        )
    with override("fr"):
        assert explanation(lines) == lines


def test_an_authors_edit_line_shows_the_date_as_the_reader_writes_it() -> None:
    line = "modifié par l'auteur le 23/11/2026 18:05 ; version précédente : « l'eau monte »"
    with english():
        said = EXPLANATIONS.say(line)
    assert said.startswith("edited by the author on 2026-11-23 18:05")
    assert said.endswith("previous version: “l'eau monte”")


def test_runner_status_lines_in_english() -> None:
    with english():
        assert (
            SOURCE_STATUS.say("En écoute : 108 messages reçus.") == "Listening: 108 posts received."
        )
        assert SOURCE_STATUS.say("Erreur réseau : [Errno 111] refused") == (
            "Network error: [Errno 111] refused"
        )
        # A source's own message no template knows is shown as written.
        assert SOURCE_STATUS.say("Flux injoignable.") == "Flux injoignable."


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )


def test_sources_page_in_english_labels_errors_and_status(client, members, org, activation):
    from beffroi.watch import actions

    source = actions.add_source(
        activation, kind="rss", name="préf", data={"url": "https://a.example/rss"},
        actor=members["coordinator"],
    )  # fmt: skip
    actions.record_source_status(
        source.pk,
        state="ok",
        message="En écoute : 7 messages reçus.",
        at=timezone.now(),
        skipped=1,
        last_skip_reason="Entrée sans titre ni contenu.",
    )
    client.force_login(members["coordinator"])
    url = reverse("watch-sources", args=[org.slug, activation.pk])
    with english():
        page = client.get(url + "?type=mastodon", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Hashtags" in page and "Catch-up pages after an outage" in page
        assert "RSS/Atom feed" in page and "Flux RSS/Atom" not in page
        assert "Listening: 7 posts received." in page
        status = client.get(
            reverse("watch-sources-status", args=[org.slug, activation.pk]),
            HTTP_ACCEPT_LANGUAGE="en",
        ).json()
        assert status["sources"][0]["message"] == "Listening: 7 posts received."
        assert status["sources"][0]["last_skip_reason"] == "Entry with neither title nor content."
        assert "Last skipped post: Entry with neither title nor content." in page
        bad = client.post(
            url,
            {
                "kind": "mastodon",
                "name": "m",
                "instance_url": "https://a.example",
                "hashtags": "a b",
            },
            HTTP_ACCEPT_LANGUAGE="en",
        ).content.decode()
        assert "Invalid hashtag: “a b”." in bad and "Mot-dièse invalide" not in bad
    page = client.get(url + "?type=mastodon", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Pages de rattrapage après coupure" in page and "En écoute : 7 messages reçus." in page


def test_triage_queue_explanations_in_english(client, members, org, activation):
    from beffroi.watch.models import Card

    Card.objects.create(
        activation=activation,
        group_id="g0",
        source_kind="rss",
        external_id="0",
        text="Route coupée",
        posted_at=timezone.now(),
        priority=0.5,
        explanation=["aucun indice d'urgence", "informatif p=0,97", "non localisé"],
    )
    client.force_login(members["volunteer"])
    url = reverse("watch-queue", kwargs={"org": org.slug, "activation_id": activation.pk})
    with english():
        card = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["cards"][0]
    assert card["explanation"] == ["no sign of urgency", "informative p=0.97", "not located"]
    card = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").json()["cards"][0]
    assert card["explanation"] == ["aucun indice d'urgence", "informatif p=0,97", "non localisé"]


# Where a message is built from pieces the sampler can follow (a constant named at
# the top of the module or in the function, a helper's constant arguments, a small
# helper's return values), each piece is written out; any other value is "12".
_UNKNOWN = "12"


class _Module:
    """One source module's functions and calls, for following a message's pieces."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.functions: dict[str, ast.FunctionDef] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                self.functions.setdefault(node.name, node)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                self.calls.setdefault(node.func.id, []).append(node)

    def messages(self) -> list[tuple[ast.AST, tuple[ast.FunctionDef, ...]]]:
        """Every node with the functions it is written in (innermost last)."""
        found: list[tuple[ast.AST, tuple[ast.FunctionDef, ...]]] = []

        def visit(node: ast.AST, stack: tuple[ast.FunctionDef, ...]) -> None:
            found.append((node, stack))
            inner = (*stack, node) if isinstance(node, ast.FunctionDef) else stack
            for child in ast.iter_child_nodes(node):
                visit(child, inner)

        visit(self.tree, ())
        return found

    def samples(
        self, node: ast.AST, stack: tuple[ast.FunctionDef, ...], depth: int = 0
    ) -> list[str] | None:
        """The texts ``node`` may write, or None when it is no text the code spells out."""
        if depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            texts = [""]
            for piece in node.values:
                if isinstance(piece, ast.Constant):
                    options = [str(piece.value)]
                else:
                    assert isinstance(piece, ast.FormattedValue)
                    found = (
                        None
                        if piece.conversion != -1
                        else self.samples(piece.value, stack, depth + 1)
                    )
                    options = found or [_UNKNOWN]
                texts = [t + o for t in texts for o in options]
            return texts
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.samples(node.left, stack, depth + 1)
            right = self.samples(node.right, stack, depth + 1)
            return None if left is None or right is None else [a + b for a in left for b in right]
        if isinstance(node, ast.IfExp):
            branches = [self.samples(b, stack, depth + 1) for b in (node.body, node.orelse)]
            return [t for b in branches for t in (b or [_UNKNOWN])]
        if isinstance(node, ast.Name):
            return self._name(node.id, stack, depth)
        if isinstance(node, ast.Subscript):
            base = self.samples(node.value, stack, depth + 1)
            if base is None:
                return None
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, int):
                return [b[index.value] for b in base if len(b) > abs(index.value)]
            if isinstance(index, ast.Slice) and index.step is None:
                bounds = [
                    b.value if isinstance(b, ast.Constant) else None
                    for b in (index.lower, index.upper)
                ]
                return [b[bounds[0] : bounds[1]] for b in base]
            return None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("upper", "lower", "strip"):
                base = self.samples(func.value, stack, depth + 1)
                return None if base is None else [getattr(b, func.attr)() for b in base]
            if isinstance(func, ast.Name) and func.id in self.functions:
                # A small helper of the module: whatever its returns write.
                helper = self.functions[func.id]
                texts: list[str] = []
                for ret in ast.walk(helper):
                    if isinstance(ret, ast.Return) and ret.value is not None:
                        texts += self.samples(ret.value, (*stack, helper), depth + 1) or [_UNKNOWN]
                return texts or None
        return None

    def _name(self, name: str, stack: tuple[ast.FunctionDef, ...], depth: int) -> list[str] | None:
        for function in reversed(stack):
            params = [a.arg for a in function.args.posonlyargs + function.args.args]
            if name in params:
                # A parameter: the texts every call of the function by its bare name
                # passes, if all are (a method's calls are not followed).
                index = params.index(name)
                texts: list[str] = []
                for call in self.calls.get(function.name, []):
                    if index >= len(call.args):
                        return None
                    found = self.samples(call.args[index], (), depth + 1)
                    if found is None:
                        return None
                    texts += found
                return texts or None
            values = [
                node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            ]
            if values:
                texts = []
                for value in values:
                    texts += self.samples(value, stack, depth + 1) or [_UNKNOWN]
                return texts
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                return self.samples(node.value, (), depth + 1)
        return None


# What the sources' code writes, by kind: the constructor or function whose first
# text argument is the message, and the functions whose every return is one.
_WRITERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # The runner's report(state, message); a source's error; the guard's refusal of
    # a proxy's tunnel. describe_error and each source's _describe turn a library's
    # exception into the status line.
    "status": (("report", "SourceError", "ProxyFailure"), ("describe_error", "_describe")),
    "skip": (("Skipped",), ()),
    # A deployment setting that cannot be read (shown behind « Réglage du serveur
    # invalide : » in a form and in a failed source's status).
    "setting": (("SettingError",), ()),
}

# Every module of the sources that writes one of them. netguard.py writes the
# proxy's failures and the settings' errors; it was missing, and those sentences
# reached English readers in French.
_SOURCE_FILES = (
    "runner.py",
    "rss.py",
    "mastodon.py",
    "bluesky.py",
    "fileimport.py",
    "replay.py",
    "netguard.py",
    "netclients.py",
    "config.py",
    "base.py",
    "bluesky_profiles.py",
    "bounded.py",
    "registry.py",
)


def _source_messages(kind: str) -> list[str]:
    """Read from the sources' code: every status line the runner reports and every
    error a source raises (``kind="status"``), every reason a source gives for
    skipping an item (``"skip"``), or every error of a deployment setting
    (``"setting"``)."""
    import beffroi.watch.sources as sources

    folder = Path(sources.__file__).parent
    # A new module of the sources must be read too (or said here why not).
    assert {p.name for p in folder.glob("*.py")} - {"__init__.py"} == set(_SOURCE_FILES)
    callees, describers = _WRITERS[kind]
    found: list[str] = []
    for name in _SOURCE_FILES:
        module = _Module(ast.parse((folder / name).read_text(encoding="utf-8")))
        for node, stack in module.messages():
            message: ast.expr | None = None
            if isinstance(node, ast.Call):
                callee = getattr(node.func, "id", getattr(node.func, "attr", ""))
                position = 1 if callee == "report" else 0
                if callee in callees and len(node.args) > position:
                    message = node.args[position]
            elif isinstance(node, ast.Return) and stack and stack[-1].name in describers:
                message = node.value
            if message is None:
                continue
            for text in module.samples(message, stack) or []:
                # A library's own message, capitalised ("{exc}."), is no sentence of ours.
                if re.search(r"[a-zé]{3}", text):
                    found.append(text)
    return found


def _status_messages() -> list[str]:
    return _source_messages("status")


def test_every_skip_reason_of_the_sources_is_known() -> None:
    reasons = _source_messages("skip")
    assert len(reasons) >= 25
    assert [r for r in reasons if SKIP_REASONS.match(r) is None] == []
    with english():
        assert SKIP_REASONS.say("12 colonnes au lieu de 5.") == "12 columns instead of 5."
        assert SKIP_REASONS.say("Avis Jetstream : Maintenance ce soir") == (
            "Jetstream notice: Maintenance ce soir"
        )


def test_every_status_line_of_the_runner_and_feed_sources_is_known() -> None:
    messages = _status_messages()
    assert len(messages) >= 12
    assert "12 Nouvel essai dans 12 s." in messages
    # The proxy's failures (netguard), the setting's status (the runner's
    # describe_error) and Mastodon's and Jetstream's own (their _describe) are read.
    assert "Le proxy des sources (12) ne répond pas en HTTP." in messages
    assert "Proxy des sources injoignable (12) : pas de réponse en 12 s." in messages
    assert "Configuration invalide : Réglage du serveur invalide : 12" in messages
    assert "L'instance 12 refuse le flux en direct (12)." in messages
    assert "Jetstream (12) a coupé : lecture trop lente." in messages
    assert [m for m in messages if SOURCE_STATUS.match(m) is None] == []
    with english():
        assert SOURCE_STATUS.say(
            "Flux injoignable (https://a.example/rss) : pas de réponse en 2.5 s. "
            "Nouvel essai dans 8 s."
        ) == (
            "Feed unreachable (https://a.example/rss): no answer within 2.5 s. Next attempt in 8 s."
        )
        assert SOURCE_STATUS.say(
            "Configuration invalide : Nombre attendu.; Fichier introuvable."
        ) == ("Invalid configuration: Number expected.; File not found.")
        assert SOURCE_STATUS.say(
            "Le proxy des sources (proxy.pref.local:3128) n'a pas ouvert "
            "[2001:db8::1]:443 en 2.5 s. Nouvel essai dans 8 s."
        ) == (
            "The sources proxy (proxy.pref.local:3128) did not open [2001:db8::1]:443 within "
            "2.5 s. Next attempt in 8 s."
        )
        assert SOURCE_STATUS.say(
            "Jetstream : Le proxy des sources (10.1.2.3:8080) demande une authentification "
            "(407 Proxy Authentication Required) : vérifier l'identifiant et le mot de passe de "
            "BEFFROI_SOURCES_PROXY."
        ) == (
            "Jetstream: The sources proxy (10.1.2.3:8080) asks for authentication "
            "(407 Proxy Authentication Required): check the user name and password in "
            "BEFFROI_SOURCES_PROXY."
        )
        # Every sentence read from the code comes out with no French left in it.
        for message in messages:
            said = SOURCE_STATUS.say(message)
            plain = re.sub(r"“[^”]*”", "", said)
            assert said != message and not _FRENCH.search(plain), (message, said)


# Wrong values of the deployment's settings, each giving one of netguard's errors.
_WRONG_SETTINGS = [
    ("BEFFROI_SOURCES_ALLOW_NETWORKS", "10.0.0.0/33"),
    ("BEFFROI_SOURCES_PROXY", "socks5://proxy:1080"),
    ("BEFFROI_SOURCES_PROXY", "http://proxy"),
    ("BEFFROI_SOURCES_PROXY", "http://proxy:99999"),
    ("BEFFROI_SOURCES_PROXY", "http://proxy:3128/sortie"),
    ("BEFFROI_SOURCES_PROXY", "http://pro xy:3128"),
]


def test_every_setting_error_of_the_sources_is_known_and_said_in_english(monkeypatch) -> None:
    from beffroi.watch.sources import build_source
    from beffroi.watch.sources.runner import describe_error

    shapes = _source_messages("setting")
    assert len(shapes) >= 6
    assert [m for m in shapes if SETTING_ERRORS.match(m) is None] == []
    # The real code, through the form (a field's error) and the worker (the status of
    # a source it could not build): both read in English, with no French left.
    field_errors, statuses = [], []
    for name, value in _WRONG_SETTINGS:
        monkeypatch.setenv(name, value)
        with pytest.raises(ConfigError) as err:
            validate_config("rss", {"url": "https://a.example/rss"})
        field_errors.append(err.value.errors["url"])
        with pytest.raises(ValueError) as built:
            build_source("bluesky", "s", {"keywords": "crue"}, pseudonymise=str)
        statuses.append(describe_error(built.value))
        monkeypatch.delenv(name)
    assert len(set(field_errors)) == len(_WRONG_SETTINGS)
    with english():
        for french, said in [(m, SOURCE_ERRORS.say(m)) for m in field_errors] + [
            (m, SOURCE_STATUS.say(m)) for m in statuses
        ]:
            plain = re.sub(r"“[^”]*”|\([^()]*\)\.$", "", said)
            assert said != french and not _FRENCH.search(plain), (french, said)
        assert SOURCE_ERRORS.say(field_errors[2]) == (
            "Invalid server setting: BEFFROI_SOURCES_PROXY: “http://proxy” gives no port "
            "(http://host:port expected)."
        )
        assert SOURCE_STATUS.say(statuses[1]) == (
            "Invalid configuration: Invalid server setting: BEFFROI_SOURCES_PROXY: "
            "“socks5://proxy:1080” is not an http:// proxy (http://host:port expected)."
        )
    with override("fr"):
        assert [SOURCE_ERRORS.say(m) for m in field_errors] == field_errors


def test_main_courante_times_are_written_for_the_reader(client, members, org, activation):
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    actions.add_log_entry(
        activation,
        actor=members["coordinator"],
        text="Digue",
        channel="telephone",
        category="autre",
    )
    at = timezone.localtime(LogEntry.objects.get().at)
    client.force_login(members["volunteer"])
    url = reverse("watch-courante", kwargs={"org": org.slug, "activation_id": activation.pk})
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with english():
        english_page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    machine = f'<time datetime="{at.isoformat()}">'
    assert machine + at.strftime("%d/%m %H:%M") + "</time>" in french
    # "23/11" reads as a month 23 to an American: the month is written out.
    assert machine + at.strftime("%b ") + str(at.day) + at.strftime(", %H:%M") + "</time>" in (
        english_page
    )


def test_activation_keywords_colon_follows_the_language(client, members, org):
    from beffroi.watch import actions

    activation = actions.create_activation(
        org,
        name="Crue",
        event_type="inondation",
        keywords={"fr": ["crue"], "en": ["flood"]},
        actor=members["coordinator"],
    )
    client.force_login(members["coordinator"])
    url = reverse("watch-activation", args=[org.slug, activation.pk])
    assert '<span class="mono">fr</span> : crue' in client.get(url).content.decode()
    with english():
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="mono">en</span>: flood' in page
