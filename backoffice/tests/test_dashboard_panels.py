"""The dashboard's working-day panels with hand-built data: the orders waiting longest per
status with their age, each partner's load today and this week, the chart's label room, and
the same number of queries however many orders, partners and bookings there are."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice import dashboard
from dispatch.models import Booking
from dispatch.tests.conftest import make_installer, make_partner
from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 10, 12, 0, tzinfo=datetime.UTC)  # a Thursday


def aged(org, *, days: float, status=OrderStatus.CREATED, entered_days: float | None = None, **data) -> Order:
    """An order created `days` ago in `status`; with `entered_days`, moved into it then."""
    order = create_order(org, **data)
    Order.objects.filter(pk=order.pk).update(created_at=NOW - datetime.timedelta(days=days), status=status)
    OrderEvent.objects.filter(order=order).update(created_at=NOW - datetime.timedelta(days=days))
    if entered_days is not None:
        event = OrderEvent.objects.create(
            order=order,
            organization=org,
            sequence=order.event_seq + 1,
            type="order.dispatched",
            from_status=OrderStatus.CREATED,
            to_status=status,
            actor_type="system",
            data={},
        )
        OrderEvent.objects.filter(pk=event.pk).update(created_at=NOW - datetime.timedelta(days=entered_days))
    return order


def test_waiting_longest_lists_the_oldest_per_open_status_with_ages(org_a, org_b):
    young = aged(org_a, days=1)
    old = aged(org_a, days=9)
    oldest_dispatching = aged(org_a, days=20, status=OrderStatus.DISPATCHING, entered_days=2)
    aged(org_a, days=30, status=OrderStatus.COMPLETED)  # done: not waiting
    aged(org_b, days=40)  # another organization's
    aged(org_a, days=50, test=True)  # a test order
    panels = {p["name"]: p for p in dashboard.waiting_longest([org_a.pk], now=NOW)}
    assert list(panels) == ["created", "dispatching", "declined", "scheduled", "in_progress"]
    assert [w["order"].pk for w in panels["created"]["orders"]] == [old.pk, young.pk]
    assert [(w["age"], w["in_status"]) for w in panels["created"]["orders"]] == [("9 d", "9 d"), ("24 h", "24 h")]
    [waiting] = panels["dispatching"]["orders"]
    assert (waiting["order"].pk, waiting["age"], waiting["in_status"]) == (oldest_dispatching.pk, "20 d", "2 d")
    assert panels["declined"]["orders"] == [] and panels["in_progress"]["orders"] == []


def test_waiting_longest_keeps_to_its_limit(org_a):
    for days in range(1, 9):
        aged(org_a, days=days)
    [created] = [p for p in dashboard.waiting_longest([org_a.pk], now=NOW) if p["name"] == "created"]
    assert [w["age"] for w in created["orders"]] == ["8 d", "7 d", "6 d", "5 d", "4 d"]


def book(order: Order, installer, start: datetime.datetime) -> None:
    Order.objects.filter(pk=order.pk).update(installer=installer, status=OrderStatus.SCHEDULED)
    Booking.objects.create(order=order, installer=installer, start_at=start, end_at=start + datetime.timedelta(hours=2))


def test_partner_load_today_and_this_week(org_a, org_b):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    oslo, fjord, idle = make_installer("Oslo Elektro AS"), make_installer("Fjord AS"), make_installer("Idle AS")
    for partner in (oslo, fjord, idle):
        make_partner(org_a, partner)
    make_partner(org_a, make_installer("Inactive AS"), active=False)
    at = lambda d, h: datetime.datetime(2026, 12, d, h, 0, tzinfo=datetime.UTC)  # noqa: E731
    book(create_order(org_a), oslo, at(10, 7))  # today
    book(create_order(org_a), oslo, at(9, 23))  # Thursday 00:00 in Oslo: today there
    book(create_order(org_a), oslo, at(7, 8))  # Monday: this week
    book(create_order(org_a), oslo, at(6, 22))  # Sunday 23:00 in Oslo: last week
    book(create_order(org_a), fjord, at(13, 9))  # Sunday: this week
    book(create_order(org_a), fjord, at(14, 9))  # next Monday: not this week
    book(create_order(org_a, test=True), fjord, at(10, 9))  # a test order: not counted
    book(create_order(org_b), fjord, at(10, 11))  # another router's order
    in_progress = create_order(org_a)
    Order.objects.filter(pk=in_progress.pk).update(installer=idle, status=OrderStatus.IN_PROGRESS)
    load = dashboard.partner_load([org_a.pk], now=NOW)
    rows = {r["name"]: (r["today"], r["week"], r["jobs"]) for r in load["rows"]}
    assert rows == {
        "Oslo Elektro AS": (2, 3, 4),
        "Fjord AS": (0, 1, 2),
        "Idle AS": (0, 0, 1),
    }
    assert [r["name"] for r in load["rows"]] == ["Oslo Elektro AS", "Fjord AS", "Idle AS"]
    assert load["zone"] == "Europe/Oslo" and load["week_label"] == "07.12–13.12"


def test_the_chart_leaves_room_for_its_first_and_last_labels():
    series = [{"day": datetime.date(2026, 11, 1) + datetime.timedelta(days=i), "count": i % 3} for i in range(30)]
    chart = dashboard.bar_chart(series)
    labelled = [b for b in chart["bars"] if b["show_label"]]
    half_label = 16  # "01.11" at 10 px is about 28 units wide
    assert labelled[0]["tx"] - half_label >= 0
    assert labelled[-1]["tx"] + half_label <= chart["width"]
    assert all(b["x"] >= 0 and b["x"] + b["w"] <= chart["width"] for b in chart["bars"])


def _queries(client) -> tuple:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("backoffice-dashboard"))
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_orders_partners_or_bookings(org_a, staff_a):
    partners = [make_installer(f"Installer {i}") for i in range(6)]
    for partner in partners:
        make_partner(org_a, partner)
    now = timezone.now()

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            book(create_order(org_a), partners[i % 6], now + datetime.timedelta(hours=2 * i + 1))
            aged_order = create_order(org_a)
            Order.objects.filter(pk=aged_order.pk).update(status=[0, 1, 5][i % 3])

    add(1, 0)
    response, few = _queries(staff_a)
    assert response.context["partner_load"]["rows"]
    add(30, 1)
    response, many = _queries(staff_a)
    assert few == many, (few, many)
    body = response.content.decode()
    assert 'id="waiting-longest"' in body and 'id="partner-load"' in body and "Installer 0" in body
