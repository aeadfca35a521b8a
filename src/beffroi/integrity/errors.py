"""Errors raised by the integrity package."""

from __future__ import annotations


class InputError(ValueError):
    """The input cannot be audited; the message (French) names the line or column.

    ``line`` is the 1-based line of the file (the header is line 1) when known,
    ``column`` the column heading when known.
    """

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        super().__init__(message)
        self.line = line
        self.column = column
