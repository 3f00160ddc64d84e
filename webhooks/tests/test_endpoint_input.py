"""An endpoint URL that no delivery could reach is a 400 when it is saved, never a 500; deleting
an endpoint while one of its deliveries is being attempted never fails, and neither does the
attempt."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connection

from orders.tests.factories import OrganizationFactory
from webhooks import services
from webhooks.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import delivery as delivery_module

GOOD = "https://erp.example.com/hooks"

UNDELIVERABLE = [
    "http://[::1/",
    "https://[zz]/",
    "http://exa mple.com/",
    "http://example.com:99999/",
    "http://example.com:-1/",
    "http://example.com:abc/",
    "http://example.com:0/",
    "http://user:pw@example.com/",
    "http://user@example.com/",
    "http://exämple.com/",
    "http://\u2603\ufe0f.com/",
    "http://example.com/p\u00e4th",
    "http://example.com/a b",
    "http://example.com/\x7f",
    "http://exa..mple.com/",
    "http://999.1.1.1/",
    "http://" + "a" * 64 + ".com/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", UNDELIVERABLE)
def test_an_undeliverable_url_is_400_on_create_and_update(admin_a, url):
    response = admin_a.post("/api/v1/webhooks", {"url": url}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["statusCode"] == 400 and list(body["details"]) == ["url"]
    assert not WebhookEndpoint.objects.exists()

    endpoint, _ = services.endpoint_create(organization=admin_a.org, url=GOOD)
    response = admin_a.patch(f"/api/v1/webhooks/{endpoint.pk}", {"url": url}, format="json")
    assert response.status_code == 400, response.content
    endpoint.refresh_from_db()
    assert endpoint.url == GOOD


@pytest.mark.django_db
def test_a_non_ascii_host_is_answered_with_its_idna_form(admin_a):
    response = admin_a.post("/api/v1/webhooks", {"url": "https://exämple.com/hooks"}, format="json")
    assert response.status_code == 400
    assert "xn--exmple-cua.com" in response.json()["details"]["url"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "https://erp.example.com:8443/hooks?tenant=1#x",
        "https://xn--exmple-cua.com/hooks",
        "http://93.184.216.34:8080/h",
        "https://[2606:4700:4700::1111]/h",
        "https://my_host.example.com./h",
        "https://example.com:/h",
    ],
)
def test_deliverable_urls_are_saved(admin_a, url):
    response = admin_a.post("/api/v1/webhooks", {"url": url}, format="json")
    assert response.status_code == 201, response.content
    assert WebhookEndpoint.objects.get().url == url


@pytest.mark.django_db
def test_an_endpoint_deleted_during_its_attempt_drops_the_result(admin_a):
    endpoint, _ = services.endpoint_create(organization=admin_a.org, url=GOOD)
    delivery = services.delivery_send_test(endpoint=endpoint)

    def post_while_deleted(*args, **kwargs):
        assert admin_a.delete(f"/api/v1/webhooks/{endpoint.pk}").status_code == 204
        return delivery_module.AttemptResult(200, "ok", "", 3)

    with mock.patch.object(delivery_module, "post", post_while_deleted):
        outcome = services.delivery_attempt(delivery_id=delivery.pk)
    assert outcome.startswith("attempt 1")
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists() and not DeliveryAttempt.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_delete_while_an_attempt_is_being_recorded_never_fails():
    """The worker holds its delivery's row lock and has inserted the attempt when the delete
    starts: the delete waits for it and takes the attempt along, instead of failing at commit
    on the attempt's foreign key."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks and deferred foreign keys of PostgreSQL")
    organization = OrganizationFactory(name="Del", slug="del")
    endpoint, _ = services.endpoint_create(organization=organization, url=GOOD)
    delivery = services.delivery_send_test(endpoint=endpoint)
    from django.utils import timezone

    claimed = delivery_module._claim(delivery.pk, timezone.now())
    assert claimed is not None

    inserted, go = threading.Event(), threading.Event()
    create = DeliveryAttempt.objects.create
    errors: dict[str, BaseException] = {}

    def create_then_wait(**kwargs):
        attempt = create(**kwargs)
        inserted.set()
        go.wait(10)
        return attempt

    def run(name, function):
        try:
            function()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors[name] = exc
        finally:
            connection.close()

    with mock.patch.object(DeliveryAttempt.objects, "create", create_then_wait):
        record = threading.Thread(
            target=run,
            args=("record", lambda: delivery_module._record(claimed, delivery_module.AttemptResult(200, "ok", "", 3))),
        )
        record.start()
        assert inserted.wait(10)
        delete = threading.Thread(target=run, args=("delete", lambda: services.endpoint_delete(endpoint=endpoint)))
        delete.start()
        time.sleep(1.0)  # the delete reaches the recording's row lock and waits
        go.set()
        record.join(30)
        delete.join(30)
    assert errors == {}
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert not DeliveryAttempt.objects.filter(delivery_id=delivery.pk).exists()
