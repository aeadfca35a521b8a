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

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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


# -- Profiles: what an account says it is in its bio and profile fields -------------------
#
# A bio is prose about anything: "fan de la BBC", "ex-journaliste", "lectrice du Monde",
# a link to a newspaper. Reading it like a name (any trade word counts) would make half of
# a crisis's witnesses newsrooms. A bio counts only where the account describes itself:
# a clause that *begins* with a role or an institution ("Journaliste à Midi Libre",
# "Préfecture du Gard", "Mayor of Alès"), or that holds an official-account formula
# ("Compte officiel de la préfecture du Gard", "Official account of the City of
# Calgary"). A clause with a word that undoes it (ex-, ancien, former, retraité, fan,
# amateur, citoyen, étudiant, pas, not…) counts for nothing; links, @mentions and
# #hashtags are not read (they say what the account talks about or points to, not what
# it is). A bio that disowns the account ("parodie", "compte fan", "unofficial") also
# cancels the kinds read in its names: that is how a fake prefecture presents itself.
# docs/decisions/watch-author-profiles.md gives the rule and its cases.

# What is read of a profile (the sources cut what they cache to these too).
PROFILE_TEXT = 2000  # characters of each text: self-descriptions come first
PROFILE_FIELDS = 16
_BIO_LINK = re.compile(r"(?<![a-z0-9+.-])[a-z0-9+.-]+://\S+|\bwww\.\S+|[@#][\w.@-]+|:[a-z0-9_]+:")
# Clauses: sentences, lines, lists ("Mère · journaliste · Alès"), label and value.
_CLAUSE = re.compile(r"[.!?;:|/\n\r,]+|\s+-\s+|\s+&\s+")
_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_SELF = r"(?:(?:je suis|i am|i'm|im|we are|nous sommes|on est|soy|sono|sou)\s+)?"
_ARTICLE = r"(?:(?:un|une|le|la|les|a|an|the|el|il|lo|o)\s+|l'\s*)?"


def _alternatives(words: str) -> str:
    # Comma-separated phrases; a space inside one matches any run of spaces.
    return "|".join(r"\s+".join(map(re.escape, w.split())) for w in words.split(",") if w.strip())


# A clause beginning with one of these (after "je suis", "I am", an article) says what the
# account is. Persons' roles count as their trade's kind: CrisisLex calls a journalist's
# post Media and an official's Government.
_ROLES: Mapping[str, str] = {
    "media": _alternatives(
        """journaliste,journalistes,journalist,journalists,photojournaliste,photojournalist,
        reporter,reporters,reporteur,reportrice,grand reporter,grande reporter,redacteur,
        redactrice,redac chef,redaction,la redaction,correspondant,correspondante,
        correspondent,presentateur,presentatrice,chroniqueur,chroniqueuse,editorialiste,
        columnist,news anchor,newsroom,news desk,editor in chief,editor-in-chief,periodista,
        giornalista,jornalista,jri,radio,television,
        chaine d'information,webradio,media,newspaper,news agency,agence de presse"""
    ),
    "government": _alternatives(
        """maire,mayor,adjoint au maire,adjointe au maire,deputy mayor,prefet,prefete,
        sous-prefet,sous-prefete,prefect,prefecture,sous-prefecture,prefeitura,mairie,
        hotel de ville,city hall,ville de,ville d',city of,commune de,commune d',
        conseil departemental,conseil regional,departement de,departement du,departement d',
        sdis,service departemental d'incendie,sapeurs-pompiers,gendarmerie,
        police nationale,police municipale,police department,ministere,ministry,ministerio,
        gouvernement,government of,ayuntamiento,municipio,comune di,protezione civile,
        securite civile,agence regionale de sante"""
    ),
    "ngo": _alternatives(
        """association,asso,ong,ngo,non-profit,nonprofit,not-for-profit,
        organisation humanitaire,humanitarian organisation,humanitarian organization,
        registered charity,charity,fondation,foundation,croix-rouge,red cross,red crescent,
        croissant-rouge,cruz roja,croce rossa,protection civile,secours populaire,
        secours catholique"""
    ),
    "business": _alternatives(
        """entreprise,company,hotel,hotel-restaurant,restaurant,boutique,magasin,
        boulangerie,camping,shop,store,supermarche,supermarket"""
    ),
}
_ROLE_START = {
    kind: re.compile(rf"^{_SELF}{_ARTICLE}(?:{words})(?![a-z0-9'-])")
    for kind, words in _ROLES.items()
}
_ANY_CLAIM = re.compile(r"\b(?:" + "|".join(_ROLES.values()) + r"|offici|ufficial)")
# "Compte officiel de X", "Official account of X", "Official Mastodon account of X": the
# kind is X's, read as the start of a clause or, failing that, as a name.
_PLATFORM = r"(?:\s+(?:mastodon|twitter|x|bluesky|facebook|instagram|threads))?"
_OFFICIAL = re.compile(
    r"\b(?:compte|page|fil|profil)\s+officiel(?:le)?"
    + _PLATFORM
    + r"\s+(?:de la|de l'|des|du|de|d')\s*(?P<x>.+)"
    r"|\bofficial" + _PLATFORM + r"\s+(?:account|page|profile|feed)\s+(?:of|for|from)\s+"
    r"(?:the\s+)?(?P<y>.+)"
    r"|\bofficial\s+(?P<z>.+?)\s+(?:account|page|profile|feed)\b"
    r"|\bcuenta oficial\s+(?:de la|del|de)\s+(?P<w>.+)"
    r"|\baccount ufficiale\s+(?:della|dello|del|dei|degli|delle|di)\s+(?P<v>.+)"
)
# A clause with one of these words says nothing of what the account is now.
_UNDOING = frozenset(
    _words(
        """ex ancien ancienne anciens anciennes former formerly retired retraite retraitee
    retraites retirement honoraire fan fans lover lovers addict amateur amatrice passionne
    passionnee passionnes citoyen citoyenne citizen aspiring futur future wannabe apprenti
    apprentie etudiant etudiante etudiants student students stagiaire intern pas not non ni
    jamais never n'est isn't aucun aucune"""
    )
)
# Words that disown the whole account: its names are then not believed either.
_DISOWNING = re.compile(
    r"\b(?:parodie|parodique|parody|satire|satirique|satirical|compte fan|fan account"
    r"|fan page|fanpage|faux compte|fake account|unofficial|non[ -]officiel(?:le)?"
    r"|pas (?:un compte |le compte )?officiel(?:le)?|not (?:an )?official)\b"
)


