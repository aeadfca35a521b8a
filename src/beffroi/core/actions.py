"""Every state change of the core, one function each (DESIGN rule 1).

Each action runs in one transaction and appends one journal entry.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi.core import journal, usernames
from beffroi.core.models import Invitation, Membership, Organisation, Role


class ActionError(Exception):
    """A refused action; the message is shown to the user as is (French)."""


class InvalidInput(ActionError):
    """Refused because of what the request says (an unknown choice, a bad link), not
    because of the state it meets (a card someone else holds): HTTP 400 rather than 409.
    The type says it, since the message is in the reader's language."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_organisation(name: str, slug: str, *, actor: Any = None) -> Organisation:
    if Organisation.objects.filter(slug=slug).exists():
        raise ActionError(_("L'identifiant « %(slug)s » est déjà pris.") % {"slug": slug})
    org = Organisation.objects.create(name=name, slug=slug)
    journal.append(
        "org.create",
        actor=actor,
        organisation=org,
        subject=f"org:{org.pk}",
        data={"name": name, "slug": slug},
    )
    return org


@transaction.atomic
def set_role(
    user: Any, organisation: Organisation, role: str, *, actor: Any, reason: str = ""
) -> Membership:
    """Give `user` a role in `organisation` (creating the membership if needed)."""
    if role not in Role.values:
        raise ActionError(_("Rôle inconnu : %(role)s") % {"role": role})
    _lock_memberships(organisation)
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role}
    )
    before = None if created else membership.role
    if not created and before == role:
        return membership
    if before == Role.COORDINATOR and _last_coordinator(membership):
        raise ActionError(_("Impossible : c'est la dernière personne à la coordination."))
    membership.role = role
    membership.save(update_fields=["role"])
    journal.append(
        "member.role",
        actor=actor,
        organisation=organisation,
        subject=f"user:{user.pk}",
        reason=reason,
        data={"user": user.get_username(), "from": before, "to": role},
    )
    return membership


def _lock_memberships(organisation: Organisation) -> None:
    """Role changes and removals of one organisation, one at a time: two coordinators
    demoting or removing each other at once each saw the other still coordinating, and
    both passed ``_last_coordinator``, leaving nobody to coordinate. The organisation's
    row, locked first (before any membership and the journal's head, 0002-journal.md);
    no_key, as the rows referencing it (journal lines, activations) take key-share locks."""
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()


def _last_coordinator(membership: Membership) -> bool:
    return (
        not Membership.objects.filter(organisation=membership.organisation, role=Role.COORDINATOR)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def remove_member(membership: Membership, *, actor: Any, reason: str = "") -> None:
    # Locked and read again before the journal's head (docs/decisions/0002-journal.md,
    # "Lock order"): a role change committing meanwhile is waited for, and the journal
    # names the role the member had. FOR UPDATE, not no_key: the row is deleted.
    _lock_memberships(membership.organisation)
    locked = Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if locked is None:
        raise ActionError(_("Cette personne ne fait déjà plus partie de l'organisation."))
    membership = locked
    if membership.role == Role.COORDINATOR and _last_coordinator(membership):
        raise ActionError(_("Impossible : c'est la dernière personne à la coordination."))
    data = {"user": membership.user.get_username(), "role": membership.role}
    organisation, user_id = membership.organisation, membership.user_id
    membership.delete()
    journal.append(
        "member.remove",
        actor=actor,
        organisation=organisation,
        subject=f"user:{user_id}",
        reason=reason,
        data=data,
    )


@transaction.atomic
def invite(
    organisation: Organisation, email: str, role: str, *, actor: Any
) -> tuple[Invitation, str]:
    """Create an invitation; returns it with the one-time token (never stored in clear)."""
    if role not in Role.values:
        raise ActionError(_("Rôle inconnu : %(role)s") % {"role": role})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.BEFFROI_INVITATION_DAYS),
    )
    journal.append(
        "invitation.create",
        actor=actor,
        organisation=organisation,
        subject=f"invitation:{invitation.pk}",
        # Not the address: the journal is never purged and the invitation row holds it.
        data={"role": role},
    )
    return invitation, token


def find_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    return _usable(invitation)


def _usable(invitation: Invitation | None) -> Invitation:
    if invitation is None or invitation.revoked_at is not None:
        raise ActionError(_("Ce lien d'invitation n'est pas valable."))
    if invitation.accepted_at is not None:
        raise ActionError(_("Ce lien d'invitation a déjà été utilisé."))
    if invitation.expires_at < timezone.now():
        raise ActionError(_("Ce lien d'invitation a expiré : demandez-en un nouveau."))
    return invitation


