"""Delivery: retries with backoff, crash safety (a send cut off by a dying worker is retried only
where the channel accepts an idempotency key, else marked failed_unknown), the sweep, opt-out,
the Twilio adapter against a stand-in on 127.0.0.1, and the webhook channel."""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from notifications import services
from notifications.context import opt_out_token
from notifications.models import Channel, Message, MessageStatus, OptOut, Timing
from notifications.sms import SendError, TwilioSmsBackend

pytestmark = pytest.mark.django_db


class StandIn:
    """An HTTP server on 127.0.0.1 that records requests and answers `status` with `body`."""

    def __init__(self, status=201, body=b'{"sid": "SM123"}'):
        self.requests: list[dict] = []
        self.status, self.body = status, body
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length).decode(),
                    }
                )
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(outer.body)

            do_POST = do_PUT = do_PATCH = _any

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_a_failed_send_is_retried_with_backoff_then_fails_after_max_attempts(
    rule, make_order, clock, run_due_tasks, settings, monkeypatch
):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    rule("order.created")
    order = make_order()
    calls = []

    def broken(out):
        calls.append(timezone.now())
        raise SendError("SMTP down")

    monkeypatch.setitem(services.channels.SENDERS, Channel.CUSTOMER_EMAIL, broken)
    run_due_tasks()
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.PLANNED and message.attempts == 1 and message.error == "SMTP down"
    assert message.due_at > timezone.now() + datetime.timedelta(seconds=45)  # ~60 s, jittered
    run_due_tasks()
    assert len(calls) == 1  # not before its time
    clock.advance(minutes=2)
    run_due_tasks()
    clock.advance(minutes=3)
    run_due_tasks()
    message.refresh_from_db()
    assert len(calls) == 3 and message.status == MessageStatus.FAILED and message.attempts == 3


def _cut_off(message_id):
    """What a worker killed mid-send leaves: the row claimed (sending, attempt counted, lease)."""
    claimed = services._claim(message_id, timezone.now())
    assert claimed is not None
    return claimed[0]


def test_a_send_cut_off_on_a_channel_without_an_idempotency_key_is_never_sent_twice(
    rule, make_order, clock, run_due_tasks
):
    rule("order.created")
    order = make_order()
    message = _cut_off(Message.objects.get(order=order).pk)
    assert Message.objects.get(pk=message.pk).status == MessageStatus.SENDING
    run_due_tasks()  # the original task: the row is in flight, nothing is sent
    clock.advance(seconds=121)
    result = services.messages_sweep()
    assert result["failed_unknown"] == 1
    run_due_tasks()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED_UNKNOWN and mail.outbox == []


def test_a_send_cut_off_on_a_channel_with_an_idempotency_key_is_retried_with_the_same_key(
    rule, make_order, clock, run_due_tasks
):
    with StandIn(status=200, body=b"{}") as receiver:
        rule(
            "order.created",
            channel=Channel.WEBHOOK,
            webhook_url=receiver.url + "/hook",
            templates={"en": {"subject": "", "body": '{"order": "{{order.displayId}}"}'}},
        )
        order = make_order()
        message = _cut_off(Message.objects.get(order=order).pk)
        clock.advance(seconds=121)
        assert services.messages_sweep()["retried"] == 1
        run_due_tasks()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    (request,) = receiver.requests
    assert request["headers"]["Idempotency-Key"] == str(message.pk)
    assert json.loads(request["body"]) == {"order": order.display_id}


def test_the_sweep_enqueues_a_planned_message_whose_task_was_lost(rule, make_order, clock, run_due_tasks):
    from django_tasks_db.models import DBTaskResult

    rule("order.created")
    order = make_order()
    DBTaskResult.objects.all().delete()  # the task is lost
    clock.advance(minutes=3)
    assert services.messages_sweep()["enqueued"] == 1
    run_due_tasks()
    assert Message.objects.get(order=order).status == MessageStatus.SENT and len(mail.outbox) == 1


