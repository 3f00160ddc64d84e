"""Bad input is a 400 in the error shape and changes nothing, never a 500: deeply nested JSON,
text the database cannot store, page numbers past what the databases can offset, empty typed
query parameters, unknown keys in a PATCH, and the one body of Create Order Tags."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms.fields import InvalidJSONInput

from installer.api.pagination import MAX_PAGE
from installer.api.parsers import MAX_JSON_DEPTH, json_problem
from installer.forms import CheckedJSONField
from orders.models import Order, OrderTag
from orders.tests.factories import add_custom_field, create_order, order_payload
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def send_json(client, method: str, url: str, body: dict | str):
    """`body` as JSON text with \\u escapes (so a lone surrogate travels as "\\ud800")."""
    text = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(url, data=text, content_type="application/json")


def assert_400(response, path: str | None = None) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"
    if path is not None:
        assert path in body["details"], body
    return body


# --- JSON nested too deeply -------------------------------------------------------------------


def nested(depth: int) -> str:
    """A Create Order body whose metadata value is `depth` nested arrays: with the body and the
    metadata object, depth + 2 levels."""
    return json.dumps(order_payload())[:-1] + ', "metadata": {"k": ' + "[" * depth + "]" * depth + "}}"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH - 1, 316, 1000, 100_000])
def test_deeply_nested_json_is_400_with_a_short_log_line(operator_a, caplog, depth):
    caplog.set_level(logging.INFO)
    response = send_json(operator_a, "post", "/api/v1/order", nested(depth))
    body = assert_400(response)
    assert "64 levels" in body["message"]
    assert Order.objects.count() == 0
    assert all(record.exc_info is None for record in caplog.records)
    assert all(len(record.getMessage()) < 500 for record in caplog.records)


def test_nesting_up_to_the_limit_is_accepted(operator_a):
    response = send_json(operator_a, "post", "/api/v1/order", nested(MAX_JSON_DEPTH - 2))
    assert response.status_code == 201, response.content


def test_deeply_nested_patch_is_400_and_changes_nothing(operator_a):
    order = create_order(operator_a.org, metadata={"a": 1})
    deep = '{"metadata": {"k": ' + "[" * 5000 + "]" * 5000 + "}}"
    assert_400(send_json(operator_a, "patch", f"/api/v1/order/{order.pk}", deep))
    order.refresh_from_db()
    assert order.metadata == {"a": 1}


def test_json_problem_walks_any_depth_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert json_problem(value) == (
        "[0]" * MAX_JSON_DEPTH,
        f"Arrays and objects may be nested at most {MAX_JSON_DEPTH} levels deep.",
    )


# --- text the database cannot store -----------------------------------------------------------

SURROGATE_CASES = [
    ({"metadata": {"k": "a\ud800b"}}, "metadata.k"),
    ({"metadata": {"k\udfff": "v"}}, "metadata"),
    ({"metadata": {"list": [1, {"deep": "\udc00"}]}}, "metadata.list[1].deep"),
    ({"description": "lone \ud83d"}, "description"),
    ({"description": {"type": "doc", "content": [{"type": "text", "text": "\ud800"}]}}, "description.content[0].text"),
    ({"customFields": [{"customId": "notes", "value": "x\ud800y"}]}, "customFields[0].value"),
    ({"city": "Os\ud800lo"}, "city"),
]


@pytest.mark.parametrize("overrides, path", SURROGATE_CASES)
def test_lone_surrogate_anywhere_in_a_create_is_400_naming_it(operator_a, overrides, path):
    add_custom_field(operator_a.org.workflows.get(is_default=True), "notes")
    body = assert_400(send_json(operator_a, "post", "/api/v1/order", order_payload(**overrides)), path)
    assert "Surrogate characters are not allowed" in body["details"][path][0]
    assert Order.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.parametrize("overrides, path", SURROGATE_CASES)
def test_lone_surrogate_in_an_update_is_400_on_postgresql(operator_a, overrides, path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL refuses the text with a DataError")
    add_custom_field(operator_a.org.workflows.get(is_default=True), "notes")
    order = create_order(operator_a.org, metadata={"a": 1})
    assert_400(send_json(operator_a, "patch", f"/api/v1/order/{order.pk}", overrides), path)
    order.refresh_from_db()
    assert order.metadata == {"a": 1} and order.city == "Oslo"


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_a_number_beyond_a_double_is_400(operator_a, number):
    body = json.dumps(order_payload())[:-1] + ', "metadata": {"n": [' + number + "]}}"
    response = assert_400(send_json(operator_a, "post", "/api/v1/order", body), "metadata.n[0]")
    assert "finite" in response["message"]
    assert Order.objects.count() == 0


def test_a_valid_surrogate_pair_is_kept(operator_a):
    response = send_json(operator_a, "post", "/api/v1/order", order_payload(metadata={"emoji": "\U0001f600"}))
    assert response.status_code == 201, response.content
    assert Order.objects.get().metadata == {"emoji": "\U0001f600"}


def test_lone_surrogate_in_a_webform_order_is_400(operator_a):
    from webforms.models import Webform

    webform = Webform.objects.create(
        organization=operator_a.org,
        workflow=operator_a.org.workflows.get(is_default=True),
        slug="surrogates",
        name="Form",
        title="Form",
    )
    url = f"/api/v1/webform/{webform.pk}/order"
    assert_400(send_json(operator_a, "post", url, order_payload(metadata={"k": "\ud800"})), "metadata.k")
    assert Order.objects.count() == 0


# --- page numbers past what a database can offset ---------------------------------------------


def list_urls(admin_a) -> list[str]:
    endpoint = WebhookEndpoint.objects.create(organization=admin_a.org, url="https://erp.example.com/h", secret="s")
    return [
        "/api/v1/order",
        "/api/v1/order-tags",
        "/api/v1/webhooks",
        f"/api/v1/webhooks/{endpoint.pk}/deliveries",
        "/api/v1/offers",
        "/api/v1/partners/installers",
    ]


@pytest.mark.parametrize(
    "query",
    [
        "page=9223372036854775808",
        "page=9223372036854775807",
        "page=18446744073709551616",
        "page=36893488147419103&pageSize=500",
        f"page={MAX_PAGE + 1}&pageSize=1",
        "page=" + "9" * 5000,
        "page=-1",
        "page=1.5",
        "page=",
        "pageSize=",
        "pageSize=0",
        "pageSize=501",
        "pageSize=1_0",
    ],
)
def test_page_out_of_bounds_is_400_on_every_list(admin_a, query):
    create_order(admin_a.org)
    OrderTag.objects.create(organization=admin_a.org, name="t")
    for url in list_urls(admin_a):
        name = query.split("=", 1)[0]
        assert_400(admin_a.get(f"{url}?{query}"), name)


def test_the_last_page_is_an_empty_page(admin_a):
    create_order(admin_a.org)
    for url in list_urls(admin_a):
        response = admin_a.get(f"{url}?page={MAX_PAGE}&pageSize=500")
        assert response.status_code == 200, (url, response.content)
        assert response.json()["values"] == []


# --- empty typed query parameters -------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["createdAfter=", "createdBefore=", "updatedSince=", "tagId=", "workflowId=", "installerId=", "direction="]
)
def test_empty_typed_order_filter_is_400(operator_a, query):
    create_order(operator_a.org)
    body = assert_400(operator_a.get(f"/api/v1/order?{query}"), query[:-1])
    assert "values" not in body


@pytest.mark.parametrize(
    "moment, status",
    [("0582-04-21T13:39:48.27686+22:36", 200), ("2020-01-01T00:00-23:59", 200), ("0001-01-01T00:00+01:00", 400)],
)
def test_a_time_filter_with_any_offset_is_answered(operator_a, moment, status):
    create_order(operator_a.org)
    response = operator_a.get("/api/v1/order", {"updatedSince": moment, "createdBefore": moment})
    assert response.status_code == status, response.content
    if status == 200:
        assert response.json()["values"] == []


def test_empty_text_filters_still_mean_no_filter(operator_a):
    create_order(operator_a.org)
    response = operator_a.get("/api/v1/order?q=&postalCode=&cursor=")
    assert response.status_code == 200 and len(response.json()["values"]) == 1


def test_empty_direction_and_order_id_are_400_on_offers(operator_a):
    assert_400(operator_a.get("/api/v1/offers?direction="), "direction")
    assert_400(operator_a.get("/api/v1/offers?orderId="), "orderId")


# --- PATCH refuses what it would ignore -------------------------------------------------------


@pytest.mark.parametrize("extra", [{"status": 4}, {"workflowId": None}, {"cityy": "Bergen"}, {"idempotencyKey": "k"}])
def test_patch_order_with_a_field_it_does_not_take_is_400_and_changes_nothing(operator_a, extra):
    order = create_order(operator_a.org)
    response = send_json(operator_a, "patch", f"/api/v1/order/{order.pk}", {"city": "Bergen", **extra})
    key = next(iter(extra))
    body = assert_400(response, key)
    assert "Unknown field" in body["details"][key][0]
    order.refresh_from_db()
    assert order.city == "Oslo" and order.status == 0


def test_patch_webhook_with_a_field_it_does_not_take_is_400_and_changes_nothing(admin_a):
    endpoint = WebhookEndpoint.objects.create(organization=admin_a.org, url="https://erp.example.com/h", secret="s1")
    response = send_json(admin_a, "patch", f"/api/v1/webhooks/{endpoint.pk}", {"description": "x", "secret": "s2"})
    assert_400(response, "secret")
    endpoint.refresh_from_db()
    assert endpoint.description == "" and endpoint.secret == "s1"


def test_an_empty_order_id_on_upload_is_400_and_stores_nothing(operator_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders.models import File

    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
        "3a7e9b550000000a49444154789c63600000000200014873b1710000000049454e44ae426082"
    )
    upload = SimpleUploadedFile("f.png", png, "image/png")
    response = operator_a.post("/api/v1/file", {"file": upload, "orderId": ""}, format="multipart")
    assert_400(response, "orderId")
    assert not File.objects.exists()


# --- Create Order Tags: one documented body ---------------------------------------------------


@pytest.mark.parametrize(
    "body, path",
    [
        ({}, "names"),
        ({"names": []}, "names"),
        ({"name": " "}, "name"),
        ({"names": ["a", ""]}, "names[1]"),
        ({"name": 0}, "name"),
        ({"name": "a", "names": [0]}, "names[0]"),
    ],
)
def test_order_tags_body_outside_the_schema_is_400(operator_a, body, path):
    assert_400(send_json(operator_a, "post", "/api/v1/order-tags", body), path)
    assert OrderTag.objects.count() == 0


def test_order_tags_name_and_names(operator_a):
    response = send_json(operator_a, "post", "/api/v1/order-tags", {"name": "a", "names": ["b", "A"]})
    assert response.status_code == 201, response.content
    assert [t["name"] for t in response.json()["values"]] == ["a", "b"]


def test_the_schema_documents_these_rules(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    listing = schema["paths"]["/api/v1/order"]["get"]["parameters"]
    params = {p["name"]: p["schema"] for p in listing}
    assert params["pageSize"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert params["page"] == {"type": "integer", "minimum": 0, "maximum": MAX_PAGE}
    components = schema["components"]["schemas"]
    assert components["PatchedOrderUpdateInputRequest"]["additionalProperties"] is False
    assert components["PatchedWebhookUpdateInputRequest"]["additionalProperties"] is False
    tags = schema["paths"]["/api/v1/order-tags"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert tags["anyOf"] == [{"required": ["name"]}, {"required": ["names"]}]


# --- the back office's JSON fields ------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["[" * 5000 + "]" * 5000, "[" * 100 + "]" * 100, '{"a": "\\ud800"}', '{"k\\u0000": 1}', "[1e400]"]
)
def test_admin_json_field_refuses_what_the_api_refuses(text):
    field = CheckedJSONField()
    with pytest.raises(ValidationError):
        field.clean(text)
    assert isinstance(field.bound_data(text, None), InvalidJSONInput)  # shown again as typed
    assert field.clean('{"a": ["\U0001f600", 1.5]}') == {"a": ["\U0001f600", 1.5]}


def test_the_admins_edit_json_with_the_checked_field(rf):
    from django.contrib import admin

    from dispatch.models import Partnership
    from orders.admin.workflows import CustomFieldInline, WorkflowStepInline
    from orders.models import CustomFieldDefinition, Workflow, WorkflowStep
    from webforms.models import Webform

    request = rf.get("/admin/")
    admins = [
        (admin.site.get_model_admin(Workflow), Workflow, "required_skills"),
        (admin.site.get_model_admin(Partnership), Partnership, "skills"),
        (admin.site.get_model_admin(Webform), Webform, "standard_fields"),
        (WorkflowStepInline(Workflow, admin.site), WorkflowStep, "descriptions"),
        (CustomFieldInline(Workflow, admin.site), CustomFieldDefinition, "options"),
    ]
    for model_admin, model, name in admins:
        formfield = model_admin.formfield_for_dbfield(model._meta.get_field(name), request)
        assert isinstance(formfield, CheckedJSONField), (model, name)
