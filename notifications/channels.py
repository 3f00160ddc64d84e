"""Sending one rendered message on its channel. Each sender returns the provider's id for the
message and raises `SendError` when it was not sent; none opens a transaction."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from anymail.exceptions import AnymailError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape, linebreaks, urlize
from django.utils.translation import gettext as _

from notifications import sms
from notifications.models import Channel
from notifications.sms import SendError
from webhooks import egress


@dataclass
class Outgoing:
    """A rendered message: what a channel sends."""

    message_id: str
    channel: str
    recipient: str
    subject: str
    body: str
    opt_out_url: str = ""
    reply_to: str = ""
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)


def accepts_idempotency_key(channel: str) -> bool:
    """Whether a send on `channel` repeated with the same key reaches the recipient once: then
    a send cut off by a dying worker is retried, else it is marked failed_unknown."""
    if channel == Channel.WEBHOOK:
        return True  # the receiver gets the message id as `Idempotency-Key` and `webhook-id`
    if channel == Channel.CUSTOMER_SMS:
        return sms.get_backend().accepts_idempotency_key
    return False  # SMTP has no such key


def email_html(body: str, opt_out_url: str) -> str:
    """The HTML part: the plain body HTML-escaped (values included), links made clickable."""
    html = linebreaks(urlize(escape(body), autoescape=False))
    footer = ""
    if opt_out_url:
        footer = (
            '<hr><p style="font-size:12px;color:#555">'
            f'<a href="{escape(opt_out_url)}">{escape(_("Stop emails and SMS about this order"))}</a></p>'
        )
    return f'<!doctype html><html><body style="font-family:sans-serif">{html}{footer}</body></html>'


def send_email(out: Outgoing) -> str:
    """Through Django's email backend (EMAIL_URL). The provider id is the Message-ID we set, or
    the provider's id when the backend is a provider's API (django-anymail)."""
    message_id = f"<{out.message_id}@{settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN}>"
    body = out.body
    headers = {"Message-ID": message_id}
    if out.opt_out_url:
        body = f"{body}\n\n-- \n{_('Stop emails and SMS about this order:')} {out.opt_out_url}\n"
        headers["List-Unsubscribe"] = f"<{out.opt_out_url}>"
    email = EmailMultiAlternatives(
        subject=out.subject.replace("\n", " ").strip(),
        body=body,
        to=[out.recipient],
        reply_to=[out.reply_to] if out.reply_to else None,
        headers=headers,
    )
    email.attach_alternative(email_html(out.body, out.opt_out_url), "text/html")
    for name, content, mimetype in out.attachments:
        email.attach(name, content, mimetype)
    try:
        sent = email.send(fail_silently=False)
    except (OSError, AnymailError) as exc:  # SMTP errors are OSErrors too
        raise SendError(f"{type(exc).__name__}: {exc}") from None
    if not sent:
        raise SendError("The email backend sent nothing.")
    # Through a provider's API (django-anymail): the provider's id, and its refusal as a failure.
    status = getattr(email, "anymail_status", None)
    if status is not None:
        if status.status and status.status & {"rejected", "invalid", "failed"}:
            raise SendError(f"The email provider refused the message: {', '.join(sorted(status.status))}.")
        if status.message_id is not None:
            return str(status.message_id)
    return message_id


def send_sms(out: Outgoing) -> str:
    return sms.get_backend().send(to=out.recipient, body=out.body, idempotency_key=out.message_id)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Public addresses only, unless WEBHOOK_ALLOW_PRIVATE_TARGETS: the webhooks' egress guard.
_opener = urllib.request.build_opener(_NoRedirects, egress.GuardedHTTPHandler, egress.GuardedHTTPSHandler)


def send_webhook(out: Outgoing) -> str:
    """The rendered payload to the notification's URL with its method and headers, through the
    webhooks' egress guard and deadline; `Idempotency-Key` and `webhook-id` carry the message id.
    A 2xx is sent; 429 and 5xx are retried; other answers fail."""
    headers = {"Content-Type": "application/json", "User-Agent": "Installer-Notifications/1.0", **out.headers}
    headers["Idempotency-Key"] = out.message_id
    headers["webhook-id"] = out.message_id
    request = urllib.request.Request(  # noqa: S310 - http(s) checked on save, guarded on connect
        out.recipient, data=out.body.encode(), headers=headers, method=out.method
    )
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    with egress.Deadline(timeout) as deadline:
        try:
            with _opener.open(request, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None
    if deadline.expired.is_set():
        raise SendError(f"No answer within {timeout} s.")
    if 200 <= status < 300:
        return f"HTTP {status}"
    raise SendError(f"HTTP {status}", retry=status == 429 or status >= 500)


SENDERS = {
    Channel.CUSTOMER_EMAIL: send_email,
    Channel.PARTNER_EMAIL: send_email,
    Channel.ROUTER_EMAIL: send_email,
    Channel.CUSTOMER_SMS: send_sms,
    Channel.WEBHOOK: send_webhook,
}


def send(out: Outgoing) -> str:
    return SENDERS[Channel(out.channel)](out)
