"""Geocoding of free-text French (and English) posts to communes.

`find_communes(text, area=...)` returns the communes a post names, each with a confidence,
the evidence span and the reasons in French (DESIGN rule 8). The rules, in order:

1. Candidates come from a token trie over every folded commune name (current, municipal
   arrondissements, former delegated/associated communes mapped to their current commune),
   from hashtags (#Nantes, #SaintJeanDeMonts: the whole tag body against joined names) and
   from five-digit postal codes. "au Mans", "du Mans", "aux Sables-d'Olonne" match names that
   start with Le/Les. At each position the longest acceptable name wins.
2. Context decides whether a matched name is a place:
   - a locative preposition just before ("à", "au", "près de", "depuis", "in", "at",
     "near"…) is strong evidence, a weak one ("de", "sur", "from", "to"…) a little;
   - a capital letter counts unless the post is mostly capitalised (ALL CAPS, Title Case);
     a capital at the start of a sentence counts less;
   - names that are also common words come in two tiers: a short hand-kept list of words
     that are everywhere in crisis posts ("Eu", "Y", "Mars", "Vers", "Orange", "SOS",
     "Us", first names…) needs a hashtag or a strong preposition and a capital; the
     dictionary tier (words of the Debian French/English word lists, shipped as
     data/common_words.txt) needs a capital away from a sentence start, a preposition or a
     hashtag;
   - a street or landmark word before the name ("rue de Paris", "gare de Lyon", "route de
     Nantes") or "New" ("New Orleans") means it is not the commune, and so does a bare
     article ("la Bresle": a river) or a hyphen gluing more words on;
   - a one-word name between capitalised words is part of a longer proper noun ("Costa
     Rica", "Mary River");
   - in a post in another language (`lang`), one-word names need a strong preposition or
     a big city, and everyday-word names are refused;
   - a lone postal code counts only next to a word of its commune's name or in the area.
   docs/decisions/geo.md has the full table.
3. Homonyms: communes inside the activation's area first, then those of a département
   given next to the name ("Saint-Denis (93)") or whose postal code appears in the post,
   then the most populous. Unresolved ambiguity lowers the confidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from beffroi.geo.gazetteer import Commune, Gazetteer, gazetteer
from beffroi.geo.text import fold, fold_token, joined


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Words so common in posts that a commune of that name needs strong context.
STRICT_WORDS = _words("""
    eu y bats mars vers orange sos us by his this our don die bar bars bus ham job gap lens
    nice long still very sure mer mere marie pont port place rue ville bois mont monts bourg
    cours grand four fours force bras vue avril mai juin aout sept fin sans tours our ours
    moyen vieux doux faux beaux bonne fille ecole chateau montagne gare lire louer loue son
    sens flat pure cars cast cry cult cuts dry dunes fry gee germ iron island lent lie lies
    lure organ pace pact piano salon sees sore this trans baby beard brain busy don dance
    eve gene yves alex rene remy leon mathieu germaine julienne marin martin vincent
    albert francois mary nicole raymond romain
    sainte saint bourg ay oo ur lys luc
    """)
_STRONG_PREPOSITIONS = _words("a au aux en près pres depuis vers in at near around outside inside")
_WEAK_PREPOSITIONS = _words("de d du des sur sous entre from to pour par via et")
# "rue de Paris", "gare de Lyon": a street or landmark named after another commune.
_LANDMARK_WORDS = _words("""
    rue avenue av boulevard bd place quai gare route rte chemin allee impasse pont porte
    square cours lycee college ecole stade hopital aeroport port parc centre cite residence
    faubourg new street road avenue airport university college county
    """)
_AFTER_NOT_PLACE = _words("county street road avenue hilton texas tx")
_ARTICLE_CONTRACTIONS = {"au": "le", "du": "le", "aux": "les", "des": "les"}
_POSTCODE_NOT = _words("""
    personnes habitants foyers maisons logements euros eur km m m3 litres morts victimes
    abonnes clients people homes households dollars tonnes ha hectares
    """)

_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_HASHTAG = re.compile(r"(?<![\w#])#([^\W_][\w]*)")
_SEPARATOR_ONLY = re.compile(r"^[ \t\-‐‑–'’]{1,3}$")
_DEP_HINT = re.compile(r"^\s*[\(\[]\s*(\d{2,3}|2[AaBb])\s*[\)\]]")
_SENTENCE_END = re.compile(r"[.!?…:\n]\s*$")
_NUMBER_BEFORE = re.compile(r"\d[.,]$")
_NUMBER_AFTER = re.compile(r"[.,]\d")
_MAX_NAME_TOKENS = 8
# Languages in which French place names are written as in French (regional languages, the
# creoles of the overseas départements); "und" is a detector's "don't know".
FRENCH_LIKE = _words("fr oc br ca eu co ht gcf gcr rcf und")
_FOREIGN_BIG_CITY = 100_000
_FOREIGN_HASHTAG_MIN = 20_000
_POSSESSIVE_GAP = re.compile(r"(?:['’]s)? ")
_NAME_GLUE = _words("saint sainte le la les l de d du des sur sous en et lès")
# Trie end marker: "#" never survives folding, so no token can be mistaken for it.
_END = "#"
_BIG_CITY = 50_000


@dataclass(frozen=True, slots=True)
class Match:
    code: str  # INSEE code of the current commune
    name: str
    dep: str
    confidence: float
    start: int  # evidence span in the input text
    end: int
    evidence: str
    via: str  # "name", "hashtag", "postcode", "former-name", "coordinates"
    in_area: bool | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    lat: float | None = None
    lon: float | None = None


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    raw: str
    key: str
    hashtag: bool = False


class _Matcher:
    """Token trie over folded names, built once per gazetteer."""

    def __init__(self, gaz: Gazetteer) -> None:
        self.gaz = gaz
        self.trie: dict[str, Any] = {}
        self.joined: dict[str, str] = {}
        for key in gaz.names():
            node = self.trie
            for word in key.split(" "):
                node = node.setdefault(word, {})
            node[_END] = key
            self.joined.setdefault(key.replace(" ", ""), key)
            if key.startswith("saint"):
                # Hashtags abbreviate: #StJeanDeMonts.
                self.joined.setdefault("st" + key.replace(" ", "")[5:], key)
        data = resources.files("beffroi.geo").joinpath("data/common_words.txt")
        self.dictionary_words = frozenset(data.read_text(encoding="utf-8").split())

    def tier(self, key: str) -> int:
        """0: ordinary name; 1: also a dictionary word; 2: word everywhere in posts."""
        if " " in key:
            return 0
        if key in STRICT_WORDS or len(key) <= 2:
            return 2
        return 1 if key in self.dictionary_words else 0


@cache
def _matcher() -> _Matcher:
    return _Matcher(gazetteer())


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(m.start(), m.end(), m.group(), fold_token(m.group())) for m in _TOKEN.finditer(text)
    ]


def _is_capitalised(raw: str) -> bool:
    return raw[:1].isupper()


def _caps_uninformative(text: str, tokens: list[_Token]) -> bool:
    """True for ALL CAPS or Title Case posts, where a capital says nothing about a name."""
    words = [
        t.raw
        for t in tokens
        if t.raw[:1].isalpha() and len(t.raw) > 3 and text[t.start - 1 : t.start] not in ("@", "#")
    ]
    if len(words) < 6:
        return False
    upper = sum(1 for w in words if w[:1].isupper())
    return upper / len(words) > 0.75


_OPENING = frozenset(" \t\"«“'(")
_SENTENCE_ENDS = frozenset(".!?…:\n")


def _sentence_initial(text: str, start: int) -> bool:
    """Whether the word at ``start`` opens a sentence (or the text).

    Reads backwards from ``start`` only as far as the answer needs: copying and searching
    the whole prefix for every candidate made a long post quadratic. Same answer as
    ``_SENTENCE_END`` searched on the prefix stripped of opening quotes and brackets."""
    k = start
    while k > 0 and text[k - 1] in _OPENING:
        k -= 1
    if k == 0:
        return True
    while k > 0 and text[k - 1].isspace():
        if text[k - 1] == "\n":
            return True
        k -= 1
    return k > 0 and text[k - 1] in _SENTENCE_ENDS


def _area_codes(area: set[str] | None, gaz: Gazetteer) -> tuple[set[str], set[str]]:
    """Split an area into commune codes and département codes."""
    if not area:
        return set(), set()
    communes = {a for a in area if len(a) == 5}
    deps = {a.upper() for a in area if len(a) in (2, 3)}
    return communes, deps


class _Context:
    def __init__(self, text: str, area: set[str] | None, lang: str | None = None) -> None:
        self.text = text
        base = (lang or "").split("-")[0].lower()
        self.foreign = bool(base) and base not in FRENCH_LIKE
        self.matcher = _matcher()
        self.gaz = self.matcher.gaz
        self.area_communes, self.area_deps = _area_codes(area, self.gaz)
        self.has_area = bool(area)
        self.tokens = _tokens(text)
        self.caps_uninformative = _caps_uninformative(text, self.tokens)
        self.postcodes = {
            t.raw
            for t in self.tokens
            if len(t.raw) == 5 and t.raw.isdigit() and self.gaz.by_postcode(t.raw)
        }

    def in_area(self, c: Commune) -> bool | None:
        if not self.has_area:
            return None
        return c.code in self.area_communes or c.dep in self.area_deps

    def key_in_area(self, key: str) -> bool:
        return any(
            (c := self.gaz.by_code(e.current_code)) is not None and self.in_area(c)
            for e in self.gaz.names().get(key, ())
        )

    def max_population(self, key: str) -> int:
        return max((e.population for e in self.gaz.names().get(key, ())), default=0)

    def dep_hint(self, end: int) -> str | None:
        m = _DEP_HINT.match(self.text[end : end + 8])
        return m.group(1).upper() if m else None

    def resolve(
        self, key: str, dep_hint: str | None
    ) -> tuple[Commune, Commune, list[str], float] | None:
        """Best current commune for a folded name, the entry that matched, reasons, factor."""
        entries = self.gaz.names().get(key, ())
        by_current: dict[str, tuple[Commune, Commune]] = {}
        for e in entries:
            current = self.gaz.by_code(e.current_code)
            if current is None:
                continue
            # A current commune of that name beats a former commune merged into another.
            if current.code not in by_current or e.kind in ("C", "A"):
                by_current[current.code] = (current, e)
        if not by_current:
            return None
        options = list(by_current.values())

        def rank(item: tuple[Commune, Commune]) -> tuple[int, int, int, int, int]:
            current, entry = item
            return (
                1 if self.in_area(current) else 0,
                1 if dep_hint and current.dep == dep_hint else 0,
                1 if self.postcodes.intersection(current.postcodes) else 0,
                1 if entry.kind in ("C", "A") else 0,
                current.population,
            )

        options.sort(key=rank, reverse=True)
        best, entry = options[0]
        reasons: list[str] = []
        factor = 1.0
        if len(options) > 1:
            top, second = rank(options[0]), rank(options[1])
            if top[:3] != second[:3]:
                why = (
                    "dans la zone de l'activation"
                    if top[0] != second[0]
                    else ("département indiqué" if top[1] != second[1] else "code postal cité")
                )
                reasons.append(f"{len(options)} homonymes, choisi : {why}")
            else:
                total = sum(max(o[0].population, 1) for o in options)
                share = max(best.population, 1) / total
                factor = max(0.5, min(1.0, 0.4 + share))
                reasons.append(f"{len(options)} homonymes, choisi le plus peuplé")
        if entry.kind in ("D", "S"):
            reasons.append(f"ancienne commune {entry.name}, aujourd'hui {best.name}")
        return best, entry, reasons, factor


def _preposition(ctx: _Context, index: int) -> tuple[int, str | None, bool]:
    """Strength of the preposition before token `index` (2 strong, 1 weak, 0 none)."""
    if index == 0:
        return 0, None, False
    prev = ctx.tokens[index - 1]
    between = ctx.text[prev.end : ctx.tokens[index].start]
    if between.strip(" '’") or "\n" in between:
        return 0, None, False
    word = prev.key
    landmark = word in _LANDMARK_WORDS
    if word in _WEAK_PREPOSITIONS and index >= 2:
        # "rue de Paris", "près de Nantes": look one word further back.
        prev2 = ctx.tokens[index - 2]
        if not ctx.text[prev2.end : prev.start].strip(" '’"):
            if prev2.key in _LANDMARK_WORDS:
                landmark = True
            if prev2.key in ("pres", "proche", "autour", "aux", "alentours", "environs"):
                return 2, f"{prev2.raw} {prev.raw}", landmark
    if word in _STRONG_PREPOSITIONS:
        return 2, prev.raw, landmark
    if word in _WEAK_PREPOSITIONS or word in _ARTICLE_CONTRACTIONS:
        return 1, prev.raw, landmark
    return 0, None, landmark


def _inside_proper_noun(ctx: _Context, first: int, last: int) -> bool:
    """A name between capitalised words belongs to a longer proper noun."""
    tokens, text = ctx.tokens, ctx.text
    shouting = tokens[last].raw.isupper() and len(tokens[last].raw) > 1
    # In French capitals ("NANTES SOUS L'EAU") a run of capitals says nothing; in another
    # language's post it is still "COSTA RICA".
    glue = _POSSESSIVE_GAP.match(text, tokens[last].end)
    if glue is not None and (ctx.foreign or not shouting):
        k = last + 1
        while k < len(tokens) and tokens[k].start < glue.end():
            k += 1  # skip the "s" of "Joseph's"
        if k < len(tokens) and tokens[k].start == glue.end():
            nxt = tokens[k]
            acronym = nxt.raw.isupper() and len(nxt.raw) > 1 and not tokens[last].raw.isupper()
            if (
                nxt.raw[:1].isupper()
                and not acronym  # "Nantes SNCF"
                and not _walk(ctx, k, None)  # "Nantes Saint-Nazaire": two places
            ):
                return True
    if first > 0:
        prev = tokens[first - 1]
        gap = text[prev.end : tokens[first].start]
        if (
            gap in (" ", ". ")
            and prev.raw[:1].isupper()
            and prev.key not in _STRONG_PREPOSITIONS
            and prev.key not in _WEAK_PREPOSITIONS
            and prev.key not in _ARTICLE_CONTRACTIONS
            and ((gap == ". " and len(prev.raw) == 1) or not _sentence_initial(text, prev.start))
        ):
            return True
    return False


def _decide(
    ctx: _Context, key: str, first: int, last: int, *, contraction: bool
) -> tuple[float, list[str]] | None:
    """Confidence that tokens[first..last] name a place (before homonym resolution)."""
    tokens = ctx.tokens
    start, end = tokens[first].start, tokens[last].end
    prep_word: str | None
    tier = ctx.matcher.tier(key)
    if tier == 2 and ctx.max_population(key) >= _BIG_CITY:
        # Nice, Tours: big enough that a capitalised mention is usually the city.
        tier = 1
    n_words = len(key.split(" "))
    # "Saint-Hilaire-de-Talmont" is not Saint-Hilaire: a hyphen glues more words on.
    if re.match(r"[\-‐‑][^\W\d_]", ctx.text[end : end + 2]) or re.search(
        r"[^\W\d_][\-‐‑]$", ctx.text[max(0, start - 2) : start]
    ):
        return None
    if contraction:
        prep, prep_word, landmark = 2, tokens[first].raw, False
        if first > 0:
            _, _, landmark = _preposition(ctx, first)
        head = tokens[first + 1]
    else:
        prep, prep_word, landmark = _preposition(ctx, first)
        head = tokens[first]
    if landmark:
        return None
    after = tokens[last + 1].key if last + 1 < len(tokens) else ""
    if after in _AFTER_NOT_PLACE:
        return None
    significant = [
        t
        for t in tokens[first + (1 if contraction else 0) : last + 1]
        if t.key
        not in (
            "le",
            "la",
            "les",
            "l",
            "de",
            "d",
            "du",
            "des",
            "sur",
            "en",
            "et",
            "sous",
            "lès",
            "les",
        )
    ]
    capital = all(_is_capitalised(t.raw) for t in significant[:2]) if significant else False
    all_caps = head.raw.isupper() and len(head.raw) > 1
    informative_caps = capital and not ctx.caps_uninformative and not (all_caps and tier > 0)
    # Capitals of a shouted name ("LE BOURG") or of a Title Case post say nothing.
    capital_info = capital and not all_caps and not ctx.caps_uninformative
    initial = _sentence_initial(ctx.text, tokens[first].start)
    reasons: list[str] = []
    if prep:
        reasons.append(f"après « {prep_word} »")

    if ctx.foreign and _inside_proper_noun(ctx, first, last):
        return None  # "St Joseph's School", "De La Salle College"
    if n_words >= 2:
        if not capital_info and n_words < 3:
            # "sur la cote", "LE BOURG": two words without telling capitals are too often a
            # phrase when the last one is an ordinary word ("la rochelle" is not).
            last_word = key.rsplit(" ", 1)[-1]
            if last_word in ctx.matcher.dictionary_words or last_word in STRICT_WORDS:
                return None
        conf = 0.8 if capital_info else 0.6
        conf += 0.1 if prep == 2 else (0.05 if prep == 1 else 0.0)
        reasons.append("nom composé" + (" avec majuscules" if capital_info else ""))
        return min(conf, 0.97), reasons

    if not ctx.caps_uninformative and not contraction and _inside_proper_noun(ctx, first, last):
        return None  # "Costa Rica", "Mary River", "Amy Cheong", "Santa Monica Bay"
    if ctx.foreign and not ctx.key_in_area(key):
        # In an English or Spanish post a one-word French name is usually a word of that
        # language ("Costa", "Real", "Pray"): ask for a preposition or a big city.
        if tier == 2:
            return None  # "in US", "in His"
        if capital and prep == 2:
            reasons.append("message dans une autre langue, accepté après préposition")
            return 0.6, reasons
        if informative_caps and not initial and ctx.max_population(key) >= _FOREIGN_BIG_CITY:
            reasons.append("message dans une autre langue, grande ville")
            return 0.6, reasons
        return None
    if first > 0 and not contraction and tokens[first - 1].key in ("la", "le", "les", "l"):
        # "la Bresle", "le Rhône": a river or a region, not the commune of that name.
        return None
    if tier == 2:
        if len(key) == 1 and not ctx.key_in_area(key):
            return None  # "Y" only as a hashtag or inside the activation's area
        if prep == 2 and capital_info:
            reasons.append("nom courant, accepté après préposition et majuscule")
            return 0.55, reasons
        return None
    if tier == 1:
        if informative_caps and not initial:
            conf = 0.6 + (0.2 if prep == 2 else (0.1 if prep == 1 else 0.0))
            reasons.append("majuscule hors début de phrase (nom aussi mot courant)")
            return conf, reasons
        if prep == 2 and (capital or len(key) >= 5):
            reasons.append("nom aussi mot courant, accepté après préposition")
            return 0.55 if capital else 0.45, reasons
        return None
    # Ordinary name.
    if capital:
        conf = 0.7 if not initial or prep else 0.65
        if ctx.caps_uninformative:
            conf -= 0.1
        conf += 0.2 if prep == 2 else (0.1 if prep == 1 else 0.0)
        reasons.append("majuscule")
        return min(conf, 0.95), reasons
    if prep >= 1 and len(key) >= 4:
        reasons.append("minuscules, après préposition")
        return 0.5 if prep == 2 else 0.4, reasons
    if len(key) >= 5 and not ctx.foreign:
        # "inondations nantes centre": posts are often typed in lower case, and a name that
        # is no French or English word is rarely anything else.
        reasons.append("minuscules, nom qui n'est pas un mot courant")
        return 0.4, reasons
    return None


def _walk(ctx: _Context, i: int, first_word: str | None) -> list[tuple[int, str]]:
    """Name keys found from token i: (last token index, key), longest last."""
    found: list[tuple[int, str]] = []
    node: dict[str, Any] | None = ctx.matcher.trie
    j = i
    if first_word is not None:
        node = ctx.matcher.trie.get(first_word)
        j = i + 1
        if node is None or j >= len(ctx.tokens):
            return found
    tokens = ctx.tokens
    while node is not None and j < len(tokens) and j - i < _MAX_NAME_TOKENS:
        if j > i and not _SEPARATOR_ONLY.match(ctx.text[tokens[j - 1].end : tokens[j].start]):
            break
        node = node.get(tokens[j].key) if tokens[j].key else None
        if node is None:
            break
        key = node.get(_END)
        if key is not None:
            found.append((j, key))
        j += 1
    return found


def find_communes(
    text: str,
    *,
    area: set[str] | None = None,
    lang: str | None = None,
    min_confidence: float = 0.35,
) -> list[Match]:
    """Communes named in `text`, in order of appearance, one Match per distinct commune.

    `area` holds the activation's INSEE commune codes and/or département codes ("85",
    "2A", "974"); communes inside it win over their homonyms and are flagged `in_area`.
    `lang` (ISO 639-1, e.g. from language detection): in a post that is not in French, a
    one-word name needs stronger evidence.
    """
    if not text:
        return []
    ctx = _Context(text, area, lang)
    tokens = ctx.tokens
    results: list[Match] = []
    covered: list[tuple[int, int]] = []

    def emit(
        best: Commune, start: int, end: int, conf: float, via: str, reasons: list[str]
    ) -> None:
        inside = ctx.in_area(best)
        if inside:
            reasons.append("dans la zone de l'activation")
        if conf < min_confidence:
            return
        results.append(
            Match(
                code=best.code,
                name=best.name,
                dep=best.dep,
                confidence=round(conf, 3),
                start=start,
                end=end,
                evidence=text[start:end],
                via=via,
                in_area=inside,
                reasons=tuple(reasons),
                lat=best.lat,
                lon=best.lon,
            )
        )
        covered.append((start, end))

    # Hashtags first: the whole tag is one name (#SaintJeanDeMonts, #Nantes).
    for m in _HASHTAG.finditer(text):
        body = joined(m.group(1))
        key = ctx.matcher.joined.get(body)
        if key is None:
            continue
        tier = ctx.matcher.tier(key)
        resolved = ctx.resolve(key, ctx.dep_hint(m.end()))
        if resolved is None:
            continue
        best, entry, reasons, factor = resolved
        if tier == 2 and not ctx.in_area(best):
            continue
        # "#soupir", "#pray": a word, unless it is a big enough town to be tagged.
        if (
            not ctx.in_area(best)
            and (tier > 0 or ctx.foreign)
            and (tier == 2 or ctx.max_population(key) < _FOREIGN_HASHTAG_MIN)
        ):
            continue
        conf = (0.85 if tier == 0 else 0.6) * factor
        reasons.insert(0, "mot-dièse")
        emit(
            best,
            m.start(),
            m.end(),
            conf,
            "hashtag" if entry.kind in ("C", "A") else "former-name",
            reasons,
        )

    # Names are read left to right and the walk jumps past each name it accepts, so
    # only the hashtags (in text order, disjoint) can cover a later token: one pointer
    # over them keeps a long post linear (a scan of every span per token was quadratic).
    tags = sorted(covered)
    tag = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        while tag < len(tags) and tags[tag][1] <= tok.start:
            tag += 1
        if tag < len(tags) and tags[tag][0] <= tok.start:
            i += 1
            continue
        candidates: list[tuple[int, str, bool]] = [(j, k, False) for j, k in _walk(ctx, i, None)]
        article = _ARTICLE_CONTRACTIONS.get(tok.key)
        if article:
            candidates += [(j, k, True) for j, k in _walk(ctx, i, article)]
        candidates.sort(key=lambda c: (c[0], not c[2]), reverse=True)
        accepted = False
        for j, key, contraction in candidates:
            decided = _decide(ctx, key, i, j, contraction=contraction)
            if decided is None:
                continue
            conf, reasons = decided
            resolved = ctx.resolve(key, ctx.dep_hint(tokens[j].end))
            if resolved is None:
                continue
            best, entry, more, factor = resolved
            start = tokens[i + 1].start if contraction else tok.start
            emit(best, start, tokens[j].end, conf * factor,
                 "name" if entry.kind in ("C", "A") else "former-name", reasons + more)  # fmt: skip
            i = j + 1
            accepted = True
            break
        if not accepted:
            i += 1

    # Postal codes not already explaining a named commune.
    named = {r.code for r in results}
    for idx, t in enumerate(tokens):
        if t.raw not in ctx.postcodes:
            continue
        nxt = tokens[idx + 1].key if idx + 1 < len(tokens) else ""
        if nxt in _POSTCODE_NOT:
            continue
        # "3.85440" or "85440,5": part of a bigger number.
        # Two characters either side are all the patterns read (a long post stays linear).
        if _NUMBER_BEFORE.search(text[max(0, t.start - 2) : t.start]) or _NUMBER_AFTER.match(
            text[t.end : t.end + 2]
        ):
            continue
        communes = ctx.gaz.by_postcode(t.raw)
        if any(c.code in named for c in communes):
            continue
        # A bare five-digit number is too often something else (an SMS donation number,
        # an IBAN, "32000 from homes"): a postal code counts only next to a word of one
        # of its communes' names ("Talmont 85440") or inside the activation's area.
        near = {tokens[k].key for k in (idx - 2, idx - 1, idx + 1, idx + 2) if 0 <= k < len(tokens)}
        named_near = [c for c in communes if near & (set(fold(c.name).split()) - _NAME_GLUE)]
        in_area = [c for c in communes if ctx.in_area(c)]
        pool = named_near or in_area
        if not pool:
            continue
        best = max(pool, key=lambda c: (1 if ctx.in_area(c) else 0, c.population))
        reasons = [f"code postal {t.raw}"]
        if named_near:
            reasons.append(f"à côté d'un mot du nom « {best.name} »")
        if len(pool) > 1:
            reasons.append(f"partagé par {len(pool)} communes, choisie la plus peuplée")
            conf = 0.45
        else:
            conf = 0.6 if named_near else 0.5
        emit(best, t.start, t.end, conf, "postcode", reasons)

    # One match per commune: keep the most confident mention.
    best_by_code: dict[str, Match] = {}
    for r in results:
        if r.code not in best_by_code or r.confidence > best_by_code[r.code].confidence:
            best_by_code[r.code] = r
    return sorted(best_by_code.values(), key=lambda r: r.start)


def commune_at(lat: float, lon: float, *, max_km: float = 20.0) -> Match | None:
    """Commune for coordinates a post carries (nearest commune with known coordinates)."""
    found = gazetteer().nearest(lat, lon, max_km=max_km)
    if found is None:
        return None
    commune, km = found
    # Known coordinates cover towns of 1,000+ people: past a few km the point may well be
    # in a smaller neighbouring commune, so confidence falls with distance.
    conf = max(0.3, 0.95 - 0.05 * km)
    return Match(
        code=commune.code,
        name=commune.name,
        dep=commune.dep,
        confidence=round(conf, 3),
        start=0,
        end=0,
        evidence=f"{lat:.5f},{lon:.5f}",
        via="coordinates",
        reasons=(f"coordonnées du message, à {km:.1f} km du centre de {commune.name}",),
        lat=commune.lat,
        lon=commune.lon,
    )


def warm_up() -> None:
    """Build the gazetteer and matcher now rather than on the first post."""
    _matcher()


def area_from(codes: Iterable[str]) -> set[str]:
    """Normalise an activation area (commune and département codes) for `find_communes`."""
    return {c.strip().upper() for c in codes if c and c.strip()}


__all__ = ["Match", "area_from", "commune_at", "find_communes", "fold", "warm_up"]
