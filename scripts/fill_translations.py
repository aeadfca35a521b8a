"""Fill the English .po from scripts/translations_en.py and report what is missing;
write the French catalogue of plural forms.

French needs no translation (the msgids are French), but without a catalogue gettext
falls back on the English rule and writes « 0 réponses »: in French 0 takes the
singular. So the French catalogue holds the plural entries only, each with its own
two forms, under French's plural rule.

Used by `make messages` (needs GNU gettext and polib, a dev-only tool).
"""

import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).parent))
from translations_en import EN

po_path = Path(__file__).parent.parent / "src/beffroi/locale/en/LC_MESSAGES/django.po"
po = polib.pofile(str(po_path))
missing = []
for entry in po:
    key = (entry.msgid, entry.msgid_plural) if entry.msgid_plural else entry.msgid
    value = EN.get(key)
    if value is None:
        missing.append(entry.msgid)
    elif entry.msgid_plural:
        entry.msgstr_plural = {0: value[0], 1: value[1]}
    else:
        entry.msgstr = value
    entry.flags = [f for f in entry.flags if f != "fuzzy"]
po.save()
po.save_as_mofile(str(po_path.with_suffix(".mo")))
for msgid in missing:
    print(f"missing English: {msgid!r}")
print(f"{len(po) - len(missing)}/{len(po)} translated")

fr_path = po_path.parent.parent.parent / "fr/LC_MESSAGES/django.po"
fr = polib.pofile(str(fr_path))
for entry in [e for e in fr if not e.msgid_plural or e.obsolete]:
    fr.remove(entry)
for entry in fr:
    entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
    entry.flags = [f for f in entry.flags if f != "fuzzy"]
fr.metadata["Plural-Forms"] = "nplurals=2; plural=(n > 1);"
fr.metadata["Language"] = "fr"
fr.metadata_is_fuzzy = False
fr.save()
fr.save_as_mofile(str(fr_path.with_suffix(".mo")))
print(f"French plural forms: {len(fr)}")
