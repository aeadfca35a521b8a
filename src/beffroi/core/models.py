"""Organisations, memberships with a role, invitations, and the journal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordination")
    VOLUNTEER = "volunteer", _("Veilleur·se")
    PARTNER = "partner", _("Partenaire")
    SCRUTINEER = "scrutineer", _("Observateur·rice")


class Organisation(models.Model):
    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), unique=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("compte"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_role_per_org")
        ]
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class Invitation(models.Model):
    """A link that lets a person join an organisation with a given role.

    Only the SHA-256 of the token is stored: a database leak does not leak
    usable invitation links.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("adresse e-mail"))
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # SET_NULL, not PROTECT: a member's account must be erasable (privacy); who did it
    # stays in the journal (actor_label).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("envoyée le"), auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.role})"


class JournalEntry(models.Model):
    """One append-only, hash-chained line of the journal (DESIGN rule 2).

    Database triggers (migration 0002) refuse UPDATE and DELETE; the hash of
    each entry covers its content and the previous entry's hash, so any edit
    made behind the triggers' back is found by `beffroi journal verify`.
    """

    seq = models.PositiveBigIntegerField(_("n°"), unique=True)
    at = models.DateTimeField(_("date"), db_index=True)
    # DO_NOTHING, not SET_NULL: the id is hashed into the chain and the triggers refuse
    # any UPDATE, so SET_NULL made every account or organisation that the journal
    # names impossible to delete. The line keeps the id (no database constraint).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    # The actor's name at the time, so the chain stays verifiable if the account goes.
    actor_label = models.CharField(_("auteur"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    action = models.CharField(_("action"), max_length=80, db_index=True)
    subject = models.CharField(_("objet"), max_length=200, blank=True)
    reason = models.TextField(blank=True)
    rule = models.CharField(max_length=120, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        # The live pages ask for an organisation's last entry once a second.
        indexes = [models.Index(fields=["organisation", "seq"], name="journal_org_seq")]
        verbose_name = _("entrée du journal")
        verbose_name_plural = _("journal")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class JournalHead(models.Model):
    """The single row holding the last seq and hash: appends lock it, so the
    chain is extended by one writer at a time on PostgreSQL too."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"journal head #{self.seq}"


class JobOutcome(models.Model):
    """How the last run of a named background job ended, as its page shows it.

    django-tasks keeps a run's return value in its own row, which ``beffroi prune`` removes
    after ``BEFFROI_RETENTION_JOBS_DAYS`` (a week by default): a page that read it would lose its
    last summary then. The job writes it here as it ends (``core.jobs.keep_outcome``);
    the field names are django-tasks' own, so a page reads either alike.
    """

    name = models.CharField(max_length=200, unique=True)
    # django-tasks' words: SUCCESSFUL or FAILED.
    status = models.CharField(max_length=10)
    finished_at = models.DateTimeField()
    return_value = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("issue d'un travail")
        verbose_name_plural = _("issues des travaux")

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"
