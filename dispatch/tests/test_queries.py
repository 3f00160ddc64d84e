"""Query counts: lists are constant in their length; transitions use a handful of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch import services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from orders import services as order_services
from orders.actors import Actor
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def count_queries(call) -> int:
    call()  # warm up: the first request of a token writes its last_used_at
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def test_offers_list_is_constant(operator_a, installer_client, installer_org, org_a):
    make_partner(org_a, installer_org)

    def add_offers(n):
        for _ in range(n):
            order = create_order(org_a)
            services.order_dispatch(order_id=order.pk, organization=org_a, actor=ACTOR)

    add_offers(1)
    one = count_queries(lambda: installer_client.get("/api/v1/offers"))
    add_offers(30)
    many = count_queries(lambda: installer_client.get("/api/v1/offers?pageSize=50"))
    assert installer_client.get("/api/v1/offers?pageSize=50").json()["count"] == 31
    assert one == many <= 3, (one, many)


def test_installers_list_is_constant(operator_a, org_a):
    make_partner(org_a, make_installer("First Co"), coverage=[("prefix", "NO", "0"), ("radius", 5)])
    one = count_queries(lambda: operator_a.get("/api/v1/partners/installers"))
    for index in range(30):
        make_partner(org_a, make_installer(f"Co {index}"), coverage=[("prefix", "NO", "0"), ("radius", 5)])
    many = count_queries(lambda: operator_a.get("/api/v1/partners/installers?pageSize=50"))
    assert operator_a.get("/api/v1/partners/installers?pageSize=50").json()["count"] == 31
    assert one == many <= 4, (one, many)


def test_order_list_for_installer_is_constant(operator_a, installer_client, installer_org, org_a):
    make_partner(org_a, installer_org)
    order = create_order(org_a)
    services.order_dispatch(order_id=order.pk, organization=org_a, actor=ACTOR)
    one = count_queries(lambda: installer_client.get("/api/v1/order"))
    for _ in range(20):
        order = create_order(org_a)
        services.order_dispatch(order_id=order.pk, organization=org_a, actor=ACTOR)
    many = count_queries(lambda: installer_client.get("/api/v1/order?pageSize=50"))
    assert one == many, (one, many)


def test_transition_query_counts(org_a, installer_org, record_property):
    """Service-level queries of each verb (savepoint statements of the test transaction
    excluded). Printed with -s for the report; pinned so a regression shows."""
    make_partner(org_a, installer_org)
    counts = {}

    def measure(name, call):
        with CaptureQueriesContext(connection) as ctx:
            result = call()
        counts[name] = sum(1 for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"])
        return result

    order = create_order(org_a)
    measure("dispatch", lambda: services.order_dispatch(order_id=order.pk, organization=org_a, actor=ACTOR))
    offer = Offer.objects.get(order=order)
    measure("accept", lambda: services.offer_accept(offer_id=offer.pk, installer=installer_org, actor=ACTOR))
    import datetime

    from django.utils import timezone

    start = timezone.now() + datetime.timedelta(days=3)
    book = {"start_at": start, "end_at": start + datetime.timedelta(hours=2)}
    measure("book", lambda: services.order_book(order_id=order.pk, organization=installer_org, actor=ACTOR, **book))
    measure("rebook", lambda: services.order_book(order_id=order.pk, organization=installer_org, actor=ACTOR, **book))
    measure("unbook", lambda: services.order_unbook(order_id=order.pk, organization=installer_org, actor=ACTOR))
    services.order_book(order_id=order.pk, organization=installer_org, actor=ACTOR, **book)
    measure("start", lambda: services.order_start(order_id=order.pk, organization=installer_org, actor=ACTOR))
    measure("complete", lambda: services.order_complete(order_id=order.pk, organization=installer_org, actor=ACTOR))

    other = create_order(org_a)
    services.order_dispatch(order_id=other.pk, organization=org_a, actor=ACTOR)
    decline_offer = Offer.objects.get(order=other)
    measure(
        "decline (last candidate -> declined)",
        lambda: services.offer_decline(offer_id=decline_offer.pk, installer=installer_org, actor=ACTOR),
    )
    third = create_order(org_a)
    services.order_dispatch(order_id=third.pk, organization=org_a, actor=ACTOR)
    measure(
        "cancel (withdraws offers, removes booking)",
        lambda: order_services.order_cancel(order_id=third.pk, organization=org_a, actor=ACTOR),
    )
    print("\nservice queries:", counts)
    record_property("service_queries", counts)
    # Each change also looks up the organization's webhook endpoints for its outbox rows (+1).
    assert counts["dispatch"] <= 9
    assert counts["accept"] <= 7
    # Completing also records the completion and reads the accepted quote's lines (invoicing's
    # hook, orders.hooks.order_completing): +2.
    assert counts["start"] <= 5 and counts["complete"] <= 7
    assert counts["book"] <= 8 and counts["unbook"] <= 7
    assert counts["cancel (withdraws offers, removes booking)"] <= 7