@transaction.atomic
def accept_invitation(
    token: str, *, user: Any = None, username: str = "", password: str = ""
) -> Any:
    """Accept an invitation as an existing user, or create the account first."""
    invitation = find_invitation(token)
    # For no key update, as every row lock taken before the journal's head
    # (docs/decisions/0002-journal.md, "Lock order"). Checked again once locked: a
    # revocation or another acceptance that committed since the first read would otherwise
    # still make the person a member, the row then both revoked and accepted.
    invitation = _usable(
        Invitation.objects.select_for_update(no_key=True).filter(pk=invitation.pk).first()
    )
    if user is None:
        user = _new_user(
            "create_user", checked_username(username), email=invitation.email, password=password
        )
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    journal.append(
        "invitation.accept",
        actor=user,
        organisation=invitation.organisation,
        subject=f"invitation:{invitation.pk}",
        data={"user": user.get_username(), "role": membership.role, "new_membership": created},
    )
    return user


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, actor: Any) -> None:
    # Locked and read again: an acceptance committing meanwhile is waited for, and an
    # accepted invitation is not marked revoked (the person is a member: remove them).
    locked = Invitation.objects.select_for_update(no_key=True).filter(pk=invitation.pk).first()
    if locked is None or locked.revoked_at is not None:
        raise ActionError(_("Cette invitation est déjà révoquée."))
    if locked.accepted_at is not None:
        raise ActionError(
            _(
                "Cette invitation a déjà été acceptée : retirez la personne de "
                "l'organisation si elle ne doit pas y être."
            )
        )
    invitation = locked
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    journal.append(
        "invitation.revoke",
        actor=actor,
        organisation=invitation.organisation,
        subject=f"invitation:{invitation.pk}",
        data={"role": invitation.role},
    )


def record_login(user: AbstractBaseUser, *, network: str) -> None:
    journal.append("auth.login", actor=user, subject=f"user:{user.pk}", data={"network": network})


def record_login_failure(username: str, *, network: str, throttled: bool) -> None:
    """``username`` as Django authenticates it (NFKC). The line names the account it would
    reach, in its own spelling, whatever case or width was typed: an attack on ``Marie``
    sent as ``marie`` or ``ｍarie`` used to be journaled as « (inconnu) »."""
    User = get_user_model()
    known = User.objects.filter(username=username).first() or _case_twin_account(username)
    # An unknown username may be a mistyped password: do not keep it in clear.
    label = known.get_username() if known is not None else "(inconnu)"
    journal.append(
        "auth.login_failed",
        subject=f"user:{known.pk}" if known else "",
        data={"username": label, "network": network, "throttled": throttled},
    )


def _case_twin_account(name: str) -> Any:
    """The account whose name reads as ``name`` without case, the oldest if several."""
    twin = usernames.case_twin(name, _all_usernames())
    return get_user_model().objects.filter(username=twin).first() if twin else None


def _all_usernames() -> Any:
    """Every account's name, oldest first, to compare without case in Python
    (``usernames.case_twin``): the database's ``iexact`` upper-cases accented letters in
    a UTF-8 locale only (not SQLite, not PostgreSQL in the C locale), so ``élodie``
    reached ``Élodie`` on some servers only, and it never reads ``strauss`` as ``Strauß``
    (case-folded, ß is ss). One column of a table of people: small."""
    return get_user_model().objects.order_by("pk").values_list("username", flat=True).iterator()


def record_logout(user: AbstractBaseUser) -> None:
    journal.append("auth.logout", actor=user, subject=f"user:{user.pk}")


@transaction.atomic
def create_account(
    username: str, password: str, *, email: str = "", actor: Any = None, superuser: bool = False
) -> Any:
    username = checked_username(username)
    make = "create_superuser" if superuser else "create_user"
    user = _new_user(make, username, email=email, password=password)
    journal.append(
        "account.create",
        actor=actor,
        subject=f"user:{user.pk}",
        data={"user": username, "superuser": superuser},
    )
    return user


# Account fields whose change the journal records with their values: who holds which
# powers on the instance. Other fields (the address, names) are recorded as changed only:
# the journal is never purged.
ACCOUNT_FLAGS = ("is_active", "is_staff", "is_superuser")
# The admin's groups and permissions of an account (lists of names), journaled with their
# values too: a permission grants as much in the admin as the staff flag opens.
ACCOUNT_POWERS = ("groups", "user_permissions")


