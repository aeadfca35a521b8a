"""A restart after SIGKILL keeps counting copies into their cards (review R11 finding 2).

The cards are committed with every batch, the grouping state every 30 s: a worker killed in
between came back without the last groups, and the next copy of such a post made a second
card. The restarted worker groups again the posts stored after its saved state.
"""

from __future__ import annotations

import threading

from watch_rooms import file_post, file_source_room

TEXT = "L'eau monte très vite rue de la Gare à Luçon, la route est coupée"
OTHER = "Coupure d'électricité à Niort depuis ce matin, quartier Saint-Florent"


def test_restart_after_sigkill_joins_the_existing_card(transactional_db, members):
    """Worker A stores the card of post 1 and is killed before any save; worker B gets an
    exact copy: it joins the card."""
    from beffroi.watch import actions
    from beffroi.watch.models import ActivationModel, Card, Post
    from beffroi.watch.worker import Worker

    activation, source = file_source_room(members["coordinator"])
    actions.receive_posts(source.pk, [file_post(1, TEXT)], {"v": 1})
    a = Worker(threading.Event(), processes=0)
    assert a.step() == 1
    assert ActivationModel.objects.get(activation=activation).pipeline_state is None
    # SIGKILL here: nothing more runs in A (run()'s finally does not).
    actions.receive_posts(source.pk, [file_post(2, TEXT)], {"v": 1})
    b = Worker(threading.Event(), processes=0)
    assert b.step() == 1
    assert Post.objects.filter(processed=True).count() == 2
    first = Post.objects.get(external_id="1").pk
    assert list(Card.objects.values_list("group_id", "posts_count")) == [(f"g:{first}", 2)]


def test_restart_after_a_save_groups_again_only_what_came_after(transactional_db, members):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, Post
    from beffroi.watch.worker import Worker

    activation, source = file_source_room(members["coordinator"])
    actions.receive_posts(source.pk, [file_post(1, TEXT)], {"v": 1})
    a = Worker(threading.Event(), processes=0)
    assert a.step() == 1
    a.processors[activation.pk].save(force=True)  # the periodic save: it covers post 1
    actions.receive_posts(source.pk, [file_post(2, OTHER)], {"v": 2})
    assert a.step() == 1  # post 2's group is in the queue, not in the saved state
    actions.receive_posts(source.pk, [file_post(3, TEXT), file_post(4, OTHER)], {"v": 3})
    b = Worker(threading.Event(), processes=0)  # killed A, restarted
    proc = b.processor(activation)
    pk = dict(Post.objects.values_list("external_id", "pk"))
    assert proc.pipeline.covered_until == pk["2"]
    # Post 1 came from the saved state, post 2 was grouped again; neither counted twice.
    assert proc.pipeline.dedup.groups[f"g:{pk['1']}"].size == 1
    assert proc.pipeline.dedup.groups[f"g:{pk['2']}"].size == 1
    assert b.step() == 2
    assert sorted(Card.objects.values_list("group_id", "posts_count")) == sorted(
        [(f"g:{pk['1']}", 2), (f"g:{pk['2']}", 2)]
    )


def test_a_state_saved_before_it_said_what_it_covers_is_not_grouped_twice(
    transactional_db, members
):
    from beffroi.watch import actions
    from beffroi.watch.models import Post
    from beffroi.watch.worker import Worker

    activation, source = file_source_room(members["coordinator"])
    actions.receive_posts(source.pk, [file_post(1, TEXT), file_post(2, OTHER)], {"v": 1})
    a = Worker(threading.Event(), processes=0)
    assert a.step() == 2
    proc = a.processors[activation.pk]
    proc.pipeline.covered_until = 0  # as an older worker saved it
    proc.save(force=True)
    b = Worker(threading.Event(), processes=0).processor(activation)
    pk = dict(Post.objects.values_list("external_id", "pk"))
    assert b.pipeline.covered_until == max(pk.values())
    assert [g.size for g in b.pipeline.dedup.groups.values()] == [1, 1]
