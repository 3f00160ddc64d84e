"""What planning reads inside the change's transaction: nothing it already knows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch import services as dispatch_services
from notifications.models import Channel, Message, Timing
from notifications.tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def _selects_of(queries, table: str) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]


def test_a_new_orders_plan_looks_up_no_earlier_messages(rule, make_order):
    rule("order.created")
    with CaptureQueriesContext(connection) as queries:
        order = make_order()
    assert _selects_of(queries.captured_queries, Message._meta.db_table) == []
    assert Message.objects.filter(order=order).count() == 1


def test_a_plan_of_offer_messages_reads_the_offers_installer_once(rule, make_order, installer_org):
    rule("offer.sent", channel=Channel.PARTNER_EMAIL)
    rule("offer.sent", channel=Channel.PARTNER_EMAIL, timing=Timing.AFTER, offset=12, unit="hours")
    order = make_order()
    with CaptureQueriesContext(connection) as queries:
        dispatch_services.order_dispatch(order_id=order.pk, organization=order.organization, actor=ACTOR)
    offer_reads = [
        sql
        for sql in _selects_of(queries.captured_queries, "dispatch_offer")
        if sql.startswith('SELECT "dispatch_offer".') and '"accounts_organization"' in sql
    ]
    assert len(offer_reads) == 1, offer_reads
    # The offers were sent by this change: no message of theirs can exist yet.
    assert _selects_of(queries.captured_queries, Message._meta.db_table) == []
    recipients = list(Message.objects.filter(order=order).values_list("recipient", flat=True))
    assert recipients == ["jobs@fixit.example"] * 2
