"""What each journal action is called on the pages people read.

The journal stores short codes (``watch.card.decide``): they are part of each line's hash and
what scripts and `beffroi journal verify` work with. People read the labels; the code stays
in the page (a tooltip and the filter's value) for those who search or script."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

LABELS: dict[str, Promise] = {
    "account.change": _("Compte modifié par l'administration"),
    "account.create": _("Compte créé"),
    "account.delete": _("Compte supprimé par l'administration"),
    "audit.complete": _("Audit terminé"),
    "audit.failed": _("Audit en échec"),
    "audit.upload": _("Export déposé pour audit"),
    "auth.login": _("Connexion"),
    "auth.login_failed": _("Connexion refusée"),
    "auth.logout": _("Déconnexion"),
    "consult.ballots": _("Bulletins reçus"),
    "consult.close": _("Consultation close"),
    "consult.create": _("Consultation créée"),
    "consult.credentials.import": _("Clés publiques importées"),
    "consult.credentials.revoke": _("Code révoqué"),
    "consult.edit": _("Brouillon modifié"),
    "consult.flags": _("Signalements des détecteurs"),
    "consult.open": _("Consultation ouverte"),
    "consult.rule.exclude_entries": _("Bulletins écartés par décision"),
    "consult.rule.post_hoc": _("Règle ajoutée après l'ouverture"),
    "group.change": _("Groupe de l'administration modifié"),
    "group.delete": _("Groupe de l'administration supprimé"),
    "invitation.accept": _("Invitation acceptée"),
    "invitation.create": _("Invitation créée"),
    "invitation.revoke": _("Invitation révoquée"),
    "member.remove": _("Membre retiré"),
    "member.role": _("Rôle modifié"),
    "org.create": _("Organisation créée"),
    "retention.client_pseudonyms": _(
        "Pseudonymes des répondants effacés (durée de conservation écoulée)"
    ),
    "retention.expired": _("Sessions et compteurs expirés effacés"),
    "retention.export_files": _("Exports de la main courante expirés effacés"),
    "retention.invitations": _("Invitations anciennes effacées (durée de conservation écoulée)"),
    "retention.jobs": _("Travaux terminés effacés (durée de conservation écoulée)"),
    "retention.watch_posts": _("Messages de veille effacés (durée de conservation écoulée)"),
    "watch.activation.close": _("Activation close"),
    "watch.activation.create": _("Activation ouverte"),
    "watch.activation.scrub_handles": _("Identifiants de comptes pseudonymisés après coup"),
    "watch.activation.scrub_lines": _(
        "Lignes de main courante pseudonymisées après coup (empreintes du contenu)"
    ),
    "watch.activation.update": _("Activation modifiée"),
    "watch.card.claim": _("Carte prise en charge"),
    "watch.card.decide": _("Décision sur une carte"),
    "watch.card.escalate": _("Carte portée en main courante"),
    "watch.card.release": _("Carte relâchée"),
    "watch.card.requeue": _("Carte remise dans la file"),
    "watch.card.source": _("Type de source corrigé"),
    "watch.log.add": _("Ligne de main courante ajoutée"),
    "watch.log.export": _("Main courante exportée"),
    "watch.log.reseal": _("Empreintes de la main courante scellées sous une nouvelle clé"),
    "watch.log.share": _("Partage d'une ligne avec les partenaires modifié"),
    "watch.log.status": _("Statut d'une ligne modifié"),
    "watch.log.verify": _("Vérification d'une ligne"),
    "watch.partner_link.create": _("Lien partenaire créé"),
    "watch.partner_link.revoke": _("Lien partenaire révoqué"),
    "watch.partner_link.view": _("Lien partenaire consulté"),
    "watch.post.delete": _("Message supprimé par son auteur"),
    "watch.post.edit": _("Message modifié par son auteur"),
    "watch.queue": _("Messages mis en file de tri"),
    "watch.source.add": _("Source ajoutée"),
    "watch.source.declare": _("Émetteur déclaré"),
    "watch.source.disable": _("Source arrêtée"),
    "watch.source.enable": _("Source relancée"),
    "watch.source.gap": _("Trou de couverture d'une source"),
    "watch.source.gap.filled": _("Trou de couverture comblé ou clos"),
    "watch.source.status": _("État d'une source"),
}


def action_label(action: str) -> str:
    """The label of ``action``, or the code itself for one this table does not know (an
    entry written by a later version, read by an older one)."""
    label = LABELS.get(action)
    return str(label) if label is not None else action
