"""Create Order: every field of the body, read back; every bad input is a 400 that creates nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from orders import services
from orders.models import FieldType, Order, OrderEvent
from orders.tests.factories import OrganizationFactory, add_custom_field, make_installer_partner, order_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/order"


@pytest.fixture
def workflow(org_a):
    wf = services.workflow_create(organization=org_a, custom_id="installation", name="Installation")
    add_custom_field(wf, "charger", FieldType.SELECT, required=True, options=["11 kW", "22 kW"])
    add_custom_field(wf, "cable", FieldType.NUMBER)
    add_custom_field(wf, "parking", FieldType.BOOLEAN)
    add_custom_field(wf, "date", FieldType.DATE)
    add_custom_field(wf, "extras", FieldType.MULTISELECT, options=["a", "b", "c"])
    add_custom_field(wf, "notes", FieldType.TEXT)
    return wf


@pytest.fixture
def tags(org_a):
    return services.order_tags_create(organization=org_a, names=["VIP", "Urgent"])


RICH = {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hi"}]}]}

CUSTOM = [
    {"customId": "charger", "value": "22 kW"},
    {"customId": "cable", "value": 7.5},
    {"customId": "parking", "value": False},
    {"customId": "date", "value": "2030-05-17"},
    {"customId": "extras", "value": ["b", "a", "b"]},
    {"customId": "notes", "value": "Back door"},
]


def full_body(workflow, tags, installer_org, **overrides):
    make_installer_partner(workflow.organization, installer_org)
    body = order_payload(
        name="EV charger",
        description=RICH,
        workplace="Garage",
        address="Karl Johans gate 1",
        city="Oslo",
        postalCode="0154",
        countryCode="no",
        latitude=59.91,
        longitude=10.75,
        email="ola@example.com",
        phoneNumber="22 12 34 56",
        contactPersonName="Ola Nordmann",
        orderTagIds=[str(t.pk) for t in tags],
        metadata={"erpId": "ERP-1", "nested": {"n": [1, 2]}},
        workflowCustomId="installation",
        customFields=CUSTOM,
        idempotencyKey="erp-1",
        actorAssignments=[{"actorSlug": "installer", "organizationId": str(installer_org.pk)}],
        unknownTopLevelKey="ignored",
    )
    body.update(overrides)
    return body


def test_create_with_every_field_and_read_back(operator_a, workflow, tags, installer_org):
    response = operator_a.post(URL, full_body(workflow, tags, installer_org), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["value"] == created["id"]
    uuid.UUID(created["id"])
    assert created["displayId"] == "A-1"
    assert created["status"] == 0 and created["statusName"] == "created"
    order = Order.objects.get(pk=created["id"])
    assert created["clientUrl"].endswith(f"/t/{order.client_token}/")

    got = operator_a.get(f"{URL}/{created['id']}").json()
    assert {k: v for k, v in created.items() if k != "value"} == got
    assert got["name"] == "EV charger"
    assert got["description"] == RICH
    assert got["workplace"] == "Garage"
    assert got["address"] == "Karl Johans gate 1"
    assert got["city"] == "Oslo" and got["postalCode"] == "0154"
    assert got["countryCode"] == "NO"
    assert got["latitude"] == 59.91 and got["longitude"] == 10.75
    assert got["email"] == "ola@example.com"
    assert got["phoneNumber"] == "+4722123456"
    assert got["contactPersonName"] == "Ola Nordmann"
    assert got["workflowId"] == str(workflow.pk) and got["workflowCustomId"] == "installation"
    assert got["metadata"] == {"erpId": "ERP-1", "nested": {"n": [1, 2]}}
    assert sorted(t["name"] for t in got["tags"]) == ["Urgent", "VIP"]
    assert {t["id"] for t in got["tags"]} == {str(t.pk) for t in tags}
    values = {f["customId"]: (f["type"], f["value"]) for f in got["customFields"]}
    assert values == {
        "charger": ("select", "22 kW"),
        "cable": ("number", 7.5),
        "parking": ("boolean", False),
        "date": ("date", "2030-05-17"),
        "extras": ("multiselect", ["b", "a"]),
        "notes": ("text", "Back door"),
    }
    assert got["installer"] == {"id": str(installer_org.pk), "name": installer_org.name}
    assert got["source"] == "api" and got["webformId"] is None
    assert got["currentStep"]["key"] == "received"
    assert got["files"] == [] and got["booking"] is None and got["cancelReason"] is None
    assert set(got["allowedActions"]) >= {"update", "cancel"}
    assert order.actor_assignments == [{"actorSlug": "installer", "organizationId": str(installer_org.pk)}]
    assert order.idempotency_key == "erp-1"
    created_event = OrderEvent.objects.get(order=order, type="order.created")
    assert created_event.actor_type == "api_token" and created_event.actor_label == "erp-a"


def test_description_as_plain_text(operator_a):
    body = order_payload(description="Line one\nLine two")
    created = operator_a.post(URL, body, format="json").json()
    assert operator_a.get(f"{URL}/{created['id']}").json()["description"] == "Line one\nLine two"


def test_minimal_body_uses_default_workflow(operator_a):
    response = operator_a.post(URL, order_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["workflowCustomId"] == "default"
    assert body["customFields"] == [] and body["tags"] == [] and body["metadata"] == {}
    assert body["installer"] is None


def test_workflow_by_id(operator_a, workflow):
    body = order_payload(workflowId=str(workflow.pk), customFields=[{"customId": "charger", "value": "11 kW"}])
    response = operator_a.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["workflowCustomId"] == "installation"


def test_custom_field_by_definition_id(operator_a, workflow):
    charger = workflow.custom_fields.get(custom_id="charger")
    body = order_payload(workflowCustomId="installation", customFields=[{"id": str(charger.pk), "value": "11 kW"}])
    response = operator_a.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    fields = {f["customId"]: f["value"] for f in response.json()["customFields"]}
    assert fields["charger"] == "11 kW"


def test_display_ids_count_up_per_organization(operator_a, operator_b):
    ids = [operator_a.post(URL, order_payload(), format="json").json()["displayId"] for _ in range(3)]
    assert ids == ["A-1", "A-2", "A-3"]
    assert operator_b.post(URL, order_payload(), format="json").json()["displayId"] == "B-1"


# ---- bad input --------------------------------------------------------------------------------


def assert_rejected(client, body, field, *, fmt="json", content_type=None):
    before = Order.objects.count()
    kwargs = {"content_type": content_type} if content_type else {"format": fmt}
    response = client.post(URL, body, **kwargs)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error"] == "Bad Request" and payload["statusCode"] == 400
    assert payload["message"]
    if field is not None:
        assert field in payload["details"], payload
        assert all(isinstance(m, str) and m for m in payload["details"][field])
    assert Order.objects.count() == before
    return payload


REQUIRED = ["address", "city", "postalCode", "countryCode", "email", "phoneNumber", "contactPersonName"]


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_required_field(operator_a, field):
    body = order_payload()
    del body[field]
    assert_rejected(operator_a, body, field)


@pytest.mark.parametrize("field", ["address", "city", "postalCode", "contactPersonName"])
def test_blank_required_field(operator_a, field):
    assert_rejected(operator_a, order_payload(**{field: "   "}), field)


@pytest.mark.parametrize("country", ["XX", "Norway", "", "N", 47])
def test_bad_country(operator_a, country):
    assert_rejected(operator_a, order_payload(countryCode=country), "countryCode")


@pytest.mark.parametrize("phone", ["not a phone", "123", "+47 1", ""])
def test_unparseable_phone(operator_a, phone):
    assert_rejected(operator_a, order_payload(phoneNumber=phone), "phoneNumber")


def test_phone_must_fit_the_country(operator_a):
    # A valid German number given without a prefix does not parse as Norwegian.
    assert_rejected(operator_a, order_payload(countryCode="NO", phoneNumber="030 12345678"), "phoneNumber")


@pytest.mark.parametrize("email", ["nope", "a@", "@example.com", "a b@example.com"])
def test_bad_email(operator_a, email):
    assert_rejected(operator_a, order_payload(email=email), "email")


@pytest.mark.parametrize(
    ("field", "value"), [("latitude", 91), ("latitude", -90.5), ("longitude", 181), ("latitude", "x")]
)
def test_coordinates_out_of_range(operator_a, field, value):
    assert_rejected(operator_a, order_payload(**{field: value}), field)


def test_unknown_custom_field(operator_a, workflow):
    body = order_payload(
        workflowCustomId="installation",
        customFields=[{"customId": "charger", "value": "11 kW"}, {"customId": "colour", "value": "red"}],
    )
    payload = assert_rejected(operator_a, body, "customFields[1].customId")
    assert "colour" in payload["details"]["customFields[1].customId"][0]


@pytest.mark.parametrize(
    ("custom_id", "value"),
    [
        ("notes", 12),
        ("cable", "seven"),
        ("cable", "7 m"),
        ("cable", "1_000"),
        ("cable", "nan"),
        ("cable", "1e400"),
        ("cable", "0x10"),
        ("cable", "  "),
        ("cable", True),
        ("parking", "yes please"),
        ("parking", 1),
        ("date", "17.05.2030"),
        ("date", "2030-02-30"),
        ("charger", "33 kW"),
        ("charger", 11),
        ("extras", "z"),
        ("extras", "a,z"),
        ("extras", '["a", 1]'),
        ("extras", "[" * 100000),
        ("extras", ["a", "z"]),
    ],
)
def test_wrong_type_custom_value(operator_a, workflow, custom_id, value):
    fields = [{"customId": "charger", "value": "11 kW"}] if custom_id != "charger" else []
    body = order_payload(
        workflowCustomId="installation", customFields=[*fields, {"customId": custom_id, "value": value}]
    )
    assert_rejected(operator_a, body, f"customFields.{custom_id}")


# Installer.com's guide sends a custom field value as a string (or a raw JSON boolean).
STRING_FORMS = [
    (
        {"charger": "22 kW", "cable": "12", "parking": "true", "date": "2030-05-17", "extras": "b"},
        {"charger": "22 kW", "cable": 12, "parking": True, "date": "2030-05-17", "extras": ["b"]},
    ),
    (
        {
            "charger": " 11 kW ",
            "cable": " -7.5 ",
            "parking": "FALSE",
            "date": "2030-05-17T08:00:00Z",
            "extras": "b, a,b",
        },
        {"charger": "11 kW", "cable": -7.5, "parking": False, "date": "2030-05-17", "extras": ["b", "a"]},
    ),
    (
        {"charger": "22 kW", "cable": "1e3", "parking": "1", "extras": '["c", "a"]'},
        {"charger": "22 kW", "cable": 1000.0, "parking": True, "date": None, "extras": ["c", "a"]},
    ),
    (
        {"charger": "22 kW", "cable": "0", "parking": "0", "extras": "c"},
        {"charger": "22 kW", "cable": 0, "parking": False, "date": None, "extras": ["c"]},
    ),
]


@pytest.mark.parametrize(("sent", "stored"), STRING_FORMS)
def test_custom_values_as_strings_are_stored_typed(operator_a, workflow, sent, stored):
    custom = [{"customId": key, "value": value} for key, value in sent.items()]
    response = operator_a.post(URL, order_payload(workflowCustomId="installation", customFields=custom), format="json")
    assert response.status_code == 201, response.content
    answered = {f["customId"]: f["value"] for f in response.json()["customFields"]}
    assert answered == {**stored, "notes": None}
    order = Order.objects.get(pk=response.json()["id"])
    by_id = {str(d.pk): d.custom_id for d in workflow.custom_fields.all()}
    saved = {by_id[pk]: value for pk, value in order.custom_fields.items()}
    assert saved == {k: v for k, v in stored.items() if v is not None}
    assert all(type(saved[k]) is type(v) for k, v in stored.items() if v is not None)


def test_select_options_by_label(operator_a, org_a):
    wf = services.workflow_create(organization=org_a, custom_id="labels", name="Labels")
    options = [{"value": "p11", "label": "11 kW"}, {"value": "p22", "label": "22 kW"}]
    add_custom_field(wf, "charger", FieldType.SELECT, options=options)
    add_custom_field(wf, "extras", FieldType.MULTISELECT, options=options)
    custom = [{"customId": "charger", "value": "22 kW"}, {"customId": "extras", "value": "11 kW,p22"}]
    response = operator_a.post(URL, order_payload(workflowCustomId="labels", customFields=custom), format="json")
    assert response.status_code == 201, response.content
    answered = {f["customId"]: f["value"] for f in response.json()["customFields"]}
    assert answered == {"charger": "p22", "extras": ["p11", "p22"]}


def test_missing_required_custom_field(operator_a, workflow):
    body = order_payload(workflowCustomId="installation", customFields=[{"customId": "notes", "value": "x"}])
    payload = assert_rejected(operator_a, body, "customFields.charger")
    assert "required" in payload["details"]["customFields.charger"][0]


def test_custom_field_without_value(operator_a, workflow):
    body = order_payload(workflowCustomId="installation", customFields=[{"customId": "charger"}])
    assert_rejected(operator_a, body, "customFields[0].value")


def test_custom_field_without_reference(operator_a, workflow):
    body = order_payload(workflowCustomId="installation", customFields=[{"value": "x"}])
    assert_rejected(operator_a, body, "customFields[0].customId")


def test_unknown_workflow_id(operator_a):
    assert_rejected(operator_a, order_payload(workflowId=str(uuid.uuid4())), "workflowId")


def test_malformed_workflow_id(operator_a):
    assert_rejected(operator_a, order_payload(workflowId="nope"), "workflowId")


def test_unknown_workflow_custom_id(operator_a):
    assert_rejected(operator_a, order_payload(workflowCustomId="nope"), "workflowCustomId")


def test_workflow_of_another_organization(operator_a, org_b):
    other = services.workflow_create(organization=org_b, custom_id="b-only", name="B")
    assert_rejected(operator_a, order_payload(workflowId=str(other.pk)), "workflowId")
    assert_rejected(operator_a, order_payload(workflowCustomId="b-only"), "workflowCustomId")


def test_inactive_workflow(operator_a, workflow):
    workflow.active = False
    workflow.save()
    assert_rejected(operator_a, order_payload(workflowCustomId="installation"), "workflowCustomId")


def test_tag_of_another_organization(operator_a, org_b):
    foreign = services.order_tags_create(organization=org_b, names=["B-tag"])[0]
    payload = assert_rejected(operator_a, order_payload(orderTagIds=[str(foreign.pk)]), "orderTagIds")
    assert str(foreign.pk) in payload["details"]["orderTagIds"][0]


def test_malformed_tag_id(operator_a):
    assert_rejected(operator_a, order_payload(orderTagIds=["nope"]), "orderTagIds[0]")


def test_unknown_file_id(operator_a):
    assert_rejected(operator_a, order_payload(fileIds=[str(uuid.uuid4())]), "fileIds")


def test_unknown_installer_assignment(operator_a):
    body = order_payload(actorAssignments=[{"actorSlug": "installer", "organizationId": str(uuid.uuid4())}])
    assert_rejected(operator_a, body, "actorAssignments[0].organizationId")


def test_non_installer_organization_cannot_be_assigned(operator_a):
    plain = OrganizationFactory()
    body = order_payload(actorAssignments=[{"actorSlug": "installer", "organizationId": str(plain.pk)}])
    assert_rejected(operator_a, body, "actorAssignments[0].organizationId")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", 12),
        ("description", {"type": "paragraph"}),
        ("metadata", ["a"]),
        ("customFields", {"charger": "11 kW"}),
        ("orderTagIds", "abc"),
        ("name", "x" * 201),
    ],
)
def test_wrong_shapes(operator_a, field, value):
    assert_rejected(operator_a, order_payload(**{field: value}), field)


def test_non_json_body(operator_a):
    payload = assert_rejected(operator_a, "{not json", None, content_type="application/json")
    assert "details" not in payload


def test_json_array_body(operator_a):
    import json

    payload = assert_rejected(operator_a, json.dumps([order_payload()]), None, content_type="application/json")
    assert "nonFieldErrors" in payload["details"]


def test_json_null_body(operator_a):
    assert_rejected(operator_a, "null", None, content_type="application/json")


def test_unsupported_media_type(operator_a):
    before = Order.objects.count()
    response = operator_a.post(URL, "<order/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.json()["statusCode"] == 415
    assert Order.objects.count() == before


def _in_threads(validate, count: int = 16) -> dict:
    """validate(index) run in `count` threads at once; its answers by index."""
    import threading

    results: dict[int, Any] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, validate(i))) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == count  # every thread answered
    return results


def test_create_input_copies_its_fields_for_each_request():
    """OrderCreateInput shares nothing bound between instances (orders.api.serializers.FreshCopies):
    the declared fields stay unbound, each instance's fields (and a list field's child) are
    bound to it, and concurrent validations each see their own input and errors."""
    from orders.api.serializers import OrderCreateInput
    from orders.tests.factories import order_payload

    first, second = OrderCreateInput(data={}), OrderCreateInput(data={})
    for name, field in first.fields.items():
        assert field.parent is first and field is not second.fields[name]
        assert OrderCreateInput._declared_fields[name].parent is None
    assert first.fields["orderTagIds"].child.parent is first.fields["orderTagIds"]
    assert first.fields["orderTagIds"].child is not second.fields["orderTagIds"].child

    def validate(index):
        data = order_payload(name=f"Order {index}", orderTagIds=[f"00000000-0000-0000-0000-{index:012d}"])
        if index % 2:
            data["email"] = "not an email"
        serializer = OrderCreateInput(data=data)
        return serializer.is_valid(), dict(serializer.errors), serializer.validated_data if not index % 2 else None

    for index, (valid, errors, data) in _in_threads(validate).items():
        if index % 2:
            assert not valid and set(errors) == {"email"}
        else:
            assert valid and not errors and data["name"] == f"Order {index}"
            assert [str(u) for u in data["order_tag_ids"]] == [f"00000000-0000-0000-0000-{index:012d}"]


def test_create_input_copies_its_nested_inputs_for_each_request():
    """The nested inputs (customFields, actorAssignments: serializers with many=True) are copied
    per instance too, without DRF's deepcopy: each instance's list and its child are its own,
    the child's fields are made per copy, the declared ones are never used, and concurrent
    validations each get their own values and errors."""
    from orders.api.serializers import OrderCreateInput
    from orders.tests.factories import order_payload

    first, second = OrderCreateInput(data={}), OrderCreateInput(data={})
    for name in ("customFields", "actorAssignments"):
        mine, theirs = first.fields[name], second.fields[name]
        assert mine is not theirs and mine.parent is first and mine.child.parent is mine
        assert mine.child is not theirs.child
        assert set(mine.child.fields) == set(theirs.child.fields)
        for field_name, field in mine.child.fields.items():
            assert field.parent is mine.child and field is not theirs.child.fields[field_name]
        declared = OrderCreateInput._declared_fields[name]
        assert declared.parent is None and "fields" not in declared.child.__dict__

    def validate(index):
        value = {"customId": f"field_{index}", "value": index} if not index % 2 else {"value": index}
        serializer = OrderCreateInput(data=order_payload(customFields=[value]))
        return serializer.is_valid(), dict(serializer.errors), serializer._validated_data

    for index, (valid, errors, data) in _in_threads(validate).items():
        if index % 2:
            assert not valid and set(errors) == {"customFields"}
            assert errors["customFields"] == {0: {"customId": ["Give customId or id."]}}
        else:
            assert valid and data["custom_fields"] == [{"customId": f"field_{index}", "value": index}]


@pytest.mark.postgres
def test_the_fast_order_number_counts_as_the_orm_version(org_a):
    """`number_order` (one statement, a fast path) and `number_order_orm` share the counter,
    number the order alike and read the organization's webhook flag alike."""
    from django.db import transaction

    from accounts.models import Organization
    from orders.services.orders import number_order, number_order_orm

    workflow = services.workflow_create(organization=org_a, custom_id="numbered", name="Numbered")
    Organization.objects.filter(pk=org_a.pk).update(order_counter=41, has_webhook_endpoints=True)
    with transaction.atomic():
        first, second, third = (
            Order.objects.create(organization=org_a, workflow=workflow, name=f"n{i}") for i in range(3)
        )
        number_order(first)
        assert (first.number, first.display_id, org_a.has_webhook_endpoints) == (
            42,
            f"{org_a.display_id_prefix}-42",
            True,
        )
        number_order_orm(second)
        assert (second.number, second.display_id, org_a.order_counter) == (43, f"{org_a.display_id_prefix}-43", 43)
        Organization.objects.filter(pk=org_a.pk).update(has_webhook_endpoints=False)
        number_order(third)
        assert third.number == 44 and org_a.has_webhook_endpoints is False
    assert Organization.objects.get(pk=org_a.pk).order_counter == 44
    stored = dict(Order.objects.filter(organization=org_a).values_list("name", "display_id"))
    assert stored == {"n0": first.display_id, "n1": second.display_id, "n2": third.display_id}