@transaction.atomic
def change_account(
    user: Any,
    changed: dict[str, tuple[Any, Any]],
    *,
    actor: Any,
    password_set: bool = False,
    save: bool = True,
) -> None:
    """Save an account changed by the instance's administration (the Django admin) and
    journal it (``account.change``): granting the superuser flag, setting a password or
    deactivating someone are the most powerful changes on the instance, and left only
    Django's own admin log. ``changed``: field -> (before, after); flags and the user name
    are journaled with their values, other fields by name, a password never (only that it
    was set)."""
    if save:
        user.save()
    data: dict[str, Any] = {"user": user.get_username()}
    values = {
        name: {"from": before, "to": after}
        for name, (before, after) in changed.items()
        if name in (*ACCOUNT_FLAGS, *ACCOUNT_POWERS, "username")
    }
    if values:
        data["changes"] = values
    others = sorted(name for name in changed if name not in values and name != "password")
    if others:
        data["fields"] = others
    if password_set:
        data["password_set"] = True
    journal.append("account.change", actor=actor, subject=f"user:{user.pk}", data=data)


@transaction.atomic
def delete_account(user: Any, *, actor: Any) -> bool:
    """Delete an account (the Django admin, one or in bulk) and journal it: ``member.remove``
    in each organisation it belonged to, whose coordinators see their member go (the
    memberships went with the account, unjournaled), then ``account.delete``, naming the
    account as ``account.create`` did and nothing more. False if it was already gone
    (two deletions at once)."""
    User = get_user_model()
    memberships = Membership.objects.filter(user_id=user.pk)
    # The organisations' rows first, in one order, as every membership change takes them
    # (docs/decisions/0002-journal.md, "Lock order"): a role change committing meanwhile
    # is waited for, and the journal names the role the member had at the end.
    for org_id in sorted(set(memberships.values_list("organisation_id", flat=True))):
        Organisation.objects.select_for_update(no_key=True).filter(pk=org_id).first()
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        return False
    name, user_id = locked.get_username(), locked.pk
    held = [(m.organisation, m.role) for m in memberships.select_related("organisation")]
    # The admin's confirmation page refuses this already; checked again under the locks,
    # as remove_member does, for a role change that committed since that page was shown.
    for organisation, role in held:
        if role == Role.COORDINATOR and not (
            Membership.objects.filter(organisation=organisation, role=Role.COORDINATOR)
            .exclude(user_id=user_id)
            .exists()
        ):
            raise ActionError(
                _(
                    "Impossible de supprimer %(user)s : c'est la dernière personne à la "
                    "coordination de %(organisation)s."
                )
                % {"user": name, "organisation": organisation.name}
            )
    locked.delete()
    for organisation, role in sorted(held, key=lambda held: held[0].pk):
        journal.append(
            "member.remove",
            actor=actor,
            organisation=organisation,
            subject=f"user:{user_id}",
            data={"user": name, "role": role, "account_deleted": True},
        )
    journal.append("account.delete", actor=actor, subject=f"user:{user_id}", data={"user": name})
    return True


def record_account_created(user: Any, *, actor: Any) -> None:
    """An account the administration created in the Django admin (its add form saved it)."""
    journal.append(
        "account.create",
        actor=actor,
        subject=f"user:{user.pk}",
        data={"user": user.get_username(), "superuser": bool(user.is_superuser)},
    )


def record_admin_group_change(
    group: Any, *, actor: Any, before: dict[str, Any] | None, after: dict[str, Any]
) -> None:
    """A group of the Django admin created or changed (``group.change``): its name and
    permissions before (None for a new group) and after. A group's permissions are every
    member's powers in the admin, so changing them changes accounts, and left only
    Django's own admin log."""
    data: dict[str, Any] = {"group": after["name"], "to": after}
    if before is not None:
        data["from"] = before
    journal.append("group.change", actor=actor, subject=f"group:{group.pk}", data=data)


@transaction.atomic
def delete_admin_group(group: Any, *, actor: Any) -> None:
    """Delete a group of the Django admin; its members lose its permissions
    (``group.delete``, with what it granted)."""
    state = admin_group_state(group)
    group_id = group.pk
    group.delete()
    journal.append("group.delete", actor=actor, subject=f"group:{group_id}", data=state)


def admin_group_state(group: Any) -> dict[str, Any]:
    permissions = group.permissions.select_related("content_type")
    return {
        "name": group.name,
        "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in permissions),
    }


def username_error(raw: str) -> str | None:
    """Why ``raw`` cannot name a new account (French), or None (core/usernames.py)."""
    name = usernames.normalise(raw)
    problem = usernames.shape_error(name)
    if problem == "empty":
        return _("Choisissez un nom d'utilisateur.")
    if problem == "too_long":
        return _("Ce nom d'utilisateur est trop long (150 caractères au plus).")
    if problem == "characters":
        return _(
            "Lettres (accentuées ou non), chiffres, points, tirets et tirets bas seulement : "
            "ni espace, ni caractère invisible, ni lettre d'un autre alphabet."
        )
    if usernames.case_twin(name, _all_usernames()) is not None:
        return _("Ce nom d'utilisateur est déjà pris.")
    return None


