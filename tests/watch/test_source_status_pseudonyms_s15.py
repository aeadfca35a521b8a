"""A source's status line and skip reason are stored with pseudonyms (review R14 finding
13): pydantic prints the input it could not read, which may be a DID or an AT-URI, and the
Sources page showed it as received."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


class _Commit(BaseModel):
    seq: int


def _error() -> str:
    with pytest.raises(ValidationError) as caught:
        _Commit(seq=DID)
    return str(caught.value)


@pytest.mark.parametrize("keep", [False, True])
def test_a_did_in_a_status_is_stored_as_a_pseudonym(db, members, keep) -> None:
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    error = _error()
    assert DID in error  # pydantic quotes the input: what the source would report
    org = core_actions.create_organisation("VOST K3", "vostk3")
    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    activation.keep_handles = keep
    activation.save(update_fields=["keep_handles"])
    source = Source.objects.create(activation=activation, kind="bluesky", name="b", config={})
    actions.record_source_status(
        source.pk,
        state="error",
        message=f"Trame Jetstream illisible : {error}.",
        at=datetime(2024, 3, 1, 12, tzinfo=UTC),
        skipped=1,
        last_skip_reason=f"Post illisible : {error}.",
    )
    source.refresh_from_db()
    for stored in (source.status_message, source.last_skip_reason):
        assert stored.startswith(("Trame Jetstream illisible", "Post illisible"))
        # An activation that keeps handles keeps them here too (DESIGN rule 7).
        assert (DID in stored) is keep
