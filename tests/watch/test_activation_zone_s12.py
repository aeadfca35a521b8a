"""An open activation's zone changes (the flood reaches the next département): the edit
form takes it with the creation form's errors, the journal keeps old and new zone, the
worker locates the next posts in the new zone (running or restarted, with or without
child processes, no post lost or stored twice), and the cards still waiting are scored
again for it while decided ones keep what the volunteers saw."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from beffroi.core.models import JournalEntry
from beffroi.watch.pipeline import Pipeline, PipelineConfig, PostIn
from beffroi.watch.pipeline.priority import rezone

NOW = datetime(2026, 11, 24, tzinfo=UTC)
# Carcassonne is in the Aude (11): outside a zone of Luçon (85128) alone.
CARCASSONNE = "L'eau monte rue de la Gare à Carcassonne, des voitures coincées"
LUCON = "Digue fragile à Luçon ce soir"
OLD, NEW = ["85128"], ["85128", "11"]


@pytest.fixture
def activation(org, members):
    from beffroi.watch import actions

    return actions.create_activation(
        org,
        name="Crue",
        event_type="inondation",
        area=OLD,
        keywords={"fr": ["crue"]},
        actor=members["coordinator"],
    )


def _url(activation):
    return reverse("watch-activation-edit", args=[activation.organisation.slug, activation.pk])


def _form(area=None, **extra):
    data = {"name": "Crue", "event_type": "inondation", "keywords": "fr: crue", **extra}
    if area is not None:
        data["area"] = area
    return data


def _receive(activation, external_id: str, text: str) -> None:
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources import RawPost

    source = activation.sources.first() or Source.objects.create(
        activation=activation, kind="file", name="import", config={}
    )
    post = RawPost("file", str(source.pk), external_id, text, NOW)
    assert actions.receive_posts(source.pk, [post], {"i": external_id}) == 1


def _rezone(activation, area, members):
    from beffroi.watch import actions

    return actions.update_activation(
        activation,
        name=activation.name,
        event_type=activation.event_type,
        keywords=activation.keywords,
        ends_at=activation.ends_at,
        area=area,
        actor=members["coordinator"],
    )


def _card(activation, text):
    from beffroi.watch.models import Card

    return Card.objects.get(activation=activation, text=text)


# -- the form ---------------------------------------------------------------------------------


def test_the_form_shows_the_zone_and_a_new_one_is_journaled(client, members, activation):
    client.force_login(members["coordinator"])
    page = client.get(_url(activation)).content.decode()
    assert 'name="area" value="85128"' in page
    response = client.post(_url(activation), _form(area="85128, 11"))
    assert response.status_code == 302
    activation.refresh_from_db()
    assert activation.area == NEW
    entry = JournalEntry.objects.filter(action="watch.activation.update").get()
    assert entry.data == {
        "area": {"from": OLD, "to": NEW, "waiting_cards_rescored": 0},
    }
    assert entry.actor_id == members["coordinator"].pk


def test_the_same_codes_in_another_order_change_nothing(client, members, activation):
    client.force_login(members["coordinator"])
    client.post(_url(activation), _form(area="85128 11"))
    client.post(_url(activation), _form(area="11;85128"))
    activation.refresh_from_db()
    assert activation.area == NEW
    assert JournalEntry.objects.filter(action="watch.activation.update").count() == 1


def test_an_empty_zone_is_allowed_as_at_creation(client, members, activation):
    client.force_login(members["coordinator"])
    assert client.post(_url(activation), _form(area="")).status_code == 302
    activation.refresh_from_db()
    assert activation.area == []
    entry = JournalEntry.objects.filter(action="watch.activation.update").get()
    assert entry.data["area"]["to"] == []


def test_a_request_without_the_zone_keeps_it(client, members, activation):
    # A page opened before the zone could change posts no « area »: not a wish to clear it.
    client.force_login(members["coordinator"])
    client.post(_url(activation), _form(name="Crue du Lay"))
    activation.refresh_from_db()
    assert activation.area == OLD and activation.name == "Crue du Lay"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        # A name typed for the code: said under the field with the code it means.
        (
            "85128 Carcassonne",
            "Commune inconnue : Carcassonne. Code INSEE de cette commune : 11069",
        ),
        ("99999", "Commune inconnue : 99999"),
        ("999", "Département inconnu : 999"),
        ("85128 Vendée!", "« VENDÉE! » n&#x27;est ni un code INSEE de commune ni un département."),
    ],
)
def test_a_wrong_zone_is_refused_in_french_and_keeps_what_was_typed(
    client, members, activation, typed, said
):
    client.force_login(members["coordinator"])
    page = client.post(_url(activation), _form(area=typed, name="Crue de l'Aude")).content.decode()
    assert said in page
    assert "Crue de l&#x27;Aude" in page and f'name="area" value="{typed}"' in page.replace(
        "&#x27;", "'"
    )
    activation.refresh_from_db()
    assert activation.area == OLD and activation.name == "Crue"
    assert not JournalEntry.objects.filter(action="watch.activation.update").exists()


@pytest.mark.parametrize("role", ["volunteer", "partner", "scrutineer", "outsider"])
def test_only_the_coordination_changes_the_zone(client, members, activation, role):
    client.force_login(members[role])
    response = client.post(_url(activation), _form(area="11"))
    assert response.status_code in (403, 404)
    activation.refresh_from_db()
    assert activation.area == OLD


def test_a_closed_activation_keeps_its_zone(members, activation):
    from beffroi.watch import actions

    actions.close_activation(activation, actor=members["coordinator"])
    with pytest.raises(actions.ActionError):
        _rezone(activation, NEW, members)
    activation.refresh_from_db()
    assert activation.area == OLD


# -- the worker -------------------------------------------------------------------------------


def _worker():
    from beffroi.watch.worker import Worker

    worker = Worker(threading.Event(), processes=0)
    worker.classifier = None  # the zone is what is looked at; no model to load
    return worker


def test_the_running_worker_locates_the_next_posts_in_the_new_zone(db, members, activation):
    from beffroi.watch.models import Post

    worker = _worker()
    _receive(activation, "1", CARCASSONNE)
    worker.step()
    assert _card(activation, CARCASSONNE).in_area is False

    _rezone(activation, NEW, members)
    later = "Digue rompue à Carcassonne, quartier évacué"
    _receive(activation, "2", later)
    worker.step()
    card = _card(activation, later)
    assert card.in_area is True
    assert "dans la zone : Carcassonne" in card.explanation
    assert worker.processors[activation.pk].pipeline.config.area == set(NEW)
    assert not Post.objects.filter(activation=activation, processed=False).exists()


def test_a_restarted_worker_uses_the_new_zone_not_the_saved_one(db, members, activation):
    from beffroi.watch.models import Activation, ActivationModel
    from beffroi.watch.worker import ActivationProcessor

    proc = ActivationProcessor(activation, None)
    _receive(activation, "1", LUCON)
    assert proc.process() == 1
    proc.save(force=True)
    saved = Pipeline.loads(bytes(ActivationModel.objects.get(activation=activation).pipeline_state))
    assert saved.config.area == set(OLD)

    _rezone(activation, NEW, members)
    restarted = ActivationProcessor(Activation.objects.get(pk=activation.pk), None)
    assert restarted.pipeline.config.area == set(NEW)
    # The grouping state came back with it: a copy of the first post joins its card.
    assert restarted.pipeline.dedup.to_bytes() == saved.dedup.to_bytes()
    _receive(activation, "2", CARCASSONNE)
    assert restarted.process() == 1
    assert _card(activation, CARCASSONNE).in_area is True


def test_a_batch_located_before_the_change_is_stored_for_the_new_zone(db, members, activation):
    """The worker read the zone, then the coordinator changed it before the batch was
    stored: the action scores the batch again under the activation's lock."""
    from beffroi.watch.worker import ActivationProcessor

    proc = ActivationProcessor(activation, None)
    _receive(activation, "1", CARCASSONNE)
    _rezone(activation, NEW, members)  # the processor has not followed it yet
    assert proc.pipeline.config.area == set(OLD)
    assert proc.process() == 1
    card = _card(activation, CARCASSONNE)
    assert card.in_area is True
    assert "dans la zone : Carcassonne" in card.explanation
    reference = Pipeline(PipelineConfig(area=set(NEW))).process([PostIn("x", CARCASSONNE, NOW)])[0]
    assert card.priority == pytest.approx(reference.priority, abs=2e-4)
    entry = JournalEntry.objects.filter(action="watch.queue").latest("seq")
    assert entry.data["rezoned_posts"] == 1


