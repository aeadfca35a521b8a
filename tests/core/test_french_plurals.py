"""French counts: 0 takes the singular (« 0 entrée », « 0 réponse comptée »).

The msgids are French, so French needs no translation; but with no French catalogue
gettext falls back on the English rule (n != 1) and wrote « 0 entrées ». The French
catalogue (scripts/fill_translations.py) holds every plural entry under French's rule.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from django.template import Context, Template
from django.utils.translation import override

import beffroi

LOCALE = Path(beffroi.__file__).parent / "locale"


def _mo(language: str) -> gettext.GNUTranslations:
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as fp:
        return gettext.GNUTranslations(fp)


def _plural_msgids(catalogue: gettext.GNUTranslations) -> set[str]:
    entries = catalogue._catalog  # type: ignore[attr-defined]
    return {key[0] for key in entries if isinstance(key, tuple)}


def test_french_catalogue_has_every_plural_entry_under_frances_rule() -> None:
    french, english = _mo("fr"), _mo("en")
    assert _plural_msgids(french) == _plural_msgids(english)
    assert [french.plural(n) for n in (0, 1, 2, 10)] == [0, 0, 1, 1]  # type: ignore[attr-defined]
    # Only plural entries: a singular msgid is already its own French.
    assert all(isinstance(key, tuple) or key == "" for key in french._catalog)  # type: ignore[attr-defined]


def test_zero_is_singular_in_french_and_plural_in_english() -> None:
    template = Template(
        "{% load i18n %}{% blocktranslate count n=count %}{{ n }} entrée{% plural %}"
        "{{ n }} entrées{% endblocktranslate %}"
    )
    said = {}
    for language in ("fr", "en"):
        with override(language):
            said[language] = [template.render(Context({"count": n})) for n in (0, 1, 2)]
    assert said["fr"] == ["0 entrée", "1 entrée", "2 entrées"]
    assert said["en"] == ["0 entries", "1 entry", "2 entries"]
