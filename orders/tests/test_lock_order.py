"""`lock_order`'s fast path (`lock_order_fast`) reads and locks what the ORM version does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.test.utils import CaptureQueriesContext

from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.models import File, Order, OrderTag
from orders.selectors import order_relations
from orders.services import order_tag_assign
from orders.services.lifecycle import lock_order_fast, lock_order_orm
from orders.tests.factories import create_order

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ACTOR = Actor.system("test")


def values(obj):
    return None if obj is None else {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def loaded(order):
    booking = Order.booking.related.get_cached_value(order) if Order.booking.related.is_cached(order) else "not read"
    return {
        "order": values(order),
        "workflow": values(order.workflow),
        "organization": values(order.organization),
        "installer": values(order.installer),
        "assignee": values(order.assignee),
        "booking": values(booking) if booking != "not read" else booking,
        "tags": [(values(link), values(link.tag)) for link in order.tag_links],
        "files": [values(file) for file in order.file_list],
    }


@pytest.fixture
def orders(org_a):
    plain = create_order(org_a, metadata={"erp": 1}, description={"type": "doc"})
    tagged = create_order(org_a)
    for name in ("Heat pump", "EV"):
        tag = OrderTag.objects.create(organization=org_a, name=name)
        order_tag_assign(order_id=tagged.pk, organization=org_a, tag_id=tag.pk, actor=ACTOR)
    for name in ("b.jpg", "a.jpg"):
        File.objects.create(
            organization=org_a, order=tagged, storage_key=name, name=name, content_type="image/jpeg", size=1
        )
    booked = create_order(org_a)
    installer = make_installer("Oslo Elektro")
    make_partner(org_a, installer)
    dispatch_services.order_dispatch(order_id=booked.pk, organization=org_a, actor=ACTOR)
    dispatch_services.offer_accept(offer_id=Offer.objects.get(order=booked).pk, installer=installer, actor=ACTOR)
    start = dt.datetime(2031, 3, 4, 8, 0, 0, 250000, tzinfo=dt.UTC)
    dispatch_services.order_book(
        order_id=booked.pk, organization=org_a, actor=ACTOR, start_at=start, end_at=start + dt.timedelta(hours=2)
    )
    return plain, booked, tagged


def test_the_fast_lock_reads_what_the_orm_lock_reads(org_a, org_b, orders):
    for order in orders:
        for organization in (org_a, None):
            with transaction.atomic():
                with CaptureQueriesContext(connection) as queries:
                    fast = lock_order_fast(order.pk, organization)
                orm = lock_order_orm(order.pk, organization)
                prefetch_related_objects([orm], *order_relations())
                assert fast is not None and orm is not None
                assert len(queries) == 1 and "FOR UPDATE OF" in queries[0]["sql"]
                assert loaded(fast) == loaded(orm)
                with CaptureQueriesContext(connection) as queries:
                    loaded(fast)
                assert len(queries) == 0  # everything the services read is loaded
    booked = orders[1]
    with transaction.atomic():
        fast = lock_order_fast(booked.pk, org_a)
        assert fast.booking.order is fast and fast.installer.name == "Oslo Elektro"
        assert lock_order_fast(booked.pk, org_b) is None


def test_a_deleted_order_is_not_locked(org_a, orders):
    Order.all_objects.filter(pk=orders[0].pk).update(deleted_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    with transaction.atomic():
        assert lock_order_fast(orders[0].pk, org_a) is None
        assert lock_order_orm(orders[0].pk, org_a) is None
