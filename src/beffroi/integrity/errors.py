"""Errors raised by the integrity package."""

from __future__ import annotations


class InputError(ValueError):
    """The input cannot be audited; the message (French) names the line or column.

    ``line`` is the 1-based line of the file (the header is line 1) when known,
    ``column`` the column heading when known. ``kind`` is given when the message quotes a
    cell of the file: what is wrong with it, in a few French words that quote nothing.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        kind: str | None = None,
    ):
        super().__init__(message)
        self.line = line
        self.column = column
        self.kind = kind

    def for_the_journal(self) -> str:
        """The refusal as the permanent journal may keep it.

        A quoted cell helps the person who uploaded the file, in the page they get back;
        in the journal, which is never purged and which scrutineers read, it would keep
        whatever a mis-mapped column holds (an address, a name, a telephone number) after
        the file itself is deleted. Such a refusal is journaled by line, column and kind."""
        if self.kind is None:
            return str(self)
        return f"Fichier refusé à la ligne {self.line}, colonne « {self.column} » : {self.kind}."
