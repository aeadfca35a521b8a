"""Replay a dataset with its original timing, sped up (demos and exercises).

A flood that lasted a day, replayed at ×60, fills the queue over 24 minutes
with the same bursts and lulls as the real one.  The clock and the sleep are
injected so tests run instantly and the worker can stop it at any moment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from beffroi.watch.sources.base import Checkpoint, Pseudonymiser, RawPost, Skipped
from beffroi.watch.sources.config import Form
from beffroi.watch.sources.fileimport import FORMATS, FileImportConfig, FileReader

# Longest uninterrupted sleep, so a stop request is seen within this delay.
TICK_SECONDS = 0.5


@dataclass(frozen=True)
class ReplayConfig:
    path: str
    speed: float = 60.0
    format: str = "auto"
    timestamps_path: str | None = None
    # Dataset silences longer than this (in dataset seconds) are shortened to
    # it: a week-long CrisisLex collection has night gaps nobody wants to wait.
    max_gap: float | None = None
    # Date the posts as if they were happening now (the default for exercises);
    # the original time is kept in ``raw["original_created_at"]``.
    shift_to_now: bool = True

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> ReplayConfig:
        form = Form(data)
        path = form.text("path", required=True)
        speed = form.number("speed", default=60, minimum=0.01, maximum=1_000_000, unit="×")
        fmt = form.text("format", default="auto").lower()
        if fmt not in FORMATS:
            form.error("format", "Format inconnu : choisir csv, jsonl, crisislex ou auto.")
        gap = form.raw("max_gap")
        max_gap = None
        if gap is not None:
            max_gap = form.number("max_gap", default=0, minimum=0, unit="s")
        shift = form.flag("shift_to_now", default=True)
        timestamps = form.text("timestamps_path") or None
        form.done()
        if path:
            # Same file checks and messages as the import form.
            FileImportConfig.from_form({"path": path, "format": fmt})
        return cls(path, speed, fmt, timestamps, max_gap, shift)


class ReplaySource:
    """A finite streaming source; checkpoint ``{"index": n}`` = posts already replayed."""

    kind: ClassVar[str] = "replay"
    finite: ClassVar[bool] = True

    def __init__(
        self,
        source_id: str,
        config: ReplayConfig,
        *,
        pseudonymise: Pseudonymiser,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        import time

        self.source_id = source_id
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep or time.sleep
        self.pseudonymise = pseudonymise
        self._timeline: list[RawPost] | None = None
        self._skipped: list[Skipped] = []

    def timeline(self) -> list[RawPost]:
        """The dataset in time order (files are not always sorted)."""
        if self._timeline is None:
            # Opened here, not in the constructor, so that a file gone missing
            # since the form was saved is reported by the runner like any
            # other source failure.
            reader = FileReader(
                FileImportConfig(self.config.path, self.config.format, self.config.timestamps_path),
                source_id=self.source_id,
                pseudonymise=self.pseudonymise,
                kind=self.kind,
            )
            posts: list[RawPost] = []
            for item in reader.records():
                if isinstance(item, RawPost):
                    posts.append(item)
                else:
                    self._skipped.append(item)
            # Stable on ties, so equal times keep file order.
            posts.sort(key=lambda p: p.created_at)
            self._timeline = posts
        return self._timeline

    def stream(
        self, checkpoint: Checkpoint
    ) -> Iterator[tuple[RawPost | Skipped | None, Checkpoint]]:
        posts = self.timeline()
        start = int(checkpoint.get("index", 0))
        if start == 0:
            for item in self._skipped:
                yield item, {"index": 0}
        yield None, {"index": start}
        if start >= len(posts):
            return
        anchor_wall = self.clock()
        offset = 0.0  # dataset seconds since the first replayed post, gaps capped
        previous = posts[start].created_at
        for index in range(start, len(posts)):
            post = posts[index]
            gap = (post.created_at - previous).total_seconds()
            if self.config.max_gap is not None:
                gap = min(gap, self.config.max_gap)
            offset += gap
            previous = post.created_at
            due = anchor_wall + timedelta(seconds=offset / self.config.speed)
            if (due - self.clock()).total_seconds() > 0:
                yield None, {"index": index}  # about to wait: deliver what came before
            while True:
                remaining = (due - self.clock()).total_seconds()
                if remaining <= 0:
                    break
                self.sleep(min(remaining, TICK_SECONDS))
                if (due - self.clock()).total_seconds() > 0:
                    yield None, {"index": index}  # lets the runner see a stop request
            replayed = post
            if self.config.shift_to_now:
                replayed = dataclasses.replace(
                    post,
                    created_at=due,
                    raw={**post.raw, "original_created_at": post.created_at.isoformat()},
                )
            yield replayed, {"index": index + 1}
