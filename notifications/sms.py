"""SMS backends. `SMS_BACKEND` names the class (a dotted path); each has `send(to=, body=,
idempotency_key=) -> provider id` and raises `SendError` (with `retry`) when it was not sent.

- `notifications.sms.ConsoleSmsBackend`: prints each SMS to stdout (development; the default
  with DEBUG).
- `notifications.sms.TwilioSmsBackend`: Twilio's Messages API (`POST
  {SMS_TWILIO_BASE_URL}/2010-04-01/Accounts/{SMS_TWILIO_ACCOUNT_SID}/Messages.json`, form fields
  To, From, Body, HTTP basic auth with the account SID and auth token); the provider id is the
  answer's `sid`. Twilio takes no idempotency key, so a send cut off by a dying worker is not
  repeated (`accepts_idempotency_key = False`, docs/notifications.md).
- `notifications.sms.DisabledSmsBackend`: refuses every SMS (the default without DEBUG until
  a provider is configured); the message fails with that reason.
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


class SendError(Exception):
    """Not sent. `retry`: whether trying again later may succeed (network, 5xx, 429)."""

    def __init__(self, message: str, *, retry: bool = True):
        super().__init__(message)
        self.retry = retry


class BaseSmsBackend:
    # Whether sending twice with the same key sends once (then a cut-off send is retried).
    accepts_idempotency_key = False

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    accepts_idempotency_key = True  # nothing leaves the machine: a repeat costs nothing

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        self.stream.write(f"SMS to {to} ({idempotency_key}):\n{body}\n{'-' * 40}\n")
        self.stream.flush()
        return f"console-{idempotency_key}"


class DisabledSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        raise SendError("No SMS provider is configured (SMS_BACKEND).", retry=False)


class TwilioSmsBackend(BaseSmsBackend):
    def __init__(self) -> None:
        self.base_url = settings.SMS_TWILIO_BASE_URL.rstrip("/")
        self.account_sid = settings.SMS_TWILIO_ACCOUNT_SID
        self.auth_token = settings.SMS_TWILIO_AUTH_TOKEN
        self.sender = settings.SMS_FROM
        self.timeout = settings.SMS_TIMEOUT_SECONDS

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        if not (self.account_sid and self.auth_token and self.sender):
            raise SendError("Twilio needs SMS_TWILIO_ACCOUNT_SID, SMS_TWILIO_AUTH_TOKEN and SMS_FROM.", retry=False)
        url = f"{self.base_url}/2010-04-01/Accounts/{urllib.parse.quote(self.account_sid)}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": body}).encode()
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the operator's configured https URL
            url,
            data=data,
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read(65536) or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read(2048).decode("utf-8", errors="replace")
            exc.close()
            raise SendError(
                f"Twilio answered {exc.code}: {detail[:500]}", retry=exc.code == 429 or exc.code >= 500
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SendError(f"Twilio unreachable: {exc}") from None
        sid = answer.get("sid") if isinstance(answer, dict) else None
        if not sid:
            raise SendError("Twilio's answer has no message sid.", retry=False)
        return str(sid)


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
