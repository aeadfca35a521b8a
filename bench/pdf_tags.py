"""Cost of tagging (PDF/UA-1) the PDFs Beffroi writes: each one laid out plain and tagged.

    .venv/bin/python bench/pdf_tags.py [--lines 100] [--letters 50] [--repeat 3]

The same HTML as the app's (the main courante snapshot's template, the audit report of
a simulated 1,500-form export, the credential letters) is written by WeasyPrint without
options and with ``pdf_variant="pdf/ua-1"`` (structure tree, language, title, XMP),
alternately, after one warm-up of each; the best of ``--repeat`` runs is printed, in CPU
seconds (wall time depends on the machine's load), with the file sizes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testing_settings")


def _pages() -> dict[str, Callable[[int], str]]:
    import django

    django.setup()
    from django.template.loader import render_to_string
    from watch_exports import _entries  # the export benchmark's main courante

    from beffroi.consult.credentials import generate, letters_html
    from beffroi.integrity.audit import run_audit
    from beffroi.integrity.report import render_html
    from beffroi.integrity.simulate import simulate
    from beffroi.watch import exports

    tmp = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    sim = simulate(tmp, forms=1500, seed=3)
    report = render_html(run_audit(sim.export, structure=tmp / "survey.lss"))

    def courante(n: int) -> str:
        data = exports.rows(_entries(n))
        context = {"title": "bench", "rows": data, "columns": exports.COLUMNS}
        return render_to_string("watch/courante_pdf.html", context)

    def letters(n: int) -> str:
        private, _public = generate(n, None, "bench", "https://example.org")
        return letters_html(private, "Consultation de test")

    return {"courante": courante, "report": lambda _n: report, "letters": letters}


def _cpu(fn: Callable[[], bytes]) -> tuple[float, int]:
    start = time.process_time()
    out = fn()
    return time.process_time() - start, len(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100, help="main courante lines")
    parser.add_argument("--letters", type=int, default=50, help="credential letters")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from weasyprint import HTML

    from beffroi.pdf import VARIANT

    sizes = {"courante": args.lines, "report": 1, "letters": args.letters}
    print(
        f"{'PDF':<22} {'plain CPU s':>11} {'tagged CPU s':>12} {'extra':>7} {'plain kB':>9}"
        f" {'tagged kB':>9}"
    )
    for name, make in _pages().items():
        page = make(sizes[name])
        plain = lambda page=page: HTML(string=page).write_pdf()  # noqa: E731
        tagged = lambda page=page: HTML(string=page).write_pdf(pdf_variant=VARIANT)  # noqa: E731
        plain(), tagged()
        runs: dict[str, list[tuple[float, int]]] = {"plain": [], "tagged": []}
        for _ in range(args.repeat):
            runs["plain"].append(_cpu(plain))
            runs["tagged"].append(_cpu(tagged))
        (p, p_size), (t, t_size) = min(runs["plain"]), min(runs["tagged"])
        label = {
            "courante": f"main courante, {args.lines} l.",
            "report": "audit report",
            "letters": f"letters, {args.letters}",
        }[name]
        print(
            f"{label:<22} {p:>11.3f} {t:>12.3f} {(t / p - 1):>+7.0%} {p_size / 1e3:>9.0f}"
            f" {t_size / 1e3:>9.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
