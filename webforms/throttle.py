"""Per-client rate limit for public submissions, in Django's cache: with a shared cache
(database, Redis, Memcached) the limit holds across processes; with the default local-memory
cache it holds per process."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def client_address(request) -> str:
    """REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def submission_allowed(request) -> tuple[bool, int]:
    """Counts one submission for the client; returns (allowed, seconds until the window ends).
    Fixed one-minute windows: at most WEBFORM_RATE_LIMIT submissions per client per window."""
    limit = int(getattr(settings, "WEBFORM_RATE_LIMIT", 5))
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now))
    if limit <= 0:
        return True, 0
    key = f"webform-rate:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    return count <= limit, retry_after
