"""Re-say, in the reader's language, the French sentences that pure cores write.

The pure cores (integrity, the watch pipeline, the source validators) have no
Django and write their evidence in French, the users' language; what they write
is also stored (card explanations, audit reports) and published.  The web layer
translates at display time: each known sentence is a French template, which is
also its catalogue msgid, with ``%(name)s`` placeholders.  A sentence is matched
against the templates and rebuilt from the active language's msgstr; a sentence
no template knows is shown as written (French), never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import get_language, gettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_NUMBER = r"-?\d+(?:[,.]\d+)?"


def number(value: str) -> str:
    """A number as pure code wrote it ("0,97", "12", or "2.5" from a ``:g`` format) in
    the active language's notation."""
    plain = value.replace(",", ".")
    try:
        parsed = Decimal(plain)
    except InvalidOperation:
        return value
    decimals = len(plain.partition(".")[2])
    return formats.number_format(parsed, decimal_pos=decimals)


def word(value: str) -> str:
    """A French word that is itself a msgid (marked elsewhere with gettext_noop)."""
    return gettext(value)


@dataclass(frozen=True)
class Template:
    """One French sentence shape.  ``convert`` re-says a placeholder's value (default:
    kept as written); ``numbers`` are placeholders holding a French-written number."""

    msgid: str
    convert: Mapping[str, Callable[[str], str]] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()

    def pattern(self) -> re.Pattern[str]:
        out: list[str] = []
        last = 0
        for m in _PLACEHOLDER.finditer(self.msgid):
            out.append(re.escape(self.msgid[last : m.start()]))
            if m.group(0) == "%%":
                out.append("%")
            else:
                name = m.group(1)
                out.append(f"(?P<{name}>{_NUMBER if name in self.numbers else '.+?'})")
            last = m.end()
        out.append(re.escape(self.msgid[last:]))
        return re.compile("".join(out), re.DOTALL)


class FrenchTemplates:
    """A table of templates; ``say`` turns one French sentence into the active language."""

    def __init__(self, templates: Sequence[Template]) -> None:
        self.templates = tuple(templates)
        self._compiled = [(t, t.pattern()) for t in self.templates]

    def match(self, text: str) -> tuple[Template, dict[str, str]] | None:
        for template, pattern in self._compiled:
            m = pattern.fullmatch(text)
            if m is not None:
                return template, m.groupdict()
        return None

    def say(self, text: str) -> str:
        if (get_language() or "fr").startswith("fr"):
            return text
        found = self.match(text)
        if found is None:
            return text
        template, values = found
        params = {}
        for name, value in values.items():
            if name in template.convert:
                params[name] = template.convert[name](value)
            elif name in template.numbers:
                params[name] = number(value)
            else:
                params[name] = value
        translated = gettext(template.msgid)
        return translated % params if params or "%%" in translated else translated


def T(msgid: str, *numbers: str, **convert: Callable[[str], str]) -> Template:
    """Shorthand for the tables: ``T(gettext_noop("… %(n)s …"), "n")``."""
    return Template(msgid, convert, numbers)
