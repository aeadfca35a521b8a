"""`beffroi watch classify FILE --format crisislex [--learn-first K] --json OUT`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .crisislex import CrisisLexFormatError, read_crisislex
from .labels import informative_target, source_target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="a labelled CrisisLexT26 CSV file")
    parser.add_argument("--format", choices=["crisislex"], default="crisislex")
    parser.add_argument(
        "--learn-first",
        type=int,
        default=0,
        metavar="K",
        help="teach the labels of the first K rows (file order) and predict the others",
    )
    parser.add_argument("--json", dest="json_out", type=Path, required=True, metavar="OUT")


def run(args: argparse.Namespace) -> int:
    if args.learn_first < 0:
        print("--learn-first must be 0 or more", file=sys.stderr)
        return 2
    try:
        posts = read_crisislex(args.file)
    except CrisisLexFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .model import load_default
    from .online import OnlineLearner

    learner = OnlineLearner(load_default())
    teach, rest = posts[: args.learn_first], posts[args.learn_first :]
    for post in teach:
        # A decision teaches only what the row really says ("Not labeled" teaches nothing).
        info_type = (
            post.info_type if post.info_type in learner.base.heads["info_type"].classes else None
        )
        learner.learn(
            post.text,
            informative=informative_target(post.informativeness),
            info_type=info_type,
            source=source_target(post.source),
        )
    predictions = learner.predict([p.text for p in rest])
    doc = {
        "format": "beffroi-classify-json/1",
        "model": learner.base.fingerprint(),
        "learned": len(teach),
        "items": [
            {
                "id": post.id,
                "informative": pred.informative,
                "info_type": pred.info_type,
                "source": pred.source,
            }
            for post, pred in zip(rest, predictions, strict=True)
        ],
    }
    return _write_json(args.json_out, doc)


def _write_json(path: Path, doc: dict[str, object]) -> int:
    # Written beside the target then renamed, so a failure never leaves half a file.
    target = path if str(path) != "-" else None
    if target is None:
        try:
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader (e.g. `| head`) went away: not an error of ours.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), suffix=".tmp")
    except OSError as exc:
        print(f"error: cannot write {target} ({exc.strerror})", file=sys.stderr)
        return 2
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        print(f"error: cannot write {target} ({exc.strerror})", file=sys.stderr)
        return 2
    print(f"{len(doc['items'])} posts classified → {target}", file=sys.stderr)  # type: ignore[arg-type]
    return 0