class _Now:
    """A preparer's result computed in this process, when asked (as a child would)."""

    def __init__(self, compute):
        self.compute = compute

    def ready(self):
        return True

    def get(self, timeout=None):
        return self.compute()


class _InProcessPreparer:
    """The pipeline's preparer without child processes: each batch is prepared with the
    configuration it was handed out with."""

    workers = 1

    def __init__(self):
        self.handed = []

    def submit(self, batch, config):
        from beffroi.watch.pipeline.pipeline import PreparedResult, _prepare

        light = [(p.text, p.lang, p.coordinates, p.repost_of, p.author_kinds) for p in batch]
        self.handed.append((sorted(config.area or ()), [p.id for p in batch]))
        return PreparedResult(_Now(lambda: _prepare(light, config)), batch)


def test_batches_in_flight_are_handed_out_again_in_the_new_zone(db, members, activation):
    from beffroi.watch.models import Activation, Card, Post
    from beffroi.watch.worker import ActivationProcessor

    preparer = _InProcessPreparer()
    proc = ActivationProcessor(activation, None, preparer)
    _receive(activation, "1", LUCON)
    _receive(activation, "2", CARCASSONNE)
    # One post a batch: the first is stored, the second is left in flight (old zone).
    assert proc.process(limit=1) == 1
    assert len(proc.in_flight) == 1

    _rezone(activation, NEW, members)
    proc.follow(Activation.objects.get(pk=activation.pk))
    assert not proc.in_flight and not proc.in_flight_ids
    assert proc.process(limit=1) == 1
    assert proc.process(limit=1) == 0

    carcassonne = Post.objects.get(activation=activation, external_id="2")
    assert [area for area, ids in preparer.handed if str(carcassonne.pk) in ids] == [
        OLD,
        sorted(NEW),
    ]
    assert _card(activation, CARCASSONNE).in_area is True
    # Each post once: two cards of one post each, both posts processed, two posts journaled.
    assert sorted(
        Card.objects.filter(activation=activation).values_list("posts_count", flat=True)
    ) == [1, 1]
    assert not Post.objects.filter(activation=activation, processed=False).exists()
    queued = JournalEntry.objects.filter(action="watch.queue")
    assert sum(e.data["posts"] for e in queued) == 2
    assert "rezoned_posts" not in str([e.data for e in queued])


