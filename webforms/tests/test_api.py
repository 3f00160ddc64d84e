"""Get Webform and Create Webform Order."""

from __future__ import annotations

import pytest

from orders.models import Order
from webforms.tests.conftest import GOOD_BODY, GOOD_POST, comparable, make_webform

pytestmark = pytest.mark.django_db


def test_get_webform(operator_a, webform_a):
    response = operator_a.get(f"/api/v1/webform/{webform_a.pk}")
    assert response.status_code == 200
    body = response.json()
    assert {
        k: body[k] for k in ("id", "slug", "name", "title", "description", "workflowId", "publicUrl", "active")
    } == {
        "id": str(webform_a.pk),
        "slug": "alpha-ev",
        "name": "EV form",
        "title": "Order an EV charger",
        "description": "Tell us about your home.",
        "workflowId": str(webform_a.workflow_id),
        "publicUrl": "http://127.0.0.1:8000/f/alpha-ev/",
        "active": True,
    }
    fields = {f["key"]: f for f in body["fields"]}
    assert list(fields)[:7] == [
        "contactPersonName",
        "email",
        "phoneNumber",
        "address",
        "postalCode",
        "city",
        "countryCode",
    ]
    assert "workplace" not in fields
    assert fields["description"] == {
        "key": "description",
        "label": "What should be done?",
        "type": "textarea",
        "required": False,
        "options": [],
    }
    assert fields["customFields.charger_type"] == {
        "key": "customFields.charger_type",
        "label": "Charger Type",
        "type": "select",
        "required": True,
        "options": ["11 kW", "22 kW"],
    }
    assert fields["customFields.cable_length_m"]["required"] is True  # required by this form
    assert fields["customFields.notes"]["required"] is False


def test_other_organizations_webform_is_404(operator_b, webform_a):
    for response in (
        operator_b.get(f"/api/v1/webform/{webform_a.pk}"),
        operator_b.post(f"/api/v1/webform/{webform_a.pk}/order", GOOD_BODY, format="json"),
        operator_b.get("/api/v1/webform/not-a-uuid"),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == "Not Found"
    assert Order.objects.count() == 0


def test_api_submission_creates_the_same_order_as_the_public_form(client, operator_a, webform_a):
    assert client.post(f"/f/{webform_a.slug}/", GOOD_POST).status_code == 302
    by_form = Order.objects.get()
    response = operator_a.post(f"/api/v1/webform/{webform_a.pk}/order", GOOD_BODY, format="json")
    assert response.status_code == 201, response.content
    by_api = response.json()
    assert by_api["value"] == by_api["id"]
    assert by_api["source"] == "webform" and by_api["webformId"] == str(webform_a.pk)
    form_dict = operator_a.get(f"/api/v1/order/{by_form.pk}").json()
    assert comparable(by_api) == comparable(form_dict)
    assert by_api["phoneNumber"] == "+4791234567" and by_api["tags"][0]["name"] == "Web lead"
    events = operator_a.get(f"/api/v1/order/{by_api['id']}/events").json()["values"]
    assert events[0]["type"] == "order.created"
    assert events[0]["actor"] == {"type": "webform", "id": str(webform_a.pk), "label": "Order an EV charger"}


def test_api_applies_the_webforms_required_fields(operator_a, webform_a):
    custom = [f for f in GOOD_BODY["customFields"] if f["customId"] != "cable_length_m"]
    response = operator_a.post(
        f"/api/v1/webform/{webform_a.pk}/order", {**GOOD_BODY, "customFields": custom}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"customFields.cable_length_m": ["'Cable Length M' is required."]}
    # The same body is fine for Create Order: the workflow itself does not require it.
    plain = operator_a.post(
        "/api/v1/order", {**GOOD_BODY, "customFields": custom, "workflowId": str(webform_a.workflow_id)}, format="json"
    )
    assert plain.status_code == 201
    assert Order.objects.filter(webform_id=webform_a.pk).count() == 0


def test_api_errors_use_the_order_rules(operator_a, webform_a):
    body = {**GOOD_BODY, "phoneNumber": "12", "countryCode": "XX"}
    body["customFields"] = [*GOOD_BODY["customFields"][:1], {"customId": "cable_length_m", "value": "seven"}]
    response = operator_a.post(f"/api/v1/webform/{webform_a.pk}/order", body, format="json")
    assert response.status_code == 400
    details = response.json()["details"]
    assert details["countryCode"] == ["'XX' is not a known ISO 3166-1 alpha-2 country code."]
    assert details["customFields.cable_length_m"] == ["Must be a number, such as 12 or 7.5."]
    assert Order.objects.count() == 0


def test_api_takes_custom_values_as_strings_like_create_order(operator_a, webform_a):
    body = {**GOOD_BODY}
    body["customFields"] = [
        {"customId": "charger_type", "value": "22 kW"},
        {"customId": "cable_length_m", "value": "7"},
        {"customId": "has_parking", "value": "false"},
        {"customId": "extras", "value": "Wall mount"},
    ]
    response = operator_a.post(f"/api/v1/webform/{webform_a.pk}/order", body, format="json")
    assert response.status_code == 201, response.content
    values = {f["customId"]: f["value"] for f in response.json()["customFields"]}
    assert (values["cable_length_m"], values["has_parking"], values["extras"]) == (7, False, ["Wall mount"])


def test_api_rejects_fields_the_form_does_not_show(operator_a, org_a):
    webform = make_webform(org_a, custom_fields_shown=["charger_type"], slug="short")
    response = operator_a.post(f"/api/v1/webform/{webform.pk}/order", GOOD_BODY, format="json")
    assert response.status_code == 400
    assert response.json()["details"]["customFields.notes"] == ["Not a field of this form."]


def test_inactive_webform_refuses_orders(operator_a, webform_a):
    webform_a.active = False
    webform_a.save()
    assert operator_a.get(f"/api/v1/webform/{webform_a.pk}").json()["active"] is False
    response = operator_a.post(f"/api/v1/webform/{webform_a.pk}/order", GOOD_BODY, format="json")
    assert response.status_code == 409
    assert response.json()["message"] == "This webform is not accepting requests."


def test_viewer_cannot_create_and_anonymous_is_401(viewer_a, anon, webform_a):
    assert viewer_a.post(f"/api/v1/webform/{webform_a.pk}/order", GOOD_BODY, format="json").status_code == 403
    assert anon.get(f"/api/v1/webform/{webform_a.pk}").status_code == 401
    assert Order.objects.count() == 0


def test_idempotency_key_header(operator_a, webform_a):
    url = f"/api/v1/webform/{webform_a.pk}/order"
    first = operator_a.post(url, GOOD_BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = operator_a.post(url, GOOD_BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and second.status_code == 409
    assert second.json()["orderId"] == first.json()["id"]


def test_nul_characters_are_a_400_not_a_500(operator_a, webform_a):
    """PostgreSQL cannot store NUL in text or JSON; the webform answers 400 on every database."""
    body = {**GOOD_BODY, "metadata": {"x": "a\x00b"}}
    body["customFields"] = [*GOOD_BODY["customFields"][:2], {"customId": "notes", "value": "a\x00b"}]
    response = operator_a.post(f"/api/v1/webform/{webform_a.pk}/order", body, format="json")
    assert response.status_code == 400
    assert "NUL" in response.json()["message"]  # refused by the API's JSON parser, before any view
    assert Order.objects.count() == 0
