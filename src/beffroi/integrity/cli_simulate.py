"""`beffroi simulate consultation`: write a simulated LimeSurvey export and its truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from beffroi.integrity.simulate import ATTACKS, simulate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--attack", choices=ATTACKS, default="seedlike")
    parser.add_argument("--forms", type=int, default=1500, help="honest forms (default 1500)")
    parser.add_argument("--fakes", type=int, default=250, help="fake forms (default 250)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    if args.forms < 1 or args.fakes < 0:
        print("error: --forms must be ≥ 1 and --fakes ≥ 0", file=sys.stderr)
        return 2
    sim = simulate(args.out, attack=args.attack, forms=args.forms, seed=args.seed, fakes=args.fakes)
    print(f"{sim.n_forms} responses ({sim.n_fake} fake) -> {sim.export}, truth in {sim.truth}")
    return 0
