"""Per-client rate limit for public submissions, on the project's shared counters
(`installer.throttling`): the counter lives in `CACHES["default"]` (Redis when configured, the
database cache otherwise), so every web process and node counts together, and the client is
`installer.throttling.client_ip` (X-Forwarded-For only behind `TRUSTED_PROXY_COUNT` proxies)."""

from __future__ import annotations

from django.conf import settings

from installer import throttling

WINDOW_SECONDS = 60


def client_address(request) -> str:
    """The client's address as every per-client limit of the project sees it."""
    return throttling.client_ip(request)


def submission_allowed(request) -> tuple[bool, int]:
    """Counts one submission for the client; returns (allowed, seconds until the window ends).
    Fixed one-minute windows: at most WEBFORM_RATE_LIMIT submissions per client per window
    (0 = no limit)."""
    limit = int(getattr(settings, "WEBFORM_RATE_LIMIT", 5))
    if limit <= 0:
        return True, 0
    return throttling.hit(f"webform:{client_address(request)}", limit, WINDOW_SECONDS)
