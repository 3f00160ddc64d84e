"""Signatures in the Standard Webhooks format (`webhook-id`, `webhook-timestamp`,
`webhook-signature`), and beside them Installer.com's `X-Installer-Signature`, so that
receivers written for either verify a delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from django.conf import settings

from webhooks.models import SECRET_PREFIX, WebhookEndpoint


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the decoded secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def installer_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the secret text as shown
    (`whsec_...`, UTF-8), as Installer.com's receivers check `X-Installer-Signature`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, plus the previous one during a rotation window."""
    secrets_ = [endpoint.secret]
    window = timedelta(seconds=settings.WEBHOOK_ROTATION_WINDOW_SECONDS)
    if endpoint.previous_secret and endpoint.rotated_at and now < endpoint.rotated_at + window:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def signed_headers(endpoint: WebhookEndpoint, msg_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """The request headers of one attempt: `webhook-signature` signed with every secret
    `signing_secrets` gives, `X-Installer-Signature` (one value) with the current secret only."""
    timestamp = int(now.timestamp())
    signature = " ".join(sign(s, msg_id, timestamp, body) for s in signing_secrets(endpoint, now))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Installer-Webhooks/1.0",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
        "X-Installer-Signature": installer_signature(endpoint.secret, body),
    }
