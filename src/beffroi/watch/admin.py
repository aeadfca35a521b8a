"""Read-only admin views: every change goes through watch.actions (journaled)."""

from typing import Any

from django.contrib import admin

from beffroi.watch.models import Activation, Card, LogEntry, PartnerLink, Post, Source


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Activation)
class ActivationAdmin(ReadOnly):
    list_display = ["name", "organisation", "event_type", "starts_at", "ends_at"]


@admin.register(Source)
class SourceAdmin(ReadOnly):
    list_display = ["name", "activation", "kind", "enabled", "status", "posts_count"]


@admin.register(Post)
class PostAdmin(ReadOnly):
    list_display = ["external_id", "source", "created_at"]
    exclude = ["raw"]


@admin.register(Card)
class CardAdmin(ReadOnly):
    list_display = ["pk", "activation", "state", "decision", "priority", "posts_count"]


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnly):
    list_display = ["number", "activation", "category", "status", "for_partners"]


@admin.register(PartnerLink)
class PartnerLinkAdmin(ReadOnly):
    list_display = ["label", "activation", "expires_at", "revoked_at", "views"]
    exclude = ["token_hash"]
