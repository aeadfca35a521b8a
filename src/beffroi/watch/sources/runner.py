"""Run one source forever: reconnect, back off with jitter, checkpoint, report.

The worker starts one ``run_source`` per source, each in its own thread
(``start_source_thread``), so a source that fails only ever stops itself.

Checkpoint envelope (what the worker persists, JSON)::

    {"v": 1, "state": {...source's own checkpoint...}, "seen": ["id", ...]}

``seen`` is a bounded window of the last external ids handed to the sink
(and of the keys of authors' edits and deletions, ``PostChange.key``):
after a restart a source may replay the overlap between its last committed
checkpoint and what it had already emitted (a Mastodon catch-up page, a feed
fetched again, a post rechecked for edits); those items are dropped here, so
the sink never sees one twice.  The envelope is only advanced after the sink returns, so a crash
between reading and persisting replays the posts instead of losing them.
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from beffroi.watch.sources.base import (
    Checkpoint,
    ConfigError,
    CoverageGap,
    GapFilled,
    PollingSource,
    PostChange,
    RawPost,
    Received,
    Skipped,
    SourceError,
    StreamingSource,
    ensure_json,
    post_id_function,
)
from beffroi.watch.sources.netguard import SettingError

ENVELOPE_VERSION = 1
DEFAULT_SEEN_WINDOW = 5000
MAX_RETRY_AFTER = 3600.0

# A sink may return a ``Received``: the items it could not use are counted as
# skips. Any other return value is ignored (a sink may report how many were new).
Sink = Callable[[list[RawPost | PostChange | CoverageGap | GapFilled], Checkpoint], object]
Item = RawPost | PostChange | CoverageGap | GapFilled


def _key(item: Item, post_id: Callable[[str], str] | None = None) -> str:
    """The item's identity in the window; ``post_id`` is how the source remembers a
    post's id (an account's pseudonym instead of its DID or address)."""
    if post_id is None:
        return item.external_id if isinstance(item, RawPost) else item.key
    if isinstance(item, RawPost):
        return post_id(item.external_id)
    if isinstance(item, PostChange):
        return f"{item.kind}:{post_id(item.external_id)}" + (
            f":{item.version}" if item.version else ""
        )
    return item.key


def _remembered(entry: str, post_id: Callable[[str], str]) -> str:
    """An entry of a window written before ids were pseudonymised, as it is kept now
    (``post_id`` is idempotent: entries already kept so are unchanged)."""
    kind, sep, rest = entry.partition(":")
    if sep and kind in ("edit", "delete"):
        return f"{kind}:{post_id(rest)}"
    return post_id(entry)


def remembered_window(checkpoint: Checkpoint, post_id: Callable[[str], str]) -> Checkpoint:
    """A copy of an envelope whose window keeps post ids as ``post_id`` does: what the
    sink stores, whichever source wrote it, and what ``scrub-handles`` rewrites."""
    seen = checkpoint.get("seen") if isinstance(checkpoint, dict) else None
    if not isinstance(seen, list):
        return checkpoint
    return {**checkpoint, "seen": [_remembered(str(x), post_id) for x in seen]}


def _received(n: int) -> str:
    # French counts 0 and 1 in the singular.
    return f"{n} message reçu" if n <= 1 else f"{n} messages reçus"


_LINE = re.compile(r"ligne (\d+)")


def skip_text(item: Skipped) -> str:
    """The last skip as the Sources page shows it: a file's line is named, since that
    is what the person who made the file can go and fix."""
    line = _LINE.fullmatch(item.where)
    if line is None:
        return item.reason
    reason = item.reason
    if reason[:1].isupper() and not reason[1:2].isupper():
        reason = reason[:1].lower() + reason[1:]
    return f"Ligne {line.group(1)} ignorée : {reason}"


@dataclass(frozen=True)
class SourceStatus:
    """What the UI shows next to a source. ``message`` is French."""

    source_id: str
    state: str  # "connecting" | "ok" | "error" | "done" | "stopped" | "failed"
    message: str
    at: datetime
    retry_in: float | None = None
    # Posts since this run started: those the sink stored as new (``Received.new``),
    # or, from a sink that does not say, those handed to it.
    posts: int = 0
    skipped: int = 0
    last_skip_reason: str | None = None
    # Deletions of posts never received (Received.unknown_deletions): not skips.
    unknown_deletions: int = 0


@dataclass
class Backoff:
    """Exponential backoff with "equal jitter": half fixed, half random.

    Keeping half of the delay fixed makes the announced "nouvel essai dans
    N s" meaningful while still spreading reconnections of many workers.
    """

    base: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0
    rng: Callable[[], float] = random.random
    attempt: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.base * self.factor**self.attempt)
        self.attempt += 1
        return ceiling / 2 + self.rng() * ceiling / 2

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class _Envelope:
    state: Checkpoint
    seen: deque[str]
    window: int
    seen_set: set[str] = field(default_factory=set)

    @classmethod
    def load(
        cls,
        checkpoint: Checkpoint | None,
        window: int,
        post_id: Callable[[str], str] | None = None,
    ) -> _Envelope:
        checkpoint = checkpoint or {}
        if checkpoint and checkpoint.get("v") != ENVELOPE_VERSION:
            raise ConfigError({"checkpoint": "Point de reprise d'une version inconnue."})
        entries = (str(x) for x in checkpoint.get("seen", []))
        if post_id is not None:
            entries = (_remembered(x, post_id) for x in entries)
        seen = deque(entries, maxlen=window)
        return cls(dict(checkpoint.get("state", {})), seen, window, set(seen))

    def is_new(self, external_id: str) -> bool:
        return external_id not in self.seen_set

    def remember(self, external_id: str) -> None:
        if len(self.seen) == self.window:
            self.seen_set.discard(self.seen[0])
        self.seen.append(external_id)
        self.seen_set.add(external_id)

    def dump(self, state: Checkpoint | None = None) -> Checkpoint:
        return ensure_json(
            {
                "v": ENVELOPE_VERSION,
                "state": self.state if state is None else state,
                "seen": list(self.seen),
            }
        )


def describe_error(exc: BaseException) -> str:
    """French text for the UI; a source's own SourceError already is."""
    if isinstance(exc, SourceError):
        return exc.message
    if isinstance(exc, ConfigError):
        return "Configuration invalide : " + "; ".join(exc.errors.values())
    if isinstance(exc, SettingError):
        # The deployment's setting, met when a source is built without its form being
        # checked again (Bluesky's default endpoint): worded as the form words it.
        return f"Configuration invalide : Réglage du serveur invalide : {exc}"
    if isinstance(exc, TimeoutError):
        return "Délai d'attente dépassé."
    if isinstance(exc, ConnectionError | OSError):
        return f"Erreur réseau : {exc}"
    return f"Erreur inattendue ({type(exc).__name__}) : {exc}"