@pytest.mark.django_db(transaction=True)
def test_the_order_number_is_the_creates_last_write(org_a):
    """The counter's UPDATE locks the organization row until commit and so serializes its
    creates: every insert of the create (order, tags, events) runs before it, and a repeat of an
    idempotency key fails on the insert without taking a number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.actors import Actor
    from orders.exceptions import DuplicateIdempotencyKey

    workflow = services.workflow_create(organization=org_a, custom_id="last", name="Last")
    tag = services.order_tags_create(organization=org_a, names=["vip"])[0]
    data = {"name": "Last", "workflow_id": workflow.pk, "order_tag_ids": [tag.pk], "idempotency_key": "k-1"}
    with CaptureQueriesContext(connection) as queries:
        order = services.order_create(organization=org_a, actor=Actor.system(), data=data)
    statements = [q["sql"] for q in queries.captured_queries]
    counter = next(i for i, sql in enumerate(statements) if "order_counter" in sql and "accounts_organization" in sql)
    assert not [sql for sql in statements[counter:] if sql.startswith("INSERT")]
    assert order.display_id == f"{org_a.display_id_prefix}-1"
    with pytest.raises(DuplicateIdempotencyKey):
        services.order_create(organization=org_a, actor=Actor.system(), data=data)
    org_a.refresh_from_db()
    assert org_a.order_counter == 1
