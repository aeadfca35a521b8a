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

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import formats
from django.utils.translation import get_language, gettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
_NUMBER = r"-?\d+(?:[,.]\d+)?"
_NUMBER_AT = re.compile(_NUMBER)
_INTEGER_AT = re.compile(r"-?\d+")


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

    def parts(self) -> tuple[list[str], list[str]]:
        """The literal pieces and, between them, the placeholders' names:
        ``literals[0] names[0] literals[1] … names[-1] literals[-1]``."""
        literals, names = [""], []
        last = 0
        for m in _PLACEHOLDER.finditer(self.msgid):
            literals[-1] += self.msgid[last : m.start()]
            if m.group(0) == "%%":
                literals[-1] += "%"
            else:
                names.append(m.group(1))
                literals.append("")
            last = m.end()
        literals[-1] += self.msgid[last:]
        return literals, names

    def parse(self, text: str) -> dict[str, str] | None:
        """The placeholders' values if ``text`` has this shape, else None.

        In linear time: each value ends where the next literal piece first occurs
        (the last one where the sentence's end begins). The texts matched quote what
        a request sent (a ballot's unknown question code); a regular expression with
        several ``.+?`` backtracks through every way of cutting them: a 2 KB ballot
        refusal already cost 2 s of CPU, on the ASGI event loop, and it grows as the
        fourth power of the length. Where the expression, its first cut failing, would
        have tried a later one, the text is shown as written."""
        literals, names = self._parts
        if not text.startswith(literals[0]):
            return None
        if not names:
            return {} if text == literals[0] else None
        last_end = len(text) - len(literals[-1])
        if not text.endswith(literals[-1]):
            return None
        values: dict[str, str] = {}
        pos = len(literals[0])
        for i, name in enumerate(names):
            after, last = literals[i + 1], i + 1 == len(names)

            def fits(end: int, after: str = after, last: bool = last) -> bool:
                return end == last_end if last else text.startswith(after, end)

            if name in self.numbers:
                # "1,5" whole, or only "1" when the piece after begins with ",5"'s mark.
                matches = (_NUMBER_AT.match(text, pos), _INTEGER_AT.match(text, pos))
                end = next((m.end() for m in matches if m is not None and fits(m.end())), -1)
            elif last:
                end = last_end
            else:
                end = text.find(after, pos + 1)
            if end <= pos or not fits(end):
                return None
            values[name] = text[pos:end]
            pos = end + len(after)
        return values

    @functools.cached_property
    def _parts(self) -> tuple[list[str], list[str]]:
        return self.parts()


class FrenchTemplates:
    """A table of templates; ``say`` turns one French sentence into the active language."""

    def __init__(self, templates: Sequence[Template]) -> None:
        self.templates = tuple(templates)

    def match(self, text: str) -> tuple[Template, dict[str, str]] | None:
        for template in self.templates:
            values = template.parse(text)
            if values is not None:
                return template, values
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