def checked_username(raw: str) -> str:
    """``raw`` normalised (NFKC) as it will be stored, or ActionError saying why not."""
    error = username_error(raw)
    if error is not None:
        raise InvalidInput(error)
    return usernames.normalise(raw)


def _new_user(make: str, username: str, **fields: Any) -> Any:
    # Two acceptances racing for one name both pass the check; the second meets the
    # unique constraint, which is a taken name, not a server error.
    try:
        with transaction.atomic():
            return getattr(get_user_model().objects, make)(username=username, **fields)
    except IntegrityError as exc:
        raise ActionError(_("Ce nom d'utilisateur est déjà pris.")) from exc


# --- Retention (DESIGN rule 7; docs/decisions/retention.md) -------------------------------
# Each prune deletes or blanks one kind of data past its period and journals one entry with
# counts; `beffroi prune` runs them all. The journal itself is never pruned.


def prune_start(kind: str, setting: str, now: Any = None) -> tuple[Any, Any]:
    """(an empty ``retention.Outcome`` of ``kind``, the time before which its data has
    outlived the period ``setting`` gives, or None when the setting says « never »)."""
    from beffroi.core.retention import Outcome, cutoff

    days = getattr(settings, setting)
    return Outcome(kind, days), cutoff(days, now or timezone.now())


def prune_entry(outcome: Any, *, dry_run: bool) -> dict[str, Any] | None:
    """What the one journal entry of a prune says besides its action code: counts, never
    whose data went. None for a dry run or a run that found nothing (a daily cron would
    otherwise add a line a day per kind that says nothing)."""
    if dry_run or outcome.total == 0:
        return None
    return {
        "subject": f"retention:{outcome.kind}",
        # The period applied ("expired" has none: it removes what is past its own end).
        "rule": "" if outcome.days is None else f"{outcome.days} jours",
        "data": outcome.journal_data(),
    }


@transaction.atomic
def prune_invitations(*, now: Any = None, dry_run: bool = False) -> Any:
    """Delete invitations accepted, revoked or expired more than the period ago: each row
    holds an e-mail address, which the journal already leaves out (``invite``). Pending
    invitations are never touched."""
    from django.db.models import Q

    outcome, limit = prune_start("invitations", "BEFFROI_RETENTION_INVITATIONS_DAYS", now)
    if limit is None:
        return outcome
    old = Invitation.objects.filter(
        Q(accepted_at__lte=limit)
        | Q(revoked_at__lte=limit)
        | Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=limit)
    )
    outcome.counts["invitations"] = old.count()
    if not dry_run and outcome.total:
        old.delete()
    if (entry := prune_entry(outcome, dry_run=dry_run)) is not None:
        journal.append("retention.invitations", **entry)
    return outcome


@transaction.atomic
def prune_job_rows(*, now: Any = None, dry_run: bool = False) -> Any:
    """Delete django-tasks' rows of jobs finished more than the period ago (a password-reset
    job's arguments hold the address typed). Waiting and running jobs are never touched;
    what a page keeps of a finished job is in ``JobOutcome`` (docs/decisions/job-outcomes.md)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    outcome, limit = prune_start("jobs", "BEFFROI_RETENTION_JOBS_DAYS", now)
    if limit is None:
        return outcome
    old = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lte=limit,
    )
    outcome.counts["jobs"] = old.count()
    if not dry_run and outcome.total:
        old.delete()
    if (entry := prune_entry(outcome, dry_run=dry_run)) is not None:
        journal.append("retention.jobs", **entry)
    return outcome


@transaction.atomic
def prune_expired(*, now: Any = None, dry_run: bool = False) -> Any:
    """Delete what has already expired but whose row stays: sessions past their end, and
    the shared cache's entries past their timeout (log-in throttling windows keyed by
    account and network pseudonyms). Django removes them only when the table is full."""
    from django.contrib.sessions.models import Session
    from django.db import connection

    from beffroi.core.retention import Outcome

    moment = now or timezone.now()
    outcome = Outcome("expired", None)
    sessions = Session.objects.filter(expire_date__lt=moment)
    outcome.counts["sessions"] = sessions.count()
    table = connection.ops.quote_name(str(settings.CACHES["default"]["LOCATION"]))
    stamp = connection.ops.adapt_datetimefield_value(moment)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE expires < %s", [stamp])  # noqa: S608
        outcome.counts["cache_entries"] = int(cursor.fetchone()[0])
        if not dry_run and outcome.counts["cache_entries"]:
            cursor.execute(f"DELETE FROM {table} WHERE expires < %s", [stamp])  # noqa: S608
    if not dry_run and outcome.counts["sessions"]:
        sessions.delete()
    if (entry := prune_entry(outcome, dry_run=dry_run)) is not None:
        journal.append("retention.expired", **entry)
    return outcome
