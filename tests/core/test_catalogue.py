"""The English catalogue: complete, compiled, placeholder-safe, and actually used.

The .po is read with a small parser of our own (polib is a dev-only tool used by
`make messages`, not a test dependency); lookups go through the committed .mo with
the standard library, exactly as Django reads it.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.urls import reverse

import beffroi

LC_MESSAGES = Path(beffroi.__file__).parent / "locale" / "en" / "LC_MESSAGES"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
# Printf-style conversions as Python's % operator reads them; "%%" is a literal.
_PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?(?P<conv>[a-zA-Z%])"
)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def _unquote(literal: str, line: int) -> str:
    literal = literal.strip()
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"line {line}: expected a quoted string, got {literal!r}")
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _ESCAPES:
                raise ValueError(f"line {line}: unknown escape in {literal!r}")
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def parse_po(text: str) -> list[Entry]:
    """Entries of a .po file, the header (msgid "") included; obsolete ones (#~) skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    # Which string a continuation line ("...") extends: ("msgid"|"msgid_plural"|"msgctxt", None)
    # or ("msgstr", index).
    target: tuple[str, int | None] | None = None
    pending_flags: set[str] = set()

    def start(lineno: int) -> Entry:
        nonlocal current, pending_flags
        # A keyword that opens an entry while the previous one already has its msgstr.
        if current is None or current.msgstr:
            current = Entry(flags=pending_flags, line=lineno)
            entries.append(current)
            pending_flags = set()
        return current

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("#,")):
            continue
        if line.startswith("#,"):
            pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"line {lineno}: string outside any entry")
            value = _unquote(line, lineno)
            name, index = target
            if name == "msgstr":
                assert index is not None
                current.msgstr[index] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
        elif keyword == "msgctxt":
            start(lineno).msgctxt = _unquote(rest, lineno)
            target = ("msgctxt", None)
        elif keyword == "msgid":
            entry = start(lineno)
            entry.msgid = _unquote(rest, lineno)
            target = ("msgid", None)
        elif keyword == "msgid_plural" and current is not None:
            current.msgid_plural = _unquote(rest, lineno)
            target = ("msgid_plural", None)
        elif keyword == "msgstr" and current is not None:
            current.msgstr[0] = _unquote(rest, lineno)
            target = ("msgstr", 0)
        elif (m := re.fullmatch(r"msgstr\[(\d+)\]", keyword)) and current is not None:
            current.msgstr[int(m.group(1))] = _unquote(rest, lineno)
            target = ("msgstr", int(m.group(1)))
        else:
            raise ValueError(f"line {lineno}: cannot read {raw!r}")
    return entries


def placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Named placeholders (as a set) and positional ones (in order, as %-formatting needs)."""
    named: set[str] = set()
    positional: list[str] = []
    for m in _PLACEHOLDER.finditer(text):
        if m.group("conv") == "%":
            continue
        if m.group("name") is not None:
            named.add(f"%({m.group('name')})")
        else:
            positional.append(m.group(0))
    return frozenset(named), tuple(positional)


def problems(entries: list[Entry]) -> list[str]:
    """Everything that would show French (or crash formatting) in the English UI."""
    found: list[str] = []
    for e in entries:
        if e.msgid == "" and e.msgctxt is None:
            # The header: msgfmt/makemessages always leave it "fuzzy"; it holds no UI text.
            continue
        where = f"line {e.line}, {e.msgid!r}"
        if "fuzzy" in e.flags:
            found.append(f"fuzzy ({where})")
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        expected = range(len(sources))
        if sorted(e.msgstr) != list(expected):
            found.append(f"msgstr forms {sorted(e.msgstr)} ({where})")
            continue
        for index, source in enumerate(sources):
            translation = e.msgstr[index]
            if not translation:
                found.append(f"untranslated ({where})")
            elif placeholders(translation) != placeholders(source):
                found.append(
                    f"placeholders {placeholders(translation)} != {placeholders(source)} ({where})"
                )
    return found


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    return parse_po((LC_MESSAGES / "django.po").read_text(encoding="utf-8"))


def test_every_entry_is_translated_with_its_placeholders(catalogue: list[Entry]) -> None:
    assert len(catalogue) > 100
    assert problems(catalogue) == []


def test_compiled_catalogue_matches_the_po(catalogue: list[Entry]) -> None:
    # A stale .mo (po edited, not recompiled) would ship old or missing English.
    with (LC_MESSAGES / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    checked = 0
    for e in catalogue:
        if e.msgid == "":
            continue
        if e.msgid_plural is None:
            looked_up = mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt else mo.gettext(e.msgid)
            assert looked_up == e.msgstr[0], e.msgid
        else:
            assert mo.ngettext(e.msgid, e.msgid_plural, 1) == e.msgstr[0], e.msgid
            assert mo.ngettext(e.msgid, e.msgid_plural, 2) == e.msgstr[1], e.msgid
        checked += 1
    assert checked == len(catalogue) - 1


def test_the_checker_catches_what_it_is_for() -> None:
    # Continuations, escapes and plurals parse; every kind of fault is reported.
    sample = r"""# header
#, fuzzy
msgid ""
msgstr ""
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#: a.py:1
msgid "Bonjour,\n"
"« %(name)s »"
msgstr "Hello,\n"
"“%(name)s”"

#, fuzzy, python-format
msgid "Trop de tentatives"
msgstr "Too many attempts"

msgid "Rôle inconnu : %(role)s"
msgstr "Unknown role"

msgid "Ligne %d colonne %s"
msgstr "Column %s line %d"

msgid "Vide"
msgstr ""

msgid "%(n)s membre"
msgid_plural "%(n)s membres"
msgstr[0] "%(n)s member"
msgstr[1] "members"

msgid "100 %% sûr"
msgstr "100%% sure"

#~ msgid "Ancien"
#~ msgstr ""
"""
    entries = parse_po(sample)
    assert [e.msgid for e in entries][:2] == ["", "Bonjour,\n« %(name)s »"]
    assert entries[1].msgstr == {0: "Hello,\n“%(name)s”"}
    assert entries[6].msgstr == {0: "%(n)s member", 1: "members"}
    faults = problems(entries)
    assert [f.split(" ", 1)[0] for f in faults] == [
        "fuzzy",
        "placeholders",
        "placeholders",
        "untranslated",
        "placeholders",
    ]
    assert "'Trop de tentatives'" in faults[0] and "'Vide'" in faults[3]


def test_parser_names_the_line_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_po('msgid "a"\nmsgstr "b\n')
    with pytest.raises(ValueError, match="line 1"):
        parse_po('"orphan"\n')


@pytest.mark.django_db
def test_login_page_follows_the_language_switch(client) -> None:
    french = client.get(reverse("login")).content.decode()
    assert "Se connecter" in french and 'lang="fr"' in french

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    english = client.get(reverse("login")).content.decode()
    assert 'lang="en"' in english
    for text in ("Log in", "Username", "Password", "Forgot your password?", "Skip to content"):
        assert text in english
    for text in ("Se connecter", "Nom d'utilisateur", "Mot de passe oublié"):
        assert text not in english
    # The switch offers French under its own name.
    assert "Français" in english
