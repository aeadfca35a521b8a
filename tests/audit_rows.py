"""An audit's database row without its upload: for pages and limits that read only the
row (its state, progress, error, summary)."""

from __future__ import annotations

from beffroi.audits.models import Audit


def audit_row(organisation, created_by, **fields) -> Audit:
    """An audit of a one-byte LimeSurvey export « x.csv »; ``fields`` override or add."""
    return Audit.objects.create(
        **{
            "organisation": organisation,
            "created_by": created_by,
            "original_name": "x.csv",
            "sha256": "0" * 64,
            "size": 1,
            "fmt": "limesurvey",
            **fields,
        }
    )
