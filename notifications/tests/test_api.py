"""`/api/v1/workflows/{id}/notifications`: CRUD, validation (contract error shapes), tenancy
(another organization's workflow or rule is a 404), the language on Create Order, and a list
whose query count does not grow with its rows."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from orders.models import Order, Workflow, WorkflowStep
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Received",
    "trigger": "order.created",
    "channel": "customer_email",
    "templates": {"en": {"subject": "Order {{order.displayId}}", "body": "See {{trackingUrl}}"}},
}


def url(workflow, nid=None):
    base = f"/api/v1/workflows/{workflow.pk}/notifications"
    return f"{base}/{nid}" if nid else base


@pytest.fixture
def wf_a(org_a):
    return Workflow.objects.get(organization=org_a, is_default=True)


def test_create_read_update_delete(operator_a, wf_a):
    created = operator_a.post(url(wf_a), BODY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["trigger"] == "order.created" and body["timing"] == "on_change" and body["webhook"] is None
    nid = body["id"]
    assert operator_a.get(url(wf_a, nid)).json()["name"] == "Received"
    step = WorkflowStep.objects.filter(workflow=wf_a).first()
    patched = operator_a.patch(
        url(wf_a, nid),
        {
            "trigger": "workflow.step.completed",
            "stepKey": step.key,
            "timing": "after",
            "offset": 2,
            "offsetUnit": "days",
        },
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["stepKey"] == step.key and patched.json()["offset"] == 2
    listed = operator_a.get(url(wf_a)).json()
    assert [n["id"] for n in listed["values"]] == [nid]
    assert operator_a.delete(url(wf_a, nid)).status_code == 204
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trigger": "order.exploded"}, "trigger"),
        ({"channel": "pigeon"}, "channel"),
        ({"templates": {"en": {"subject": "x", "body": "{{order.name.__class__}}"}}}, "templates.en.body"),
        ({"templates": {"de": {"subject": "x", "body": "y"}}}, "templates"),
        ({"templates": {"en": {"subject": "", "body": "y"}}}, "templates.en.subject"),
        ({"trigger": "workflow.step.activated"}, "stepKey"),
        ({"stepKey": "nope", "trigger": "workflow.step.activated"}, "stepKey"),
        ({"timing": "before_booking", "offset": 1}, "timing"),
        ({"timing": "after"}, "offset"),
        ({"channel": "webhook"}, "webhook.url"),
        ({"channel": "webhook", "webhook": {"url": "ftp://x.example"}}, "webhook.url"),
        (
            {"channel": "webhook", "webhook": {"url": "https://x.example", "headers": {"Host": "evil"}}},
            "webhook.headers",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(operator_a, wf_a, change, field):
    response = operator_a.post(url(wf_a), {**BODY, **change}, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["statusCode"] == 400 and field in body["details"], body
    assert not Notification.objects.exists()


def test_patch_rejects_unknown_fields(operator_a, wf_a):
    nid = operator_a.post(url(wf_a), BODY, format="json").json()["id"]
    response = operator_a.patch(url(wf_a, nid), {"status": "x"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["details"]


def test_another_organizations_workflow_and_rule_are_404(operator_a, operator_b, wf_a, org_b):
    nid = operator_a.post(url(wf_a), BODY, format="json").json()["id"]
    assert operator_b.get(url(wf_a)).status_code == 404
    assert operator_b.post(url(wf_a), BODY, format="json").status_code == 404
    assert operator_b.get(url(wf_a, nid)).status_code == 404
    assert operator_b.patch(url(wf_a, nid), {"name": "x"}, format="json").status_code == 404
    assert operator_b.delete(url(wf_a, nid)).status_code == 404
    wf_b = Workflow.objects.get(organization=org_b, is_default=True)
    assert operator_b.get(url(wf_b, nid)).status_code == 404  # its own workflow, another's rule
    assert operator_a.get("/api/v1/workflows/not-a-uuid/notifications").status_code == 404
    assert Notification.objects.get(pk=nid).name == "Received"


def test_viewers_read_but_cannot_write(viewer_a, wf_a):
    assert viewer_a.get(url(wf_a)).status_code == 200
    assert viewer_a.post(url(wf_a), BODY, format="json").status_code == 403


@pytest.mark.parametrize("rows", [1, 30])
def test_the_list_query_count_does_not_grow_with_rows(operator_a, wf_a, rows, django_assert_max_num_queries):
    step = WorkflowStep.objects.filter(workflow=wf_a).first()
    for i in range(rows):
        extra = {"trigger": "workflow.step.activated", "stepKey": step.key} if i % 2 else {}
        assert operator_a.post(url(wf_a), {**BODY, "name": f"n{i}", **extra}, format="json").status_code == 201
    with django_assert_max_num_queries(8):
        response = operator_a.get(url(wf_a) + "?pageSize=50")
    assert len(response.json()["values"]) == rows


def test_create_order_takes_a_language_else_the_organizations(operator_a, org_a):
    assert operator_a.post("/api/v1/order", order_payload(language="nb"), format="json").json()["language"] == "nb"
    assert operator_a.post("/api/v1/order", order_payload(), format="json").json()["language"] == "en"
    org_a.language = "nb"
    org_a.save(update_fields=["language"])
    assert operator_a.post("/api/v1/order", order_payload(), format="json").json()["language"] == "nb"
    bad = operator_a.post("/api/v1/order", order_payload(language="de"), format="json")
    assert bad.status_code == 400 and "language" in bad.json()["details"]
    assert Order.objects.count() == 3