def test_a_later_message_is_queued_for_its_due_time_rounded_up_and_one_due_now_at_once(rule, make_order):
    # RQ truncates a deferred job's time to the second: queued for the due time itself, the send
    # could start before it, send nothing and leave the message to the sweep.
    from django_tasks_db.models import DBTaskResult

    rule("order.created")
    rule("order.created", timing=Timing.AFTER, offset=2)
    order = make_order()
    now_message, later = sorted(Message.objects.filter(order=order), key=lambda m: m.due_at)
    tasks = {t.args_kwargs["args"][0]: t.run_after for t in DBTaskResult.objects.all()}
    assert tasks[str(now_message.pk)] == now_message.due_at  # past by now: not moved
    assert later.due_at.microsecond
    assert tasks[str(later.pk)] == later.due_at.replace(microsecond=0) + datetime.timedelta(seconds=1)


def test_a_send_that_starts_before_the_due_time_queues_itself_again(rule, make_order):
    from django_tasks_db.models import DBTaskResult

    from notifications.tasks import send_message

    rule("order.created", timing=Timing.AFTER, offset=2)
    order = make_order()
    message = Message.objects.get(order=order)
    DBTaskResult.objects.all().delete()
    assert send_message.call(str(message.pk)) == "not sent"
    waiting = [t for t in DBTaskResult.objects.all() if t.task_path == "notifications.tasks.send_message"]
    assert [(t.args_kwargs["args"], t.run_after) for t in waiting] == [
        ([str(message.pk)], message.due_at.replace(microsecond=0) + datetime.timedelta(seconds=1))
    ]
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SKIPPED)
    DBTaskResult.objects.all().delete()
    assert send_message.call(str(message.pk)) == "not sent"  # no longer planned: nothing queued
    assert not DBTaskResult.objects.filter(task_path="notifications.tasks.send_message").exists()


def test_opt_out_page_confirms_then_records_and_later_messages_are_skipped(rule, make_order, run_due_tasks, client):
    rule("order.created")
    rule("order.dispatched", channel=Channel.CUSTOMER_SMS, templates={"en": {"subject": "", "body": "x"}})
    order = make_order(language="nb")
    run_due_tasks()
    url = f"/notifications/opt-out/{opt_out_token(order)}/"
    page = client.get(url)
    assert page.status_code == 200 and "Stopp meldinger" in page.content.decode()
    assert not OptOut.objects.exists()  # a GET (a mail scanner following links) changes nothing
    done = client.post(url)
    assert done.status_code == 200 and "Du får ikke flere meldinger" in done.content.decode()
    assert set(OptOut.objects.values_list("address", flat=True)) == {"ola@example.com", "+4722123456"}
    from dispatch import services as dispatch_services
    from notifications.tests.conftest import ACTOR

    dispatch_services.order_dispatch(order_id=order.pk, organization=order.organization, actor=ACTOR)
    run_due_tasks()
    sms = Message.objects.get(order=order, channel=Channel.CUSTOMER_SMS)
    assert sms.status == MessageStatus.SKIPPED and sms.error == "The customer opted out."


def test_a_forged_opt_out_token_is_a_404(client, make_order):
    order = make_order()
    response = client.post(f"/notifications/opt-out/{opt_out_token(order)[:-2]}xx/")
    assert response.status_code == 404 and not OptOut.objects.exists()


def test_twilio_adapter_against_a_stand_in():
    with (
        StandIn(status=201, body=b'{"sid": "SM42", "status": "queued"}') as twilio,
        override_settings(
            SMS_TWILIO_BASE_URL=twilio.url,
            SMS_TWILIO_ACCOUNT_SID="AC1",
            SMS_TWILIO_AUTH_TOKEN="tok",
            SMS_FROM="+4700000000",
        ),
    ):
        sid = TwilioSmsBackend().send(to="+4791234567", body="Hei æøå", idempotency_key="m1")
    assert sid == "SM42"
    (request,) = twilio.requests
    assert request["path"] == "/2010-04-01/Accounts/AC1/Messages.json"
    assert request["headers"]["Authorization"] == "Basic QUMxOnRvaw=="  # AC1:tok
    assert parse_qs(request["body"]) == {"To": ["+4791234567"], "From": ["+4700000000"], "Body": ["Hei æøå"]}


