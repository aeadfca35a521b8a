"""Time to name the columns of an abbreviated-heading export from its structure: 500
questions of 4 rows in 2 languages, 2,000 headings (every one cut), matched one by one
as ``load_limesurvey`` does. Prints the seconds."""

from __future__ import annotations

import time

from beffroi.integrity.lss import parse_heading_index


def structure(questions: int = 500, rows: int = 4) -> str:
    q, s, l10n = [], [], []
    qid = 0
    for i in range(questions):
        qid += 1
        parent = qid
        q.append(
            f"<row><qid>{parent}</qid><parent_qid>0</parent_qid><type>F</type>"
            f"<title>Q{i}</title></row>"
        )
        for lang in ("fr", "en"):
            l10n.append(
                f"<row><qid>{parent}</qid><question>Question numéro {i} sur la "
                f"cantine ({lang})</question><language>{lang}</language></row>"
            )
        for r in range(rows):
            qid += 1
            s.append(
                f"<row><qid>{qid}</qid><parent_qid>{parent}</parent_qid>"
                f"<title>SQ00{r}</title></row>"
            )
            l10n.append(
                f"<row><qid>{qid}</qid><question>Ligne {r} du tableau</question>"
                "<language>fr</language></row>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><document>'
        "<LimeSurveyDocType>Survey</LimeSurveyDocType>"
        f"<questions><rows>{''.join(q)}</rows></questions>"
        f"<subquestions><rows>{''.join(s)}</rows></subquestions>"
        f"<question_l10ns><rows>{''.join(l10n)}</rows></question_l10ns></document>"
    )


def main() -> None:
    text = structure()
    start = time.perf_counter()
    index = parse_heading_index(text, "bench.lss")
    built = time.perf_counter() - start
    # « Question numéro 17 sur la cantine (fr) » cut at 21: unique prefixes.
    headings = [
        f"Question numéro {i} .. [Ligne {r} du tableau]" for i in range(500) for r in range(4)
    ]
    start = time.perf_counter()
    named = sum(index.match(h)[0] is not None for h in headings)
    took = time.perf_counter() - start
    print(f"index: {built:.2f} s; {len(headings)} headings matched in {took:.2f} s ({named} named)")


if __name__ == "__main__":
    main()