def _now() -> datetime:
    return datetime.now(UTC)


def run_source(
    source: PollingSource | StreamingSource,
    checkpoint: Checkpoint | None,
    sink: Sink,
    *,
    stop_event: threading.Event,
    clock: Callable[[], datetime] = _now,
    sleep: Callable[[float], Any] | None = None,
    on_status: Callable[[SourceStatus], None] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    backoff: Backoff | None = None,
    seen_window: int = DEFAULT_SEEN_WINDOW,
    status_every: float = 5.0,
    checkpoint_every: float = 5.0,
    batch_max: int = 500,
    batch_wait: float = 0.25,
    max_failures: int | None = None,
    post_id: Callable[[str], str] | None = None,
) -> Checkpoint:
    """Run ``source`` until ``stop_event`` is set (or a finite source is done).

    ``sink(posts, checkpoint)`` must persist both atomically; if it raises,
    the posts are not considered delivered and the source restarts from the
    last committed checkpoint.  Returns the last committed checkpoint.
    ``max_failures`` (consecutive) exists for tests and one-shot imports.
    ``post_id`` is how post ids are kept in the window (default: the source's
    pseudonymiser's, ``sources.base.post_id_function``), so the checkpoint names no
    account (DESIGN rule 7) and a restart recognises what it delivered.
    """
    if post_id is None:
        post_id = post_id_function(getattr(source, "pseudonymise", None))
    do_sleep: Callable[[float], Any] = sleep if sleep is not None else stop_event.wait
    backoff = backoff or Backoff()
    env = _Envelope.load(checkpoint, seen_window, post_id)
    counters = {"posts": 0, "skipped": 0, "unknown_deletions": 0}
    last_skip: list[str | None] = [None]
    last_report = [clock()]

    last_state: list[str] = [""]
    last_message: list[str] = [""]
    last_emptied: list[bool] = [False]

    def report(state: str, message: str, retry_in: float | None = None) -> None:
        last_report[0] = clock()
        last_state[0] = state
        last_message[0] = message
        if on_status is not None:
            on_status(
                SourceStatus(
                    source_id=source.source_id,
                    state=state,
                    message=message,
                    at=last_report[0],
                    retry_in=retry_in,
                    posts=counters["posts"],
                    skipped=counters["skipped"],
                    last_skip_reason=last_skip[0],
                    unknown_deletions=counters["unknown_deletions"],
                )
            )

    def skip(item: Skipped) -> None:
        counters["skipped"] += 1
        last_skip[0] = skip_text(item)
        if on_skip is not None:
            on_skip(item)

    def deliver(posts: list[Item], state: Checkpoint) -> None:
        fresh: list[Item] = []
        batch_ids: set[str] = set()
        for post in posts:
            key = _key(post, post_id)
            if env.is_new(key) and key not in batch_ids:
                fresh.append(post)
                batch_ids.add(key)
        # JSON round trip first: a checkpoint that would not persist fails
        # before anything is handed to the sink.
        new_state = ensure_json(state)
        if not fresh and new_state == env.state:
            return
        keep = env.window - len(fresh)
        old_ids = list(env.seen)[-keep:] if keep > 0 else []
        seen = (old_ids + [_key(p, post_id) for p in fresh])[-env.window :]
        result = sink(fresh, {"v": ENVELOPE_VERSION, "state": new_state, "seen": seen})
        # Only now is the delivery committed.
        env.state = new_state
        for post in fresh:
            env.remember(_key(post, post_id))
        if isinstance(result, Received):
            # What the sink stored as new: the posts it already had (a checkpoint lost
            # between two commits) are not counted again, so the status's count is
            # what the source's total (Source.posts_count) gained since this start.
            counters["posts"] += result.new
            counters["unknown_deletions"] += result.unknown_deletions
            for item in result.skipped:
                skip(item)
        else:
            counters["posts"] += sum(isinstance(p, RawPost) for p in fresh)

    failures = 0

    def connected() -> None:
        # The first item of a connection (even an idle tick) proves it works.
        nonlocal failures
        backoff.reset()
        failures = 0
        report("ok", "Connecté, en écoute.")

    def progress() -> None:
        if (clock() - last_report[0]).total_seconds() >= status_every:
            # Since this start of the worker, said so: the Sources page shows it beside
            # the source's total, which counts every post ever received.
            report(
                "ok",
                f"En écoute : {_received(counters['posts'])} depuis le démarrage du worker.",
            )

    report("connecting", "Connexion en cours…")
    while not stop_event.is_set():
        try:
            if isinstance(source, StreamingSource):
                finished = _run_stream(
                    source,
                    env,
                    deliver,
                    skip,
                    stop_event,
                    connected,
                    progress,
                    clock,
                    checkpoint_every,
                    batch_max,
                    batch_wait,
                )
                if finished:
                    report("done", "Source terminée.")
                    return env.dump()
            else:
                batch = source.poll(dict(env.state))
                for item in batch.skipped:
                    skip(item)
                deliver(list(batch.posts), batch.checkpoint)
                backoff.reset()
                failures = 0
                note = not_kept_note(batch.not_kept)
                if batch.exhausted:
                    report(
                        "done",
                        f"Import terminé : {_received(counters['posts'])} depuis le "
                        f"démarrage du worker.{note}",
                    )
                    return env.dump()
                now = clock()
                message = f"{_received(counters['posts'])} depuis le démarrage du worker.{note}"
                if batch.emptied:
                    message = (
                        "Le flux est vide pour l'instant (il a publié des entrées "
                        f"auparavant). {_received(counters['posts'])} depuis le démarrage "
                        "du worker."
                    )
                if (
                    last_state[0] != "ok"
                    # The feed emptied or filled again: said at once.
                    or (last_message[0] != message and (batch.emptied or last_emptied[0]))
                    or (now - last_report[0]).total_seconds() >= status_every
                ):
                    report("ok", message)
                last_emptied[0] = batch.emptied
                if source.poll_interval > 0:
                    do_sleep(source.poll_interval)
            continue
        except Exception as exc:  # one source's failure must never escape the runner
            failures += 1
            message = describe_error(exc)
            if (isinstance(exc, SourceError) and not exc.retryable) or isinstance(exc, ConfigError):
                report("failed", message)
                return env.dump()
            if max_failures is not None and failures >= max_failures:
                report("failed", message)
                return env.dump()
            delay = backoff.next_delay()
            asked = exc.retry_after if isinstance(exc, SourceError) else None
            if asked is not None:
                # Hammering a server that asked us to wait gets us banned; but
                # an absurd request (days) must not silence a source for good.
                delay = max(delay, min(asked, MAX_RETRY_AFTER))
            report("error", f"{message} Nouvel essai dans {delay:.0f} s.", retry_in=delay)
            do_sleep(delay)
    report("stopped", "Source arrêtée.")
    return env.dump()


