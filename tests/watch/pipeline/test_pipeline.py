import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.watch.pipeline import Pipeline, PipelineConfig, PostIn, Prediction, urgency

# The fakes live in a module of their own, importable by the pipeline's child
# processes (a fork server or spawn imports them by name; this module has none).
from pipeline_fakes import SOURCES, FakeClassifier, SplitFake

NOW = datetime(2024, 10, 17, 8, 0, tzinfo=UTC)


def posts(texts, prefix="p", coords=None):
    return [
        PostIn(f"{prefix}{i}", t, NOW + timedelta(seconds=i), coordinates=(coords or {}).get(i))
        for i, t in enumerate(texts)
    ]


def test_urgency_cues():
    u, cues = urgency("Au secours, on est coincés, l'eau monte !")
    assert u > 0.99 and set(cues) >= {"au secours", "coinces", "l eau monte"}
    assert urgency("Belle journée au marché") == (0.0, ())
    assert urgency("We are TRAPPED on the roof")[0] > 0.99


def test_priority_ordering_and_explanations():
    pipe = Pipeline(PipelineConfig(area={"85"}), classifier=FakeClassifier())
    items = pipe.process(
        posts(
            [
                "Au secours on est coincés sur le toit à Saint-Jean-de-Monts, l'eau monte",  # 0
                "La route de la Jonelière est coupée à Nantes",  # 1: informative, outside area
                "Pensées pour les sinistrés, courage à tous",  # 2: chatter
                # 3: a repeat of 0
                "Au secours on est coincés sur le toit à Saint-Jean-de-Monts, l'eau monte",
                "La route de la Corniche est coupée à Talmont-Saint-Hilaire",  # 4: in area
            ]
        )
    )
    by_id = {i.id: i for i in items}
    p = {k: v.priority for k, v in by_id.items()}
    assert p["p0"] > p["p4"] > p["p1"] > p["p2"]
    assert p["p0"] > p["p3"]  # the copy ranks below the first post
    assert all(0.0 <= v <= 1.0 for v in p.values())
    top = by_id["p0"]
    assert top.in_area is True and top.communes[0].code == "85234"
    assert any("urgence" in e and "coinces" in e for e in top.explanation)
    assert any("témoin direct" in e for e in top.explanation)
    # Scores are written as the French lines around them write numbers: "p=0,97".
    assert any(re.search(r"informatif p=[01],\d\d$", e) for e in top.explanation)
    assert any("dans la zone" in e for e in top.explanation)
    assert any("groupe de 2" in e for e in by_id["p3"].explanation)
    assert by_id["p1"].in_area is False


def test_call_for_help_rises_even_if_classifier_says_not_informative():
    class Dismissive(FakeClassifier):
        def predict(self, texts):
            return [Prediction(False, 0.02, "Not applicable", "Outsiders", {"Outsiders": 1.0})
                    for _ in texts]  # fmt: skip

    pipe = Pipeline(classifier=Dismissive())
    help_, chatter = pipe.process(posts(["SOS we are trapped, please help", "what a nice day"]))
    assert help_.priority > 2 * chatter.priority


def test_exact_duplicates_reuse_the_prediction():
    fake = FakeClassifier()
    pipe = Pipeline(classifier=fake)
    text = "L'eau monte dans le quartier de la gare, plusieurs voitures emportées"
    items = pipe.process(posts([text, f"RT @x: {text}", f"RT @y: {text}"]))
    assert fake.texts == 1
    assert all(i.prediction is items[0].prediction for i in items)


def test_coordinates_locate_the_post():
    pipe = Pipeline(PipelineConfig(area={"44109"}))
    (item,) = pipe.process(posts(["Ça déborde ici"], coords={0: (47.2184, -1.5536)}))
    assert item.communes[0].via == "coordinates" and item.communes[0].code == "44109"
    assert item.in_area is True


def test_state_round_trip_continues_groups():
    fake = FakeClassifier()
    pipe = Pipeline(PipelineConfig(area={"85"}), classifier=fake)
    text = "Digue rompue à la Faute-sur-Mer, évacuation immédiate du quartier"
    pipe.process(posts([text, text], "a"))
    restored = Pipeline.loads(pipe.dumps(), classifier=fake)
    assert restored.config.area == {"85"} and restored.processed == 2
    (item,) = restored.process(posts([f"RT @z: {text}"], "b"))
    assert item.group_id == "g:a0" and item.group_size == 3 and not item.is_new_group
    with pytest.raises(ValueError, match="illisible"):
        Pipeline.loads(b"garbage")


def test_classifier_returning_the_wrong_count_is_an_error():
    class Broken:
        def predict(self, texts):
            return []

    with pytest.raises(ValueError, match="0 prédictions pour 1 textes"):
        Pipeline(classifier=Broken()).process(posts(["un message"]))


def test_without_classifier_scores_still_in_range():
    items = Pipeline().process(posts(["au secours", "bonjour", ""]))
    assert [i.prediction for i in items] == [None, None, None]
    assert items[0].priority > items[1].priority
    assert all(0 <= i.priority <= 1 for i in items)
    assert items[2].lang == "und"


def test_shipped_classifier_integrates():
    from beffroi.watch import classify

    model = classify.load_default()
    items = Pipeline(classifier=model).process(
        posts(["We are trapped on the roof, water rising fast, please help", "lol nice game"])
    )
    for item in items:
        pred = item.prediction
        assert isinstance(pred.informative, bool) and 0 <= pred.informative_p <= 1
        assert set(pred.source_p) <= set(SOURCES) | {"Not applicable"}
    assert items[0].priority > items[1].priority
    # Featurised in child processes, finished here: the same predictions.
    batch = posts(
        ["Inondation à Nantes, on est bloqués", "RT @x: Inondation à Nantes, on est bloqués"]
    )
    direct = Pipeline(classifier=model).process(batch)
    (streamed,) = list(Pipeline(classifier=model).process_stream([batch], workers=1))
    for a, b in zip(direct, streamed, strict=True):
        assert a.prediction.informative_p == pytest.approx(b.prediction.informative_p)
        assert a.priority == pytest.approx(b.priority)


