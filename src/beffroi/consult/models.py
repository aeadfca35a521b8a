"""Consultations, their credentials, the bulletin board and its event journal.

The pure core (spec.py, ballot.py, board.py, tally.py, bundle.py) defines the
formats; these models only store them.  Public pages and downloads are built
from the allow-lists in ``PUBLIC_ENTRY_FIELDS`` (DESIGN rule 5): the private
columns of a board entry (client pseudonyms) never leave the server.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from beffroi.consult.spec import Spec, spec_from_dict
from beffroi.consult.zones import zone_words
from beffroi.core.models import Organisation


class Status(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    OPEN = "open", _("Ouverte")
    CLOSED = "closed", _("Clôturée")


# Short labels for lists; the builder's form explains each mode at length.
ACCESS_LABELS = {
    "credentialed": _("Sur codes personnels"),
    "mixed": _("Mixte"),
    "open": _("Ouverte (non vérifiée)"),
}


class Consultation(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("organisation"),
    )
    # The spec's id: public, in the credential links (/c/<cid>/) and in every ballot.
    cid = models.SlugField(_("identifiant"), max_length=64, unique=True)
    # The spec as stored by Spec.to_dict(): frozen at opening except post-hoc rules.
    spec = models.JSONField()
    status = models.CharField(
        _("état"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    spec_hash = models.CharField(max_length=64, blank=True)
    opened_at = models.DateTimeField(_("ouverte le"), null=True, blank=True)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The board head, updated with each batch of entries in the same transaction.
    board_count = models.PositiveBigIntegerField(_("entrées au tableau"), default=0)
    board_head = models.CharField(max_length=64, blank=True)
    last_received_at = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")

    def __str__(self) -> str:
        return str(self.spec.get("title", self.cid))

    @property
    def title(self) -> str:
        return str(self.spec.get("title", ""))

    @property
    def access(self) -> str:
        return str(self.spec.get("access", ""))

    @property
    def access_label(self) -> str:
        return str(ACCESS_LABELS.get(self.access, self.access))

    @property
    def zone_name(self) -> str:
        """The IANA zone its hours are said in (pages, letters, refusals): the spec's,
        frozen with its rules, else the deployment's for specs written without one."""
        zone = self.spec.get("timezone") if isinstance(self.spec, dict) else None
        return zone if isinstance(zone, str) and zone else settings.TIME_ZONE or "UTC"

    @property
    def zone_words(self) -> str:
        """« heure de la Martinique »: the zone as the letters and refusals name it."""
        return zone_words(self.zone_name)

    def get_spec(self) -> Spec:
        return spec_from_dict(self.spec)


class Credential(models.Model):
    """One public key of the credential list (the private part never comes here).

    Nullable text columns mirror the formats' JSON null (no segment, no key,
    unsigned), which an empty string would blur.
    """

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.CASCADE,
        related_name="credentials",
        verbose_name=_("consultation"),
    )
    public_key = models.CharField(_("clé publique"), max_length=64)
    segment = models.CharField(_("segment"), max_length=64, null=True, blank=True)  # noqa: DJ001
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)
    replaced_by = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consultation", "public_key"], name="one_key_once")
        ]
        verbose_name = _("code de vote")
        verbose_name_plural = _("codes de vote")

    def __str__(self) -> str:
        return f"{self.public_key[:12]}… ({self.segment or '-'})"


class BoardEntry(models.Model):
    """One line of the bulletin board (board.make_entry), plus private columns.

    Private columns (``net``, ``addr``, ``ua``: keyed pseudonyms, never raw
    values) feed the integrity audit and rate limits; they are never exported.
    """

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.CASCADE,
        related_name="entries",
        verbose_name=_("consultation"),
    )
    n = models.PositiveBigIntegerField(_("n°"))
    # Canonical text form (spec.format_time).
    received_at = models.CharField(_("reçue le"), max_length=32)
    ballot = models.JSONField()
    signature = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    receipt = models.CharField(_("reçu"), max_length=64)
    prev = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    public_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    seq = models.PositiveBigIntegerField(default=0)
    # --- private: pseudonyms of the client (DESIGN rule 7) ---
    net = models.CharField(max_length=64, blank=True)
    addr = models.CharField(max_length=64, blank=True)
    ua = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["n"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "n"], name="board_n_unique"),
            models.UniqueConstraint(
                fields=["consultation", "receipt"], name="board_receipt_unique"
            ),
        ]
        indexes = [models.Index(fields=["consultation", "public_key", "seq"])]
        verbose_name = _("entrée du tableau public")
        verbose_name_plural = _("entrées du tableau public")

    def __str__(self) -> str:
        return f"#{self.n} {self.hash[:12]}…"

    def public(self) -> dict[str, Any]:
        """The entry exactly as published (allow-list: the board.make_entry fields)."""
        return {f: getattr(self, f) for f in PUBLIC_ENTRY_FIELDS}


PUBLIC_ENTRY_FIELDS = ("n", "received_at", "ballot", "signature", "receipt", "prev", "hash")


class ConsultEvent(models.Model):
    """One line of the consultation's own journal (bundle ``journal.jsonl``).

    Written only after opening: it is chained on the spec hash.  Every event
    is also appended to the instance journal by the action that causes it.
    """

    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("consultation"),
    )
    n = models.PositiveIntegerField(_("n°"))
    at = models.CharField(_("date"), max_length=32)
    kind = models.CharField(_("type"), max_length=40)
    data = models.JSONField(default=dict)
    prev = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["n"]
        constraints = [models.UniqueConstraint(fields=["consultation", "n"], name="event_n_unique")]
        verbose_name = _("événement de la consultation")
        verbose_name_plural = _("événements des consultations")

    def __str__(self) -> str:
        return f"{self.kind} #{self.n}"

    def line(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "at": self.at,
            "kind": self.kind,
            "data": self.data,
            "prev": self.prev,
            "hash": self.hash,
        }
