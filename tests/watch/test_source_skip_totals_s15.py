"""« Ignorés » is a total across runs of the worker (review R11, finding 6)."""

import threading
from datetime import UTC, datetime


class Once:
    kind = "replay"
    source_id = "1"
    finite = True

    def __init__(self, n):
        self.n = n

    def stream(self, checkpoint):
        from beffroi.watch.sources.base import RawPost, Skipped

        yield Skipped("Texte manquant.", f"ligne {self.n}"), {"n": self.n}
        yield (
            RawPost("replay", "1", str(self.n), "crue", datetime(2024, 1, 1, tzinfo=UTC)),
            {"n": self.n},
        )
        yield None, {"n": self.n}


def test_skip_count_survives_a_restart(transactional_db, members):
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources.runner import run_source
    from beffroi.watch.worker import _report

    org = core_actions.create_organisation("VOST R11", "vostr11")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="replay", name="r", config={})
    cp = None
    for n in (1, 2):  # two runs of the worker, one skip each
        cp = run_source(
            Once(n),
            cp,
            lambda items, c: actions.receive_items(source.pk, items, c),
            stop_event=threading.Event(),
            max_failures=1,
            on_status=lambda s: _report(
                source.pk,
                s.state,
                s.message,
                s.at,
                s.retry_in,
                s.skipped,
                s.last_skip_reason,
                s.unknown_deletions,
            ),
        )
    source.refresh_from_db()
    print("posts_count", source.posts_count, "skipped_count", source.skipped_count)
    assert source.skipped_count == 2
