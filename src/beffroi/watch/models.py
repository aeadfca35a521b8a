"""Activations, sources, raw posts, triage cards and the main courante.

Raw posts are immutable once received (DESIGN rule 3): the pipeline reads
them and writes cards; a volunteer's decision changes the card, never the post.
Everything is scoped to an activation, itself scoped to an organisation.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beffroi.core.models import Organisation


class EventType(models.TextChoices):
    FLOOD = "inondation", _("Inondation")
    STORM = "tempete", _("Tempête")
    EARTHQUAKE = "seisme", _("Séisme")
    WILDFIRE = "feu", _("Feu de forêt")
    INDUSTRIAL = "industriel", _("Accident industriel")
    ATTACK = "attentat", _("Attentat")
    EXERCISE = "exercice", _("Exercice")
    OTHER = "autre", _("Autre")


class Activation(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="activations"
    )
    name = models.CharField(_("nom"), max_length=200)
    event_type = models.CharField(_("type d'événement"), max_length=20, choices=EventType.choices)
    # INSEE commune codes (5 characters) and département codes (2 or 3).
    area = models.JSONField(_("zone"), default=list, blank=True)
    # {"fr": ["crue", "#inondation"], "en": [...]}
    keywords = models.JSONField(_("mots-clés"), default=dict, blank=True)
    starts_at = models.DateTimeField(_("début"), default=timezone.now)
    ends_at = models.DateTimeField(_("fin"), null=True, blank=True)
    keep_handles = models.BooleanField(
        _("conserver les identifiants des comptes"),
        default=False,
        help_text=_("Par défaut, seuls des pseudonymes sont conservés."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("activation")

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.ends_at is None or self.ends_at > timezone.now()


class ActivationModel(models.Model):
    """Learned state of an activation: the pipeline's grouping index and the
    classifier adapted by the volunteers' decisions (binary blobs, kept apart
    so that listing activations never loads them)."""

    activation = models.OneToOneField(Activation, on_delete=models.CASCADE, related_name="model")
    pipeline_state = models.BinaryField(null=True)
    learner_state = models.BinaryField(null=True)
    labels_learned = models.PositiveIntegerField(default=0)
    # Id of the last CardDecision fed to the learner: the worker resumes after it.
    learned_until = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"model of {self.activation_id}"


class SourceKind(models.TextChoices):
    RSS = "rss", _("Flux RSS/Atom")
    MASTODON = "mastodon", _("Mastodon")
    BLUESKY = "bluesky", _("Bluesky")
    FILE = "file", _("Import de fichier")
    REPLAY = "replay", _("Rejeu d'un jeu de données")


class Source(models.Model):
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(_("type"), max_length=20, choices=SourceKind.choices)
    name = models.CharField(_("nom"), max_length=200)
    config = models.JSONField(default=dict)
    # Who sends every post of this source when the coordinator knows it (a préfecture's
    # feed, a newsroom's account): a SourceType value, or blank to let the classifier read
    # it in each post. See docs/decisions/watch-declared-sender.md.
    declared_source = models.CharField(_("émetteur déclaré"), max_length=30, blank=True)
    enabled = models.BooleanField(_("active"), default=True)
    # The runner's envelope {"v", "state", "seen"}: written with the posts it covers.
    checkpoint = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, default="new")
    status_message = models.TextField(blank=True)
    status_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    posts_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    last_skip_reason = models.TextField(blank=True)
    # Deletions of posts this source never received (runner's count): public
    # timelines broadcast every deletion, so they are not skips.
    unknown_deletions_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Post(models.Model):
    """One post as received. Never edited after creation except to link it to
    its card once the pipeline has seen it. Its author's later edits and
    deletion are ``PostChange`` rows."""

    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="posts")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="posts")
    external_id = models.CharField(max_length=300)
    text = models.TextField()
    created_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    url = models.URLField(max_length=1000, blank=True)
    language = models.CharField(max_length=16, blank=True)
    # A keyed pseudonym unless the activation keeps handles (DESIGN rule 7).
    author_key = models.CharField(max_length=200, blank=True)
    # Kinds read in the author's account names at ingest, comma-separated ("government",
    # "none"…; blank: unknown). Not personal: it stays when the handle is a pseudonym.
    author_kinds = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    repost_of = models.CharField(max_length=300, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    card = models.ForeignKey(
        "Card", null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    processed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="watch_post_once")
        ]
        indexes = [models.Index(fields=["activation", "processed", "id"])]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"


class PostChangeKind(models.TextChoices):
    EDIT = "edit", _("Modifié par l'auteur")
    DELETE = "delete", _("Supprimé par l'auteur")


class PostChange(models.Model):
    """An author's edit or deletion of a received post (the post row keeps the
    version that arrived first: raw input is immutable, DESIGN rule 3).

    ``version`` (the platform's edit time, or a hash of the new text) makes
    the same change received twice a no-op. ``applied_at`` is set once the
    post's card and main courante lines follow the change; a change to a post
    the pipeline has not seen yet waits for its card."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=6, choices=PostChangeKind.choices)
    version = models.CharField(max_length=100, blank=True)
    # The new version of an edit, stored like a post's (handles pseudonymised).
    text = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)
    language = models.CharField(max_length=16, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # When the author did it, if the platform says (Mastodon dates edits, not deletions).
    changed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # The card's text just before this change was applied to it (an edit).
    shown_before = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "kind", "version"], name="watch_post_change_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["applied_at"],
                condition=models.Q(applied_at__isnull=True),
                name="watch_change_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.kind} {self.version}"

    @property
    def at(self) -> datetime:
        """The author's time when known, else when we heard of it."""
        return self.changed_at or self.received_at