# -- the cards already there -----------------------------------------------------------------


def test_waiting_cards_are_scored_again_and_decided_ones_keep_theirs(
    db, members, activation, monkeypatch
):
    from beffroi.watch import actions
    from beffroi.watch.models import Card, CardState
    from beffroi.watch.views import _version

    monkeypatch.setattr(actions, "REZONE_BATCH", 2)  # several batches for three cards
    worker = _worker()
    texts = [
        CARCASSONNE,
        "Routes coupées autour de Carcassonne, pompiers sur place",
        "Carcassonne : la Cité fermée, l'Aude déborde",
        "Rien à signaler ce soir",
    ]
    for i, text in enumerate(texts):
        _receive(activation, str(i), text)
    worker.step()
    decided = actions.decide(_card(activation, texts[0]), "relevant", actor=members["volunteer"])
    before = {c.pk: c for c in Card.objects.filter(activation=activation)}
    assert all(c.in_area is False for c in before.values() if "Carcassonne" in c.text)
    version = _version(activation.pk, Card)

    changed = _rezone(activation, NEW, members)
    assert changed == ["area"]
    entry = JournalEntry.objects.filter(action="watch.activation.update").get()
    assert entry.data["area"]["waiting_cards_rescored"] == 2

    after = {c.pk: c for c in Card.objects.filter(activation=activation)}
    kept = after[decided.pk]
    old = before[decided.pk]
    assert kept.state == CardState.DECIDED
    assert (kept.in_area, kept.priority, kept.explanation, kept.updated_at) == (
        old.in_area,
        old.priority,
        old.explanation,
        old.updated_at,
    )
    for text in texts[1:3]:
        card = _card(activation, text)
        assert card.in_area is True
        assert card.priority > before[card.pk].priority
        assert "dans la zone : Carcassonne" in card.explanation
        assert not any(line.startswith("localisé hors") for line in card.explanation)
        # The same score as a post located in the new zone from the start.
        fresh = Pipeline(PipelineConfig(area=set(NEW))).process([PostIn("x", text, NOW)])[0]
        assert card.priority == pytest.approx(fresh.priority, abs=2e-4)
    quiet = _card(activation, texts[3])
    assert (quiet.in_area, quiet.priority) == (None, before[quiet.pk].priority)
    # The live queue sees a change, and its order is the new one.
    assert _version(activation.pk, Card) != version
    first = Card.objects.filter(activation=activation, state=CardState.QUEUED).order_by(
        "-priority"
    )[0]
    assert first.in_area is True