def not_kept_note(names: tuple[str, ...]) -> str:
    """What a file import's status adds for the columns it did not keep ("" for none),
    with a space before it: the first ``NAMED_COLUMNS`` names, then « … »."""
    if not names:
        return ""
    if len(names) == 1:
        return f" Colonne non conservée : {names[0]}."
    shown = ", ".join(names[:NAMED_COLUMNS]) + (", …" if len(names) > NAMED_COLUMNS else "")
    return f" Colonnes non conservées ({len(names)}) : {shown}."


NAMED_COLUMNS = 20


def _run_stream(
    source: StreamingSource,
    env: _Envelope,
    deliver: Callable[[list[Item], Checkpoint], None],
    skip: Callable[[Skipped], None],
    stop_event: threading.Event,
    connected: Callable[[], None],
    progress: Callable[[], None],
    clock: Callable[[], datetime],
    checkpoint_every: float,
    batch_max: int,
    batch_wait: float,
) -> bool:
    """One connection of a streaming source; True when a finite source ended.

    Posts are handed to the sink in batches: when the source signals it has
    nothing more right now (an idle tick), or after ``batch_max`` posts or
    ``batch_wait`` seconds — one transaction per post would not keep up
    with a burst of thousands of posts a second.
    """
    iterator: Iterator[tuple[Item | Skipped | None, Checkpoint]] = source.stream(dict(env.state))
    reported_ok = False
    last_commit = clock()
    buffer: list[Item] = []
    buffer_state: Checkpoint = env.state
    first_buffered = last_commit

    def flush() -> None:
        nonlocal last_commit
        if buffer:
            deliver(list(buffer), buffer_state)
            buffer.clear()
            last_commit = clock()

    try:
        for item, state in iterator:
            buffer_state = state
            if isinstance(item, RawPost | PostChange | CoverageGap | GapFilled):
                if not buffer:
                    first_buffered = clock()
                buffer.append(item)
                if len(buffer) >= batch_max or (
                    (clock() - first_buffered).total_seconds() >= batch_wait
                ):
                    flush()
            else:
                if isinstance(item, Skipped):
                    skip(item)
                if buffer:
                    flush()
                else:
                    # A filtered stream can go hours without a matching post
                    # while its cursor moves on: persist it now and then, so a
                    # restart does not replay all that.
                    now = clock()
                    if (now - last_commit).total_seconds() >= checkpoint_every:
                        deliver([], state)
                        last_commit = now
            if not reported_ok:
                connected()
                reported_ok = True
            else:
                progress()
            if stop_event.is_set():
                flush()
                return False
        flush()
    except BaseException:
        # The posts already received are good: keep them if the sink can.
        # If it cannot, the source fetches them again from the last commit.
        with contextlib.suppress(Exception):
            flush()
        raise
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    if getattr(source, "finite", False):
        return True
    raise SourceError("Le flux a été fermé par le serveur.")


def start_source_thread(
    source: PollingSource | StreamingSource,
    checkpoint: Checkpoint | None,
    sink: Sink,
    *,
    stop_event: threading.Event,
    **kwargs: Any,
) -> threading.Thread:
    """Run a source in a daemon thread; several of them never block each other."""
    thread = threading.Thread(
        target=run_source,
        args=(source, checkpoint, sink),
        kwargs={"stop_event": stop_event, **kwargs},
        name=f"source-{source.kind}-{source.source_id}",
        daemon=True,
    )
    thread.start()
    return thread


def monotonic_sleep(seconds: float) -> None:
    """Plain sleep for callers without a stop event (scripts, benchmarks)."""
    time.sleep(seconds)
