"""Get Order, Update Order (PATCH), the timeline, and the plumbing around the API."""

from __future__ import annotations

import pytest

from orders import services
from orders.models import FieldType, Order, OrderEvent
from orders.tests.factories import add_custom_field, create_order, order_payload
from orders.tests.helpers import move_to

pytestmark = pytest.mark.django_db

URL = "/api/v1/order"


@pytest.fixture
def workflow(org_a):
    wf = services.workflow_create(organization=org_a, custom_id="installation", name="Installation")
    add_custom_field(wf, "charger", FieldType.SELECT, required=True, options=["11 kW", "22 kW"])
    add_custom_field(wf, "cable", FieldType.NUMBER)
    add_custom_field(wf, "notes", FieldType.TEXT)
    return wf


@pytest.fixture
def order(operator_a, workflow):
    body = order_payload(
        workflowCustomId="installation",
        customFields=[{"customId": "charger", "value": "11 kW"}, {"customId": "cable", "value": 5}],
        metadata={"erpId": "1"},
    )
    response = operator_a.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return Order.objects.get(pk=response.json()["id"])


def fields_of(body):
    return {f["customId"]: f["value"] for f in body["customFields"]}


# ---- Update Order -----------------------------------------------------------------------------


def test_update_changes_fields_and_records_them(operator_a, order):
    changes = {
        "name": "New name",
        "description": {"type": "doc", "content": []},
        "workplace": "Basement",
        "address": "Storgata 2",
        "city": "Bergen",
        "postalCode": "5003",
        "latitude": 60.39,
        "longitude": 5.32,
        "email": "kari@example.com",
        "phoneNumber": "912 34 567",
        "contactPersonName": "Kari",
        "metadata": {"erpId": "2"},
    }
    response = operator_a.patch(f"{URL}/{order.pk}", changes, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    expected = {**changes, "phoneNumber": "+4791234567"}
    assert {k: body[k] for k in expected} == expected
    assert operator_a.get(f"{URL}/{order.pk}").json() == body
    event = OrderEvent.objects.get(order=order, type="order.updated")
    assert set(event.data["fields"]) == set(changes)
    assert (event.from_status, event.to_status) == (0, 0)
    assert event.actor_label == "erp-a"


def test_update_with_same_values_writes_no_event(operator_a, order):
    response = operator_a.patch(f"{URL}/{order.pk}", {"city": "Oslo", "metadata": {"erpId": "1"}}, format="json")
    assert response.status_code == 200
    empty = operator_a.patch(f"{URL}/{order.pk}", {}, format="json")
    assert empty.status_code == 200
    assert not OrderEvent.objects.filter(order=order, type="order.updated").exists()


def test_update_refuses_status_and_read_only_keys(operator_a, order):
    response = operator_a.patch(
        f"{URL}/{order.pk}", {"status": 4, "displayId": "X-1", "workflowId": None, "name": "n"}, format="json"
    )
    assert response.status_code == 400
    assert sorted(response.json()["details"]) == ["displayId", "status", "workflowId"]
    order.refresh_from_db()
    assert order.status == 0 and order.display_id == "A-1" and order.name != "n"


def test_update_country_upper_cased(operator_a, order):
    response = operator_a.patch(
        f"{URL}/{order.pk}", {"countryCode": "se", "phoneNumber": "+46 8 123 456 78"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["countryCode"] == "SE"


def test_update_phone_is_validated_against_the_orders_country(operator_a, order):
    # A Norwegian national number parses for the stored country (NO)...
    ok = operator_a.patch(f"{URL}/{order.pk}", {"phoneNumber": "41 23 45 67"}, format="json")
    assert ok.json()["phoneNumber"] == "+4741234567"
    # ...and not for a new country given in the same request.
    bad = operator_a.patch(f"{URL}/{order.pk}", {"phoneNumber": "41 23 45 67", "countryCode": "GB"}, format="json")
    assert bad.status_code == 400 and "phoneNumber" in bad.json()["details"]
    order.refresh_from_db()
    assert order.country_code == "NO" and order.phone_number == "+4741234567"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", ""),
        ("city", None),
        ("countryCode", "XX"),
        ("email", "nope"),
        ("phoneNumber", "abc"),
        ("latitude", 91),
        ("metadata", []),
    ],
)
def test_update_bad_input_is_400_and_changes_nothing(operator_a, order, field, value):
    before = Order.objects.filter(pk=order.pk).values().get()
    response = operator_a.patch(f"{URL}/{order.pk}", {field: value, "name": "changed"}, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert Order.objects.filter(pk=order.pk).values().get() == before


def test_update_custom_fields_partially(operator_a, order):
    response = operator_a.patch(
        f"{URL}/{order.pk}", {"customFields": [{"customId": "notes", "value": "Ring twice"}]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert fields_of(response.json()) == {"charger": "11 kW", "cable": 5, "notes": "Ring twice"}
    # null clears an optional field; the others stay.
    cleared = operator_a.patch(
        f"{URL}/{order.pk}", {"customFields": [{"customId": "cable", "value": None}]}, format="json"
    )
    assert fields_of(cleared.json()) == {"charger": "11 kW", "cable": None, "notes": "Ring twice"}
    events = OrderEvent.objects.filter(order=order, type="order.updated")
    assert [e.data["fields"] for e in events] == [["customFields"], ["customFields"]]


def test_update_custom_number_as_string_is_stored_as_a_number(operator_a, order):
    response = operator_a.patch(
        f"{URL}/{order.pk}", {"customFields": [{"customId": "cable", "value": "12"}]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert fields_of(response.json()) == {"charger": "11 kW", "cable": 12, "notes": None}
    order.refresh_from_db()
    assert 12 in order.custom_fields.values() and "12" not in order.custom_fields.values()


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"customId": "charger", "value": None}], "customFields.charger"),
        ([{"customId": "charger", "value": "99 kW"}], "customFields.charger"),
        ([{"customId": "cable", "value": "long"}], "customFields.cable"),
        ([{"customId": "nope", "value": 1}], "customFields[0].customId"),
    ],
)
def test_update_custom_fields_rejected(operator_a, order, items, field):
    before = dict(order.custom_fields)
    response = operator_a.patch(f"{URL}/{order.pk}", {"customFields": items}, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]
    order.refresh_from_db()
    assert order.custom_fields == before


@pytest.mark.parametrize("status", [4, 6])
def test_update_completed_or_cancelled_is_409(operator_a, order, status):
    move_to(order, status)
    before = Order.objects.filter(pk=order.pk).values().get()
    response = operator_a.patch(f"{URL}/{order.pk}", {"name": "late"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
    assert Order.objects.filter(pk=order.pk).values().get() == before


@pytest.mark.parametrize("status", [1, 2, 3, 5])
def test_update_allowed_in_open_statuses(operator_a, order, status):
    move_to(order, status)
    response = operator_a.patch(f"{URL}/{order.pk}", {"name": "still open"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == status


# ---- Get Order and the timeline ---------------------------------------------------------------


def test_get_order_lists_every_custom_field(operator_a, order):
    body = operator_a.get(f"{URL}/{order.pk}").json()
    assert [f["customId"] for f in body["customFields"]] == ["charger", "cable", "notes"]
    assert fields_of(body) == {"charger": "11 kW", "cable": 5, "notes": None}
    assert body["currentStep"] == {"key": "received", "title": "Order received", "required": False}


def test_timeline_oldest_first_with_actor(operator_a, order):
    operator_a.patch(f"{URL}/{order.pk}", {"name": "x"}, format="json")
    operator_a.post(f"{URL}/{order.pk}/cancel", {"reason": "other"}, format="json")
    response = operator_a.get(f"{URL}/{order.pk}/events")
    assert response.status_code == 200
    body = response.json()
    types = [e["type"] for e in body["values"]]
    assert types == [
        "order.created",
        "workflow.step.activated",
        "order.updated",
        "order.cancelled",
        "workflow.step.activated",
    ]
    assert body["count"] == 5
    assert [e["sequence"] for e in body["values"]] == [1, 2, 3, 4, 5]
    token_id = str(operator_a.membership.tokens.get().pk)
    for event in body["values"]:
        assert event["actor"] == {"type": "api_token", "id": token_id, "label": "erp-a"}
    created, cancelled = body["values"][0], body["values"][3]
    assert (created["fromStatus"], created["toStatus"]) == (None, 0)
    assert (cancelled["fromStatus"], cancelled["toStatus"]) == (0, 6)
    assert cancelled["data"] == {"reason": "other", "comment": ""}
    assert set(created) == {
        "id",
        "sequence",
        "type",
        "fromStatus",
        "toStatus",
        "actor",
        "data",
        "requestId",
        "createdAt",
    }
    times = [e["createdAt"] for e in body["values"]]
    assert times == sorted(times)


def test_timeline_carries_the_request_id(operator_a, order):
    response = operator_a.patch(f"{URL}/{order.pk}", {"name": "y"}, format="json", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    events = operator_a.get(f"{URL}/{order.pk}/events").json()["values"]
    assert events[-1]["requestId"] == "req-123"


def test_events_are_append_only(order):
    event = OrderEvent.objects.filter(order=order).first()
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


# ---- workflow steps ---------------------------------------------------------------------------


def test_complete_step_moves_to_next_step(operator_a, order):
    response = operator_a.post(f"{URL}/{order.pk}/steps/received/complete")
    assert response.status_code == 200, response.content
    assert response.json()["currentStep"] is None
    again = operator_a.post(f"{URL}/{order.pk}/steps/received/complete")
    assert again.status_code == 409
    unknown = operator_a.post(f"{URL}/{order.pk}/steps/nope/complete")
    assert unknown.status_code == 404
    other_status = operator_a.post(f"{URL}/{order.pk}/steps/done/complete")
    assert other_status.status_code == 409


# ---- List Workflows ---------------------------------------------------------------------------


def test_list_workflows(operator_a, workflow):
    body = operator_a.get("/api/v1/workflows").json()
    assert body["count"] == 2
    by_id = {w["customId"]: w for w in body["values"]}
    assert by_id["default"]["isDefault"] is True and by_id["installation"]["isDefault"] is False
    inst = by_id["installation"]
    assert [s["key"] for s in inst["steps"]][:2] == ["received", "find-installer"]
    assert inst["steps"][0] == {
        "key": "received",
        "title": "Order received",
        "status": 0,
        "statusName": "created",
        "actor": "operator",
        "required": False,
        "descriptions": {},
    }
    charger = inst["customFields"][0]
    assert {k: charger[k] for k in ("customId", "type", "required", "options")} == {
        "customId": "charger",
        "type": "select",
        "required": True,
        "options": ["11 kW", "22 kW"],
    }


# ---- plumbing -----------------------------------------------------------------------------------


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}


def test_readyz_reports_a_dead_database(client, monkeypatch):
    from django.db import OperationalError, connection

    def broken(*args, **kwargs):
        raise OperationalError("down")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["statusCode"] == 503


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/order/x/nope", "/api/", "/api/v2/order"])
def test_unknown_api_path_is_json_404(operator_a, path):
    response = operator_a.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "Not Found" and body["statusCode"] == 404 and body["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/order"),
        ("put", "/api/v1/order/{id}"),
        ("get", "/api/v1/order/{id}/cancel"),
        ("delete", "/api/v1/workflows"),
    ],
)
def test_wrong_method_is_405_in_the_error_shape(operator_a, method, path):
    order = create_order(operator_a.org)
    response = getattr(operator_a, method)(path.format(id=order.pk))
    assert response.status_code == 405
    body = response.json()
    assert body["error"] == "Method Not Allowed" and body["statusCode"] == 405
    assert body["message"].startswith("Method")


def test_wrong_method_without_token_is_401(anon):
    assert anon.delete("/api/v1/order").status_code == 401


def test_body_over_the_upload_limit_is_413_json(operator_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    big = '{"description": "' + "x" * 20_000 + '"}'
    order = create_order(operator_a.org)
    for url, headers in [(URL, {}), (f"{URL}/{order.pk}/cancel", {"HTTP_IDEMPOTENCY_KEY": "big"})]:
        response = operator_a.post(url, big, content_type="application/json", **headers)
        assert response.status_code == 413, response.content
        body = response.json()
        assert body["error"] == "Content Too Large" or body["error"] == "Request Entity Too Large"
        assert body["statusCode"] == 413 and "10000 bytes" in body["message"]
    assert Order.objects.count() == 1
    order.refresh_from_db()
    assert order.status == 0


def test_not_acceptable_is_json(operator_a):
    response = operator_a.get(URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["statusCode"] == 406
