from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture
def fixture_csv() -> Path:
    return HERE / "fixtures" / "small_crisislex.csv"
