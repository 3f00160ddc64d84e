"""Webhook test helpers: a real HTTP receiver on 127.0.0.1, an in-process batch worker, and an
order walked through its statuses with orders.services (the dispatch verbs live elsewhere)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker

from accounts.models import Organization
from orders import services as order_services
from orders.actors import Actor
from orders.models import OrderStatus
from orders.tests.factories import OrganizationFactory
from webhooks import services


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> dict:
        import json

        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with `respond(hit_number_for_this_webhook_id, body)` -> (status, text),
    or 401 when `verify(headers, body)` is set and says no."""

    respond: Callable[[int, bytes], tuple[int, str]] = lambda n, body: (200, "ok")
    # A receiver that checks signatures: when set and it returns False, the answer is 401.
    verify: Callable[[dict[str, str], bytes], bool] | None = None
    delay: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def ok_hits(self) -> list[Hit]:
        return [h for h in self.hits if 200 <= h.status < 300]


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                seen = sum(1 for h in state.hits if h.headers.get("webhook-id") == headers.get("webhook-id"))
            if state.delay:
                time.sleep(state.delay)
            status, text = state.respond(seen + 1, body)
            if state.verify is not None and not state.verify(headers, body):
                status, text = 401, "bad signature"
            with state.lock:
                state.hits.append(Hit(headers, body, status))
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


def drain(max_tasks: int = 500) -> None:
    """Runs every ready task in this process, like `manage.py db_worker --batch`."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def change(order_id, organization: Organization, event_type: str, to_status: int | None = None, **fields):
    """One locked change as the dispatch verbs make it: a transition (or a plain event)."""
    actor = Actor.system("test")
    with transaction.atomic():
        order = order_services.lock_order(order_id, organization=organization)
        pending = order_services.PendingEvents(order)
        for name, value in fields.items():
            setattr(order, name, value)
        if to_status is None:
            pending.add(event_type, actor, from_status=order.status, to_status=order.status)
        else:
            order_services.transition(order, to_status, actor=actor, event_type=event_type, pending=pending)
        order_services.finish_change(order, pending, list(fields))
    return order


WALK = [
    ("order.dispatched", OrderStatus.DISPATCHING, {}),
    ("order.assigned", None, {"installer": "INSTALLER"}),
    ("booking.created", OrderStatus.SCHEDULED, {}),
    ("order.started", OrderStatus.IN_PROGRESS, {}),
    ("order.completed", OrderStatus.COMPLETED, {}),
]


def walk(order, organization: Organization) -> None:
    """created -> dispatched -> assigned -> booking.created -> started -> completed."""
    installer = OrganizationFactory(name="Walk Installers", slug=f"walk-{order.pk.hex[:8]}", is_installer=True)
    for event_type, to_status, fields in WALK:
        values = {k: (installer if v == "INSTALLER" else v) for k, v in fields.items()}
        change(order.pk, organization, event_type, to_status, **values)


@pytest.fixture
def make_endpoint():
    def make(organization, url, events=None, **kw):
        endpoint, secret = services.endpoint_create(organization=organization, url=url, events=events, **kw)
        return endpoint, secret

    return make
