"""`beffroi audit`: audit a survey export for automated or coordinated responses.

Exit codes: 0 done, 2 bad input (message names the line or column; no output
file is written or left half-written).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import pathlib
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from beffroi.integrity.errors import InputError

PASSWORD_ENV = "BEFFROI_LIMESURVEY_PASSWORD"  # noqa: S105 (a variable name, not a secret)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=pathlib.Path, help="export file (CSV)")
    parser.add_argument("--format", choices=("limesurvey", "csv"), default="limesurvey")
    parser.add_argument("--mapping", type=pathlib.Path, help="TOML mapping for --format csv")
    parser.add_argument("--structure", type=pathlib.Path, help="LimeSurvey .lss (labels)")
    parser.add_argument("--electorate", help="declared electorate per segment: A1=212,A2=168")
    parser.add_argument(
        "--claimed-participation", type=float, help="participation rate claimed (percent)"
    )
    parser.add_argument(
        "--disable", action="append", default=[], metavar="DETECTOR", help="switch a detector off"
    )
    parser.add_argument("--json", type=pathlib.Path, help="write the JSON result here")
    parser.add_argument("--report", type=pathlib.Path, help="write the HTML report here")
    parser.add_argument("--pdf", type=pathlib.Path, help="write the PDF report here")
    parser.add_argument(
        "--limesurvey-url", help="RemoteControl URL (…/index.php/admin/remotecontrol)"
    )
    parser.add_argument("--user", help="LimeSurvey user (password from $" + PASSWORD_ENV + ")")
    parser.add_argument("--survey", type=int, help="LimeSurvey survey id")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[float, str], None]]:
    if not enabled:
        yield lambda f, m: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]audit[/bold]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f} %"),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("", total=1.0)

        def update(frac: float, msg: str) -> None:
            bar.update(task, completed=min(max(frac, 0.0), 1.0), description=msg)

        yield update
        bar.update(task, completed=1.0)


def _atomic_write(target: pathlib.Path, writer: Callable[[pathlib.Path], None]) -> pathlib.Path:
    """Write to a temporary file next to ``target``; the caller renames it at the end."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    path = pathlib.Path(tmp)
    # mkstemp creates 0600 files; outputs are ordinary documents.
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)
    try:
        writer(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _fail(msg: str) -> int:
    print(f"erreur : {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from beffroi.integrity.audit import audit_dataset, parse_electorate, run_audit

    try:
        electorate = parse_electorate(args.electorate) if args.electorate else None
    except InputError as exc:
        return _fail(str(exc))
    remote = args.limesurvey_url is not None
    if remote == (args.file is not None):
        return _fail("donnez soit un FICHIER, soit --limesurvey-url avec --user et --survey")
    if remote and (not args.user or args.survey is None):
        return _fail("--limesurvey-url demande aussi --user et --survey")
    if args.format == "csv" and args.mapping is None:
        return _fail("--format csv demande --mapping FICHIER.toml")
    outputs = [p for p in (args.json, args.report, args.pdf) if p is not None]
    if len({p.resolve() for p in outputs}) != len(outputs):
        return _fail("--json, --report et --pdf doivent être des fichiers différents")
    temps: list[tuple[pathlib.Path, pathlib.Path]] = []
    try:
        with _progress(not args.no_progress and sys.stderr.isatty()) as progress:
            if remote:
                from beffroi.integrity.load import load_limesurvey
                from beffroi.integrity.remote import fetch_responses_csv

                password = os.environ.get(PASSWORD_ENV) or getpass.getpass(
                    f"Mot de passe LimeSurvey pour {args.user} : "
                )
                progress(0.0, "téléchargement des réponses")
                text = fetch_responses_csv(args.limesurvey_url, args.user, password, args.survey)
                ds = load_limesurvey(text=text, electorate=electorate, structure=args.structure)
                ds.source = f"{args.limesurvey_url} (enquête {args.survey})"
                result = audit_dataset(
                    ds,
                    electorate=electorate,
                    claimed_participation=args.claimed_participation,
                    disabled=args.disable,
                    progress=progress,
                )
            else:
                result = run_audit(
                    args.file,
                    fmt=args.format,
                    mapping=args.mapping,
                    electorate=electorate,
                    progress=progress,
                    structure=args.structure,
                    claimed_participation=args.claimed_participation,
                    disabled=args.disable,
                )
            if args.json:

                def write_json(p: pathlib.Path) -> None:
                    with p.open("w", encoding="utf-8") as fh:
                        result.write_json(fh)

                temps.append((_atomic_write(args.json, write_json), args.json))
            if args.report or args.pdf:
                from beffroi.integrity.report import render_html, render_pdf

                progress(0.96, "rapport")
                page = render_html(result)
                if args.report:

                    def write_html(p: pathlib.Path) -> None:
                        p.write_text(page, "utf-8")

                    temps.append((_atomic_write(args.report, write_html), args.report))
                if args.pdf:
                    temps.append(
                        (_atomic_write(args.pdf, lambda p: render_pdf(result, p)), args.pdf)
                    )
            progress(1.0, "terminé")
    except InputError as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        return _fail(str(exc))
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    # Everything rendered: only now do the outputs appear, all together.
    for tmp, final in temps:
        os.replace(tmp, final)
    _print_summary(
        result.summary, result.robustness, result.checks_skipped, result.bursts_not_flagged
    )
    return 0


def _span(seconds: float) -> str:
    """« 40 s », « 15 min », « 2,5 h » (as the report writes a duration)."""
    from beffroi.integrity.report import FRENCH, _span

    return _span(FRENCH, seconds)


def _rate(per_hour: float) -> str:
    """As the report writes a rate: a decimal below 10 (« 0,7 », not « 1 »)."""
    return f"{per_hour:.1f}".replace(".", ",") if per_hour < 10 else f"{per_hour:.0f}"


def _print_summary(
    summary: dict[str, Any],
    robustness: dict[str, Any],
    skipped: list[dict[str, str]],
    passed: Sequence[dict[str, Any]] = (),
) -> None:
    print(summary["verdict"])
    # The bursts examined and let pass, with what let each pass (as in the report).
    if passed:
        print(
            f" - rafales trouvées par la détection : {summary.get('bursts_examined', 0)}, dont "
            f"{summary.get('rafales_not_flagged', 0)} non signalées ; pointes d'au moins 50 "
            "réponses en 10 s hors de ces rafales, laissées passer (salves) : "
            f"{summary.get('salves_not_flagged', 0)}."
        )
    for e in passed:
        usual = e["usual_per_hour"]
        around = "" if usual is None else f", contre environ {_rate(usual)} par heure autour"
        # No p for a rush at the opening: the survey had no rate to judge it by.
        if e["p"] is None:
            p = "inconnu, pas encore de rythme"
        else:
            p = "= " + f"{e['p']:.2g}".replace(".", ",") if e["p"] > 0 else "< 1e-300"
        # The rate beside p is the peak's, the window p is about (review R10).
        peak = e.get("peak") or {"size": e["size"], "seconds": e["seconds"]}
        rate = _rate(peak.get("per_hour", e["per_hour"]))
        print(
            f" - rafale non signalée du {e['start']} au {e['end']} : {e['size']} réponses, "
            f"pointe de {peak['size']} en {_span(peak['seconds'])} ({rate} par heure{around} ; "
            f"p {p}) : {e['reason']}"
        )
    rest = int(summary.get("bursts_not_flagged", len(passed))) - len(passed)
    if rest == 1:
        print(" - 1 autre rafale examinée et non signalée, plus petite, n'est pas détaillée.")
    elif rest > 1:
        print(
            f" - {rest} autres rafales examinées et non signalées, plus petites, ne sont pas "
            "détaillées."
        )
    for q in robustness.get("questions", {}).get("beffroi", []):
        print(" -", q["statement"])
    for st in robustness.get("participation", {}).get("statements", []):
        print(" -", st)
    # As in the report: a check that could not run is said, never counted as passed.
    for c in skipped:
        print(f" - non vérifié : {c['check']} ({c['reason']})")
