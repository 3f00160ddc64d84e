"""The webhooks app's settings: each can be set in Django's settings; these are the defaults."""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, int] = {
    "WEBHOOK_TIMEOUT_SECONDS": 5,
    "WEBHOOK_RETRY_BASE_SECONDS": 60,
    "WEBHOOK_RETRY_MAX_DELAY_SECONDS": 6 * 3600,
    "WEBHOOK_RETRY_WINDOW_SECONDS": 24 * 3600,
    "WEBHOOK_DISABLE_AFTER_SECONDS": 3 * 24 * 3600,
    "WEBHOOK_ROTATION_WINDOW_SECONDS": 24 * 3600,
    "WEBHOOK_LEASE_SECONDS": 60,
    "WEBHOOK_SWEEP_INTERVAL_SECONDS": 60,
    "WEBHOOK_SWEEP_GRACE_SECONDS": 120,
    "WEBHOOK_ORDERING_HOLD_SECONDS": 600,
}


def setting(name: str) -> float:
    """The value of one of DEFAULTS' settings, from Django's settings if set there."""
    return getattr(settings, name, DEFAULTS[name])
