"""Set-ups shared by the watch room's tests."""

from __future__ import annotations

import pytest
from django.utils import timezone


@pytest.fixture
def night(org, members):
    """An activation after a long night: 250 main courante lines, one a minute."""
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Nuit longue", event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    now = timezone.now()
    # 250 lines, one a minute; every fifth one is internal (not sent to partners).
    LogEntry.objects.bulk_create(
        LogEntry(
            activation=activation,
            number=n,
            at=now - timezone.timedelta(minutes=250 - n),
            channel="telephone",
            category="routes" if n % 2 else "degats",
            text=f"Ligne numéro {n:03d}" + (" interne" if n % 5 == 0 else ""),
            for_partners=n % 5 != 0,
        )
        for n in range(1, 251)
    )
    return activation
