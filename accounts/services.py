"""Memberships, API tokens and invitations."""

from __future__ import annotations

import datetime
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from accounts.exceptions import Conflict, InvalidInput, InvalidRole, InvitationInvalid, NotAllowed, NotFound
from accounts.models import (
    INVITATION_VALID_DAYS,
    ApiToken,
    Invitation,
    Membership,
    Organization,
    Role,
    hash_token,
    role_may_invite,
    role_valid_for,
)
from accounts.zones import local_text, zone_of


def api_token_create(
    *, membership: Membership, name: str, expires_at: datetime.datetime | None = None, test: bool = False
) -> tuple[ApiToken, str]:
    """Creates a token; returns it with its key, which is never stored and cannot be shown again.
    A `test` token creates test orders."""
    raw = ApiToken.generate_key()
    token = ApiToken(membership=membership, name=name[:100] or "token", expires_at=expires_at, test=test)
    token.set_key(raw)
    token.save()
    return token, raw


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def membership_ensure(*, user: User, organization: Organization, role: str = Role.OPERATOR) -> Membership:
    """The user's membership of the organization with `role`, made or changed. InvalidRole for
    an unknown role or a technician outside an installer organization."""
    check_role(role, organization)
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def check_role(role: str, organization: Organization) -> None:
    """InvalidRole unless `role` is a role and may exist in `organization`."""
    if role not in Role.values:
        raise InvalidRole(f"Unknown role '{role}'.", details={"role": [f"Must be one of {', '.join(Role.values)}."]})
    if not role_valid_for(role, organization):
        message = "The technician role exists only in an installer organization."
        raise InvalidRole(message, details={"role": [message]})


def test_installer_ensure(*, router: Organization) -> Organization:
    """The router's test installer, created on first use: an installer organization that only
    ever receives the router's test orders. Safe under concurrency: of two first uses at once,
    one creates it and the other reads it (the one-to-one is unique)."""
    existing = Organization.objects.filter(test_installer_for=router).first()
    if existing is not None:
        return existing
    base = slugify(f"{router.slug}-test-installer")[:50]
    slug = base
    if Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(4)}"
    try:
        with transaction.atomic():
            return Organization.objects.create(
                name=f"{router.name} (test installer)"[:200],
                slug=slug,
                is_installer=True,
                time_zone=router.time_zone,
                display_id_prefix=router.display_id_prefix,
                test_installer_for=router,
            )
    except IntegrityError:
        return Organization.objects.get(test_installer_for=router)


# --------------------------------------------------------------------------------------------
# Invitations
# --------------------------------------------------------------------------------------------


def invitation_link(raw_token: str) -> str:
    """The absolute one-time link of an invitation (PUBLIC_BASE_URL, as every emailed link)."""
    return f"{settings.PUBLIC_BASE_URL}/partner/invitations/{raw_token}/"


def _role_in(user: Any, organization: Organization) -> str | None:
    if user is None:
        return None
    if getattr(user, "is_superuser", False) and user.is_active:
        return Role.ADMIN
    return Membership.objects.filter(user_id=user.pk, organization=organization).values_list("role", flat=True).first()


def invitation_create(*, organization: Organization, email: str, role: str, invited_by: Any) -> tuple[Invitation, str]:
    """Invites `email` into the organization with `role` and emails the one-time link (after
    commit). Returns the invitation and the raw token, which is stored nowhere.

    Only an admin of the organization invites (NotAllowed, 403). InvalidRole for a role the
    organization cannot have; InvalidInput for a bad email; Conflict when that email already
    has an open invitation or is a member. An expired invitation of the same email is revoked
    in the same transaction, so that a new one can be sent."""
    if not role_may_invite(_role_in(invited_by, organization) or ""):
        raise NotAllowed("Only an admin of the organization can invite people.")
    check_role(role, organization)
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            "Enter a valid email address.", details={"email": ["Enter a valid email address."]}
        ) from None
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member of {organization.name}.", details={"email": ["Already a member."]})
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        existing = (
            Invitation.objects.select_for_update()
            .filter(organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )
        if existing is not None:
            if existing.expires_at > now:
                raise Conflict(
                    f"{email} already has an open invitation; revoke it to send a new one.",
                    details={"email": ["Already invited."]},
                )
            existing.revoked_at = now
            existing.save(update_fields=["revoked_at"])
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    organization=organization,
                    email=email,
                    role=role,
                    invited_by=invited_by,
                    token_hash=hash_token(raw),
                    expires_at=now + timedelta(days=INVITATION_VALID_DAYS),
                )
        except IntegrityError:  # a concurrent invitation of the same email won
            raise Conflict(
                f"{email} already has an open invitation.", details={"email": ["Already invited."]}
            ) from None
        link = invitation_link(raw)
        transaction.on_commit(lambda: _send_invitation(invitation, link))
    return invitation, raw


