"""Every write of the webhooks app: endpoints, the outbox, delivery attempts and the sweep.

Guarantees:
- A delivery row is written in the transaction of the change that wrote its OrderEvent
  (`deliveries_queue_for_events`): rolled back together.
- An attempt is claimed under the delivery's row lock (SKIP LOCKED on PostgreSQL) and moves the
  row pending -> delivering in a short transaction before the POST, so two workers never send
  the same attempt. The POST runs outside any transaction; the result is recorded in a second
  short transaction. A worker that dies in between leaves the row `delivering` until
  `locked_until`; the sweep then puts it back to pending (at least once: the receiver may see
  the same `webhook-id` twice).
- The delivery row, not the task, is the source of truth: the sweep re-enqueues any due
  pending row, so a lost task delays a delivery but never loses it.
- The sweep needs no scheduler: every worker runs one pass and queues the periodic sweep task
  when it starts or reconnects (`sweep_on_worker_start`), and every delivery task queues it
  when none is waiting, so a worker killed at any point (mid-delivery, mid-sweep) leaves
  nothing stuck once a worker runs again.
"""

from webhooks.services.delivery import AttemptResult, delivery_attempt, delivery_body, post, retry_delay
from webhooks.services.endpoints import (
    clean_events,
    clean_url,
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_update,
)
from webhooks.services.outbox import deliveries_queue_for_events, delivery_send_again, delivery_send_test
from webhooks.services.signing import installer_signature, sign, signed_headers, signing_secrets
from webhooks.services.sweep import deliveries_sweep, sweep_on_worker_start, sweep_schedule

__all__ = [
    "AttemptResult",
    "clean_events",
    "clean_url",
    "deliveries_queue_for_events",
    "deliveries_sweep",
    "delivery_attempt",
    "delivery_body",
    "delivery_send_again",
    "delivery_send_test",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_rotate_secret",
    "endpoint_update",
    "installer_signature",
    "post",
    "retry_delay",
    "sign",
    "sweep_on_worker_start",
    "signed_headers",
    "signing_secrets",
    "sweep_schedule",
]
