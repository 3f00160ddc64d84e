"""Memberships and API tokens."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from accounts.models import ApiToken, Membership, Organization, Role


def api_token_create(
    *, membership: Membership, name: str, expires_at: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """Creates a token; returns it with its key, which is never stored and cannot be shown again."""
    raw = ApiToken.generate_key()
    token = ApiToken(membership=membership, name=name[:100] or "token", expires_at=expires_at)
    token.set_key(raw)
    token.save()
    return token, raw


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def membership_ensure(*, user: User, organization: Organization, role: str = Role.OPERATOR) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership
