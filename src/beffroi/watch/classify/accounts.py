"""What kind of account a handle names, from the words inside it.

CrisisLex labels a retweet with the kind of the account it relays, and an account's
handle often says what it is: ``cityofcalgary``, ``RedCrossAU``, ``gmanews``,
``joes_hotel``. The model's character 4-grams of handles only know the handles of its
training events; these word lists carry the general knowledge a volunteer has of what a
newsroom, an authority, an NGO or a company calls itself, so an account never seen in
training still counts (docs/decisions/classifier.md, "Account kinds").

The lists hold generic words of the trades in the languages of the training events and of
Beffroi's users (English, French, Spanish, Italian, Portuguese, Tagalog), plus a few
organisations known in every country (UN agencies, the Red Cross and Red Crescent, the
large international NGOs, the international news agencies). They deliberately hold no
name of a national agency, company or newspaper of one of the CrisisLex events: the
benchmark holds out whole events, and such names would leak them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

KINDS = ("media", "government", "ngo", "business")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Words of four letters or more are also found inside run-together handles
# ("cityofcalgary", "redcrossau"); shorter ones only as a part or at either end.
ACCOUNT_WORDS: Mapping[str, tuple[str, ...]] = {
    "media": _words(
        """news noticias notizie noticia nouvelles actu actus info infos tv tele television
        televisione televisao radio times post daily herald tribune journal gazette press presse
        prensa stampa magazine revista rivista reporter reporters journo journalist journaliste
        periodista giornalista editor redaction redazione diario giornale jornal quotidien
        quotidiano broadcast channel canal network wire breaking media fm reuters afp"""
    ),
    "government": _words(
        """gov gouv govt gobierno governo gouvernement government city ciudad citta ville
        county state police polizia policia gendarmerie pompiers bomberos vigilidelfuoco
        firerescue fire sheriff emergency emergencias emergenza urgence prefet prefecture
        ministry minister ministerio ministero ministere department council mayor sindaco
        alcalde maire prefeitura comune ayuntamiento municipio municipality mairie
        protezionecivile proteccioncivil protectioncivile civildefense defensacivil military
        navy coastguard embassy ambassade consulate parliament senate senator congress
        president presidente presidencia weatherservice meteofrance publichealth"""
    ),
    "ngo": _words(
        """redcross redcrescent cruzroja crocerossa croixrouge cruzvermelha unicef wfp unhcr
        ocha oxfam savethechildren worldvision caritas salvationarmy msf greenpeace amnesty
        foundation fundacion fondazione fondation fundacao charity charities relief aid ngo
        ong volunteer volunteers voluntarios volontari benevoles association asociacion
        associazione associacao church iglesia chiesa eglise parish diocese mission shelter
        foodbank rescue donate donations solidarity solidaridad solidarite"""
    ),
    "business": _words(
        """inc corp ltd llc company compagnie empresa azienda entreprise store shop boutique
        tienda negozio hotel hotels resort restaurant ristorante cafe coffee bakery bank banco
        banca banque airline airlines airways telecom mobile insurance assurance seguros
        motors mall market supermarket deals sale brand shopping"""
    ),
}

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# Words of five letters or more are looked for inside run-together handles; shorter ones
# would be found in too many names ("velocity", "rocha"), so they count as a part of the
# handle or at either end of it ("cityofcalgary", "abc7news"), company suffixes only at
# the end ("incendios" is no company). Some longer words are as common inside others.
_INSIDE_MIN = 5
_SUFFIX_ONLY = frozenset({"inc", "ltd", "llc", "corp"})
_PARTS_ONLY = frozenset(
    {"aid", "ong", "ngo", "sale", "tele", "state", "ville", "press", "presse", "brand", "mission"}
)
# How sources write a handle they pseudonymised (watch.sources.base.PSEUDONYM_MENTION):
# it says nothing of the account, so it gives no kind, not even "none".
PSEUDONYM = re.compile(r"h_[0-9a-f]{16}")
_CACHE_SIZE = 10_000


class AccountKinds:
    """Finds account kinds in handles, with the word lists given (the model file keeps
    its own copy, so a later edit of these lists does not change a shipped model)."""

    def __init__(self, words: Mapping[str, tuple[str, ...]]) -> None:
        self._index = {w: kind for kind, ws in words.items() for w in ws}
        free = [w for w in self._index if w not in _PARTS_ONLY]
        inner = sorted((w for w in free if len(w) >= _INSIDE_MIN), key=len, reverse=True)
        self._inside = re.compile("|".join(map(re.escape, inner))) if inner else None
        short = [w for w in free if len(w) < _INSIDE_MIN]
        self._prefixes = tuple(w for w in short if w not in _SUFFIX_ONLY)
        self._suffixes = tuple(short)
        self._cache: dict[str, frozenset[str]] = {}

    def __call__(self, handle: str) -> frozenset[str]:
        # A crisis stream relays the same few accounts again and again.
        known = self._cache.get(handle)
        if known is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            known = self._cache[handle] = frozenset(self._find(handle))
        return known

    def _find(self, handle: str) -> set[str]:
        found = {
            self._index[p.lower()]
            for chunk in handle.split("_")
            for p in _CAMEL.findall(chunk)
            if p.lower() in self._index
        }
        low = handle.lower()
        if self._inside is not None:
            found.update(self._index[m] for m in self._inside.findall(low))
        found.update(self._index[w] for w in self._prefixes if low.startswith(w))
        found.update(self._index[w] for w in self._suffixes if low.endswith(w))
        return found


_READER = AccountKinds(ACCOUNT_WORDS)
_NAME_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")


def author_kinds(*names: str) -> tuple[str, ...]:
    """Kinds of an author's account read in its names (username, display name), for a
    source to keep beside the author's pseudonym: a kind is not personal, the handle is.

    ``("none",)`` when a name is given but says no kind (mostly people), ``()`` when no
    name is known. Display names are folded to ASCII words joined by "_", as handles."""
    from .features import strip_accents  # features reads accounts: imported when called

    given = [n for n in names if n and n.strip()]
    if not given:
        return ()
    found: set[str] = set()
    for name in given:
        words = _NAME_SEPARATORS.split(strip_accents(name))
        found |= _READER("_".join(w for w in words if w))
    return tuple(sorted(found)) or ("none",)


# Internet names only public bodies can hold: a state's reserved zones (.gov, gouv.fr,
# gob.es, gc.ca…) and a few international ones. An account on such a server (a state's
# own Mastodon instance) or one whose profile link to such a site the server has verified
# (rel="me"), or a feed fetched from one, speaks for an authority: stronger than a name,
# which anyone may take.
_PUBLIC_ZONES = re.compile(
    r"(?:^|\.)(?:gouv\.[a-z]{2}|gouv\.qc\.ca|gov|gov\.[a-z]{2}|gob\.[a-z]{2}|gv\.at"
    r"|gc\.ca|admin\.ch|bund\.de|europa\.eu|un\.org|mil)$"
)


def domain_kinds(*hosts: str) -> tuple[str, ...]:
    """``("government",)`` when one of the host names lies in a zone reserved to public
    bodies (``www.gard.gouv.fr``, ``social.numerique.gouv.fr``, ``weather.gov``), else
    ``()``: any other domain says nothing of its holder."""
    for host in hosts:
        name = host.strip().lower().rstrip(".").rsplit("@", 1)[-1].split(":", 1)[0]
        if name and _PUBLIC_ZONES.search(name):
            return ("government",)
    return ()


def merge_kinds(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Kinds from several readings of one author; "none" only when no reading found one."""
    found = {k for group in groups for k in group if k != "none"}
    if found:
        return tuple(sorted(found))
    return ("none",) if any(groups) else ()
