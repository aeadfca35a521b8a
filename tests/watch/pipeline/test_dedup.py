from datetime import UTC, datetime

import numpy as np
import pytest

from beffroi.watch.pipeline import DedupIndex, PostIn, normalise, start

NOW = datetime(2024, 10, 17, 8, 0, tzinfo=UTC)
BASE = "L'eau monte rue de la Paix à Nantes, des voitures emportées, restez chez vous"


def prep(texts, prefix="p"):
    return normalise(start([PostIn(f"{prefix}{i}", t, NOW) for i, t in enumerate(texts)]))


def test_retweets_and_copies_join_the_first_post():
    index = DedupIndex()
    items = index(
        prep(
            [
                BASE,
                f"RT @temoin44: {BASE}",
                f"{BASE} http://t.co/xyz",
                BASE.upper() + " !!!",
                "Incendie dans un entrepôt à Saint-Herblain, fumée noire visible de loin",
            ]
        )
    )
    assert [i.group_id for i in items] == ["g:p0"] * 4 + ["g:p4"]
    assert [i.group_size for i in items] == [1, 2, 3, 4, 1]
    assert [i.duplicate for i in items] == [None, "exact", "exact", "exact", None]
    assert items[0].is_new_group and not items[1].is_new_group


def test_near_copies_join_across_batches():
    index = DedupIndex()
    first = index(prep([BASE], "a"))
    later = index(
        prep(
            [
                BASE.replace("restez chez vous", "restez chez vous svp #inondations"),
                "Info : " + BASE,
            ],
            "b",
        )
    )
    assert all(i.group_id == first[0].group_id for i in later)
    assert [i.duplicate for i in later] == ["near", "near"]
    assert later[-1].group_size == 3
    assert all(0.6 <= i.similarity < 1 for i in later)


def test_unrelated_and_short_posts_are_not_merged():
    index = DedupIndex()
    items = index(
        prep(
            [
                "Aidez-nous on est coincés au 2e étage",
                "Aidez-nous on est bloqués dans la voiture sur la D948",
                "help",
                "help!",
                "helps",
            ]
        )
    )
    assert len({i.group_id for i in items[:2]}) == 2
    assert items[2].group_id == items[3].group_id  # same folded text
    assert items[4].group_id != items[2].group_id  # short: exact only


def test_state_round_trip_keeps_groups_and_counts():
    index = DedupIndex()
    index(prep([BASE, BASE, "Autre sujet complètement différent, une route coupée à Pornic"]))
    restored = DedupIndex.from_bytes(index.to_bytes())
    assert {g: x.size for g, x in restored.groups.items()} == {
        g: x.size for g, x in index.groups.items()
    }
    for gid, group in index.groups.items():
        other = restored.groups[gid].hashvalues
        assert (group.hashvalues is None and other is None) or np.array_equal(
            group.hashvalues, other
        )
    items = restored(prep([f"RT @x: {BASE}", BASE + " et ça continue de monter"], "n"))
    assert [i.group_id for i in items] == ["g:p0", "g:p0"]
    assert items[-1].group_size == 4


def test_bad_state_is_refused():
    with pytest.raises(ValueError, match="illisible"):
        DedupIndex.from_bytes(b"not a state")


def test_oldest_groups_are_forgotten_past_the_limit():
    index = DedupIndex(max_groups=2)
    index(prep(["premier message assez long pour un croquis", "second message assez long lui aussi",
                "troisième message qui pousse le premier dehors"]))  # fmt: skip
    assert list(index.groups) == ["g:p1", "g:p2"]
    again = index(prep(["premier message assez long pour un croquis"], "r"))
    assert again[0].is_new_group


def test_replayed_post_ids_do_not_collide():
    index = DedupIndex()
    index(prep(["un texte assez long sur la crue de la Sèvre"]))
    items = index(prep(["un tout autre texte, sur la tempête à Brest"]))
    assert items[0].group_id == "g:p0~2" and items[0].is_new_group


def test_sketch_matches_jaccard():
    index = DedupIndex(num_perm=256)
    a = "la digue de la Faute-sur-Mer a cédé cette nuit, évacuation en cours"
    b = "la digue de la Faute-sur-Mer a cédé ce matin, évacuation en cours"
    ha, hb = index.sketch_batch([a, b])

    def grams(t):
        data = t.encode()
        return {data[i : i + 5] for i in range(len(data) - 4)}

    true = len(grams(a) & grams(b)) / len(grams(a) | grams(b))
    est = float(np.mean(ha == hb))
    assert abs(est - true) < 0.1


def test_keys_prepared_elsewhere_group_like_the_index_itself():
    texts = [BASE, f"RT @x: {BASE}", "Info : " + BASE, "help", "help!", "Route coupée à Pornic"]
    plain, split = DedupIndex(), DedupIndex()
    for batch in ("a", "b"):
        items = prep(texts, batch)
        expected = [(i.group_id, i.group_size, i.duplicate) for i in plain(items)]
        # A fresh index (as in a child process) prepares; the stateful one assigns.
        twin = prep(texts, batch)
        keys = DedupIndex().prepare(twin)
        got = [(i.group_id, i.group_size, i.duplicate) for i in split.assign(twin, keys)]
        assert got == expected
    with pytest.raises(ValueError):
        split.assign(prep(texts[:2], "c"), DedupIndex().prepare(prep(texts, "c")))


def test_band_candidates_are_those_of_datasketch():
    from datasketch import MinHashLSH

    index = DedupIndex()
    rng = np.random.default_rng(7)
    words = ["eau", "monte", "rue", "digue", "Luçon", "coupée", "route", "pont", "école", "vite"]
    texts = [" ".join(rng.choice(words, size=12)) for _ in range(200)]
    sketches = [s for s in index.sketch_batch(texts) if s is not None]
    lsh = MinHashLSH(threshold=index.threshold, num_perm=index.num_perm)

    class Sketch:  # what MinHashLSH reads from a MinHash
        def __init__(self, hv):
            self.hashvalues = hv

        def __len__(self):
            return len(self.hashvalues)

    for i, hv in enumerate(sketches[:150]):
        index._index(f"g{i}", hv)
        lsh.insert(f"g{i}", Sketch(hv), check_duplication=False)
    for hv in sketches:
        assert index._candidates(hv) == set(lsh.query(Sketch(hv)))
    index._unindex("g0", sketches[0])
    assert "g0" not in index._candidates(sketches[0])
