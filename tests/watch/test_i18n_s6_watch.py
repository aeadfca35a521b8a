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

from beffroi.watch.pipeline import Pipeline, PipelineConfig, PostIn
from beffroi.watch.sources import FORMS, ConfigError, validate_config
from beffroi.watch.views_i18n import (
    EXPLANATIONS,
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
    with override("fr"):
        french = [str(t) for t in texts]
    with english():
        shown = [str(t) for t in texts]
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
    assert said.startswith("edited by the author on 11/23/2026 18:05")
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


def _sample(node: ast.expr) -> str | None:
    """The text a message expression writes, each interpolated value as "12"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "12" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sample(node.left), _sample(node.right)
        return None if left is None or right is None else left + right
    return None


def _source_messages(kind: str) -> list[str]:
    """Read from the sources' code: every status line the runner reports and every
    error a source raises (``kind="status"``), or every reason a source gives for
    skipping an item (``kind="skip"``)."""
    import beffroi.watch.sources as sources

    folder = Path(sources.__file__).parent
    files = ("runner.py", "rss.py", "mastodon.py", "bluesky.py", "fileimport.py", "replay.py")
    found: list[str] = []
    for name in files:
        for node in ast.walk(ast.parse((folder / name).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            callee = getattr(node.func, "id", getattr(node.func, "attr", ""))
            wanted = {"status": ("report", "SourceError"), "skip": ("Skipped",)}[kind]
            if callee not in wanted or len(node.args) < (2 if callee == "report" else 1):
                continue
            text = _sample(node.args[1] if callee == "report" else node.args[0])
            # A library's own message, capitalised ("{exc}."), is no sentence of ours.
            if text is not None and re.search(r"[a-zé]{3}", text):
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
