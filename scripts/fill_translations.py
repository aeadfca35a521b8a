"""Fill the English .po from scripts/translations_en.py and report what is missing.

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
