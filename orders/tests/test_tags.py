"""Order tags: per-organization, case-insensitively unique names; idempotent assign/remove."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from orders import services
from orders.models import OrderEvent, OrderTag
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

TAGS = "/api/v1/order-tags"


def names(body):
    return [t["name"] for t in body["values"]]


def test_create_by_name(operator_a):
    response = operator_a.post(TAGS, {"name": "VIP"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["count"] == 1 and names(body) == ["VIP"]
    tag = OrderTag.objects.get(organization=operator_a.org)
    assert body["values"][0] == {"id": str(tag.pk), "name": "VIP", "color": tag.color}


def test_create_by_names_in_order_given(operator_a):
    body = operator_a.post(TAGS, {"names": ["Urgent", " VIP ", "Urgent"]}, format="json").json()
    assert names(body) == ["Urgent", "VIP"]
    assert OrderTag.objects.filter(organization=operator_a.org).count() == 2


def test_name_and_names_together(operator_a):
    body = operator_a.post(TAGS, {"name": "A", "names": ["B"]}, format="json").json()
    assert names(body) == ["A", "B"]


def test_existing_name_any_case_is_reused(operator_a):
    first = operator_a.post(TAGS, {"name": "VIP"}, format="json").json()["values"][0]
    again = operator_a.post(TAGS, {"names": ["vip", "Vip", "New"]}, format="json").json()
    assert again["values"][0] == first
    assert [t["id"] for t in again["values"]].count(first["id"]) == 1  # one tag, listed once
    assert names(again) == ["VIP", "New"]
    assert OrderTag.objects.filter(organization=operator_a.org).count() == 2


def test_same_name_in_two_organizations(operator_a, operator_b):
    a = operator_a.post(TAGS, {"name": "VIP"}, format="json").json()["values"][0]
    b = operator_b.post(TAGS, {"name": "VIP"}, format="json").json()["values"][0]
    assert a["id"] != b["id"]
    assert names(operator_a.get(TAGS).json()) == ["VIP"]
    assert names(operator_b.get(TAGS).json()) == ["VIP"]


def test_database_refuses_a_case_variant(org_a):
    services.order_tags_create(organization=org_a, names=["VIP"])
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderTag(organization=org_a, name="vip").save()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "names"),
        ({"names": []}, "names"),
        ({"names": ["  "]}, "names[0]"),
        ({"name": ""}, "name"),
        ({"names": "VIP"}, "names"),
        ({"name": "x" * 101}, "name"),
        ({"names": [1, {"a": 1}]}, "names[1]"),
    ],
)
def test_bad_tag_input(operator_a, body, field):
    response = operator_a.post(TAGS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["details"], response.json()
    assert not OrderTag.objects.exists()


def test_list_tags_sorted_and_paged(operator_a):
    services.order_tags_create(organization=operator_a.org, names=["c", "a", "b"])
    body = operator_a.get(TAGS).json()
    assert names(body) == ["a", "b", "c"] and body["count"] == 3
    assert set(body["values"][0]) == {"id", "name", "color"}
    page = operator_a.get(TAGS, {"pageSize": 2, "page": 1}).json()
    assert names(page) == ["c"] and page["count"] == 3
    assert operator_a.get(TAGS, {"pageSize": 0}).status_code == 400


def test_assign_and_remove_are_idempotent(operator_a):
    order = create_order(operator_a.org)
    vip, urgent = services.order_tags_create(organization=operator_a.org, names=["VIP", "Urgent"])
    url = f"/api/v1/order/{order.pk}/tags/{{}}"
    first = operator_a.put(url.format(vip.pk))
    assert first.status_code == 200
    assert first.json() == {"values": [{"id": str(vip.pk), "name": "VIP"}], "count": 1}
    assert operator_a.put(url.format(vip.pk)).json() == first.json()
    both = operator_a.put(url.format(urgent.pk)).json()
    assert {t["name"] for t in both["values"]} == {"VIP", "Urgent"} and both["count"] == 2
    assert {t["name"] for t in operator_a.get(f"/api/v1/order/{order.pk}").json()["tags"]} == {"VIP", "Urgent"}

    removed = operator_a.delete(url.format(vip.pk))
    assert removed.status_code == 200
    assert removed.json() == {"values": [{"id": str(urgent.pk), "name": "Urgent"}], "count": 1}
    assert operator_a.delete(url.format(vip.pk)).json() == removed.json()

    events = OrderEvent.objects.filter(order=order, type__startswith="order.tag_")
    assert [(e.type, e.data["tag"]["name"]) for e in events] == [
        ("order.tag_added", "VIP"),
        ("order.tag_added", "Urgent"),
        ("order.tag_removed", "VIP"),
    ]


def test_tag_ids_that_do_not_exist_are_404(operator_a):
    order = create_order(operator_a.org)
    for tag_id in ("nope", "00000000-0000-0000-0000-000000000000"):
        response = operator_a.put(f"/api/v1/order/{order.pk}/tags/{tag_id}")
        assert response.status_code == 404 and response.json()["message"] == "Tag not found."


def test_tag_of_other_org_is_404(operator_a, operator_b):
    order = create_order(operator_a.org)
    foreign = services.order_tags_create(organization=operator_b.org, names=["B"])[0]
    for method in ("put", "delete"):
        response = getattr(operator_a, method)(f"/api/v1/order/{order.pk}/tags/{foreign.pk}")
        assert response.status_code == 404
    assert not order.tags.exists()


def test_tags_on_a_cancelled_order_can_still_change(operator_a):
    """Tags are the router's bookkeeping; they stay editable after cancel (documented choice)."""
    order = create_order(operator_a.org)
    services.order_cancel(order_id=order.pk, organization=operator_a.org, actor=_actor())
    tag = services.order_tags_create(organization=operator_a.org, names=["Refund"])[0]
    assert operator_a.put(f"/api/v1/order/{order.pk}/tags/{tag.pk}").status_code == 200


def _actor():
    from orders.actors import Actor

    return Actor.system("t")


def test_the_order_a_tag_change_returns_shows_the_change(operator_a):
    """The lock reads the order with its tags; a change of tags drops them, so that what is
    built from the returned order (an answer, a webhook) shows the tags as changed."""
    from orders.api.presenters import order_to_dict

    order = create_order(operator_a.org)
    vip = services.order_tags_create(organization=operator_a.org, names=["VIP"])[0]
    added = services.order_tag_assign(order_id=order.pk, organization=operator_a.org, tag_id=vip.pk, actor=_actor())
    assert [t["name"] for t in order_to_dict(added)["tags"]] == ["VIP"]
    removed = services.order_tag_remove(order_id=order.pk, organization=operator_a.org, tag_id=vip.pk, actor=_actor())
    assert order_to_dict(removed)["tags"] == []
