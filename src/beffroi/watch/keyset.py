"""Keyset paging, newest first, for the watch room's long lists (the main courante's
lines, « Cartes traitées »): one page starts at a row's *key* (its time, then a number
that breaks ties), never at an offset, so rows arriving at the top while someone reads
page 3 do not shift what page 3 holds. See docs/decisions/watch-room-scale.md.

The cursors and marks are pure (text in, values out); ``Keyset.page`` runs the few
queries a page needs (its rows, the count above it, the start of the page above)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

Key = tuple[datetime, int]
Row = TypeVar("Row", bound=Model)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
# ASCII digits, bounded: a pasted address cannot make int() build a huge number (17
# digits of microseconds reach past the year 5000), and « １_2 » (full-width) is no cursor.
_CURSOR = re.compile(r"([0-9]{1,17})_([0-9]{1,12})")
_MARK = re.compile(r"([0-9]{1,9})(?:_([0-9]{1,12}))?")


def cursor(key: Key) -> str:
    """A row's key as text for a link: « <µs since 1970>_<number> »."""
    return f"{(key[0] - _EPOCH) // _MICRO}_{key[1]}"


def parse_cursor(text: object) -> Key | None:
    """The key ``cursor`` wrote, or None for anything else (the newest page)."""
    found = _CURSOR.fullmatch(str(text or ""))
    if found is None:
        return None
    return _EPOCH + int(found.group(1)) * _MICRO, int(found.group(2))


def numbered_page_link(params: Mapping[str, Any], start: str) -> bool:
    """Whether the address is an old numbered page (« ?page=3 », before pages started at
    a row) without a starting row: it is shown the newest page, and says so."""
    return "page" in params and not str(params.get(start, "") or "")


@dataclass(frozen=True)
class Mark:
    """What a reader had already been shown when a page was first drawn: the newest line
    number they could see and the second it was drawn (lines shared with them after that
    second are news too, whatever their number). Travels in links as « lu=257_1732449600 »,
    or « lu=257 » without a second (a member's page, where sharing is no news, and
    partners' pages drawn before the second was added)."""

    number: int
    second: int | None = None

    @classmethod
    def parse(cls, text: object) -> Mark | None:
        found = _MARK.fullmatch(str(text or ""))
        if found is None:
            return None
        second = found.group(2)
        return cls(int(found.group(1)), int(second) if second is not None else None)

    @classmethod
    def now(cls, number: int, at: datetime | None) -> Mark:
        return cls(number, None if at is None else int((at - _EPOCH).total_seconds()))

    @property
    def since(self) -> datetime | None:
        """From when a change counts as news (the whole second the page was drawn in:
        a change made just before the drawing may be announced, none is missed)."""
        return None if self.second is None else _EPOCH + timedelta(seconds=self.second)

    def __str__(self) -> str:
        return str(self.number) if self.second is None else f"{self.number}_{self.second}"


@dataclass
class Page(Generic[Row]):
    """One page of a keyset list and what it says about its neighbours."""

    shown: list[Row]
    count: int
    # Where the page starts; None for the newest page (live: arrivals come in on top).
    top: Key | None
    # Rows above the page (newer), for its range « 108 à 207 sur 257 ».
    newer_count: int
    # The first row of the page below, if any.
    older: Key | None
    # The first row of the page above when that page is not the newest one.
    newer: Key | None
    # The page's last row when a page below exists (rows added under it are news).
    bottom: Key | None

    @property
    def first(self) -> int:
        return self.newer_count + 1

    @property
    def last(self) -> int:
        return self.newer_count + len(self.shown)


@dataclass(frozen=True)
class Keyset:
    """A list ordered newest first on (``at`` field, ``tie`` field), ``size`` rows a page."""

    at: str
    tie: str
    size: int

    def key(self, row: Model) -> Key:
        return getattr(row, self.at), getattr(row, self.tie)

    def before_or_same(self, key: Key) -> Q:
        """The rows from ``key`` down (the page starting there and all below it)."""
        at, tie = key
        return Q(**{f"{self.at}__lt": at}) | Q(**{self.at: at, f"{self.tie}__lte": tie})

    def older_than(self, key: Key) -> Q:
        """The rows strictly below ``key``."""
        at, tie = key
        return Q(**{f"{self.at}__lt": at}) | Q(**{self.at: at, f"{self.tie}__lt": tie})

    def newest_first(self, rows: QuerySet[Row]) -> QuerySet[Row]:
        return rows.order_by(f"-{self.at}", f"-{self.tie}")

    def oldest_first(self, rows: QuerySet[Row]) -> QuerySet[Row]:
        return rows.order_by(self.at, self.tie)

    def page(self, rows: QuerySet[Row], top: Key | None) -> Page[Row]:
        """The page of ``rows`` starting at ``top`` (None: the newest page). A start with
        nothing from it on (its rows left the list, or the filters changed since the
        link was made) gives the oldest rows, as the last page; a start with nothing
        above it is the newest page."""
        size = self.size
        count = rows.count()
        ordered = self.newest_first(rows)
        newer_count = 0
        newer_rows = rows.none()
        if top is None:
            found = list(ordered[: size + 1])
        else:
            found = list(ordered.filter(self.before_or_same(top))[: size + 1])
            newer_rows = rows.exclude(self.before_or_same(top))
            newer_count = newer_rows.count()
            if not found and newer_count:
                found = list(reversed(self.oldest_first(rows)[:size]))
                newer_count = count - len(found)
                top = self.key(found[0])
                newer_rows = rows.exclude(self.before_or_same(top))
            if newer_count == 0:
                top = None
        shown = found[:size]
        newer = None
        if top is not None and newer_count > size:
            # The page above this one starts `size` rows up.
            newer = self.oldest_first(newer_rows).values_list(self.at, self.tie)[size - 1]
        below = len(found) > size
        return Page(
            shown=shown,
            count=count,
            top=top,
            newer_count=newer_count,
            older=self.key(found[size]) if below else None,
            newer=newer,
            bottom=self.key(shown[-1]) if below else None,
        )
