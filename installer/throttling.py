"""Rate limits on counters in the shared cache (`CACHES["default"]`: Redis when `REDIS_URL` or
`CACHE_URL` is set, the database cache otherwise), so every web node counts together.

- `hit(key, limit, window)`: the generic fixed-window counter; anything may use it (the webforms
  per client with `client_ip(request)`, logins, ...).
- `TokenRateThrottle`: DRF throttle for the API, one counter per API token, rate from
  `API_RATE_LIMIT` (e.g. "1200/min"; "0" or "off" turns it off). A refusal is 429 in the error
  shape with `Retry-After` (header and `retryAfter` in the body).

Counting: one key per (key, window number). A window's first hit creates it with `cache.add`;
later hits increment it: atomically where the backend increments natively (Redis, local
memory), else (the database cache) by a get and a set with the window's remaining time, so
concurrent hits may be under-counted by a few (use Redis when exact limits matter). No hit asks
the database cache to insert a key that exists: that insert fails, and PostgreSQL logs the
unique violation and leaves a dead row behind.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.base import BaseCache
from rest_framework.throttling import BaseThrottle

PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """'1200/min' -> (1200, 60); '10/5s' -> (10, 5); None, '', '0', 'off' -> None (no limit)."""
    if rate is None or rate.strip().lower() in ("", "0", "off", "none"):
        return None
    count, _, period = rate.strip().partition("/")
    period = period.strip().lower() or "s"
    multiplier = ""
    while period and period[0].isdigit():
        multiplier, period = multiplier + period[0], period[1:]
    if period not in PERIODS:
        raise ValueError(f"Unknown rate period in {rate!r}: use s, min, hour or day.")
    return int(count), PERIODS[period] * int(multiplier or 1)


def _cache_key(key: str, bucket: int) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # bounded length, any characters in
    return f"throttle:{digest}:{bucket}"


def hit(key: str, limit: int, window: int, *, now: float | None = None) -> tuple[bool, int]:
    """Counts one hit for `key` in the current window of `window` seconds.

    Returns (allowed, retry_after): allowed while at most `limit` hits fell in this window;
    retry_after is the whole seconds until the window ends (0 when allowed).
    """
    now = time.time() if now is None else now
    bucket = int(now // window)
    cache_key = _cache_key(key, bucket)
    # The key outlives its window by a second; the window number in it starts the next afresh.
    timeout = (bucket + 1) * window - now + 1
    count = _increment(cache_key, timeout)
    if count <= limit:
        return True, 0
    return False, max(1, math.ceil((bucket + 1) * window - now))


def _native_incr() -> bool:
    """Whether the cache backend increments by itself (atomically, keeping the key's expiry),
    rather than by BaseCache's get-and-set."""
    return type(caches[DEFAULT_CACHE_ALIAS]).incr is not BaseCache.incr


def _increment(cache_key: str, timeout: float) -> int:
    """The counter's value after adding one; created with `cache.add` when absent."""
    if _native_incr():
        try:
            return cache.incr(cache_key)
        except ValueError:  # the window's first hit
            if cache.add(cache_key, 1, timeout):
                return 1
            return cache.incr(cache_key)  # another hit created it meanwhile
    current = cache.get(cache_key)
    if current is None:
        if cache.add(cache_key, 1, timeout):
            return 1
        current = cache.get(cache_key, 0)  # another hit created it meanwhile
    count = int(current) + 1
    cache.set(cache_key, count, timeout)
    return count


def client_ip(request) -> str:
    """The client address. Behind `TRUSTED_PROXY_COUNT` proxies it is taken from
    X-Forwarded-For, counted from the right, so clients cannot forge it."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


class TokenRateThrottle(BaseThrottle):
    """One counter per API token (not per user or address): each integration gets its own budget."""

    def allow_request(self, request, view) -> bool:
        self.retry_after = None
        rate = parse_rate(getattr(settings, "API_RATE_LIMIT", None))
        token = getattr(request, "auth", None)
        if rate is None or token is None or getattr(token, "pk", None) is None:
            return True
        limit, window = rate
        allowed, self.retry_after = hit(f"api-token:{token.pk}", limit, window)
        return allowed

    def wait(self) -> float | None:
        return self.retry_after