def _send_invitation(invitation: Invitation, link: str) -> None:
    """The invitation email, in the inviting organization's words; sent after commit."""
    context = {
        "organization": invitation.organization.name,
        "role": Role(invitation.role).label,
        "link": link,
        "days": INVITATION_VALID_DAYS,
        "expires": local_text(invitation.expires_at, zone_of(invitation.organization)),
        "zone": zone_of(invitation.organization).key,
    }
    subject = gettext("You are invited to %(organization)s") % {"organization": invitation.organization.name}
    body = render_to_string("accounts/invitation_email.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invitation_for_token(raw_token: str) -> Invitation | None:
    """The open invitation of a link's token, with its organization; None when the token is
    unknown, expired, used or revoked (the same answer for each)."""
    if not raw_token or len(raw_token) > 200:
        return None
    invitation = Invitation.objects.select_related("organization").filter(token_hash=hash_token(raw_token)).first()
    if invitation is None or not invitation.is_open:
        return None
    return invitation


def invitation_accept(*, token: str, user: Any = None, password: str | None = None) -> tuple[Invitation, Any]:
    """Uses an invitation once: gives `user` (a signed-in user whose email is the invited one)
    the membership, or, without `user`, creates the account (username and email = the invited
    email, `password`) and gives it the membership. Returns the invitation and the user.

    InvitationInvalid (404) for an unknown, expired, used or revoked token; NotAllowed (403)
    when the signed-in user's email is not the invited one; Conflict when, without `user`, an
    account with that email exists (it signs in first); InvalidInput without a password."""
    pk = None
    invitation = invitation_for_token(token)
    if invitation is not None:
        pk = invitation.pk
    if pk is None:
        raise InvitationInvalid("This invitation link is not valid: it may have expired, been used or been revoked.")
    User = get_user_model()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=pk)
        if not invitation.is_open:  # used or revoked meanwhile
            raise InvitationInvalid(
                "This invitation link is not valid: it may have expired, been used or been revoked."
            )
        if user is not None:
            if (user.email or "").strip().lower() != invitation.email.lower():
                raise NotAllowed("This invitation is for another email address.")
        else:
            if User.objects.filter(Q(email__iexact=invitation.email) | Q(username__iexact=invitation.email)).exists():
                raise Conflict("An account with this email address exists: sign in to accept the invitation.")
            if not password:
                raise InvalidInput("Choose a password.", details={"password": ["Choose a password."]})
            user = User(username=invitation.email, email=invitation.email, is_staff=False)
            user.set_password(password)
            user.save()
        membership_ensure(user=user, organization=invitation.organization, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return invitation, user


def invitation_revoke(*, invitation_id: Any, organization: Organization, revoked_by: Any) -> Invitation:
    """Revokes an open invitation of the organization (an admin only: NotAllowed); NotFound for
    another organization's. A used or already revoked invitation is left as it is."""
    if not role_may_invite(_role_in(revoked_by, organization) or ""):
        raise NotAllowed("Only an admin of the organization can revoke invitations.")
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id, organization=organization).first()
        if invitation is None:
            raise NotFound("Invitation not found.")
        if invitation.accepted_at is None and invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


# --------------------------------------------------------------------------------------------
# Memberships managed by an organization's admin
# --------------------------------------------------------------------------------------------


def _locked_member(*, membership_id: Any, organization: Organization, changed_by: Any, verb: str) -> Membership:
    """Checks that `changed_by` is an admin of the organization (NotAllowed) and is not changing
    itself (NotAllowed); locks the organization's row, which serialises every membership change
    of it (two admins demoting each other at once cannot leave it without an admin), and
    returns the membership, locked (NotFound for another organization's). Caller is in a
    transaction."""
    if not role_may_invite(_role_in(changed_by, organization) or ""):
        raise NotAllowed(f"Only an admin of the organization can {verb} members.")
    Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk", flat=True).first()
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "organization")
        .filter(pk=membership_id, organization=organization)
        .first()
    )
    if membership is None:
        raise NotFound("Member not found.")
    if changed_by is not None and membership.user_id == changed_by.pk:
        raise NotAllowed(f"You cannot {verb} yourself; another admin can.")
    return membership


def _keeps_an_admin(membership: Membership) -> None:
    """Conflict when `membership` is the organization's last admin (the caller holds the
    organization's lock)."""
    if membership.role != Role.ADMIN:
        return
    others = Membership.objects.filter(organization_id=membership.organization_id, role=Role.ADMIN).exclude(
        pk=membership.pk
    )
    if not others.exists():
        raise Conflict("The organization must keep at least one admin.")


def membership_set_role(*, membership_id: Any, organization: Organization, role: str, changed_by: Any) -> Membership:
    """Changes a member's role, in one transaction under the organization's lock. Only an admin
    of the organization (NotAllowed), not on itself (NotAllowed); NotFound for another
    organization's membership; InvalidRole for a role the organization cannot have; Conflict
    when it would leave the organization without an admin."""
    check_role(role, organization)
    with transaction.atomic():
        membership = _locked_member(
            membership_id=membership_id, organization=organization, changed_by=changed_by, verb="change"
        )
        if membership.role == role:
            return membership
        if role != Role.ADMIN:
            _keeps_an_admin(membership)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership_id: Any, organization: Organization, removed_by: Any) -> Membership:
    """Removes a member from the organization (its API tokens go with the membership), in one
    transaction under the organization's lock. The same refusals as `membership_set_role`.
    Jobs assigned to the user keep their assignee until a dispatcher assigns them again."""
    with transaction.atomic():
        membership = _locked_member(
            membership_id=membership_id, organization=organization, changed_by=removed_by, verb="remove"
        )
        _keeps_an_admin(membership)
        membership.delete()
    return membership
