"""Text → hashed sparse features, shared by the shipped model and the online learner.

Everything goes through one FeatureHasher space, so a weight learned from a volunteer's
decision lands on exactly the coordinates the shipped model uses; nothing here depends on a
vocabulary fitted to the training data (only on the CrisisLex lexicon, stored in the model).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher

from .concepts import prefix_index

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@(\w{1,30})")
_HASHTAG = re.compile(r"#(\w+)")
_RT = re.compile(r"(?:^|\W)(?:rt|mt|via)\s*@", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
# First person, the strongest cue of an eyewitness, in the languages of the training events
# and French (the language of Beffroi's users).
_FIRST_PERSON = frozenset(
    [
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "ours",
        "im",
        "i'm",
        "i've",
        "i'd",
        "we're",
        "je",
        "j",
        "moi",
        "mon",
        "ma",
        "mes",
        "nous",
        "notre",
        "nos",
        "on",
        "yo",
        "me",
        "mi",
        "mis",
        "nosotros",
        "nosotras",
        "nuestro",
        "nuestra",
        "io",
        "mi",
        "mio",
        "mia",
        "noi",
        "nostro",
        "nostra",
        "eu",
        "meu",
        "minha",
        "nós",
        "nosso",
        "nossa",
        "ako",
        "ko",
        "akin",
        "kami",
        "namin",
        "tayo",
        "natin",
        "я",
        "мы",
        "мой",
        "моя",
        "наш",
    ]
)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class FeatureConfig:
    n_features: int = 2**18
    char_min: int = 2
    char_max: int = 5
    word_weight: float = 1.0
    char_weight: float = 1.0
    meta_weight: float = 0.6
    lexicon: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "n_features": self.n_features,
            "char_min": self.char_min,
            "char_max": self.char_max,
            "word_weight": self.word_weight,
            "char_weight": self.char_weight,
            "meta_weight": self.meta_weight,
            "lexicon": list(self.lexicon),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FeatureConfig:
        lex = data.get("lexicon", [])
        assert isinstance(lex, list)
        return cls(
            n_features=int(data["n_features"]),  # type: ignore[call-overload]
            char_min=int(data["char_min"]),  # type: ignore[call-overload]
            char_max=int(data["char_max"]),  # type: ignore[call-overload]
            word_weight=float(data["word_weight"]),  # type: ignore[arg-type]
            char_weight=float(data["char_weight"]),  # type: ignore[arg-type]
            meta_weight=float(data["meta_weight"]),  # type: ignore[arg-type]
            lexicon=tuple(str(t) for t in lex),
        )


@dataclass(frozen=True)
class _Tokens:
    words: list[str]
    chars: list[str]
    meta: list[str]


_CONCEPTS = prefix_index()
_CONCEPT_LENGTHS = sorted({len(k) for k in _CONCEPTS})


def _concepts(words: Iterable[str]) -> list[str]:
    found = []
    for w in words:
        for n in _CONCEPT_LENGTHS:
            if n > len(w):
                break
            concept = _CONCEPTS.get(w[:n])
            # Short stems ("don", "rue", "eau") must match a whole word, not a prefix.
            if concept is not None and (n >= 4 or n == len(w)):
                found.append("c:" + concept)
                break
    return found


def _tokens(text: str, cfg: FeatureConfig, lexicon_words: dict[str, list[list[str]]]) -> _Tokens:
    raw = unicodedata.normalize("NFKC", text)
    meta: list[str] = []
    if _RT.search(raw):
        meta.append("rt")
    if raw.lstrip().lower().startswith(("rt @", "rt@")):
        meta.append("rt_start")
    n_urls = len(_URL.findall(raw))
    if n_urls:
        meta.append("url")
    mentions = [m.lower() for m in _MENTION.findall(raw)]
    if mentions:
        meta.append("mention")
    hashtags = [h.lower() for h in _HASHTAG.findall(raw)]
    if len(hashtags) >= 3:
        meta.append("many_hashtags")
    if "?" in raw:
        meta.append("question")
    if "!" in raw:
        meta.append("exclaim")
    body = _URL.sub(" ", raw)
    body = _MENTION.sub(" ", body)
    folded = strip_accents(body.lower())
    words = _WORD.findall(folded.replace("_", " "))
    if any(_DIGITS.search(w) for w in words):
        meta.append("number")
    plain = [w for w in words if not w.isdigit()]
    if any(w in _FIRST_PERSON for w in plain) or "i'm" in folded or "j'" in folded:
        meta.append("first_person")
    meta.append(f"len{min(len(plain) // 5, 5)}")
    # CrisisLex terms are mostly English multi-word phrases; match them as word sequences.
    n_lex = 0
    wordset = set(plain)
    for w in wordset:
        for phrase in lexicon_words.get(w, ()):
            if all(p in wordset for p in phrase):
                meta.append("lex:" + " ".join(phrase))
                n_lex += 1
    meta.append(f"nlex{min(n_lex, 3)}")
    meta.extend(_concepts(plain))
    word_tokens = ["w:" + w for w in plain]
    word_tokens += ["b:" + a + " " + b for a, b in itertools.pairwise(plain)]
    word_tokens += ["m:" + m for m in mentions]
    # Pieces of the handles ("gmanews", "cbsla", "redcross") tell media, officials and NGOs
    # apart even for accounts never seen in training.
    for m in mentions:
        padded = "<" + m + ">"
        word_tokens.extend("h:" + padded[i : i + 4] for i in range(len(padded) - 3))
    # Char n-grams see placeholders, not the URL or handle, so they generalise across events.
    char_text = _URL.sub(" U ", raw.lower())
    char_text = _MENTION.sub(" @ ", char_text)
    char_text = _DIGITS.sub("0", strip_accents(char_text))
    char_text = " " + _SPACES.sub(" ", char_text).strip() + " "
    chars: list[str] = []
    for n in range(cfg.char_min, cfg.char_max + 1):
        chars.extend(char_text[i : i + n] for i in range(len(char_text) - n + 1))
    return _Tokens(word_tokens, chars, ["f:" + m for m in meta])


class Featurizer:
    def __init__(self, cfg: FeatureConfig) -> None:
        self.cfg = cfg
        self._hasher = FeatureHasher(
            n_features=cfg.n_features, input_type="string", alternate_sign=False
        )
        index: dict[str, list[list[str]]] = {}
        for term in cfg.lexicon:
            parts = _WORD.findall(strip_accents(term.lower()))
            if parts:
                index.setdefault(parts[0], []).append(parts)
        self._lexicon = index

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        toks = [_tokens(t, self.cfg, self._lexicon) for t in texts]
        blocks = [
            (self.cfg.word_weight, [t.words for t in toks]),
            (self.cfg.char_weight, [t.chars for t in toks]),
            (self.cfg.meta_weight, [t.meta for t in toks]),
        ]
        out: sp.csr_matrix | None = None
        for weight, lists in blocks:
            m = _l2_rows(self._hasher.transform(_nonempty(lists)).tocsr()) * weight
            out = m if out is None else out + m
        assert out is not None
        out = out.tocsr()
        out.sum_duplicates()
        out.data = out.data.astype(np.float32)
        return out


def _nonempty(lists: Iterable[list[str]]) -> list[list[str]]:
    return [x if x else [] for x in lists]


def _l2_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags(1.0 / norms) @ m