def test_stream_on_two_processes_matches_one_process():
    texts = [
        "Au secours on est coincés à Saint-Jean-de-Monts, l'eau monte",
        "RT @a: Au secours on est coincés à Saint-Jean-de-Monts, l'eau monte",
        "La route de la Corniche est coupée à Talmont-Saint-Hilaire",
        "Flooding in Calgary, water rising on 4th street",
        "Pensées pour les sinistrés",
    ]
    batches = [posts(texts, "a"), posts(texts[::-1], "b"), posts(texts, "c")]

    def run(workers, classifier=None):
        pipe = Pipeline(PipelineConfig(area={"85"}), classifier=classifier or FakeClassifier())
        out = list(pipe.process_stream(batches, workers=workers))
        return [
            [
                (
                    i.id,
                    i.group_id,
                    i.group_size,
                    i.lang,
                    [m.code for m in i.communes],
                    i.priority,
                    i.urgency,
                    i.urgency_cues,
                    i.explanation,
                )
                for i in batch
            ]
            for batch in out
        ], pipe

    single, _ = run(0)
    double, pipe = run(2)
    assert double == single
    assert pipe.processed == 15 and single[2][0][2] == 5  # grouped across all batches
    # A classifier that exposes its features is featurised in the children.
    split_single, _ = run(0, SplitFake())
    split_double, split_pipe = run(2, SplitFake())
    assert split_double == split_single == single
    assert split_pipe.classifier.finished > 0 and split_pipe.classifier.predicted == 0


def test_from_raw_post_and_json_view():
    import json

    from beffroi.watch.sources.base import RawPost

    raw = RawPost(
        source_kind="mastodon",
        source_id="src-1",
        external_id="1234",
        text="Au secours, l'eau monte à Nantes @voisin",
        created_at=NOW,
        language="fr",
        coordinates=(47.2184, -1.5536),
    )
    post = PostIn.from_raw(raw)
    assert (post.id, post.lang, post.source_kind) == ("src-1:1234", "fr", "mastodon")
    assert post.coordinates == (47.2184, -1.5536)
    (item,) = Pipeline(PipelineConfig(area={"44"}), classifier=FakeClassifier()).process([post])
    data = json.loads(json.dumps(item.to_dict()))
    assert data["id"] == "src-1:1234" and data["communes"][0]["code"] == "44109"
    assert data["prediction"]["source"] == "Outsiders" and data["priority"] == item.priority
    assert "voisin" not in json.dumps(data)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=200),
            st.none() | st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True)),
            st.none() | st.sampled_from(["fr", "en-US", "", "xx", "zh-Hant"]),
        ),
        max_size=8,
    )
)
def test_pipeline_never_crashes(rows):
    pipe = _FUZZ_PIPE
    batch = [
        PostIn(f"f{len(rows)}-{i}", text, NOW, lang=lang, coordinates=coords)
        for i, (text, coords, lang) in enumerate(rows)
    ]
    items = pipe.process(batch)
    assert [i.id for i in items] == [p.id for p in batch]
    for item in items:
        assert 0.0 <= item.priority <= 1.0 and item.group_id
        assert item.group_size >= 1


_FUZZ_PIPE = Pipeline(PipelineConfig(area={"44"}), classifier=FakeClassifier())


@pytest.mark.parametrize("workers", [0, 1])
def test_a_declared_sender_overrides_the_source_of_its_own_posts_only(workers):
    """A préfecture's feed declared "Government": its posts take that source with
    certainty and say why; an exact copy from another source, before or after it, in the
    same batch or a later one, keeps the classifier's guess."""
    text = "Vigilance rouge crues : évitez les déplacements dans le secteur de Luçon"
    pipe = Pipeline(classifier=SplitFake() if workers else FakeClassifier())

    def post(i: int, declared: str | None) -> PostIn:
        return PostIn(f"p{i}", text, NOW + timedelta(seconds=i), declared_source=declared)

    batches = [[post(0, "Government"), post(1, None)], [post(2, None), post(3, "Government")]]
    out = [i for batch in pipe.process_stream(batches, workers=workers) for i in batch]
    model = out[1].prediction
    assert model.source != "Government"
    for declared in (out[0], out[3]):
        pred = declared.prediction
        assert pred.source == "Government" and pred.source_p["Government"] == 1.0
        assert sum(pred.source_p.values()) == 1.0
        assert pred.informative_p == model.informative_p  # only the sender changes
        assert "émetteur déclaré pour la source : institution" in declared.explanation
        assert not any(e.startswith("témoin direct") for e in declared.explanation)
    for copy in (out[1], out[2]):
        assert copy.prediction.source == model.source, copy.id
        assert not any("émetteur déclaré" in e for e in copy.explanation)


@pytest.mark.parametrize("workers", [0, 1])
def test_the_authors_kind_reaches_the_classifier_in_every_path(workers):
    from beffroi.watch.classify import load_default

    text = "Vigilance rouge crues : évitez les déplacements dans le secteur de Luçon"
    model = load_default()

    def source_of(kinds: tuple[str, ...]) -> str:
        pipe = Pipeline(classifier=model)
        (item,) = next(
            pipe.process_stream([[PostIn("p0", text, NOW, author_kinds=kinds)]], workers=workers)
        )
        return item.prediction.source

    assert source_of(()) != "Government"
    assert source_of(("government",)) == "Government"
