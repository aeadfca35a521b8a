"""Text → hashed sparse features, shared by the shipped model and the online learner.

Everything goes through one hashed space, so a weight learned from a volunteer's
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

from .accounts import PSEUDONYM, AccountKinds
from .concepts import prefix_index

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"@(\w{1,30})")
_HASHTAG = re.compile(r"#(\w+)")
_RT = re.compile(r"(?:^|\W)(?:rt|mt|via)\s*@", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
# Character n-gram hashing (char_ngram_matrix): the scheme number is stored in the model.
CHAR_HASH = 2
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
_BASE = np.uint64(1_000_003)
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


# Author-kind cues (issue 5, item 8): CrisisLexT26 has no account metadata, so whether a
# post comes from a witness, a newsroom, an authority, an NGO or a business must be read in
# the wording itself. Small multilingual word sets, matched on accent-folded lower-case words.


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_SECOND_PERSON = _wordset(
    "you your yours you're u ur vous votre vos tu ton ta tes usted ustedes voi tuo tua "
    "voce voces ikaw kayo вы ваш ты"
)
_PLURAL_FIRST = _wordset(
    "we us our ours we're we've nous notre nos nosotros nuestro nuestra noi nostro nostra "
    "nos nosso nossa kami namin tayo natin мы наш наша нас"
)
_HERE = _wordset(
    "here outside window house home street neighborhood neighbourhood aqui qui ici casa "
    "maison chez dito"
)
_SENSED = _wordset(
    "felt feel feeling saw hear heard smell smelled shaking woke senti sentito ressenti vu"
)
_CUE_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "official",
        _wordset(
            "residents advisory advised urged urge warning warnings alert evacuation evacuate "
            "order ordered shelter shelters update updates hotline please stay avoid crews "
            "county department dept officials mayor governor police sheriff authorities "
            "ministry ministerio prefecture prefet"
        ),
    ),
    (
        "ngo",
        _wordset(
            "donate donation donations volunteer volunteers relief text give support appeal "
            "fund funds raise raising aid supplies"
        ),
    ),
    (
        "business",
        _wordset(
            "customers customer store stores shop shops open closed offer discount sale sales "
            "proceeds employees staff service services"
        ),
    ),
    (
        "news",
        _wordset(
            "breaking update live video photos photo watch report reports reported says said "
            "according news developing latest confirm confirmed dead killed injured toll"
        ),
    ),
    (
        "outsider",
        _wordset(
            "pray prayers praying thoughts hope hoping god rip sad terrible horrible heart wow "
            "omg lord bless"
        ),
    ),
)
_PHOTO_HOSTS = ("pic.twitter", "instagram", "instagr.am", "twitpic", "yfrog")
# The account a post relays ("RT @gmanews:", "via @RedCross") is the original author, whose
# kind is the post's source.
_RELAYED = re.compile(r"(?:^|\W)(?:rt|mt|via|h/t)\s?@(\w{1,30})", re.IGNORECASE)
_RT_PREFIX = re.compile(r"^.*?\brt\s?@\w+:?", re.IGNORECASE)
_CLOCK = re.compile(r"\b\d{1,2}(?:[:h.]\d\d|\s?(?:am|pm|a\.m\.|p\.m\.))", re.IGNORECASE)
_PHONE = re.compile(r"\b\d{3}[-. ]\d{3}[-. ]\d{4}\b|\b0\d(?:[ .]\d\d){4}\b|\b1-?800")
_MONEY = re.compile(r"[$€£]\s?\d|\d\s?[%€]", re.IGNORECASE)
_EMOTE = re.compile(r"[:;]-?[()pdDP]|<3|\b(?:lol|omg|haha\w*|jaja\w*|wtf|smh|mdr|xd)\b", re.I)
_LABEL_COLON = re.compile(r"^\s*[A-Z][A-Za-z ]{2,25}:")
_DASH_SEP = re.compile(r"\s[-|–—]\s")


def _bucket(name: str, n: int, cap: int) -> str:
    return f"{name}{min(n, cap)}"


def _cues(raw: str, low: str, n_urls: int, n_mentions: int, n_tags: int) -> list[str]:
    """Tokens describing how the post is written (who tends to write like this)."""
    out = [_bucket("nurl", n_urls, 2), _bucket("nment", n_mentions, 3), _bucket("ntag", n_tags, 4)]
    stripped = raw.strip()
    if any(h in low for h in _PHOTO_HOSTS):
        out.append("photo")
    if n_urls and _URL.search(stripped.rsplit(None, 1)[-1]):
        out.append("url_end")
    if stripped.startswith("@"):
        out.append("reply")
    elif stripped.startswith(".@"):
        out.append("dot_reply")
    if "via @" in low or "(via" in low or "h/t @" in low:
        out.append("via")
    # What the relayed author wrote, without the "RT @x:" prefix, carries its style.
    body = _RT_PREFIX.sub(" ", raw, count=1) if "rt" in low else raw
    body = _MENTION.sub(" ", _URL.sub(" ", body))
    words = [w for w in _WORD.findall(body) if not w.isdigit()]
    lowered = body.lower()
    folded = set(_WORD.findall(lowered if lowered.isascii() else strip_accents(lowered)))
    out.append(_bucket("wc", len(words) // 4, 7))
    if folded & _PLURAL_FIRST:
        out.append("first_plural")
    if folded & _SECOND_PERSON:
        out.append("second_person")
    if folded & _HERE:
        out.append("here")
    if folded & _SENSED:
        out.append("sensed")
    for name, vocabulary in _CUE_WORDS:
        k = len(folded & vocabulary)
        if k:
            out.append(_bucket(name, k, 2))
    caps = sum(1 for w in words if len(w) >= 2 and w.isupper())
    if caps:
        out.append(_bucket("caps", caps, 3))
    long_words = [w for w in words if len(w) >= 4]
    if len(long_words) >= 3:
        title = sum(w[0].isupper() for w in long_words) / len(long_words)
        out.append(f"title{min(int(title * 4), 3)}")
    if _LABEL_COLON.match(body):
        out.append("label_colon")
    if _DASH_SEP.search(body):
        out.append("dash_sep")
    if '"' in raw or "“" in raw or "«" in raw:
        out.append("quote")
    if _CLOCK.search(raw):
        out.append("clock")
    if _PHONE.search(raw):
        out.append("phone")
    if _MONEY.search(raw):
        out.append("money")
    if _EMOTE.search(raw):
        out.append("emote")
    if "..." in raw or "…" in raw:
        out.append("ellipsis")
    if not n_urls and not n_mentions and not n_tags:
        out.append("bare")
    return out


def strip_accents(text: str) -> str:
    if text.isascii():  # most posts: skips a per-character pass
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class FeatureConfig:
    n_features: int = 2**18
    char_min: int = 2
    char_max: int = 5
    # How character n-grams are hashed: 2 is the rolling hash of `char_ngram_matrix`.
    # Scheme 1 (sklearn's FeatureHasher on each n-gram string, the first model files) is
    # no longer computed: such a file is refused with a clear message.
    char_hash: int = CHAR_HASH
    word_weight: float = 1.0
    char_weight: float = 1.0
    meta_weight: float = 0.6
    # 0 switches the block off (models trained before it existed load as they were).
    cue_weight: float = 0.0
    relay_weight: float = 0.0
    # Kinds of the accounts a post relays or mentions, read in their handles (accounts.py);
    # the word lists are kept here so the model file carries its own copy.
    kind_weight: float = 0.0
    account_words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Columns after the first n_features that only the cue and relay blocks use, so a head
    # can be trained without them (the informativeness heads are: see train.py).
    extra_features: int = 0
    lexicon: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return self.n_features + self.extra_features

    def to_json(self) -> dict[str, object]:
        return {
            "n_features": self.n_features,
            "char_min": self.char_min,
            "char_max": self.char_max,
            "char_hash": self.char_hash,
            "word_weight": self.word_weight,
            "char_weight": self.char_weight,
            "meta_weight": self.meta_weight,
            "cue_weight": self.cue_weight,
            "relay_weight": self.relay_weight,
            "kind_weight": self.kind_weight,
            "account_words": {kind: list(words) for kind, words in self.account_words},
            "extra_features": self.extra_features,
            "lexicon": list(self.lexicon),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FeatureConfig:
        lex = data.get("lexicon", [])
        assert isinstance(lex, list)
        accounts = data.get("account_words", {})
        assert isinstance(accounts, dict)
        char_hash = int(data.get("char_hash", 1))  # type: ignore[call-overload]
        if char_hash != CHAR_HASH:
            raise ValueError(
                f"model hashes character n-grams with scheme {char_hash}, this version "
                f"computes scheme {CHAR_HASH}: rebuild it (python -m beffroi.watch.classify.train)"
            )
        return cls(
            n_features=int(data["n_features"]),  # type: ignore[call-overload]
            char_min=int(data["char_min"]),  # type: ignore[call-overload]
            char_max=int(data["char_max"]),  # type: ignore[call-overload]
            word_weight=float(data["word_weight"]),  # type: ignore[arg-type]
            char_weight=float(data["char_weight"]),  # type: ignore[arg-type]
            meta_weight=float(data["meta_weight"]),  # type: ignore[arg-type]
            cue_weight=float(data.get("cue_weight", 0.0)),  # type: ignore[arg-type]
            relay_weight=float(data.get("relay_weight", 0.0)),  # type: ignore[arg-type]
            kind_weight=float(data.get("kind_weight", 0.0)),  # type: ignore[arg-type]
            account_words=tuple((str(k), tuple(map(str, v))) for k, v in accounts.items()),
            extra_features=int(data.get("extra_features", 0)),  # type: ignore[call-overload]
            lexicon=tuple(str(t) for t in lex),
        )


@dataclass(frozen=True)
class _Tokens:
    words: list[str]
    char_text: str
    meta: list[str]
    cues: list[str]
    relayed: list[str]
    kinds: list[str]


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


def _tokens(
    text: str,
    cfg: FeatureConfig,
    lexicon_words: dict[str, list[list[str]]],
    account_kinds: AccountKinds | None = None,
    author_kinds: Sequence[str] = (),
) -> _Tokens:
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
    cues: list[str] = []
    relayed: list[str] = []
    lowered = raw.lower()
    if cfg.cue_weight:
        cues = _cues(raw, lowered, n_urls, len(mentions), len(hashtags))
    relays = _RELAYED.findall(raw)[:2] if cfg.relay_weight or account_kinds else []
    if cfg.relay_weight:
        for handle in relays:
            padded = "<" + handle.lower() + ">"
            relayed.append("r:" + padded)
            relayed.extend("r:" + padded[i : i + 4] for i in range(len(padded) - 3))
    kinds: list[str] = []
    if account_kinds is not None:
        # A relayed account is who wrote the words (CrisisLex labels it); "none" (no kind
        # word in its handle) leans towards a person. Plain mentions are left out: they
        # name whom a post speaks to, and counting them lowered the score.
        for handle in relays:
            if not PSEUDONYM.fullmatch(handle):
                kinds += ["k:" + k for k in sorted(account_kinds(handle))] or ["k:none"]
        # The post's own author, when its platform names the account (read at ingest,
        # before the handle became a pseudonym): the same tokens, for the same reason.
        kinds += ["k:" + k for k in author_kinds]
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
    return _Tokens(
        word_tokens, char_text, ["f:" + m for m in meta], ["q:" + c for c in cues], relayed, kinds
    )


class Featurizer:
    def __init__(self, cfg: FeatureConfig) -> None:
        self.cfg = cfg
        self._hasher = FeatureHasher(
            n_features=cfg.n_features, input_type="string", alternate_sign=False
        )
        self._extra_hasher = (
            FeatureHasher(n_features=cfg.extra_features, input_type="string", alternate_sign=False)
            if cfg.extra_features
            else self._hasher
        )
        index: dict[str, list[list[str]]] = {}
        for term in cfg.lexicon:
            parts = _WORD.findall(strip_accents(term.lower()))
            if parts:
                index.setdefault(parts[0], []).append(parts)
        self._lexicon = index
        self._accounts = (
            AccountKinds(dict(cfg.account_words)) if cfg.kind_weight and cfg.account_words else None
        )

    def transform(
        self, texts: Sequence[str], author_kinds: Sequence[Sequence[str]] | None = None
    ) -> sp.csr_matrix:
        """`author_kinds`: for each text, the kinds of its author's account when known
        (``accounts.AccountKinds``); used only by models with the account-kind block."""
        authors = author_kinds if author_kinds is not None else [()] * len(texts)
        if len(authors) != len(texts):
            raise ValueError("one list of author kinds per text")
        toks = [
            _tokens(t, self.cfg, self._lexicon, self._accounts, a)
            for t, a in zip(texts, authors, strict=True)
        ]
        main, extra = self._hasher, self._extra_hasher
        offset = self.cfg.n_features if self.cfg.extra_features else 0
        cfg = self.cfg
        chars = char_ngram_matrix(
            [t.char_text for t in toks], cfg.char_min, cfg.char_max, cfg.n_features
        )
        blocks: list[tuple[float, list[list[str]] | sp.csr_matrix, FeatureHasher, int]] = [
            (cfg.word_weight, [t.words for t in toks], main, 0),
            (cfg.char_weight, chars, main, 0),
            (cfg.meta_weight, [t.meta for t in toks], main, 0),
        ]
        if self.cfg.cue_weight:
            blocks.append((self.cfg.cue_weight, [t.cues for t in toks], extra, offset))
        if self.cfg.relay_weight:
            blocks.append((self.cfg.relay_weight, [t.relayed for t in toks], extra, offset))
        if self._accounts is not None:
            blocks.append((self.cfg.kind_weight, [t.kinds for t in toks], extra, offset))
        n = len(toks)
        rows, cols, vals = [], [], []
        for weight, tokens, hasher, first_column in blocks:
            if isinstance(tokens, sp.csr_matrix):
                h = tokens
            else:
                h = hasher.transform(_nonempty(tokens)).tocsr()
            lengths = np.diff(h.indptr)
            row_ids = np.repeat(np.arange(n), lengths)
            # Each block is L2-normalised per post, then weighted: no block drowns the
            # others because it produces more tokens (char n-grams do, by far).
            sq = np.bincount(row_ids, weights=h.data * h.data, minlength=n)
            scale = np.divide(weight, np.sqrt(sq), out=np.zeros(n), where=sq > 0)
            rows.append(row_ids)
            cols.append(h.indices + first_column)
            vals.append(h.data * scale[row_ids])
        # One COO -> CSR conversion sums the (rare) hash collisions between blocks.
        out = sp.coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n, self.cfg.width),
        ).tocsr()
        out.sum_duplicates()
        out.data = out.data.astype(np.float32)
        return out


def _nonempty(lists: Iterable[list[str]]) -> list[list[str]]:
    return [x if x else [] for x in lists]


def char_ngram_matrix(texts: Sequence[str], n_min: int, n_max: int, width: int) -> sp.csr_matrix:
    """Counts of every character n-gram (n_min ≤ n ≤ n_max) of each text, hashed into
    `width` columns (a power of two).

    Char n-grams are most of a post's tokens: hashing them as Python strings took a
    quarter of the pipeline's time. Here the whole batch is one array of code points; a
    polynomial rolling hash (mod 2^64) of each window, plus n, is mixed by MurmurHash3's
    64-bit finaliser so that the low bits kept as the column are well spread."""
    if width < 1 or width & (width - 1):
        raise ValueError("width must be a power of two")
    if not 1 <= n_min <= n_max:
        raise ValueError(f"need 1 <= n_min <= n_max, got {n_min} and {n_max}")
    if not texts:
        return sp.csr_matrix((0, width), dtype=np.float64)
    # NUL separates the texts; a window that contains one spans two texts and is dropped
    # (a NUL inside a text only hides the n-grams across it).
    codes = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    nuls = np.concatenate(([0], np.cumsum(codes == 0)))
    rows, cols = [], []
    h = codes
    for n in range(1, n_max + 1):
        if n > 1:
            h = h[:-1] * _BASE + codes[n - 1 :]
        if n < n_min:
            continue
        windows = len(h)
        pos = np.flatnonzero(nuls[n : n + windows] == nuls[:windows])
        x = h[pos] + np.uint64(n)
        x ^= x >> _SHIFT
        x *= _MIX1
        x ^= x >> _SHIFT
        x *= _MIX2
        x ^= x >> _SHIFT
        cols.append((x & np.uint64(width - 1)).astype(np.int64))
        rows.append(np.searchsorted(starts, pos, side="right") - 1)
    row = np.concatenate(rows)
    out = sp.csr_matrix((np.ones(len(row)), (row, np.concatenate(cols))), shape=(len(texts), width))
    out.sum_duplicates()
    return out
