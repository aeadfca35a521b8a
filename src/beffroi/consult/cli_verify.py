"""`beffroi verify bundle.zip|URL`: the scrutineer's recount, no server needed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

MAX_BYTES = 2 * 1024**3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", help="path of a bundle zip, or an http(s) URL to fetch it")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes, each checking one part of the board (default: up to 2)",
    )
    parser.add_argument(
        "--keys-fingerprint",
        metavar="SHA256",
        help="the key-list fingerprint the credential authority published: the bundle's "
        "imported keys must have it",
    )
    parser.add_argument(
        "--journal-head",
        metavar="SHA256",
        action="append",
        default=[],
        help="a head of the consultation's journal noted earlier (its public board shows "
        "it, and verify prints it): the bundle's journal must still contain that event, so "
        "nothing up to it was rewritten (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _fetch(url: str) -> bytes:
    import httpx

    with httpx.stream("GET", url, follow_redirects=True, timeout=60.0) as resp:
        resp.raise_for_status()
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if size > MAX_BYTES:
                raise ValueError("bundle larger than 2 GiB")
            chunks.append(chunk)
    return b"".join(chunks)


def _plural(n: int, one: str, several: str) -> str:
    """French agreement: 0 and 1 take the singular."""
    return one if n <= 1 else several


def _count(n: int, one: str, several: str) -> str:
    return f"{n} {_plural(n, one, several)}"


_CLASSES = (
    ("all", "toutes les réponses comptées"),
    ("verified", "vérifiées (avec code)"),
    ("unverified", "non vérifiées (sans code)"),
)


def _tallied(q: Any, result: dict[str, Any]) -> str:
    counts = result.get("counts")
    answered = result.get("answered", 0)
    if not isinstance(counts, dict):  # free text: only how many answered
        return _count(answered, "réponse", "réponses")
    if q.kind == "scale":
        # "3 (4)": four answered 3; a bare "3 4" would not say which is the count.
        values = range(q.scale_min, q.scale_max + 1)
        parts = [f"{v} ({counts.get(str(v), 0)})" for v in values]
        total = sum(counts.get(str(v), 0) for v in values)
        if total:
            mean = sum(v * counts.get(str(v), 0) for v in values) / total
            parts.append(f"moyenne {mean:.2f}".replace(".", ","))
        return ", ".join(parts)
    labels = {o.code: o.label for o in q.options}
    return ", ".join(f"{labels.get(code, code)} {counts.get(code, 0)}" for code in labels)


def recount_lines(spec: Any, results: Any) -> list[str]:
    """The recount, question by question (per row for the repeated ones), as the
    scrutineer compares it with the announced result; French like the rest."""
    if spec is None or not isinstance(results, dict):
        return []
    classes = _CLASSES if spec.access == "mixed" else _CLASSES[:1]
    lines: list[str] = []
    for cls, name in classes:
        res = results.get(cls) or {}
        lines.append(f"Recomptage, {name} ({res.get('ballots', 0)}) :")
        questions = res.get("questions") or {}
        rows = res.get("rows") or []
        for q in spec.questions:
            lines.append(f"  {q.label} — {_tallied(q, questions.get(q.code) or {})}")
            if q.per_row and spec.rows:
                for label, row in zip(spec.rows.labels, rows, strict=False):
                    lines.append(f"    {label} — {_tallied(q, row.get(q.code) or {})}")
    return lines


# How many entries each rule set aside, in the tally's order of rules.
_SET_ASIDE = (
    ("revoked_key", "d'un code révoqué", "d'un code révoqué"),
    (
        "one_ballot_per_key",
        "remplacée par une réponse ultérieure du même code",
        "remplacées par une réponse ultérieure du même code",
    ),
    ("integrity_flag", "signalée par l'audit d'intégrité", "signalées par l'audit d'intégrité"),
    ("exclude_entries", "écartée par décision motivée", "écartées par décision motivée"),
)


def summary_lines(stats: dict[str, Any]) -> list[str]:
    """What the verdict line does not say: the entries set aside and why, the
    revoked codes that had voted, the reissued codes, and when keys were imported."""
    lines: list[str] = []
    by_rule = stats.get("exclusions_by_rule") or {}
    aside = sum(n for n in by_rule.values() if isinstance(n, int))
    if aside:
        known = {code for code, _, _ in _SET_ASIDE}
        parts = [
            f"{by_rule[code]} {_plural(by_rule[code], one, several)}"
            for code, one, several in _SET_ASIDE
            if by_rule.get(code)
        ]
        parts += [f"{n} ({code})" for code, n in sorted(by_rule.items()) if code not in known]
        lines.append(
            f"{_count(aside, 'entrée écartée', 'entrées écartées')} du compte : "
            + ", ".join(parts)
            + "."
        )
    revoked = stats.get("revoked", 0)
    if revoked:
        used = stats.get("revoked_used", 0)
        reissued = stats.get("reissued", 0)
        their = "ses réponses ne comptent plus" if used <= 1 else "leurs réponses ne comptent plus"
        lines.append(
            f"{_count(revoked, 'code révoqué', 'codes révoqués')}, dont {used} après avoir "
            f"servi ({their}) ; {_count(reissued, 'code réémis', 'codes réémis')} à leur place."
        )
    imports = stats.get("imports") or []
    if imports:
        said = []
        for imp in imports:
            count = imp.get("count")
            n = count if isinstance(count, int) else 0
            when = "après l'ouverture" if imp.get("late") else "à l'ouverture"
            said.append(f"{_count(n, 'clé', 'clés')} le {imp.get('at')} ({when})")
        lines.append("Clés importées : " + " ; ".join(said) + ".")
    if len(imports) > 1:
        # The authority prints a cumulative figure after each batch (--previous): the
        # journal keeps one per import, which only such an outside figure can vouch for
        # (a late list merged into the opening's leaves no event with the first one).
        figures = " ; ".join(
            f"{i}) {imp.get('keys_fingerprint')}" for i, imp in enumerate(imports, start=1)
        )
        lines.append(
            "Empreinte des clés importées, codes réémis exclus, après chaque import (à "
            "comparer avec celle que l'autorité des codes a publiée pour chacun de ses "
            f"lots) : {figures}."
        )
    return lines


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from beffroi.consult.bundle import BUNDLE_FORMAT
    from beffroi.consult.verify import verify_bundle

    out = Console(soft_wrap=True)
    err = Console(stderr=True)
    source: str = args.bundle
    try:
        if source.startswith(("http://", "https://")):
            import httpx

            try:
                data = _fetch(source)
            except (httpx.HTTPError, ValueError) as exc:
                err.print(f"[red]Impossible de télécharger {source} : {exc}[/red]")
                return 1
        else:
            data = Path(source).read_bytes()
    except OSError as exc:
        err.print(f"[red]Impossible de lire {source} : {exc.strerror}[/red]")
        return 1

    show = not args.quiet and sys.stderr.isatty()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=True,
    ) as bar:
        task = bar.add_task("Vérification des bulletins", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = verify_bundle(data, progress=progress, workers=args.workers)

    stats = report.stats
    expected = (args.keys_fingerprint or "").strip().lower()
    if expected and stats.get("keys_fingerprint") != expected:
        reissued = stats.get("reissued", 0)
        if reissued and stats.get("imported_fingerprint") == expected:
            # The authority's first figure: it cannot vouch for keys made later.  Taking
            # it would let the organiser pass a key of its own off as a reissued letter.
            report.fail(
                f"credentials.jsonl : {expected} est l'empreinte des clés importées, sans "
                f"{_count(reissued, 'code réémis', 'codes réémis')} depuis ; comparez avec "
                "l'empreinte que l'autorité des codes a republiée après ses réémissions "
                f"(toutes les clés : {stats.get('keys_fingerprint')}). Un code réémis que "
                "l'autorité n'a pas fabriqué répondrait à la place d'un parent."
            )
        else:
            report.fail(
                "credentials.jsonl : l'empreinte de la liste des clés "
                f"({stats.get('keys_fingerprint') or 'aucune'}) n'est pas celle publiée par "
                f"l'autorité des codes ({expected})"
            )
    seen = journal_head_lines(report, stats, args.journal_head)
    if report.ok:
        counted = stats.get("counted", {})
        verified, unverified = counted.get("verified", 0), counted.get("unverified", 0)
        out.print(
            f"[green]OK[/green] : {_count(stats.get('entries', 0), 'entrée', 'entrées')} sur "
            f"le tableau, {_count(counted.get('all', 0), 'bulletin compté', 'bulletins comptés')} "
            f"({verified} {_plural(verified, 'vérifié', 'vérifiés')}, {unverified} non "
            f"{_plural(unverified, 'vérifié', 'vérifiés')}), "
            f"{_count(stats.get('revoked', 0), 'code révoqué', 'codes révoqués')}."
        )
        for line in summary_lines(stats):
            out.print(line, highlight=False, markup=False)
        out.print(f"Empreinte des questions et règles : {stats.get('spec_hash')}")
        out.print(f"Tête de la chaîne : {stats.get('board_head')}")
        out.print(
            format_line(stats.get("bundle_format"), stats.get("format_from")),
            highlight=False,
            markup=False,
        )
        out.print(journal_line(stats), highlight=False, markup=False)
        for line in seen:
            out.print(line, highlight=False, markup=False)
        fingerprint = stats.get("keys_fingerprint")
        covers = (
            " (toutes les clés, codes réémis compris : l'autorité la republie après chaque "
            "réémission)"
            if stats.get("reissued")
            else ""
        )
        if fingerprint and expected:
            out.print(
                f"Empreinte de la liste des clés{covers} : {fingerprint}, "
                "celle publiée par l'autorité des codes.",
                highlight=False,
            )
        elif fingerprint:
            # Without the authority's own figure, a key swapped for a code nobody used is
            # invisible to every other check: "everything matches" must not read as complete.
            out.print(
                f"Empreinte de la liste des clés{covers} : {fingerprint}, "
                "[yellow]non comparée[/yellow] "
                "à celle publiée par l'autorité des codes. Sans cette comparaison, "
                "l'organisateur aurait pu remplacer la clé d'un code jamais utilisé : "
                "relancez avec --keys-fingerprint EMPREINTE_PUBLIÉE.",
                highlight=False,
            )
        out.print("Signatures, clés, chaînage, règles et résultats : tout concorde.")
        for line in report.warnings:
            out.print(f"[yellow]ATTENTION[/yellow] : {escape(line)}", highlight=False)
        for line in recount_lines(stats.get("spec"), stats.get("recount")):
            out.print(line, highlight=False, markup=False)
        return 0
    fmt = stats.get("bundle_format")
    if isinstance(fmt, int) and fmt > BUNDLE_FORMAT:
        # Nothing was checked: not an anomaly of the bundle, a verifier too old for it.
        out.print("[red]VÉRIFICATION IMPOSSIBLE[/red] :", highlight=False)
        for line in report.lines():
            out.print(f" - {line}", highlight=False, markup=False)
        return 1
    failures = len(report.lines())
    out.print(f"[red]ÉCHEC[/red] : {_count(failures, 'anomalie', 'anomalies')} :", highlight=False)
    for line in report.lines():
        out.print(f" - {line}", highlight=False, markup=False)
    for line in late_flag_lines(report.notes, stats):
        out.print(line, highlight=False, markup=False)
    for line in report.warnings:
        out.print(f"[yellow]ATTENTION[/yellow] : {escape(line)}", highlight=False)
    return 1


def format_line(fmt: Any, source: Any = None) -> str:
    """The bundle format, said on success: format 1 is the one without a number; a
    format read from the journal alone (a spec opened before the stamp) says so, since
    a rebuilt journal could have chosen it among the older ones."""
    if fmt == 1:
        said = "Format du paquet : 1 (sans numéro : écrit avant que le format soit inscrit)"
    else:
        said = f"Format du paquet : {fmt}"
    if source != "journal":
        return said + "."
    return (
        said + ", lu dans le journal seul : les questions et règles, gelées avant que "
        "l'ouverture y inscrive le format, ne le portent pas. Le format 1 et le format 2 ne "
        "diffèrent que par l'explication d'un signalement inscrit après la clôture ; le "
        "numéro est dans l'événement « opened », dont l'empreinte doit être la même que dans "
        "un dossier téléchargé plus tôt (--journal-head)."
    )


def journal_line(stats: dict[str, Any]) -> str:
    """The journal's head, to note down as the board's: the next bundle must contain it."""
    hashes = stats.get("journal_hashes") or []
    return (
        f"Tête du journal de la consultation : {stats.get('journal_head')} "
        f"({_count(len(hashes), 'événement', 'événements')}) ; un dossier ultérieur doit la "
        "contenir (beffroi verify --journal-head)."
    )


def journal_head_lines(report: Any, stats: dict[str, Any], heads: list[str]) -> list[str]:
    """Each journal head noted earlier must be an event of this journal: its hash
    chains every event before it, so what was seen then (the format number, flags,
    decisions, revocations) was not rewritten.  A head missing is a failure."""
    hashes = stats.get("journal_hashes")
    if not heads or not isinstance(hashes, list):
        return []
    lines = []
    for head in heads:
        wanted = head.strip().lower()
        if wanted in hashes:
            n = hashes.index(wanted) + 1
            lines.append(
                f"Tête du journal relevée plus tôt ({wanted[:12]}…) : événement {n} de ce "
                f"journal ; les {n} premiers événements sont ceux d'alors."
                if n > 1
                else f"Tête du journal relevée plus tôt ({wanted[:12]}…) : événement 1 de ce "
                "journal (l'ouverture), inchangé."
            )
        else:
            report.fail(
                f"journal.jsonl : aucun événement n'a l'empreinte {wanted} relevée plus tôt : "
                "le journal a été réécrit avant ce point, ou ce n'est pas la même consultation"
            )
    return lines


def late_flag_lines(notes: list[str], stats: dict[str, Any]) -> list[str]:
    """Under the failures: what the late flags may come from and, when they were the
    only anomaly, the recount with them and without them."""
    lines = list(notes)
    without = stats.get("without_late_flags")
    if not isinstance(without, dict) or "recount" not in stats:
        return lines
    spec = stats.get("spec")
    with_all = (stats.get("counted") or {}).get("all", 0)
    early = (without.get("counted") or {}).get("all", 0)
    lines.append(
        f"Avec les signalements inscrits après la clôture : "
        f"{_count(with_all, 'bulletin compté', 'bulletins comptés')} ; sans eux : {early}."
    )
    lines.append("Avec ces signalements (ce que results.json doit reproduire) :")
    lines += recount_lines(spec, stats["recount"])
    lines.append("Sans ces signalements :")
    lines += recount_lines(spec, without.get("results"))
    return lines
