"""Demo consultation for `beffroi demo` / `make run` (idempotent).

The affair's example: questions about the school week asked once per parent
row (« Responsable légal 1 / 2 »), four schools with their pupil counts, mixed
mode.  Three days of signed and unsigned answers are replayed through the
actions, then a burst of identical unsigned answers from one network; the
live integrity audit flags it and the frozen rule sets it aside, in the
results and in the scrutineer bundle.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from beffroi.consult import actions, credentials, tasks
from beffroi.consult.ballot import make_ballot, sign
from beffroi.consult.cli_example_bundle import example_spec_dict
from beffroi.consult.examples import random_answers
from beffroi.consult.models import Consultation

CID = "rythmes-scolaires-demo"
BASE_URL = "http://127.0.0.1:8000"


def load(org: Any) -> Iterator[str]:
    existing = Consultation.objects.filter(cid=CID).first()
    if existing is not None:
        yield (
            f"consultation '{CID}' already loaded: {existing.board_count} ballots, "
            f"board {BASE_URL}/c/{CID}/tableau/"
        )
        return
    rng = random.Random(2026)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=3)
    spec_dict = example_spec_dict(CID, access="mixed", opens=start, closes=now + timedelta(days=11))
    c = actions.create_consultation(org, spec_dict, actor=None)
    # The credential authority's side: 20 letters per school (private part kept
    # here only to replay answers and to print two links to try).
    private, public = credentials.generate(
        None, {s["code"]: 20 for s in spec_dict["segments"]}, CID, BASE_URL
    )
    text = "".join(json.dumps(p.to_dict(), sort_keys=True) + "\n" for p in public)
    actions.import_credentials(c, text, actor=None)
    actions.open_consultation(c, actor=None)
    spec = c.get_spec()
    segments = spec.segment_codes()

    clock = start + timedelta(minutes=5)
    seqs: dict[str, int] = {}
    for i in range(180):
        clock += timedelta(seconds=rng.randint(300, 1400))
        answers, rows = random_answers(spec, rng)
        if rng.random() < 0.7:
            cred = private[rng.randrange(len(private) - 2)]  # the last two stay unused
            seqs[cred.code] = seqs.get(cred.code, 0) + rng.randint(1, 99)
            pk = credentials.public_key_hex(cred.code, CID)
            ballot = make_ballot(spec, answers, rows, public_key=pk, seq=seqs[cred.code])
            item = actions.Incoming(ballot, sign(ballot, credentials.derive_seed(cred.code, CID)))
        else:
            ballot = make_ballot(
                spec, answers, rows, public_key=None, seq=10_000 + i, segment=rng.choice(segments)
            )
            who = rng.randrange(60)
            item = actions.Incoming(
                ballot, None, net=f"prefix:demo{who}", addr=f"addr:demo{who}", ua=f"ua:{who % 9}"
            )
        actions.submit_ballots(CID, [item], at=clock)
    # The burst: identical unsigned answers, one network, two minutes.
    burst_at = start + timedelta(days=2, hours=2)
    for i in range(40):
        ballot = make_ballot(
            spec,
            {"satisfaction": 1},
            [{"semaine": "4j5", "mercredi": ["famille"]}, {}],
            public_key=None,
            seq=50_000 + i,
            segment="B2",
        )
        item = actions.Incoming(ballot, None, net="prefix:burst", addr="addr:burst", ua="ua:burst")
        actions.submit_ballots(CID, [item], at=max(clock, burst_at) + timedelta(seconds=3 * i))
    lost = private[0]
    actions.revoke_credential(
        c, credentials.public_key_hex(lost.code, CID), "lettre perdue (démonstration)", actor=None
    )
    flags = tasks.live_audit(c)
    c.refresh_from_db()
    yield (
        f"consultation '{CID}': {c.board_count} ballots, {flags} flagged by the live audit; "
        f"board {BASE_URL}/c/{CID}/tableau/"
    )
    for cred in private[-2:]:
        yield f"  try a credential link: {cred.link}"
