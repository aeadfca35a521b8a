from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from beffroi.core import actions
from beffroi.core.models import Invitation, JournalEntry, Membership, Organisation, Role


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    prepopulated_fields = {"slug": ["name"]}

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return obj is None

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Deleting one would take its memberships, invitations, activations and audits
        # with it, none of them journaled, while its journal lines keep naming it: no
        # door does that, so the admin does not either.
        return False

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


User = get_user_model()


def _checked_username(form: Any) -> str:
    """The site's rules for a new user name (core/usernames.py), in the admin as well: a
    name created here is read in the same member lists and journal lines."""
    name = form.cleaned_data.get("username") or ""
    unchanged = form.instance.pk is not None and name == form.instance.get_username()
    error = None if unchanged else actions.username_error(name)
    if error is not None:
        raise ValidationError(error, code="username")
    return name if unchanged else actions.usernames.normalise(name)


def _power_names(items: Any) -> list[str]:
    """Groups by name, permissions as ``app.codename``, sorted: what the journal keeps."""
    return sorted(
        f"{item.content_type.app_label}.{item.codename}" if hasattr(item, "codename") else item.name
        for item in items
    )


class CheckedUserCreationForm(AdminUserCreationForm):  # type: ignore[type-arg]
    def clean_username(self) -> str:
        return _checked_username(self)


class CheckedUserChangeForm(UserChangeForm):  # type: ignore[type-arg]
    def clean_username(self) -> str:
        return _checked_username(self)


def _last_coordinators(users: Any) -> list[str]:
    """One line for each (account, organisation) where the accounts being deleted are all
    of the organisation's coordinators."""
    pks = [user.pk for user in users]
    held = (
        Membership.objects.filter(user_id__in=pks, role=Role.COORDINATOR)
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__username")
    )
    return [
        _("%(user)s est la dernière personne à la coordination de %(organisation)s")
        % {"user": m.user.get_username(), "organisation": m.organisation.name}
        for m in held
        if not Membership.objects.filter(organisation_id=m.organisation_id, role=Role.COORDINATOR)
        .exclude(user_id__in=pks)
        .exists()
    ]


def _refused(model_admin: Any, request: HttpRequest, exc: actions.ActionError) -> HttpResponse:
    """The admin page again, with the action's refusal as its error message."""
    nothing = _("Rien n'a été supprimé.")
    model_admin.message_user(request, f"{exc} {nothing}", messages.ERROR)
    return HttpResponseRedirect(request.get_full_path())


class JournaledUserAdmin(UserAdmin):  # type: ignore[type-arg]
    """Django's user admin, with every change of an account journaled through
    ``actions.change_account`` (DESIGN rule 1): the superuser and staff flags, activation,
    the user name, a password set by the administration. Accounts are still created and
    changed here, as Django's tools expect; the journal says who did it."""

    add_form = CheckedUserCreationForm
    form = CheckedUserChangeForm

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        if not change:
            # Django's add form (user name, password); flags are set on the next page.
            super().save_model(request, obj, form, change)
            actions.record_account_created(obj, actor=request.user)
            return
        before = User.objects.filter(pk=obj.pk).first()
        changed = {
            name: (getattr(before, name, None), getattr(obj, name, None))
            for name in form.changed_data
        }
        # Groups and permissions are powers in the admin, as the flags are: journaled with
        # their values (their many-to-many rows are saved after this, from the form).
        for name in actions.ACCOUNT_POWERS:
            if name in changed:
                changed[name] = (
                    _power_names(getattr(before, name).all()),
                    _power_names(form.cleaned_data.get(name) or []),
                )
        actions.change_account(obj, changed, actor=request.user)

    def get_deleted_objects(self, objs: Any, request: Any) -> Any:
        # Memberships are read-only in the admin, which made every account with one
        # impossible to delete here; ``actions.delete_account`` removes them, journaled.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        membership = str(Membership._meta.verbose_name)
        perms_needed = {p for p in perms_needed if str(p) != membership}
        # An organisation left with nobody to coordinate could not invite or assign roles
        # again, and memberships are read-only here: Django's delete view and "delete
        # selected" both refuse while ``protected`` names something, and list it.
        return deleted, counts, perms_needed, [*protected, *_last_coordinators(objs)]

    def delete_model(self, request: Any, obj: Any) -> None:
        actions.delete_account(obj, actor=request.user)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        # "Delete selected": Django's own is one bulk DELETE, with no signal per account
        # and no journal line; one door per account instead, all or none.
        with transaction.atomic():
            for user in queryset.order_by("pk"):
                actions.delete_account(user, actor=request.user)

    # The confirmation page's refusal (``get_deleted_objects``) is read before the deletion;
    # another deletion or a role change committing in between leaves the action's own
    # check, under its locks, to refuse. Said as an admin message, with nothing deleted
    # (the history line Django writes first is rolled back with the rest), not as a 500.

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except actions.ActionError as exc:
            return _refused(self, request, exc)

    def response_action(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        try:
            with transaction.atomic():
                return super().response_action(request, queryset)
        except actions.ActionError as exc:
            return _refused(self, request, exc)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            # Django's view redirects once the new password is saved.
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=id)
                actions.change_account(user, {}, actor=request.user, password_set=True, save=False)
        return response


class JournaledGroupAdmin(GroupAdmin):
    """Django's group admin, journaled (``group.change``, ``group.delete``): a group's
    permissions are powers of every account in it."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        stored = Group.objects.filter(pk=obj.pk).first() if change else None
        request._beffroi_group_before = (
            actions.admin_group_state(stored) if stored is not None else None
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        # The permissions are saved here, after the group: journaled once they are.
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_beffroi_group_before", None)
        after = actions.admin_group_state(form.instance)
        if before != after:
            actions.record_admin_group_change(
                form.instance, actor=request.user, before=before, after=after
            )

    def delete_model(self, request: Any, obj: Any) -> None:
        actions.delete_admin_group(obj, actor=request.user)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            for group in queryset.order_by("pk"):
                actions.delete_admin_group(group, actor=request.user)


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, JournaledGroupAdmin)

if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, JournaledUserAdmin)
