"""The journal is append-only and never purged: an invitee's e-mail address written
into it stays there for ever, even when the invitation was sent to a wrong address
and revoked. The invitation row already holds the address; the journal only needs
the invitation's id.

Found by the session 5 security audit; ``invite`` and ``revoke_invitation`` now
journal the invitation's id and role only."""

from __future__ import annotations

from beffroi.core import actions
from beffroi.core.models import JournalEntry

WRONG = "voisin.de.palier@example.net"


def test_no_invitee_address_in_the_journal(org, members):
    invitation, _token = actions.invite(org, WRONG, "volunteer", actor=members["coordinator"])
    actions.revoke_invitation(invitation, actor=members["coordinator"])
    stored = "\n".join(str(row) for row in JournalEntry.objects.values()).lower()
    assert WRONG not in stored
