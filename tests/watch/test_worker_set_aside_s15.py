"""A post whose analysis times out twice is set aside; the others go on (review R11
finding 3). Children that never worked are still bypassed as before
(test_web_worker.py::test_stuck_pipeline_processes_are_restarted_then_bypassed)."""

from __future__ import annotations

from watch.worker_hostile import HOSTILE_SECOND, hostile_room


def test_a_post_that_times_out_twice_is_set_aside(transactional_db, members, monkeypatch):
    from beffroi.watch import worker
    from beffroi.watch.models import Card, Post

    room = hostile_room(members, monkeypatch, *HOSTILE_SECOND)
    room.run()
    assert not Post.objects.filter(processed=False).exists()
    assert room.worker.processes == 1  # the children were not given up on for one post
    bad = Card.objects.get(external_id="p2")
    assert bad.explanation == [worker.SET_ASIDE_LINE]
    assert bad.posts_count == 1
    others = Card.objects.exclude(external_id="p2")
    assert set(others.values_list("external_id", flat=True)) == {"p0", "p1", "p3"}
    assert all(worker.SET_ASIDE_LINE not in c.explanation for c in others)
    assert sum(Card.objects.values_list("posts_count", flat=True)) == 4
