"""A hostile post first in its batch is set aside without the children being given up on
(review R14 finding 1): its batch's first timeout and its own first timeout alone counted
the children "stuck" twice, and the worker went on enriching in its own thread, with no
timeout, for ever."""

from __future__ import annotations

from watch.worker_hostile import POISON, hostile_room


def test_a_hostile_post_first_in_its_batch_is_set_aside(transactional_db, members, monkeypatch):
    from beffroi.watch import worker
    from beffroi.watch.models import Card, Post

    room = hostile_room(
        members,
        monkeypatch,
        (2, f"{POISON} très long"),
        (1, "Route coupée à Luçon"),
        (3, "Eau à Niort"),
    )
    w = room.worker

    def trusted(w):
        assert w.processes == 1, "children given up on: enriching with no timeout"

    room.run(check=trusted)
    assert not Post.objects.filter(processed=False).exists()
    assert w.stuck == 0
    bad = Card.objects.get(external_id="p2")
    assert bad.explanation == [worker.SET_ASIDE_LINE]
    assert set(Card.objects.exclude(pk=bad.pk).values_list("external_id", flat=True)) == {
        "p0",
        "p1",
        "p3",
    }
