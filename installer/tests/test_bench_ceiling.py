"""The ceiling experiment (`bench/ceiling.py`, views in `bench/ceiling_urls.py`) measures lower
bounds of the List, change and create rows: they only mean something while the experiment's
views do the work they claim. The page it reads must be the real List's page (same orders, same
order); the page PostgreSQL writes must carry the same values as the app's order objects for
every key it claims to write; the least change must write one event under the order's lock and
keep tenancy; the least create must write the order with its number and its event."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection

from orders import services
from orders.models import OrderEvent
from orders.tests.factories import create_order

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.ceiling_urls")]

# What the experiment's page leaves out (it says so): what needs the workflow cache or the viewer.
NOT_WRITTEN = {"customFields", "allowedActions"}
# PostgreSQL writes a timestamp's microseconds without trailing zeros: the same instant.
TIMESTAMPS = {"createdAt", "updatedAt"}


def comparable(order: dict) -> dict:
    return {k: dt.datetime.fromisoformat(v) if k in TIMESTAMPS else v for k, v in order.items() if k not in NOT_WRITTEN}


@pytest.fixture
def tagged(org_a):
    tag, other = services.order_tags_create(organization=org_a, names=["bench", "Øther"])
    for index in range(7):
        create_order(
            org_a,
            name=f'Order {index} "quoted" \\ \U0001f600',
            order_tag_ids=[str(tag.pk), str(other.pk)] if index % 2 else [str(tag.pk)],
            metadata={"erpId": 10**20 + index, "price": 12.5},
            latitude=59.912345678901234,
            longitude=-10.75,
        )
    create_order(org_a, name="untagged")
    return tag


def test_pgjson_page_is_the_list_page_with_the_same_values(operator_a, tagged):
    if connection.vendor != "postgresql":
        pytest.skip("the experiment's page is written by PostgreSQL")
    real = operator_a.get(f"/api/v1/order?pageSize=50&status=0&tagId={tagged.pk}")
    assert real.status_code == 200
    page = operator_a.get(f"/api/v1/_ceiling/pgjson?status=0&tagId={tagged.pk}")
    assert page.status_code == 200
    app, pg = real.json()["values"], json.loads(page.content)["values"]
    assert len(app) == 7
    assert [o["id"] for o in pg] == [o["id"] for o in app]
    for mine, theirs in zip(pg, app, strict=True):
        assert set(mine) == set(theirs)
        assert comparable(mine) == comparable(theirs)


def test_ids_and_rows_read_the_page(operator_a, tagged):
    for view in ("ids", "rows"):
        answer = operator_a.get(f"/api/v1/_ceiling/{view}?status=0&tagId={tagged.pk}")
        assert answer.status_code == 200
        assert answer.json() == {"count": 7}


def test_least_change_writes_one_event_and_keeps_tenancy(operator_a, operator_b, tagged, org_a):
    order = create_order(org_a, name="changed")
    events = OrderEvent.objects.filter(order=order).count()
    answer = operator_a.post(f"/api/v1/order/{order.pk}/ceilingwrite", {}, format="json")
    assert answer.status_code == 200
    assert OrderEvent.objects.filter(order=order).count() == events + 1
    order.refresh_from_db()
    assert order.event_seq == events + 1
    assert operator_b.post(f"/api/v1/order/{order.pk}/ceilingwrite", {}, format="json").status_code == 404
    assert OrderEvent.objects.filter(order=order).count() == events + 1


def test_least_create_writes_the_order_with_its_number_and_event(operator_a, org_a):
    if connection.vendor != "postgresql":
        pytest.skip("the least create takes the number in the write's statement, as Create does on PostgreSQL")
    from orders.models import Order
    from orders.tests.factories import order_payload

    before = Order.objects.filter(organization=org_a).count()
    answer = operator_a.post("/api/v1/_ceiling/create", order_payload(name="Least"), format="json")
    assert answer.status_code == 201
    order = Order.objects.get(pk=answer.json()["id"])
    assert (order.organization_id, order.name, order.postal_code) == (org_a.pk, "Least", "0154")
    assert order.number == before + 1
    assert order.display_id == f"{org_a.display_id_prefix}-{order.number}"
    assert list(OrderEvent.objects.filter(order=order).values_list("type", flat=True)) == ["order.created"]
