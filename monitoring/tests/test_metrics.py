"""GET /metrics: who may scrape it, and the series it exposes after a few requests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from dispatch.tests.conftest import make_installer, make_partner
from orders.tests.factories import order_payload
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs"
TOKEN = "metrics-token-for-tests-0123456789"
EXPOSED = {
    "installer_http_requests": "counter",
    "installer_http_request_duration_seconds": "histogram",
    "installer_db_query_duration_seconds": "histogram",
    "installer_orders": "gauge",
    "installer_offers_open": "gauge",
    "installer_offers_expiring": "gauge",
    "installer_webhook_deliveries": "gauge",
    "installer_webhook_oldest_pending_age_seconds": "gauge",
    "installer_tasks_queued": "gauge",
    "installer_tasks_oldest_age_seconds": "gauge",
    "installer_notifications": "gauge",
}


@pytest.fixture(autouse=True)
def _metrics_settings(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    settings.TRUSTED_PROXY_COUNT = 0


def scrape(**headers) -> dict:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def sample(families: dict, name: str, suffix: str = "", **labels) -> float:
    family = families[name]
    found = [s.value for s in family.samples if s.name == name + suffix and labels.items() <= s.labels.items()]
    assert found, f"no {name}{suffix} sample with {labels}"
    return sum(found)


def test_series_after_a_few_requests(operator_a, org_a, django_capture_on_commit_callbacks):
    before = scrape()
    requests_before = sum(
        s.value
        for s in before["installer_http_requests"].samples
        if s.name == "installer_http_requests_total" and s.labels["route"] == "/api/v1/order/<str:pk>"
    )
    # Data: an open offer due within the hour, a pending webhook delivery and its queued task,
    # a planned notification.
    org_a.routing_strategy = "priority"
    org_a.offer_deadline_hours = 1
    org_a.save()
    make_partner(org_a, make_installer("Fixit"))
    webhook_services.endpoint_create(organization=org_a, url="http://127.0.0.1:9/hook", events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):  # the delivery's task is queued after commit
        created = operator_a.post("/api/v1/order", order_payload(), format="json")
    assert created.status_code == 201
    order_id = created.json()["id"]
    assert operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").status_code == 200
    for _ in range(3):
        assert operator_a.get(f"/api/v1/order/{order_id}").status_code == 200
    assert operator_a.get("/api/v1/order/not-a-uuid").status_code == 404
    assert Client().get("/no/such/page").status_code == 404

    families = scrape()
    for name, kind in EXPOSED.items():
        assert families[name].type == kind, name
    # Requests by route pattern (never the raw path), method and status.
    route = "/api/v1/order/<str:pk>"
    assert sample(families, "installer_http_requests", "_total", route=route, method="GET", status="200") >= 3
    assert requests_before + 4 <= sum(
        s.value
        for s in families["installer_http_requests"].samples
        if s.name == "installer_http_requests_total" and s.labels["route"] == route
    )
    assert sample(families, "installer_http_requests", "_total", route="/api/v1/order", method="POST", status="201")
    assert sample(families, "installer_http_requests", "_total", route="unmatched", status="404") >= 1
    routes = {s.labels["route"] for s in families["installer_http_requests"].samples}
    assert not any(order_id in r or "not-a-uuid" in r or "no/such" in r for r in routes)
    count = sample(families, "installer_http_request_duration_seconds", "_count", route=route, method="GET")
    assert count >= 3
    assert 0 < sample(families, "installer_http_request_duration_seconds", "_sum", route=route, method="GET") < 30
    assert sample(families, "installer_db_query_duration_seconds", "_count") > 0
    # State, read at scrape time.
    assert sample(families, "installer_orders", status="dispatching") == 1
    assert sample(families, "installer_orders", status="created") == 0
    assert sample(families, "installer_offers_open") == 1
    assert sample(families, "installer_offers_expiring") == 1
    assert sample(families, "installer_webhook_deliveries", status="pending") >= 1
    assert sample(families, "installer_webhook_deliveries", status="failed") == 0
    assert 0 <= sample(families, "installer_webhook_oldest_pending_age_seconds") < 60
    assert sample(families, "installer_tasks_queued") >= 1  # the delivery's task, due now
    assert 0 <= sample(families, "installer_tasks_oldest_age_seconds") < 60
    assert {s.labels["status"] for s in families["installer_notifications"].samples} >= {"sent", "failed", "planned"}


def test_oldest_pending_delivery_and_task_ages_grow(org_a, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from orders.tests.factories import create_order
    from webhooks.models import WebhookDelivery

    webhook_services.endpoint_create(organization=org_a, url="http://127.0.0.1:9/hook", events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        create_order(org_a)
    assert DBTaskResult.objects.count() == 1
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.update(created_at=an_hour_ago)
    DBTaskResult.objects.update(enqueued_at=an_hour_ago)
    families = scrape()
    assert 3590 < sample(families, "installer_webhook_oldest_pending_age_seconds") < 3700
    assert 3590 < sample(families, "installer_tasks_oldest_age_seconds") < 3700
    WebhookDelivery.objects.update(status="failed")
    DBTaskResult.objects.update(status="SUCCESSFUL")
    families = scrape()
    assert sample(families, "installer_webhook_deliveries", status="failed") == 1
    assert sample(families, "installer_webhook_oldest_pending_age_seconds") == 0
    assert (
        sample(families, "installer_tasks_queued") == 0 and sample(families, "installer_tasks_oldest_age_seconds") == 0
    )


def test_task_queue_on_each_backend(task_backend):
    from webhooks import tasks

    assert sample(scrape(), "installer_tasks_queued") == 0
    tasks.sweep.enqueue(reschedule=False)
    tasks.sweep.enqueue(reschedule=False)
    families = scrape()
    assert sample(families, "installer_tasks_queued") == 2
    assert 0 <= sample(families, "installer_tasks_oldest_age_seconds") < 60


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": TOKEN},
        {"HTTP_AUTHORIZATION": f"Token {TOKEN}"},
        {"HTTP_X_FORWARDED_FOR": "10.1.2.3"},  # not behind a trusted proxy: ignored
    ],
)
def test_a_scrape_without_the_token_from_an_unlisted_address_is_refused(settings, headers):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    response = Client().get("/metrics", **headers)  # REMOTE_ADDR 127.0.0.1
    assert response.status_code == 403
    assert b"installer_" not in response.content


def test_nobody_scrapes_while_neither_token_nor_addresses_are_set(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert Client().get("/metrics").status_code == 403


def test_listed_addresses_may_scrape_without_the_token(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.0/8"]
    assert Client().get("/metrics").status_code == 200
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]
    assert Client().get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="10.200.0.1").status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="192.0.2.8").status_code == 403
    # Behind one trusted proxy the client is the address the proxy appended, not the proxy's.
    settings.TRUSTED_PROXY_COUNT = 1
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3, 203.0.113.9").status_code == 403


def test_only_get(settings):
    assert Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def _series_in(expressions: list[str]) -> set[str]:
    names = set()
    for expr in expressions:
        for name in re.findall(r"\binstaller_[a-z_]+", expr):
            names.add(re.sub(r"_(bucket|count|sum|total|created)$", "", name))
    return names


def test_grafana_dashboard_and_alert_rules_use_only_exposed_series():
    families = scrape()
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(expressions) >= 8
    used = _series_in(expressions)
    assert used <= set(families)  # nothing the app does not expose
    assert used == set(EXPOSED)  # and a panel for every series
    rules = yaml.safe_load((DOCS / "prometheus-alerts.yml").read_text())
    alerts = [r["expr"] for group in rules["groups"] for r in group["rules"]]
    assert len(alerts) >= 4
    assert _series_in(alerts) <= set(families)
    assert {"installer_tasks_oldest_age_seconds", "installer_webhook_deliveries"} <= _series_in(alerts)
