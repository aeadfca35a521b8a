"""The guides tell how to start the demo in a way that runs: since ``beffroi demo`` refuses
to load accounts with a published password outside debug mode, a guide that says plain
``beffroi demo`` sends its reader to a refusal (review R10)."""

from __future__ import annotations

import re
from pathlib import Path

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guide"


def test_the_guides_start_the_demo_in_debug_mode():
    plain = []
    for guide in sorted(GUIDES.glob("*.md")):
        text = guide.read_text(encoding="utf-8")
        for match in re.finditer(r"`([^`]*\bbeffroi demo\b[^`]*)`", text):
            command = match.group(1)
            if (
                "BEFFROI_DEBUG=1 beffroi demo" not in command
                and "--public-passwords" not in command
            ):
                plain.append((guide.name, command))
    assert plain == []