# The French name of a public body's seat, not a hotel.
_CIVIC_HOTEL = re.compile(r"\bhotel\s+(?:de\s+ville|de\s+police|de\s+region|du\s+departement)\b")


@dataclass(frozen=True)
class ProfileReading:
    """What an account's bio and profile fields say of it: the kinds it claims, and
    whether it disowns itself (parody, fan account, unofficial)."""

    kinds: tuple[str, ...] = ()
    disowned: bool = False


# Marks that end a clause or quote one, before the text is folded to ASCII (which would
# drop them): "Mère · journaliste · Alès", « Journaliste à … ».
_FOLD_MARKS = str.maketrans(
    {
        "\u2019": "'",
        "\u02bc": "'",
        **dict.fromkeys("·•–—\u2022\u2023", "|"),
        **dict.fromkeys("«»“”„", " "),
    }
)


# A run of white space, one line break or one space once read: _CLAUSE's " - " and " & "
# would otherwise try every start inside a long run (a profile of blanks took seconds).
_SPACE_RUN = re.compile(r"\s+")


def _one_space(run: re.Match[str]) -> str:
    return "\n" if "\n" in run[0] or "\r" in run[0] else " "


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD_MARKS))
    text = _BIO_LINK.sub(" ", text.encode("ascii", "ignore").decode("ascii"))
    return _SPACE_RUN.sub(_one_space, text)


def _clause_kinds(clause: str) -> set[str]:
    clause = clause.strip(" \t\"'()[]*_~-")
    if not clause:
        return set()
    if _UNDOING.intersection(_TOKEN.findall(clause)):
        return set()
    found = {kind for kind, start in _ROLE_START.items() if start.match(clause)}
    official = _OFFICIAL.search(clause)
    if official is not None:
        named = next(g for g in official.groups() if g is not None)
        of_named = {kind for kind, start in _ROLE_START.items() if start.match(named.strip())}
        found |= of_named or set(_READER("_".join(_TOKEN.findall(named))))
    if _CIVIC_HOTEL.search(clause):
        found.discard("business")
    return found


@functools.lru_cache(maxsize=4096)
def _read_profile(texts: tuple[str, ...]) -> ProfileReading:
    text = "\n".join(_fold(t[:PROFILE_TEXT]) for t in texts)
    if _DISOWNING.search(text):
        return ProfileReading(disowned=True)
    if not _ANY_CLAIM.search(text):
        return ProfileReading()  # most people's bios: one search, no clause read
    found: set[str] = set()
    for clause in _CLAUSE.split(text):
        found |= _clause_kinds(clause)
    return ProfileReading(kinds=tuple(sorted(found)))


def profile_kinds(bio: str, fields: Sequence[tuple[str, str]] = ()) -> ProfileReading:
    """Kinds an account claims in its bio and profile fields, as plain text (the source
    turns HTML into text). Nothing is kept but the kinds: a bio is personal, a kind is
    not. ``()`` when the profile says nothing of the account's kind; never "none", which
    the names give."""
    # Cut before the cache below: it is keyed by the texts, never by a whole bio.
    texts = [bio[:PROFILE_TEXT]] if bio and bio.strip() else []
    for name, value in list(fields)[:PROFILE_FIELDS]:
        # A field's label and value are read as one clause each ("Poste : Journaliste").
        texts.append(f"{name[:PROFILE_TEXT]}\n{value[:PROFILE_TEXT]}")
    if not texts:
        return ProfileReading()
    return _read_profile(tuple(texts))


def account_kinds(
    names: Sequence[str], bio: str = "", fields: Sequence[tuple[str, str]] = ()
) -> tuple[str, ...]:
    """Kinds of an account read in its names (``author_kinds``) and its profile
    (``profile_kinds``). A profile that disowns the account (parody, fan account) leaves
    its names saying nothing: ``("none",)`` when names were given."""
    from_names = author_kinds(*names)
    profile = profile_kinds(bio, fields)
    if profile.disowned:
        return ("none",) if from_names else ()
    return merge_kinds(from_names, profile.kinds)
