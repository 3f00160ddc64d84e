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

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, hash_token
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
        token = (
            ApiToken.objects.select_related("membership__user", "membership__organization")
            .filter(key_hash=hash_token(raw))
            .first()
        )
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
