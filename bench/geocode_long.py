"""CPU time of ``find_communes`` on long texts (review R11, finding 3).

    .venv/bin/python bench/geocode_long.py [--chars 382000 1900000]

The text is the adversarial one of ``tests/geo/test_geocode_linear_s15.py``: a long run
of numbered crisis words, then a name of the area and a hashtag at the very end. Prints,
for each size, the CPU seconds (time.process_time) and the seconds per 100 KB, which
stay level when the geocoder is linear. The test counts the work instead of timing it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

ENDING = " Inondation à Luçon #LesSablesDOlonne"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, nargs="+", default=[382_000, 1_900_000])
    sizes = parser.parse_args().chars

    from beffroi.geo.geocode import find_communes
    from long_texts import long_text

    find_communes("Luçon", area={"85"})  # loads the gazetteer outside the timing
    for chars in sizes:
        text = long_text(chars) + ENDING
        started = time.process_time()
        found = find_communes(text, area={"85"})
        spent = time.process_time() - started
        names = ", ".join(sorted({m.name for m in found}))
        print(
            f"{len(text):>9} characters  {spent:6.2f} s CPU  "
            f"{spent / len(text) * 100_000:5.3f} s per 100 KB  found: {names}"
        )


if __name__ == "__main__":
    main()