def test_a_smaller_zone_puts_waiting_cards_outside(db, members, activation):
    worker = _worker()
    _receive(activation, "1", LUCON)
    worker.step()
    before = _card(activation, LUCON)
    assert before.in_area is True
    _rezone(activation, ["11"], members)
    card = _card(activation, LUCON)
    assert card.in_area is False and card.priority < before.priority
    assert "localisé hors de la zone : Luçon" in card.explanation
    _rezone(activation, [], members)  # no zone at all: nothing is "inside" or "outside"
    card = _card(activation, LUCON)
    assert card.in_area is None and "localisé : Luçon" in card.explanation


# -- the pure scoring ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [CARCASSONNE, LUCON, "Besoin d'aide à Narbonne, Luçon aussi"])
@pytest.mark.parametrize(
    ("old", "new"),
    [(OLD, NEW), (NEW, OLD), (OLD, ["11"]), (None, OLD), (NEW, None), (OLD, OLD)],
)
def test_rezone_gives_the_score_of_a_post_located_in_the_new_zone(text, old, new):
    def run(area):
        return Pipeline(PipelineConfig(area=set(area) if area else None)).process(
            [PostIn("x", text, NOW)]
        )[0]

    before, after = run(old), run(new)
    communes = [{"code": m.code, "name": m.name, "dep": m.dep} for m in before.communes]
    got = rezone(
        priority=before.priority,
        informative_p=None,
        urgency_cues=list(before.urgency_cues),
        communes=communes,
        in_area=before.in_area,
        explanation=list(before.explanation),
        area=set(new) if new else None,
    )
    assert got.in_area == after.in_area
    assert got.priority == pytest.approx(after.priority, abs=2e-4)
    if len(before.communes) == 1:
        assert got.explanation == list(after.explanation)
    else:
        # The places stored are not searched again (a zone may change which of two
        # homonyms or which order the geocoder reads): the line names the stored ones.
        assert got.explanation[:-1] == list(after.explanation)[:-1]


def test_a_pipeline_told_a_new_zone_drops_what_copies_reused():
    pipe = Pipeline(PipelineConfig(area=set(OLD)))
    assert pipe.process([PostIn("1", CARCASSONNE, NOW)])[0].in_area is False
    assert pipe.set_area(set(NEW)) is True
    assert pipe.set_area({"11 ", "85128"}) is False
    # An exact copy of a post seen in the old zone is located again.
    copy = pipe.process([PostIn("2", CARCASSONNE, NOW)])[0]
    assert copy.duplicate == "exact" and copy.in_area is True


@pytest.mark.parametrize("area", [None, set(), {"85128"}, {"11"}, {"85"}, {"11", "85128"}])
@pytest.mark.parametrize(
    "communes",
    [
        [],
        [{"code": "11069", "name": "Carcassonne", "dep": "11"}],
        [{"code": "85128", "name": "Luçon", "dep": "85"}, {"code": "11069", "dep": "11"}],
    ],
)
def test_the_quick_reading_agrees_with_the_full_one(area, communes):
    from beffroi.watch.pipeline.priority import in_zone

    for before in (None, True, False):
        full = rezone(
            priority=0.5,
            informative_p=0.7,
            urgency_cues=[],
            communes=communes,
            in_area=before,
            explanation=[],
            area=area,
        )
        assert in_zone(communes, area) == full.in_area