@pytest.mark.parametrize(("status", "retry"), [(500, True), (429, True), (400, False)])
def test_twilio_errors_say_whether_to_retry(status, retry):
    with (
        StandIn(status=status, body=b'{"message": "nope"}') as twilio,
        override_settings(
            SMS_TWILIO_BASE_URL=twilio.url,
            SMS_TWILIO_ACCOUNT_SID="AC1",
            SMS_TWILIO_AUTH_TOKEN="tok",
            SMS_FROM="+4700000000",
        ),
        pytest.raises(SendError) as exc,
    ):
        TwilioSmsBackend().send(to="+4791234567", body="x", idempotency_key="m1")
    assert exc.value.retry is retry and str(status) in str(exc.value)


def test_an_sms_message_goes_through_the_twilio_backend(rule, make_order, run_due_tasks, settings):
    with StandIn() as twilio:
        settings.SMS_BACKEND = "notifications.sms.TwilioSmsBackend"
        settings.SMS_TWILIO_BASE_URL, settings.SMS_TWILIO_ACCOUNT_SID = twilio.url, "AC1"
        settings.SMS_TWILIO_AUTH_TOKEN, settings.SMS_FROM = "tok", "+4700000000"
        rule(
            "order.created",
            channel=Channel.CUSTOMER_SMS,
            templates={"en": {"subject": "", "body": "{{order.displayId}}"}},
        )
        order = make_order()
        run_due_tasks()
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.SENT and message.provider_id == "SM123"
    assert parse_qs(twilio.requests[0]["body"])["Body"] == [order.display_id]


def test_the_webhook_channel_uses_the_egress_guard(rule, make_order, run_due_tasks, settings):
    with StandIn(status=200, body=b"{}") as receiver:
        rule(
            "order.created",
            channel=Channel.WEBHOOK,
            webhook_url=receiver.url + "/hook",
            webhook_method="PUT",
            webhook_headers={"X-Api-Key": "k"},
            templates={"en": {"subject": "", "body": '{"n": "{{customer.name}}"}'}},
        )
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # 127.0.0.1 is not public: refused on connect
        order = make_order(contact_person_name='Ola "O" Nordmann')
        run_due_tasks()
        message = Message.objects.get(order=order)
        assert message.status == MessageStatus.PLANNED and "public" in message.error.lower() and not receiver.requests
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
        services.Message.objects.filter(pk=message.pk).update(due_at=timezone.now())
        services.message_send(message_id=message.pk)
    (request,) = receiver.requests
    assert request["method"] == "PUT" and request["headers"]["X-Api-Key"] == "k"
    assert json.loads(request["body"]) == {"n": 'Ola "O" Nordmann'}


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
def test_an_email_through_a_providers_api_records_its_id_and_its_refusal(rule, make_order, run_due_tasks):
    """With EMAIL_URL=anymail://<esp> the email goes through django-anymail: the provider's
    message id is the message's provider id, and a refused recipient fails the message."""
    from anymail.exceptions import AnymailAPIError

    rule("order.created")
    order = make_order()
    run_due_tasks()
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.SENT and len(mail.outbox) == 1
    assert message.provider_id == "0"  # the test backend's id: the message's place in the outbox

    mail.outbox.clear()
    original = mail.EmailMultiAlternatives.send

    def refused(self, fail_silently=False):
        self.anymail_test_response = AnymailAPIError("rejected by the provider")
        return original(self, fail_silently=fail_silently)

    from unittest import mock

    with mock.patch.object(mail.EmailMultiAlternatives, "send", refused):
        second = make_order()
        run_due_tasks()
    failed = Message.objects.get(order=second)
    assert failed.status != MessageStatus.SENT and "rejected by the provider" in failed.error


def test_email_url_anymail_names_the_providers_backend_and_settings(monkeypatch):
    import subprocess
    import sys

    code = (
        "from django.conf import settings; import django; django.setup();"
        "print(settings.EMAIL_BACKEND); print(settings.ANYMAIL['MAILGUN_API_KEY'])"
    )
    env = {
        **__import__("os").environ,
        "DJANGO_SETTINGS_MODULE": "installer.settings",
        "DEBUG": "1",
        "EMAIL_URL": "anymail://mailgun",
        "ANYMAIL_MAILGUN_API_KEY": "key-123",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["anymail.backends.mailgun.EmailBackend", "key-123"]
