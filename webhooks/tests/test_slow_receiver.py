"""A receiver that answers one byte at a time: the timeout bounds the whole attempt, and the
endpoint that timed out waits instead of holding the worker for each of its deliveries."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.utils import timezone

from orders.tests.factories import OrganizationFactory, create_order
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.tests.conftest import drain

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class Trickle:
    """Reads a request, then sends a 200 answer one byte every `pause` seconds (about 12 s for
    the whole answer at 0.2 s): every single read gets a byte well within any timeout."""

    def __init__(self, pause: float = 0.2):
        self.pause = pause
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/hooks"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in ANSWER:
                    if self._stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(self.pause)
            except OSError:
                return  # the client cut the connection

    def stop(self) -> None:
        self._stop.set()
        self._server.close()


@pytest.fixture
def trickle():
    server = Trickle()
    yield server
    server.stop()


def test_a_byte_a_second_receiver_is_cut_at_the_timeout_in_total(trickle):
    started = time.monotonic()
    result = services.post(trickle.url, b"{}", {"Content-Type": "application/json"}, timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 1.8, elapsed  # the whole answer would take 12 s; each read alone is quick
    assert result.status_code is None and not result.ok
    assert result.error == "TimeoutError: no answer within 1 s"
    assert result.timed_out


def test_a_normal_receiver_is_not_affected_by_the_deadline(receiver):
    result = services.post(receiver.url, b"{}", {"Content-Type": "application/json"}, timeout=1)
    assert result.ok and result.response_excerpt == "ok" and not result.timed_out
    time.sleep(1.2)  # the deadline's timer was cancelled: nothing happens to later exchanges
    assert services.post(receiver.url, b"{}", {}, timeout=1).ok


@pytest.mark.django_db(transaction=True)
def test_a_slow_endpoint_does_not_starve_another_tenants(trickle, receiver, make_endpoint, settings):
    """Three deliveries to a slow receiver and three to a fast one, in one queue: the slow
    endpoint costs one timeout, then waits (deferred); the fast one gets all of its deliveries."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    slow_org = OrganizationFactory(name="Slow", slug="slow")
    fast_org = OrganizationFactory(name="Fast", slug="fast")
    slow, _ = make_endpoint(slow_org, trickle.url, events=["order.created"])
    make_endpoint(fast_org, receiver.url, events=["order.created"])
    for _ in range(3):
        create_order(slow_org)
        create_order(fast_org)

    started = time.monotonic()
    drain()
    elapsed = time.monotonic() - started

    fast = WebhookDelivery.objects.filter(endpoint__organization=fast_org)
    assert sorted(fast.values_list("status", flat=True)) == [DeliveryStatus.SUCCEEDED] * 3
    assert trickle.connections == 1  # one attempt cut at the timeout; the other two waited
    assert elapsed < 2 * settings.WEBHOOK_TIMEOUT_SECONDS + 1.5, elapsed
    slow.refresh_from_db()
    assert slow.deferred_until is not None
    waiting = WebhookDelivery.objects.filter(endpoint=slow)
    assert sorted(waiting.values_list("attempts", flat=True)) == [0, 0, 1]
    assert all(d.status == DeliveryStatus.PENDING for d in waiting)
    assert all(d.next_attempt_at == slow.deferred_until for d in waiting if d.attempts == 0)

    # Once the wait is over the next attempt goes out; a success ends the deferral.
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    WebhookEndpoint.objects.filter(pk=slow.pk).update(url=receiver.url, deferred_until=timezone.now())
    waiting.update(next_attempt_at=timezone.now())
    services.deliveries_sweep()
    drain()
    slow.refresh_from_db()
    assert slow.deferred_until is None
    assert sorted(waiting.values_list("status", flat=True)) == [DeliveryStatus.SUCCEEDED] * 3
