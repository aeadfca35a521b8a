"""`beffroi consult example-bundle --out bundle.zip [--ballots N]`.

Builds a scrutineer bundle through the real code path: a temporary database,
a consultation created and opened by the actions, credentials generated as the
credential authority would and imported as a public list, ballots signed with
the credentials' keys and submitted through ``actions.submit_ballots``, a
revocation, the live audit, the closing, and the bundle writer.  The helpers
below are also what the web tests use to set up consultations.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE_URL = "https://beffroi.example"


def example_spec_dict(
    cid: str,
    *,
    access: str = "mixed",
    opens: datetime | None = None,
    closes: datetime | None = None,
    all_kinds: bool = False,
) -> dict[str, Any]:
    """The affair's consultation (examples.affair_spec), open from now on, with
    the integrity rule reading the live audit's flag.  ``all_kinds`` takes
    examples.all_kinds_spec instead (every question kind, for tests)."""
    from beffroi.consult.examples import affair_spec, all_kinds_spec
    from beffroi.consult.forms import AUDIT_FLAG

    now = datetime.now(UTC)
    make = all_kinds_spec if all_kinds else affair_spec
    spec = make(
        cid,
        opens=opens or (now - timedelta(minutes=5)).replace(microsecond=0),
        closes=closes or (now + timedelta(days=14)).replace(microsecond=0),
        access=access,
    ).to_dict()
    for rule in spec["rules"]:
        if rule["code"] == "integrity_flag":
            rule["params"] = {"flags": [AUDIT_FLAG]}
            rule["label"] = "Réponses signalées par l'audit d'intégrité écartées"
    return spec


def setup_consultation(
    org: Any,
    *,
    cid: str,
    access: str = "mixed",
    per_segment: int = 3,
    actor: Any = None,
    spec_dict: dict[str, Any] | None = None,
    open_it: bool = True,
    all_kinds: bool = False,
) -> tuple[Any, list[Any]]:
    """Create, import credentials for, and open a consultation (by default the
    affair's; ``all_kinds``: the one with every question kind).

    Returns the consultation and the private credentials (what the credential
    authority would print; the server only ever sees their public keys).
    """
    from beffroi.consult import actions, credentials

    spec_dict = spec_dict or example_spec_dict(cid, access=access, all_kinds=all_kinds)
    c = actions.create_consultation(org, spec_dict, actor=actor)
    private: list[Any] = []
    if access != "open":
        segs = {s["code"]: per_segment for s in spec_dict["segments"]} or None
        private, public = credentials.generate(None if segs else per_segment, segs, cid, BASE_URL)
        text = "".join(json.dumps(p.to_dict(), sort_keys=True) + "\n" for p in public)
        actions.import_credentials(c, text, actor=actor)
    if open_it:
        actions.open_consultation(c, actor=actor)
    return c, private


def signed_payload(
    c: Any, code: str, answers: dict[str, Any], rows: list[dict[str, Any]], seq: int
) -> dict[str, Any]:
    """What the browser POSTs for a credentialed ballot (ballot.js does the same)."""
    from beffroi.consult.ballot import make_ballot, sign
    from beffroi.consult.credentials import derive_seed, public_key_hex

    spec = c.get_spec()
    ballot = make_ballot(spec, answers, rows, public_key=public_key_hex(code, c.cid), seq=seq)
    return {"ballot": ballot, "signature": sign(ballot, derive_seed(code, c.cid))}


def unsigned_payload(
    c: Any, answers: dict[str, Any], rows: list[dict[str, Any]], seq: int, segment: str | None
) -> dict[str, Any]:
    from beffroi.consult.ballot import make_ballot

    spec = c.get_spec()
    return {
        "ballot": make_ballot(spec, answers, rows, public_key=None, seq=seq, segment=segment),
        "signature": None,
    }


def fill(c: Any, private: list[Any], n_ballots: int, *, seed: int = 0) -> int:
    """Submit about ``n_ballots`` ballots through the actions; returns how many
    entries were added.  Some keys answer twice (the later one replaces)."""
    from beffroi.consult import actions
    from beffroi.consult.examples import random_answers

    rng = random.Random(seed)
    spec = c.get_spec()
    segs = spec.segment_codes() or [None]
    added = 0
    seqs: dict[str, int] = {}
    batch: list[actions.Incoming] = []
    for i in range(n_ballots):
        answers, rows = random_answers(spec, rng)
        unsigned = spec.access == "open" or (spec.access == "mixed" and rng.random() < 0.25)
        if unsigned or not private:
            p = unsigned_payload(c, answers, rows, 10_000 + i, rng.choice(segs))
            net = f"net:{rng.randrange(40)}"
        else:
            cred = private[i % len(private)] if rng.random() > 0.1 else rng.choice(private)
            seqs[cred.code] = seqs.get(cred.code, 0) + rng.randint(1, 50)
            p = signed_payload(c, cred.code, answers, rows, seqs[cred.code])
            net = ""
        batch.append(actions.Incoming(p["ballot"], p["signature"], net=net))
        if len(batch) >= 100:
            added += sum(o.new for o in actions.submit_ballots(c.cid, batch))
            batch = []
    if batch:
        added += sum(o.new for o in actions.submit_ballots(c.cid, batch))
    return added


def prepare_signed_load(org: Any, cid: str, n: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """A credentialed consultation with ``n`` keys, opened; returns ``n`` request
    bodies signed ahead of time, one per key (for load tests and benchmarks)."""
    from nacl.signing import SigningKey

    from beffroi.consult import actions
    from beffroi.consult.ballot import make_ballot, sign
    from beffroi.consult.examples import random_answers

    spec_dict = example_spec_dict(cid, access="credentialed")
    spec_dict["segments"] = []
    c = actions.create_consultation(org, spec_dict, actor=None)
    rng = random.Random(seed)
    seeds = [rng.randbytes(32) for _ in range(n)]
    pks = [bytes(SigningKey(s).verify_key).hex() for s in seeds]
    text = "".join(json.dumps({"public_key": pk, "segment": None}) + "\n" for pk in pks)
    actions.import_credentials(c, text, actor=None)
    actions.open_consultation(c, actor=None)
    spec = c.get_spec()
    bodies = []
    for sd, pk in zip(seeds, pks, strict=True):
        answers, rows = random_answers(spec, rng)
        ballot = make_ballot(spec, answers, rows, public_key=pk, seq=rng.randint(1, 9))
        bodies.append({"ballot": ballot, "signature": sign(ballot, sd)})
    return bodies


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="where to write the bundle (zip)")
    parser.add_argument("--ballots", type=int, default=200, help="number of ballots (default 200)")
    parser.add_argument("--access", choices=("open", "credentialed", "mixed"), default="mixed")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    if args.ballots < 0:
        print("beffroi: --ballots must be zero or more", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="beffroi-example-") as tmp:
        # A throwaway instance: never the operator's database.
        os.environ["BEFFROI_DATA_DIR"] = tmp
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'example.sqlite3'}"
        os.environ.setdefault("BEFFROI_SECRET_KEY", "example-bundle-" + "x" * 40)
        from beffroi.commands import bootstrap

        bootstrap.setup_django()
        bootstrap.migrate()
        from beffroi.consult import actions, live, tasks
        from beffroi.consult.bundle import write_bundle
        from beffroi.consult.credentials import public_key_hex, reissue
        from beffroi.consult.verify import verify_bundle
        from beffroi.core import actions as core_actions

        org = core_actions.create_organisation("Exemple", "exemple")
        cid = "exemple-mesures"
        c, private = setup_consultation(
            org, cid=cid, access=args.access, per_segment=max(2, args.ballots // 6)
        )
        added = fill(c, private, args.ballots, seed=args.seed)
        if private:
            # The first code has voted: its reissue goes with the revocation.
            lost = private[0]
            lost_key = public_key_hex(lost.code, cid)
            _, new, _ = reissue(lost_key, lost.segment, "lettre perdue", cid, BASE_URL)
            actions.revoke_credential(
                c, lost_key, "lettre perdue (exemple)", actor=None, replacement=new.public_key
            )
        flags = tasks.live_audit(c)
        actions.close_consultation(c, actor=None)
        data = live.bundle(c)
        report = verify_bundle(data)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_bundle(args.out, data)
        print(
            f"{args.out}: {added} entries, {len(private)} credentials, {flags} flag(s); "
            f"verify: {'OK' if report.ok else 'FAILED'}"
        )
        if not report.ok:
            for line in report.lines():
                print(line, file=sys.stderr)
            return 1
    return 0