class Decision(models.TextChoices):
    IRRELEVANT = "irrelevant", _("Sans intérêt")
    RELEVANT = "relevant", _("Pertinent")
    TO_VERIFY = "to_verify", _("À vérifier")
    VERIFIED = "verified", _("Vérifié")
    RUMOUR = "rumour", _("Rumeur")
    FALSE = "false", _("Faux")


# One key per decision in the triage room (also shown on the buttons).
DECISION_KEYS: dict[str, str] = {
    Decision.IRRELEVANT: "1",
    Decision.RELEVANT: "2",
    Decision.TO_VERIFY: "3",
    Decision.VERIFIED: "4",
    Decision.RUMOUR: "5",
    Decision.FALSE: "6",
}


class SourceType(models.TextChoices):
    """Who speaks, in the MSGU typology; values are the CrisisLex label names the
    classifier predicts, so a volunteer's correction can teach it directly."""

    EYEWITNESS = "Eyewitness", _("Témoin direct")
    MEDIA = "Media", _("Média")
    GOVERNMENT = "Government", _("Institution")
    NGOS = "NGOs", _("ONG")
    BUSINESS = "Business", _("Entreprise")
    OUTSIDERS = "Outsiders", _("Commentateur")


# Senders a coordinator may declare for a whole source (Source.declared_source):
# organisations. A witness or a commentator is a person, judged post by post.
DECLARABLE_SOURCES = (
    SourceType.MEDIA,
    SourceType.GOVERNMENT,
    SourceType.NGOS,
    SourceType.BUSINESS,
)


# One key per source type in the triage room (letters: the digits are the decisions).
SOURCE_TYPE_KEYS: dict[str, str] = {
    SourceType.EYEWITNESS: "t",
    SourceType.MEDIA: "m",
    SourceType.GOVERNMENT: "i",
    SourceType.NGOS: "o",
    SourceType.BUSINESS: "p",
    SourceType.OUTSIDERS: "c",
}


class CardState(models.TextChoices):
    QUEUED = "queued", _("En attente")
    DECIDED = "decided", _("Traitée")
    ESCALATED = "escalated", _("En main courante")


class Card(models.Model):
    """What a volunteer triages: one group of identical or near-identical posts."""

    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="cards")
    group_id = models.CharField(max_length=64)
    source = models.ForeignKey(Source, null=True, on_delete=models.SET_NULL, related_name="+")
    source_kind = models.CharField(max_length=20)
    external_id = models.CharField(max_length=300)
    text = models.TextField()
    url = models.URLField(max_length=1000, blank=True)
    posted_at = models.DateTimeField()
    lang = models.CharField(max_length=16, blank=True)
    posts_count = models.PositiveIntegerField(default=1)
    priority = models.FloatField(default=0.0, db_index=True)
    explanation = models.JSONField(default=list, blank=True)
    urgency_cues = models.JSONField(default=list, blank=True)
    # [{"code", "name", "dep", "evidence"}], most confident first.
    communes = models.JSONField(default=list, blank=True)
    commune_code = models.CharField(max_length=5, blank=True, db_index=True)
    commune_name = models.CharField(max_length=200, blank=True)
    in_area = models.BooleanField(null=True)
    informative_p = models.FloatField(null=True)
    info_type = models.CharField(max_length=60, blank=True)
    source_type = models.CharField(max_length=30, blank=True)
    # A volunteer's correction of ``source_type`` (the model's guess is kept):
    # filters and the card show it when present.
    source_corrected = models.CharField(max_length=30, blank=True, choices=SourceType.choices)
    state = models.CharField(max_length=12, choices=CardState.choices, default=CardState.QUEUED)
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    notes = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The card's own post was edited (``text`` is then the latest version) or
    # deleted by its author: ``PostChange`` rows hold the versions.
    author_edited_at = models.DateTimeField(null=True, blank=True)
    author_deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activation", "group_id"], name="watch_card_group")
        ]
        indexes = [
            models.Index(fields=["activation", "state", "-priority"]),
            models.Index(fields=["activation", "updated_at"]),
            # The decided cards' page, newest decision first (views.decided): the first
            # page without sorting every decision of a long night.
            models.Index(fields=["activation", "state", "-decided_at"], name="watch_card_decided"),
            # Covers the triage filters' facets (views._facets): one index scan.
            models.Index(
                fields=["activation", "lang", "info_type", "source_kind"],
                name="watch_card_facets",
            ),
        ]

    def __str__(self) -> str:
        return f"card {self.pk} ({self.state})"


