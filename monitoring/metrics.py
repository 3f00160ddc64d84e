"""The Prometheus series (docs/operations.md, "Metrics").

Two kinds:

- Request series, counted by the middleware in each web process: requests by route, method and
  status, their latency, and database query time. Under gunicorn with several worker processes
  they use prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (each
  process writes its values to files there, the scrape adds them up; gunicorn.conf.py marks a
  dead worker's files). Without it each process counts alone, which is right for one process.
- State series, computed at scrape time by `StateCollector` with one query each: orders by
  status, open and soon-expiring offers, webhook deliveries, the task queue, notifications.
  They are the same whichever process answers the scrape.

Labels are bounded: `route` is the URL pattern that matched (never the raw path), status the
HTTP status code, and the state series are totals over every organization.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db.models import Case, Count, F, Min, Q, When
from django.utils import timezone
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "installer_http_requests",
    "HTTP requests answered, by route (URL pattern), method and status code.",
    ["route", "method", "status"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "installer_http_request_duration_seconds",
    "Time to answer a request, by route (URL pattern) and method.",
    ["route", "method"],
    registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DB_QUERY_SECONDS = Histogram(
    "installer_db_query_duration_seconds",
    "Time of each database query made while serving a request.",
    registry=None,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)

# Registered per scrape (monitoring.views.registry), not in prometheus-client's global registry.
REQUEST_SERIES = (REQUESTS, REQUEST_SECONDS, DB_QUERY_SECONDS)
EXPIRING_WITHIN = timedelta(hours=1)


class StateCollector(Collector):
    """Gauges read from the database (and from Redis for the RQ task backend) at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        yield self._orders()
        yield from self._offers(now)
        yield from self._deliveries(now)
        yield from self._tasks(now)
        yield self._notifications()

    def _orders(self) -> GaugeMetricFamily:
        from orders.models import Order, OrderStatus

        family = GaugeMetricFamily("installer_orders", "Orders (not deleted) by status.", labels=["status"])
        counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("pk")))
        for status in OrderStatus:
            family.add_metric([status.label.lower().replace(" ", "_")], counts.get(status.value, 0))
        return family

    def _offers(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        from dispatch.models import Offer, OfferStatus

        row = Offer.objects.filter(status=OfferStatus.SENT).aggregate(
            open=Count("pk"), expiring=Count("pk", filter=Q(expires_at__lte=now + EXPIRING_WITHIN))
        )
        yield GaugeMetricFamily("installer_offers_open", "Offers sent and not yet answered.", value=row["open"])
        yield GaugeMetricFamily(
            "installer_offers_expiring", "Open offers whose deadline is within the next hour.", value=row["expiring"]
        )

    def _deliveries(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        from webhooks.models import DeliveryStatus, WebhookDelivery

        waiting = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.DELIVERING])
        row = WebhookDelivery.objects.aggregate(
            pending=Count("pk", filter=waiting),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
            oldest=Min("created_at", filter=waiting),
        )
        family = GaugeMetricFamily(
            "installer_webhook_deliveries",
            "Webhook deliveries waiting (pending or in flight) and failed.",
            labels=["status"],
        )
        family.add_metric(["pending"], row["pending"])
        family.add_metric(["failed"], row["failed"])
        yield family
        age = (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
        yield GaugeMetricFamily(
            "installer_webhook_oldest_pending_age_seconds",
            "Age of the oldest webhook delivery still waiting (0 when none waits).",
            value=max(age, 0.0),
        )

    def _tasks(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        depth, oldest = task_queue(now)
        yield GaugeMetricFamily("installer_tasks_queued", "Background tasks due and not yet taken.", value=depth)
        yield GaugeMetricFamily(
            "installer_tasks_oldest_age_seconds",
            "How long the oldest due task has waited for a worker (0 when none waits).",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )

    def _notifications(self) -> GaugeMetricFamily:
        from notifications.models import Message, MessageStatus

        family = GaugeMetricFamily("installer_notifications", "Notification messages by status.", labels=["status"])
        counts = dict(Message.objects.order_by().values_list("status").annotate(n=Count("pk")))
        for status in MessageStatus:
            family.add_metric([status.value], counts.get(status.value, 0))
        return family


def task_queue(now: datetime) -> tuple[int, datetime | None]:
    """(tasks due and waiting, when the oldest of them fell due) for the default task backend:
    django-tasks-db's task table through its model, or RQ's queue through rq's API."""
    from django_tasks import task_backends

    if type(task_backends["default"]).__module__.startswith("django_tasks_rq"):
        import django_rq

        queue = django_rq.get_queue("default")
        first = queue.get_jobs(0, 1)
        enqueued_at = first[0].enqueued_at if first else None
        if enqueued_at is not None and timezone.is_naive(enqueued_at):
            enqueued_at = enqueued_at.replace(tzinfo=UTC)  # rq keeps UTC times without a zone
        return queue.count, enqueued_at
    from django_tasks_db.models import DBTaskResult

    row = DBTaskResult.objects.ready().aggregate(
        n=Count("pk"),
        oldest=Min(Case(When(run_after__lte=now, then=F("run_after")), default=F("enqueued_at"))),
    )
    return row["n"], row["oldest"]


def timed_query(execute, sql, params, many, context):
    """A connection.execute_wrapper: every query's time goes to DB_QUERY_SECONDS."""
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        DB_QUERY_SECONDS.observe(time.perf_counter() - started)
