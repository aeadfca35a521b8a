"""An entry selection typed with « ² » (a digit to str.isdigit(), not to int()) is refused
with the message that names the item, not a 500."""

import pytest

from beffroi.consult.forms import SelectionError, parse_selection


@pytest.mark.parametrize("typed", ["²", "12, ³", "1²"])
def test_superscript_digits_are_an_unreadable_item(typed: str) -> None:
    with pytest.raises(SelectionError) as refused:
        parse_selection(typed, limit=100)
    assert "élément" in str(refused.value)


def test_plain_numbers_still_read() -> None:
    assert parse_selection("12, 15-17", limit=100) == ([12, 15, 16, 17], [])
