"""Bearer token authentication: `Authorization: Bearer ins_...`.

One query finds the token with its membership, user and organization by the key's SHA-256.
`last_used_at` is written at most once per TOKEN_LAST_USED_RESOLUTION seconds, so reads stay
read-only on the hot path.

Invalid credentials (an unknown, expired or revoked token, a malformed header) are counted per
client address (`installer.throttling.client_ip`) against `API_INVALID_TOKEN_RATE_LIMIT`; past
it they answer 429 with `Retry-After` instead of 401. A valid token is never counted nor refused
by this limit, so a client keeps working beside someone guessing from the same address; the
guesser cannot learn more than 401 would tell, only more slowly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, Membership, Organization, hash_token
from installer.raw_rows import RowShape, prepared_cursor
from installer.throttling import client_ip, hit, parse_rate


def refuse(request, message: str) -> exceptions.APIException:
    """The error for invalid credentials: 401, or 429 (`Throttled`, with the seconds until the
    window ends) once the client address has sent more than the limit in this window."""
    rate = parse_rate(getattr(settings, "API_INVALID_TOKEN_RATE_LIMIT", None))
    if rate is not None:
        limit, window = rate
        allowed, retry_after = hit(f"api-invalid-token:{client_ip(request)}", limit, window)
        if not allowed:
            return exceptions.Throttled(wait=retry_after)
    return exceptions.AuthenticationFailed(message)


def token_by_hash_orm(key_hash: str) -> ApiToken | None:
    """The token with this key hash, its membership, user and organization loaded: the plain
    ORM version of `token_by_hash`, which tests compare it with."""
    return (
        ApiToken.objects.select_related("membership__user", "membership__organization")
        .filter(key_hash=key_hash)
        .first()
    )


def _token_lookup(connection) -> tuple[str, list[RowShape]]:
    user_model = get_user_model()
    quote = connection.ops.quote_name
    token, membership, user, organization = shapes = [
        RowShape(connection, ApiToken, "t"),
        RowShape(connection, Membership, "m"),
        RowShape(connection, user_model, "u"),
        RowShape(connection, Organization, "o"),
    ]
    sql = (
        f"SELECT {token.columns}, {membership.columns}, {user.columns}, {organization.columns}"  # noqa: S608 (names from _meta, the value bound)
        f" FROM {token.table} INNER JOIN {membership.table} ON m.id = t.membership_id"
        f" INNER JOIN {user.table} ON u.{quote(user_model._meta.pk.column)} = m.user_id"
        f" INNER JOIN {organization.table} ON o.id = m.organization_id WHERE t.key_hash = %s"
    )
    return sql, shapes


_token_lookups: dict[str, tuple[str, list[RowShape]]] = {}


def token_by_hash(key_hash: str) -> ApiToken | None:
    """Fast path (docs/performance.md): what `token_by_hash_orm` answers, from one SQL statement
    written once per database alias instead of compiled by the ORM on every request, and the
    four instances built as the ORM builds them (`installer.raw_rows`). Every API request runs
    it. PostgreSQL only (the production database); elsewhere it is the ORM version."""
    connection = connections[router.db_for_read(ApiToken)]
    if connection.vendor != "postgresql":
        return token_by_hash_orm(key_hash)
    if connection.alias not in _token_lookups:
        _token_lookups[connection.alias] = _token_lookup(connection)
    sql, shapes = _token_lookups[connection.alias]
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    objects: list[Any] = []
    start = 0
    for shape in shapes:
        instance, start = shape.take(row, start)
        objects.append(instance)
    token, membership, user, organization = objects
    membership.user = user
    membership.organization = organization
    token.membership = membership
    return token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower().encode():
            raise refuse(request, "Use 'Authorization: Bearer <token>'.")
        if len(header) != 2:
            raise refuse(request, "Malformed Authorization header: expected 'Bearer <token>'.")
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise refuse(request, "Invalid token.") from None
        token = token_by_hash(hash_token(raw))
        now = timezone.now()
        if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
            raise refuse(request, "Invalid, expired or revoked token.")
        if not token.membership.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        resolution = timedelta(seconds=settings.TOKEN_LAST_USED_RESOLUTION)
        if token.last_used_at is None or now - token.last_used_at > resolution:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        request.organization = token.membership.organization
        request.membership = token.membership
        return (token.membership.user, token)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema how BearerTokenAuthentication works (`bearerAuth`)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API token: `Authorization: Bearer ins_...`."}
