"""Live sources of the crisis watch room (pure: no Django).

The worker builds a source from its saved form (``build_source``), then runs
it with ``run_source`` (or ``start_source_thread``) and a sink that persists
posts and the checkpoint atomically.  Submodules import their client library
(feedparser, Mastodon.py, atproto) only when that kind is used.
"""

from beffroi.watch.sources.base import (
    Batch,
    Checkpoint,
    ConfigError,
    RawPost,
    Skipped,
    SourceError,
    handle_pseudonym,
    handle_pseudonymiser,
    names_account,
    pseudonymise_mentions,
    pseudonymise_record,
)
from beffroi.watch.sources.registry import FORMS, build_source, validate_config
from beffroi.watch.sources.runner import (
    Backoff,
    SourceStatus,
    run_source,
    start_source_thread,
)

__all__ = [
    "FORMS",
    "Backoff",
    "Batch",
    "Checkpoint",
    "ConfigError",
    "RawPost",
    "Skipped",
    "SourceError",
    "SourceStatus",
    "build_source",
    "handle_pseudonym",
    "handle_pseudonymiser",
    "names_account",
    "pseudonymise_mentions",
    "pseudonymise_record",
    "run_source",
    "start_source_thread",
    "validate_config",
]
