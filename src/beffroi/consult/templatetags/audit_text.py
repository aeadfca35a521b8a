"""``{{ flag.evidence|evidence }}``: a flag's evidence, written in French by the pure
audit and published as written, re-said in the reader's language on the pages that
are not rendered by a view of ours (the public board)."""

from __future__ import annotations

from django import template

from beffroi.consult.views_i18n import evidence as _evidence

register = template.Library()


@register.filter
def evidence(value: object) -> str:
    return _evidence(str(value or ""))
