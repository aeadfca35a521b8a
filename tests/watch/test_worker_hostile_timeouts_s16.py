"""A hostile post costs one batch timeout and two short ones, not four long ones (review
R14 finding 5): a batch of one post waits ``ALONE_TIMEOUT``, and a batch that times out
once, after the children have worked, is tried one post at a time at once instead of
being retried whole for another ``PREPARE_TIMEOUT``."""

from __future__ import annotations

from watch.worker_hostile import HOSTILE_SECOND, POISON, Preparer, hostile_room


def test_a_hostile_batch_is_split_after_its_first_timeout(transactional_db, members, monkeypatch):
    from beffroi.watch import worker
    from beffroi.watch.models import Card, Post

    room = hostile_room(members, monkeypatch, *HOSTILE_SECOND)
    room.run()
    assert not Post.objects.filter(processed=False).exists()
    assert Card.objects.get(external_id="p2").explanation == [worker.SET_ASIDE_LINE]
    assert Preparer.submitted.count(3) == 1, "the hostile batch was retried whole"
    hostile = [(n, timeout) for n, timeout, failed in Preparer.waits if failed]
    assert hostile == [
        (3, worker.PREPARE_TIMEOUT),
        (1, worker.ALONE_TIMEOUT),
        (1, worker.ALONE_TIMEOUT),
    ]
    # Every post tried alone was given the short wait, the good ones too.
    assert {timeout for n, timeout, _failed in Preparer.waits if n == 1} == {worker.ALONE_TIMEOUT}
    assert worker.ALONE_TIMEOUT * 4 <= worker.PREPARE_TIMEOUT
    assert room.worker.stuck == 0
    assert room.worker.processes == 1


def test_a_lone_hostile_post_is_set_aside_after_two_short_waits(
    transactional_db, members, monkeypatch
):
    from beffroi.watch import worker
    from beffroi.watch.models import Card, Post

    room = hostile_room(members, monkeypatch, (1, f"{POISON} seul"))
    w = room.worker

    def not_stuck(w):
        assert w.stuck == 0, "a post's own timeout counted against the children"

    room.run(6, check=not_stuck)
    assert Card.objects.get(external_id="p1").explanation == [worker.SET_ASIDE_LINE]
    assert [(n, t) for n, t, failed in Preparer.waits if failed] == [
        (1, worker.ALONE_TIMEOUT),
        (1, worker.ALONE_TIMEOUT),
    ]
    assert w.processes == 1
    # Once the post is set aside, the next posts go in whole batches again.
    room.receive((2, "Route coupée à Luçon"), (3, "Eau à Niort"))
    room.run()
    assert Preparer.submitted[-1] == 2
    assert not Post.objects.filter(processed=False).exists()
