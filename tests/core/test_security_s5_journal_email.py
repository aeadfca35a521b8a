"""The journal is append-only and never purged: an invitee's e-mail address written
into it stays there for ever, even when the invitation was sent to a wrong address
and revoked. The invitation row already holds the address; the journal only needs
the invitation's id.

Found by the session 5 security audit. The fix belongs to ``core/actions.py``
(``invite``, ``revoke_invitation``), which the audit does not own, so this test is
expected to fail until then; ``strict`` makes it fail loudly once fixed."""

from __future__ import annotations

import pytest

from beffroi.core import actions
from beffroi.core.models import JournalEntry

WRONG = "voisin.de.palier@example.net"


@pytest.mark.xfail(
    strict=True,
    reason="invitation e-mail addresses written to the never-purged journal; fix in "
    "core/actions.py, owned by the lead (session 5 audit)",
)
def test_no_invitee_address_in_the_journal(org, members):
    invitation, _token = actions.invite(org, WRONG, "volunteer", actor=members["coordinator"])
    actions.revoke_invitation(invitation, actor=members["coordinator"])
    stored = "\n".join(str(row) for row in JournalEntry.objects.values()).lower()
    assert WRONG not in stored
