from django.urls import URLPattern, path

from beffroi.watch import views

# Mounted under o/<slug:org>/veille/; every view uses beffroi.core.roles.require.
urlpatterns: list[URLPattern] = [
    path("", views.activations, name="watch-activations"),
    path("nouvelle/", views.activation_new, name="watch-activation-new"),
    path("<int:activation_id>/", views.activation_detail, name="watch-activation"),
    path("<int:activation_id>/clore/", views.activation_close, name="watch-activation-close"),
    path("<int:activation_id>/modifier/", views.activation_edit, name="watch-activation-edit"),
    path("<int:activation_id>/sources/", views.sources, name="watch-sources"),
    path(
        "<int:activation_id>/sources/etat.json", views.sources_status, name="watch-sources-status"
    ),
    path(
        "<int:activation_id>/sources/<int:source_id>/basculer/",
        views.source_toggle,
        name="watch-source-toggle",
    ),
    path(
        "<int:activation_id>/sources/<int:source_id>/emetteur/",
        views.source_declare,
        name="watch-source-declare",
    ),
    path("<int:activation_id>/tri/", views.triage, name="watch-triage"),
    path("<int:activation_id>/tri/file.json", views.queue_json, name="watch-queue"),
    path("<int:activation_id>/tri/flux/", views.triage_stream, name="watch-triage-stream"),
    path(
        "<int:activation_id>/cartes/<int:card_id>/prendre/",
        views.card_claim,
        name="watch-card-claim",
    ),
    path(
        "<int:activation_id>/cartes/<int:card_id>/relacher/",
        views.card_release,
        name="watch-card-release",
    ),
    path(
        "<int:activation_id>/cartes/<int:card_id>/decider/",
        views.card_decide,
        name="watch-card-decide",
    ),
    path(
        "<int:activation_id>/cartes/<int:card_id>/source/",
        views.card_source,
        name="watch-card-source",
    ),
    path(
        "<int:activation_id>/cartes/<int:card_id>/escalader/",
        views.card_escalate,
        name="watch-card-escalate",
    ),
    path("<int:activation_id>/tri/traitees/", views.decided, name="watch-decided"),
    path(
        "<int:activation_id>/tri/traitees/<int:card_id>/corriger/",
        views.decided_correct,
        name="watch-decided-correct",
    ),
    path(
        "<int:activation_id>/tri/traitees/<int:card_id>/main-courante/",
        views.decided_escalate,
        name="watch-decided-escalate",
    ),
    path(
        "<int:activation_id>/cartes/<int:card_id>/remettre/",
        views.card_requeue,
        name="watch-card-requeue",
    ),
    path("<int:activation_id>/main-courante/", views.courante, name="watch-courante"),
    path(
        "<int:activation_id>/main-courante/lignes/",
        views.courante_rows,
        name="watch-courante-rows",
    ),
    path(
        "<int:activation_id>/main-courante/flux/",
        views.courante_stream,
        name="watch-courante-stream",
    ),
    path(
        "<int:activation_id>/main-courante/ajouter/",
        views.courante_add,
        name="watch-courante-add",
    ),
    path(
        "<int:activation_id>/main-courante/<int:entry_id>/statut/",
        views.courante_status,
        name="watch-courante-status",
    ),
    path(
        "<int:activation_id>/main-courante/<int:entry_id>/partenaires/",
        views.courante_sharing,
        name="watch-courante-sharing",
    ),
    path(
        "<int:activation_id>/main-courante/<int:entry_id>/verification/",
        views.courante_verification,
        name="watch-courante-verification",
    ),
    path(
        "<int:activation_id>/main-courante/export.<str:fmt>",
        views.courante_export,
        name="watch-courante-export",
    ),
    path(
        "<int:activation_id>/main-courante/exports/<uuid:job_id>/",
        views.export_job,
        name="watch-export-job",
    ),
    path(
        "<int:activation_id>/main-courante/exports/<uuid:job_id>/fichier",
        views.export_file,
        name="watch-export-file",
    ),
    path("<int:activation_id>/partenaires/", views.partner_links, name="watch-partner-links"),
    path(
        "<int:activation_id>/partenaires/<int:link_id>/revoquer/",
        views.partner_link_revoke,
        name="watch-partner-link-revoke",
    ),
]

# Read-only partner links (token in the URL; every use that shows lines is journaled).
public_urlpatterns: list[URLPattern] = [
    path("partenaire/<str:token>/", views.partner_view, name="watch-partner"),
    # The page's live refresh: its rows (journaled, like the page) and its stream (not).
    path("partenaire/<str:token>/lignes/", views.partner_rows, name="watch-partner-rows"),
    path("partenaire/<str:token>/flux/", views.partner_stream, name="watch-partner-stream"),
    path(
        "partenaire/<str:token>/export.<str:fmt>",
        views.partner_export,
        name="watch-partner-export",
    ),
    path(
        "partenaire/<str:token>/exports/<uuid:job_id>/",
        views.partner_export_job,
        name="watch-partner-export-job",
    ),
    path(
        "partenaire/<str:token>/exports/<uuid:job_id>/fichier",
        views.partner_export_file,
        name="watch-partner-export-file",
    ),
]
