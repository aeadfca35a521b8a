"""Plain data of the enrichment pipeline: what it accepts, what it adds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from beffroi.geo.geocode import Match

# The longest text the pipeline reads of one post, in characters. The platforms' own
# limits: Bluesky 300 graphemes, Mastodon 500 by default (a few instances allow some
# thousands), Telegram 4,096, X's long posts 25,000; 32,000 keeps all of them whole with a
# margin. Only feed items and imported files go past it (a whole article in an RSS body, a
# huge CSV cell): their beginning is what triage needs, and without a bound one such post
# held up every activation's queue. The stored post keeps its whole text.
MAX_TEXT = 32_000
# Ends a text cut at MAX_TEXT, so the card shows it was cut.
CUT_MARKER = " […]"


def cap_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to ``limit`` characters (marker included), at a space when one is near."""
    if len(text) <= limit:
        return text
    keep = text[: limit - len(CUT_MARKER)]
    space = keep.rfind(" ", len(keep) - 200)
    return (keep[:space] if space > 0 else keep) + CUT_MARKER


@dataclass(frozen=True, slots=True)
class PostIn:
    """A post as the pipeline accepts it, whatever its source (its text cut to MAX_TEXT)."""

    id: str
    text: str
    created_at: datetime
    lang: str | None = None  # the platform's language hint, if any
    coordinates: tuple[float, float] | None = None  # (latitude, longitude)
    source_kind: str = "file"  # "rss", "mastodon", "bluesky", "file", "replay"…
    repost_of: str | None = None  # id of the original when the platform says so
    # The sender the coordinator declared for the whole source (a CrisisLex source name:
    # "Government" for a préfecture's feed), which then overrides the classifier's guess.
    declared_source: str | None = None
    # Kinds of the author's account, read in its names by the source before they became
    # pseudonyms (classify.accounts.author_kinds); a feature of the source head.
    author_kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.text) > MAX_TEXT:
            object.__setattr__(self, "text", cap_text(self.text))

    @classmethod
    def from_raw(cls, raw: Any, *, id: str | None = None) -> PostIn:
        """Build from a source's RawPost (or any object with the same attributes).

        The default id is "<source_id>:<external_id>": external ids are unique only
        within one source.
        """
        if id is None:
            source_id = getattr(raw, "source_id", "")
            id = f"{source_id}:{raw.external_id}" if source_id else str(raw.external_id)
        return cls(
            id=id,
            text=raw.text,
            created_at=raw.created_at,
            lang=getattr(raw, "language", None),
            coordinates=getattr(raw, "coordinates", None),
            source_kind=getattr(raw, "source_kind", "file"),
            repost_of=getattr(raw, "repost_of", None),
            author_kinds=tuple(getattr(raw, "author_kinds", ()) or ()),
        )


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a classifier says about one post (beffroi.watch.classify returns these)."""

    informative: bool
    informative_p: float
    info_type: str
    source: str
    source_p: dict[str, float]


@runtime_checkable
class Classifier(Protocol):
    def predict(
        self, texts: list[str], author_kinds: Sequence[Sequence[str]] | None = None
    ) -> list[Any]:
        """One prediction per text, each with the attributes of `Prediction`.

        `author_kinds` (one tuple per text: kinds of the author's account) is passed only
        when a post carries some, so a classifier that ignores authors may leave it out."""
        ...


@dataclass(slots=True)
class Enriched:
    """A post and everything the pipeline added to it. Steps fill it in place."""

    post: PostIn
    # normalise
    text: str = ""  # NFC, whitespace collapsed, handles redacted unless kept
    clean_text: str = ""  # without URLs, mentions, RT prefix: what matching works on
    urls: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()  # handles, or keyed pseudonyms, or empty (see Normaliser)
    is_repost: bool = False
    # language
    lang: str = "und"
    lang_p: float = 0.0
    lang_from: str = ""  # "detected", "hint", "none"
    # grouping
    group_id: str = ""
    group_size: int = 1  # size of the group once this post joined it
    is_new_group: bool = True
    duplicate: str | None = None  # None, "exact" or "near"
    similarity: float = 1.0  # estimated Jaccard with the group's first post
    # geocoding
    communes: tuple[Match, ...] = ()
    in_area: bool | None = None  # None when no area is set or nothing was located
    # classification
    prediction: Any = None  # a Prediction-like object, or None when no classifier ran
    # priority
    urgency: float = 0.0
    urgency_cues: tuple[str, ...] = ()
    priority: float = 0.0
    explanation: tuple[str, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return self.post.id

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view of what the pipeline added (the post itself is stored elsewhere)."""
        pred = self.prediction
        return {
            "id": self.post.id,
            "text": self.text,
            "clean_text": self.clean_text,
            "urls": list(self.urls),
            "hashtags": list(self.hashtags),
            "mentions": list(self.mentions),
            "is_repost": self.is_repost,
            "lang": self.lang,
            "lang_p": round(self.lang_p, 4),
            "lang_from": self.lang_from,
            "group_id": self.group_id,
            "group_size": self.group_size,
            "is_new_group": self.is_new_group,
            "duplicate": self.duplicate,
            "similarity": self.similarity,
            "communes": [
                {
                    "code": m.code,
                    "name": m.name,
                    "dep": m.dep,
                    "confidence": m.confidence,
                    "start": m.start,
                    "end": m.end,
                    "evidence": m.evidence,
                    "via": m.via,
                    "in_area": m.in_area,
                    "reasons": list(m.reasons),
                    "lat": m.lat,
                    "lon": m.lon,
                }
                for m in self.communes
            ],
            "in_area": self.in_area,
            "prediction": None
            if pred is None
            else {
                "informative": bool(pred.informative),
                "informative_p": round(float(pred.informative_p), 4),
                "info_type": pred.info_type,
                "source": pred.source,
                "source_p": {k: round(float(v), 4) for k, v in pred.source_p.items()},
            },
            "urgency": self.urgency,
            "urgency_cues": list(self.urgency_cues),
            "priority": self.priority,
            "explanation": list(self.explanation),
        }


def start(batch: list[PostIn]) -> list[Enriched]:
    """First step of every run: wrap the posts."""
    return [Enriched(post=p) for p in batch]
