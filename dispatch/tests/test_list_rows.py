"""Every order object on a List Orders page must equal what Get Order answers, in every state the
object can show (booking, installer, current step, tags, files, custom fields, metadata), and
the expiry task of an offer is written in the dispatch's own transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from dispatch.tests.conftest import make_partner
from orders import services
from orders.models import Order
from orders.tests.factories import add_custom_field, order_payload
from orders.tests.filekit import png_bytes
from orders.tests.test_files import upload

pytestmark = pytest.mark.django_db


def test_every_listed_order_equals_get_order(operator_a, installer_client, installer_org, org_a):
    make_partner(org_a, installer_org, coverage=[("range", "NO", "0150", "0599")])
    workflow = services.workflow_create(organization=org_a, custom_id="solar", name="Solar")
    add_custom_field(workflow, "panels", "number")
    add_custom_field(workflow, "roof", "text")
    vip, urgent = services.order_tags_create(organization=org_a, names=["VIP", "urgent"])
    file_id = upload(operator_a, png_bytes(), name="roof.png", declared="image/png").json()["id"]
    created = operator_a.post(
        "/api/v1/order",
        order_payload(
            workflowCustomId="solar",
            customFields=[{"customId": "panels", "value": 12}],
            metadata={"erp": {"id": 12345678901234567890123, "lines": [1.5, None, "x"]}, "note": "æøå ☀"},
            orderTagIds=[str(urgent.pk), str(vip.pk)],
            fileIds=[file_id],
        ),
        format="json",
    ).json()
    plain = operator_a.post("/api/v1/order", order_payload(name="Plain"), format="json").json()
    booked = operator_a.post("/api/v1/order", order_payload(name="Booked"), format="json").json()
    offer = operator_a.post(f"/api/v1/order/{booked['id']}/dispatch", {}, format="json").json()["offers"][0]
    assert installer_client.post(f"/api/v1/offers/{offer['id']}/accept", {}, format="json").status_code == 200
    booking = {"startAt": "2030-05-06T08:00:00+02:00", "endAt": "2030-05-06T12:00:00+02:00"}
    assert installer_client.put(f"/api/v1/order/{booked['id']}/booking", booking, format="json").status_code == 200

    listed = operator_a.get("/api/v1/order", {"pageSize": 50}).json()["values"]
    assert {o["id"] for o in listed} == {created["id"], plain["id"], booked["id"]}
    for order in listed:
        assert order == operator_a.get(f"/api/v1/order/{order['id']}").json()
    by_id = {o["id"]: o for o in listed}
    assert by_id[booked["id"]]["booking"]["allDay"] is False
    assert by_id[booked["id"]]["installer"] == {"id": str(installer_org.pk), "name": installer_org.name}
    assert by_id[created["id"]]["metadata"]["erp"]["id"] == 12345678901234567890123  # beyond 64 bits, exact
    assert [t["name"] for t in by_id[created["id"]]["tags"]] == ["urgent", "VIP"]
    assert [f["id"] for f in by_id[created["id"]]["files"]] == [file_id]
    assert by_id[plain["id"]]["booking"] is None and by_id[plain["id"]]["installer"] is None


def test_every_write_answers_the_tags_and_files_the_order_has_after_it(
    operator_a, installer_client, installer_org, org_a
):
    """A change that attaches files or tags must answer with them, and every answer must equal
    a Get Order right after it."""
    make_partner(org_a, installer_org, coverage=[("range", "NO", "0150", "0599")])
    (vip,) = services.order_tags_create(organization=org_a, names=["VIP"])
    first = upload(operator_a, png_bytes(), name="a.png", declared="image/png").json()["id"]
    second = upload(operator_a, png_bytes(), name="b.png", declared="image/png").json()["id"]
    order = operator_a.post(
        "/api/v1/order", order_payload(orderTagIds=[str(vip.pk)], fileIds=[first]), format="json"
    ).json()
    url = f"/api/v1/order/{order['id']}"

    def same_as_get(answer, client=operator_a):
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert {k: v for k, v in body.items() if k != "offers"} == client.get(url).json()
        return body

    updated = same_as_get(operator_a.patch(url, {"fileIds": [second], "description": "x"}, format="json"))
    assert [f["name"] for f in updated["files"]] == ["a.png", "b.png"] and updated["tags"][0]["name"] == "VIP"
    dispatched = operator_a.post(f"{url}/dispatch", {}, format="json").json()
    assert [f["name"] for f in dispatched["files"]] == ["a.png", "b.png"] and dispatched["tags"][0]["name"] == "VIP"
    accepted = installer_client.post(f"/api/v1/offers/{dispatched['offers'][0]['id']}/accept", {}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert [f["name"] for f in accepted.json()["order"]["files"]] == ["a.png", "b.png"]
    assert accepted.json()["order"]["tags"] == [{"id": str(vip.pk), "name": "VIP"}]
    booking = {"startAt": "2030-05-06T08:00:00+02:00", "endAt": "2030-05-06T12:00:00+02:00"}
    same_as_get(installer_client.put(f"{url}/booking", booking, format="json"), installer_client)
    same_as_get(installer_client.post(f"{url}/start"), installer_client)
    photo = upload(installer_client, png_bytes(), name="done.png", declared="image/png").json()["id"]
    completed = same_as_get(
        installer_client.post(f"{url}/complete", {"comment": "ok", "fileIds": [photo]}, format="json"),
        installer_client,
    )
    assert [f["name"] for f in completed["files"]] == ["a.png", "b.png", "done.png"]


def test_the_expiry_task_is_written_in_the_dispatch_transaction(org_a, installer_org):
    from django_tasks_db.models import DBTaskResult

    from dispatch import services as dispatch_services
    from orders.actors import Actor

    make_partner(org_a, installer_org, coverage=[("range", "NO", "0150", "0599")])
    order = services.order_create(organization=org_a, actor=Actor.system("t"), data=_data())
    with pytest.raises(RuntimeError), transaction.atomic():
        dispatch_services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system("t"))
        # Inside the transaction, before any commit: the task row is already there...
        assert DBTaskResult.objects.filter(task_path="dispatch.tasks.expire_offer").count() == 1
        raise RuntimeError("the change fails after the dispatch")
    # ...and it is rolled back with the offer.
    assert DBTaskResult.objects.count() == 0
    assert Order.objects.get(pk=order.pk).status == 0


def test_another_task_backend_enqueues_after_commit(org_a, installer_org, settings, django_capture_on_commit_callbacks):
    from dispatch import services as dispatch_services
    from dispatch.tasks import expire_offer
    from installer.tasks import enqueues_in_transaction
    from orders.actors import Actor

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    assert not enqueues_in_transaction(expire_offer, Order)
    make_partner(org_a, installer_org, coverage=[("range", "NO", "0150", "0599")])
    order = services.order_create(organization=org_a, actor=Actor.system("t"), data=_data())
    backend = expire_offer.get_backend()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dispatch_services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system("t"))
    assert backend.results == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert len(backend.results) == 1


def _data() -> dict:
    payload = order_payload()
    return {
        "name": payload["name"],
        "address": payload["address"],
        "city": payload["city"],
        "postal_code": payload["postalCode"],
        "country_code": payload["countryCode"],
        "email": payload["email"],
        "phone_number": payload["phoneNumber"],
        "contact_person_name": payload["contactPersonName"],
    }
