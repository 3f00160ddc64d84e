"""Memberships and API tokens."""

from __future__ import annotations

import datetime
import secrets

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.exceptions import InvalidRole
from accounts.models import ApiToken, Membership, Organization, Role, role_valid_for


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