class CardDecision(models.Model):
    """Every decision taken on a card, in order (the card keeps the last one). A row with
    neither decision nor source records that the card went back to the queue: the worker
    then withdraws what the card had taught the learner."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="decisions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Empty on a row that only corrects the source type.
    decision = models.CharField(max_length=12, choices=Decision.choices, blank=True)
    # The source type a volunteer set (empty when the row is only a decision):
    # the worker teaches it to the activation's learner, in order with decisions.
    source = models.CharField(max_length=30, blank=True, choices=SourceType.choices)
    notes = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.card_id}: {self.decision}"


class LogCategory(models.TextChoices):
    PEOPLE = "personnes", _("Personnes en danger")
    DAMAGE = "degats", _("Dégâts")
    ROADS = "routes", _("Routes et transports")
    NETWORKS = "reseaux", _("Réseaux (eau, électricité, télécoms)")
    WEATHER = "meteo", _("Météo et hydrologie")
    OFFICIAL = "officiel", _("Information officielle")
    RUMOUR = "rumeur", _("Rumeur ou fausse information")
    OTHER = "autre", _("Autre")


class LogChannel(models.TextChoices):
    SOCIAL = "reseaux-sociaux", _("Réseaux sociaux")
    PHONE = "telephone", _("Appel téléphonique")
    OBSERVATION = "observation", _("Observation")
    OFFICIAL = "officiel", _("Source officielle")
    OTHER = "autre", _("Autre")


class LogStatus(models.TextChoices):
    OPEN = "ouvert", _("Ouvert")
    IN_PROGRESS = "en-cours", _("En cours")
    FORWARDED = "transmis", _("Transmis")
    CLOSED = "clos", _("Clos")


class LogEntry(models.Model):
    """One line of the main courante."""

    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()  # per activation, 1, 2, 3… as in the spreadsheet
    at = models.DateTimeField(_("heure"), default=timezone.now)
    channel = models.CharField(_("canal"), max_length=20, choices=LogChannel.choices)
    category = models.CharField(_("catégorie"), max_length=20, choices=LogCategory.choices)
    commune_code = models.CharField(_("commune (INSEE)"), max_length=5, blank=True)
    commune_name = models.CharField(_("commune"), max_length=200, blank=True)
    text = models.TextField(_("information"))
    source_url = models.URLField(_("lien"), max_length=1000, blank=True)
    status = models.CharField(
        _("statut"), max_length=12, choices=LogStatus.choices, default=LogStatus.OPEN
    )
    verification = models.CharField(
        _("vérification"), max_length=12, choices=Decision.choices, blank=True
    )
    # The valve: only entries marked for partners are shown to them.
    for_partners = models.BooleanField(_("transmis aux partenaires"), default=True)
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="log_entries"
    )
    # The post behind the line was edited or deleted by its author after it was
    # logged. On deletion, a line that only quoted the post has its text moved
    # to ``withdrawn_text`` (members still read it; partners no longer do).
    author_edited_at = models.DateTimeField(null=True, blank=True)
    author_deleted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_text = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["activation", "number"], name="watch_log_number")
        ]
        indexes = [
            models.Index(fields=["activation", "updated_at"]),
            # The main courante's pages walk an activation's lines newest first, by cursor.
            models.Index(fields=["activation", "-at", "-number"], name="watch_log_page"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.text[:40]}"


class LogUpdate(models.Model):
    entry = models.ForeignKey(LogEntry, on_delete=models.CASCADE, related_name="updates")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=LogStatus.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.entry_id} → {self.status}"


class PartnerLink(models.Model):
    """A read-only link to the main courante for a partner without an account.

    Only the SHA-256 of the token is stored, as for invitations."""

    activation = models.ForeignKey(
        Activation, on_delete=models.CASCADE, related_name="partner_links"
    )
    label = models.CharField(_("destinataire"), max_length=200)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
