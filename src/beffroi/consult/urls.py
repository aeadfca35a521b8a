"""Consultation URLs: organisation pages (role-checked) and public pages."""

from django.urls import URLPattern, path

from beffroi.consult import api, views

# Mounted under o/<slug:org>/consultations/ (every view uses roles.require).
urlpatterns: list[URLPattern] = [
    path("", views.consult_list, name="consult-list"),
    path("nouvelle/", views.consult_create, name="consult-create"),
    path("<slug:cid>/", views.consult_detail, name="consult-detail"),
    path("<slug:cid>/modifier/", views.consult_edit, name="consult-edit"),
    path("<slug:cid>/apercu/", views.consult_preview, name="consult-preview"),
    path("<slug:cid>/consultation.json", views.consult_spec_file, name="consult-spec-file"),
    path("<slug:cid>/ouvrir/", views.consult_open, name="consult-open"),
    path("<slug:cid>/clore/", views.consult_close, name="consult-close"),
    path("<slug:cid>/codes/importer/", views.consult_import, name="consult-import"),
    path("<slug:cid>/codes/revoquer/", views.consult_revoke, name="consult-revoke"),
    path("<slug:cid>/regles/post-hoc/", views.consult_post_hoc, name="consult-post-hoc"),
    path("<slug:cid>/audit/", views.consult_audit, name="consult-audit"),
    path("<slug:cid>/regles/", views.consult_exclude, name="consult-exclude"),
]

# Public: respondents, receipts, the bulletin board and its downloads.
public_urlpatterns: list[URLPattern] = [
    path("c/<slug:cid>/", api.answer_page, name="consult-answer"),
    path("c/<slug:cid>/defi/", api.challenge, name="consult-challenge"),
    path("c/<slug:cid>/bulletin/", api.submit, name="consult-submit"),
    path("c/<slug:cid>/recu/", api.receipt_page, name="consult-receipt"),
    path("c/<slug:cid>/tableau/", api.board_page, name="consult-board"),
    path("c/<slug:cid>/tableau.jsonl", api.board_jsonl, name="consult-board-jsonl"),
    path("c/<slug:cid>/tableau.csv", api.board_csv, name="consult-board-csv"),
    path("c/<slug:cid>/resultats.json", api.results_json, name="consult-results-json"),
    path("c/<slug:cid>/consultation.json", api.rules_json, name="consult-rules-json"),
    path("c/<slug:cid>/dossier.zip", api.bundle_zip, name="consult-bundle"),
]
