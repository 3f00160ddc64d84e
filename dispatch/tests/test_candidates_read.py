"""The dispatch candidates' fast path (`partnerships_for_dispatch_fast`) reads what the ORM
version reads: partnerships, installers, coverage rules, open orders and the last offer time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch import services
from dispatch.models import Offer
from dispatch.selectors import partnerships_for_dispatch_fast, partnerships_for_dispatch_orm
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.tests.factories import create_order

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def values(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def read(partnerships):
    return [
        {
            "partnership": values(p),
            "installer": values(p.installer),
            "open_orders": p.open_orders,
            "last_offered_at": p.last_offered_at,
            "coverage": [values(c) for c in p.coverage_list],
        }
        for p in partnerships
    ]


def test_the_fast_candidates_read_what_the_orm_reads(org_a, org_b):
    oslo = make_installer("Oslo Elektro", base=(59.9, 10.7))
    bergen = make_installer("Bergen Elektro")
    idle = make_installer("Idle AS")
    make_partner(org_a, oslo, coverage=(("range", "NO", "0100", "0999"), ("prefix", "NO", "03*"), ("radius", 25)))
    make_partner(org_a, bergen, priority=50, capacity=3, skills=("ev",))
    make_partner(org_a, idle, coverage=(), active=False)
    make_partner(org_b, oslo)  # another router's partnership of the same installer
    actor = Actor.system("test")
    for _ in range(2):
        order = create_order(org_a)
        services.order_dispatch(order_id=order.pk, organization=org_a, actor=actor)
    services.offer_accept(offer_id=Offer.objects.filter(installer=bergen).first().pk, installer=bergen, actor=actor)
    with CaptureQueriesContext(connection) as queries:
        fast = partnerships_for_dispatch_fast(org_a)
    assert len(queries) == 1
    orm = partnerships_for_dispatch_orm(org_a)
    assert read(fast) == read(orm)
    by_name = {p.installer.name: p for p in fast}
    assert set(by_name) == {"Oslo Elektro", "Bergen Elektro", "Idle AS"}
    assert len(by_name["Oslo Elektro"].coverage_list) == 3 and by_name["Idle AS"].coverage_list == []
    assert by_name["Bergen Elektro"].open_orders == 1 and by_name["Bergen Elektro"].last_offered_at is not None
    assert [p.installer.name for p in fast][0] == "Bergen Elektro"  # by priority
