"""`beffroi credentials generate`: run by the credential authority, offline.

Writes into --out:
  lettres.pdf        one letter per page (private: give each to its holder)
  codes.csv          the same for mail merge (private)
  cles-publiques.jsonl  the public keys and their segment: the ONLY file the
                     organiser receives
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _segments(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, part in enumerate(text.split(","), start=1):
        name, sep, count = part.strip().partition("=")
        if not sep or not name or not count.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"segment {i} ({part!r}) : forme CODE=NOMBRE attendue, ex. A1=212"
            )
        if name in out:
            raise argparse.ArgumentTypeError(f"segment {name!r} en double")
        out[name] = int(count)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, help="number of credentials (without segments)")
    parser.add_argument(
        "--segments", type=_segments, help="credentials per segment, e.g. A1=212,A2=148"
    )
    parser.add_argument("--consultation-id", required=True, help="the consultation's id")
    parser.add_argument("--base-url", required=True, help="public URL of the Beffroi site")
    parser.add_argument("--title", default="Consultation", help="title printed on the letters")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF letters")


def run(args: argparse.Namespace) -> int:
    import sys

    from beffroi.consult.credentials import generate, write_csv, write_pdf, write_public_jsonl
    from beffroi.consult.spec import CODE_RE

    if args.count is None and not args.segments:
        print("error: give --count or --segments", file=sys.stderr)
        return 2
    if not CODE_RE.match(args.consultation_id):
        print(
            f"error: --consultation-id {args.consultation_id!r} is not a valid id", file=sys.stderr
        )
        return 2
    if not args.base_url.startswith(("https://", "http://")):
        print("error: --base-url must start with https://", file=sys.stderr)
        return 2
    try:
        private, public = generate(args.count, args.segments, args.consultation_id, args.base_url)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_public_jsonl(public, out / "cles-publiques.jsonl")
    write_csv(private, out / "codes.csv")
    if not args.no_pdf:
        write_pdf(private, out / "lettres.pdf", args.title)
    print(
        f"{len(private)} code(s) écrit(s) dans {out}/ : lettres.pdf et codes.csv sont "
        "PRIVÉS ; ne transmettez à l'organisateur que cles-publiques.jsonl."
    )
    return 0
