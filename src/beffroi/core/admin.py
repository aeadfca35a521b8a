from django.contrib import admin

from beffroi.core import actions
from beffroi.core.models import Invitation, JournalEntry, Membership, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    prepopulated_fields = {"slug": ["name"]}

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return obj is None

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # One door per change: creation goes through the journaled action.
        created = actions.create_organisation(obj.name, obj.slug, actor=request.user)
        obj.pk = created.pk


class ReadOnlyAdmin(admin.ModelAdmin):
    """Memberships and invitations change only through the Members page (journaled)."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["organisation", "role"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "organisation", "role", "created_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    """Read-only: the journal is append-only, even for the instance admin."""

    list_display = ["seq", "at", "actor_label", "action", "subject"]
    list_filter = ["action"]
    search_fields = ["action", "subject", "actor_label"]
