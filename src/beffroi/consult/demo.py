"""Demo consultation for `beffroi demo` / `make run` (idempotent).

The affair's consultation (examples.affair_spec): the school smock, the
flag-raising ceremony and homework help, each answered once per parent row
(« Responsable légal 1 / 2 »), four schools with their pupils as electorate,
mixed mode.  Three days of signed and unsigned answers are replayed through
the actions; in the evening of the second day comes the salvo of the affair,
forty unsigned forms from one network, each a few seconds after the previous,
both parent rows leaning towards "non".  The live integrity audit flags it and
the frozen rule sets it aside, in the results and in the scrutineer bundle.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from beffroi.consult import actions, credentials, tasks
from beffroi.consult.ballot import make_ballot, sign
from beffroi.consult.cli_example_bundle import example_spec_dict
from beffroi.consult.examples import HONEST_NO, SALVO_NO, SCHOOLS, household_answers
from beffroi.consult.models import Consultation

CID = "mesures-ecoles-demo"
LETTERS_PER_SCHOOL = 20
HONEST_FORMS = 180
SALVO_FORMS = 40


def base_url() -> str:
    """The address `beffroi demo` serves (it sets BEFFROI_DEMO_URL), for printed links."""
    return os.environ.get("BEFFROI_DEMO_URL", "http://127.0.0.1:8000").rstrip("/")


def _school(rng: random.Random) -> str:
    # Schools in proportion to their pupils, as in the simulation.
    codes = list(SCHOOLS)
    return rng.choices(codes, weights=[SCHOOLS[c][1] for c in codes])[0]


def load(org: Any) -> Iterator[str]:
    base = base_url()  # read when loading: `beffroi demo` sets it first
    existing = Consultation.objects.filter(cid=CID).first()
    if existing is not None:
        yield (
            f"consultation '{CID}' already loaded: {existing.board_count} ballots, "
            f"board {base}/c/{CID}/tableau/"
        )
        # The codes behind the links to try are never stored (only their public keys),
        # so a second run cannot print them again: say so, and how to get new ones.
        yield (
            "  its credential links were printed when it was first loaded; for new ones, stop "
            "the server and delete the data directory (var/ under make run), then start again"
        )
        return
    rng = random.Random(2026)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=3)
    spec_dict = example_spec_dict(CID, access="mixed", opens=start, closes=now + timedelta(days=11))
    c = actions.create_consultation(org, spec_dict, actor=None)
    # The credential authority's side: letters for each school (the private part
    # is kept here only to replay answers and to print two links to try).
    private, public = credentials.generate(
        None, {s["code"]: LETTERS_PER_SCHOOL for s in spec_dict["segments"]}, CID, base
    )
    text = "".join(json.dumps(p.to_dict(), sort_keys=True) + "\n" for p in public)
    actions.import_credentials(c, text, actor=None)
    actions.open_consultation(c, actor=None)
    spec = c.get_spec()

    # Honest forms spread over three days; the salvo in the second evening, each
    # form 1-30 s after the previous one (the affair's rhythm).  Every random draw
    # is made here, in creation order, so the demo's content does not depend on
    # the hour it is loaded at (which decides where the salvo falls).
    forms: list[tuple[datetime, int, Any, list[dict[str, str]], str | None, int]] = []
    clock = start + timedelta(minutes=5)
    for i in range(HONEST_FORMS):
        clock += timedelta(seconds=rng.randint(300, 1400))
        signed = rng.random() < 0.7
        cred = private[rng.randrange(len(private) - 2)] if signed else None  # last two unused
        rows = household_answers(rng, HONEST_NO)
        segment = None if signed else _school(rng)
        forms.append((min(clock, now - timedelta(minutes=1)), i, cred, rows, segment, -1))
    salvo_at = (start + timedelta(days=1)).replace(hour=20, minute=47, second=0)
    for j in range(SALVO_FORMS):
        salvo_at += timedelta(seconds=rng.randint(1, 30))
        rows = household_answers(rng, SALVO_NO, second_parent=1.0, agree=0.0, blank=0.0)
        forms.append((salvo_at, HONEST_FORMS + j, None, rows, _school(rng), j % 7))
    forms.sort(key=lambda f: (f[0], f[1]))

    for at, i, cred, rows, segment, vpn in forms:
        # seq: the time in milliseconds, as the answering page does.
        seq = int(at.timestamp() * 1000)
        if cred is not None:
            pk = credentials.public_key_hex(cred.code, CID)
            ballot = make_ballot(spec, {}, rows, public_key=pk, seq=seq)
            item = actions.Incoming(ballot, sign(ballot, credentials.derive_seed(cred.code, CID)))
        elif vpn >= 0:
            ballot = make_ballot(spec, {}, rows, public_key=None, seq=seq, segment=segment)
            # One network, addresses rotating in a small pool (a VPN's exits).
            item = actions.Incoming(
                ballot, None, net="prefix:salvo", addr=f"addr:vpn{vpn}", ua="ua:salvo"
            )
        else:
            ballot = make_ballot(spec, {}, rows, public_key=None, seq=seq, segment=segment)
            who = i % 60
            item = actions.Incoming(
                ballot, None, net=f"prefix:demo{who}", addr=f"addr:demo{who}", ua=f"ua:{who % 9}"
            )
        actions.submit_ballots(CID, [item], at=at)
    # A letter lost after its code voted: the authority reissues it, and the new key
    # replaces the old one (a code that has served is never revoked without one).
    lost = private[0]
    lost_key = credentials.public_key_hex(lost.code, CID)
    _, new, _ = credentials.reissue(lost_key, lost.segment, "lettre perdue", CID, base)
    actions.revoke_credential(
        c, lost_key, "lettre perdue (démonstration)", actor=None, replacement=new.public_key
    )
    flags = tasks.live_audit(c)
    # Also queue the background audit, whose stored report the audit page shows
    # once `beffroi worker` (started by `make run`) has run it.
    tasks.schedule_live_audit(CID)
    c.refresh_from_db()
    yield (
        f"consultation '{CID}': {c.board_count} ballots, {flags} flagged by the live audit; "
        f"board {base}/c/{CID}/tableau/"
    )
    for cred in private[-2:]:
        yield f"  try a credential link: {cred.link}"
