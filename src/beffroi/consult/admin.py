"""Read-only admin views: every change goes through beffroi.consult.actions."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from beffroi.consult.models import BoardEntry, Consultation, ConsultEvent, Credential


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Consultation)
class ConsultationAdmin(ReadOnly):
    list_display = ("cid", "organisation", "status", "board_count", "opened_at")


@admin.register(Credential)
class CredentialAdmin(ReadOnly):
    list_display = ("public_key", "consultation", "segment", "revoked_at")


@admin.register(BoardEntry)
class BoardEntryAdmin(ReadOnly):
    list_display = ("consultation", "n", "received_at", "receipt")
    exclude = ("net", "addr", "ua")


@admin.register(ConsultEvent)
class ConsultEventAdmin(ReadOnly):
    list_display = ("consultation", "n", "kind", "at")
