"""The live integrity audit of a consultation's ballot box.

The board's unverified (unsigned) entries, with their private pseudonyms, are
handed to the pure audit (``beffroi.integrity.audit.audit_dataset``) as an
in-memory table; the responses it flags become ``flag`` events (action
``record_flags``) that the frozen ``integrity_flag`` rule reads.  Signed
ballots are not audited: their credential already proves one holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.cache import cache
from django_tasks import task

from beffroi.consult import actions
from beffroi.consult.forms import AUDIT_FLAG
from beffroi.consult.models import BoardEntry, Consultation, Status
from beffroi.integrity.audit import AuditResult, audit_dataset
from beffroi.integrity.errors import InputError
from beffroi.integrity.load import from_table

# Below this many unverified answers the statistics say nothing useful.
MIN_RESPONSES = 20
# The live audit runs at most once per this many seconds per consultation.
AUDIT_EVERY = 60


def _value(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, list):
        return ",".join(sorted(str(x) for x in v)) or None
    return str(v)


def ballot_table(c: Consultation) -> list[dict[str, Any]]:
    """Normalised rows (see beffroi.integrity.load) for the unsigned entries."""
    spec = c.get_spec()
    global_qs = [q.code for q in spec.questions if not q.per_row and q.kind != "text"]
    row_qs = [q.code for q in spec.questions if q.per_row and q.kind != "text"]
    n_rows = len(spec.rows.labels) if spec.rows else 0
    out = []
    for e in BoardEntry.objects.filter(consultation=c, public_key=None).order_by("n").iterator():
        at = datetime.fromisoformat(e.received_at.replace("Z", "+00:00")).timestamp()
        row: dict[str, Any] = {
            "id": e.hash,
            "submitted": at,
            "net": e.net or None,
            "ip": e.addr or None,
            "ua": e.ua or None,
            "segment": e.ballot.get("segment"),
        }
        answers = e.ballot.get("answers", {})
        for code in global_qs:
            row[code] = _value(answers.get(code))
        rows = e.ballot.get("rows", [])
        for i in range(n_rows):
            r = rows[i] if i < len(rows) and isinstance(rows[i], dict) else {}
            for code in row_qs:
                row[f"{code}[R{i + 1}]"] = _value(r.get(code))
        out.append(row)
    return out


def run_audit(c: Consultation) -> AuditResult | None:
    table = ballot_table(c)
    if len(table) < MIN_RESPONSES:
        return None
    electorate = {s.code: s.electorate for s in c.get_spec().segments} or None
    try:
        return audit_dataset(from_table(table, segment="segment"), electorate=electorate)
    except InputError:
        return None


def live_audit(c: Consultation, *, actor: Any = None) -> int:
    """Audit the box and record its flags; returns the number of new flags."""
    if c.status == Status.DRAFT:
        return 0
    result = run_audit(c)
    if result is None:
        return 0
    flags = []
    for i, rid in enumerate(result.ids):
        if bool(result.flagged[i]):
            evidence = "; ".join(result.reasons.get(i, [])) or (
                f"score d'automatisation {float(result.score[i]):.2f}"
            )
            flags.append((rid, AUDIT_FLAG, evidence[:500]))
    return actions.record_flags(c, flags, actor=actor)


def audit_summary(c: Consultation) -> dict[str, Any]:
    table_size = BoardEntry.objects.filter(consultation=c, public_key=None).count()
    result = run_audit(c) if c.status != Status.DRAFT else None
    return {
        "unverified": table_size,
        "minimum": MIN_RESPONSES,
        "summary": result.summary if result else None,
        "clusters": [cl for cl in result.clusters if cl.get("flagged")] if result else [],
    }


@task()
def live_audit_task(cid: str) -> int:
    """Background job (``beffroi worker``): audit the box and record the flags."""
    c = Consultation.objects.filter(cid=cid).first()
    if c is None or c.status != Status.OPEN:
        return 0
    return live_audit(c)


def schedule_live_audit(cid: str) -> bool:
    """Queue the live audit after unverified ballots were committed, at most once
    every AUDIT_EVERY seconds per consultation; returns whether it was queued."""
    if not cache.add(f"consult-audit:{cid}", 1, timeout=AUDIT_EVERY):
        return False
    live_audit_task.enqueue(cid)
    return True
