"""The order list: the columns that matter, built-in and saved filters per user (own only,
tenancy kept), and a query count that does not grow with the rows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.admin import BUILT_IN_FILTERS, filter_query, week_start
from backoffice.dashboard import request_zone
from backoffice.models import SavedFilter
from backoffice.tests.conftest import staff_client
from dispatch.models import Booking
from dispatch.tests.conftest import make_installer, make_partner
from orders import services
from orders.models import Order, OrderStatus
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

LIST = "admin:orders_order_changelist"


def shown(response) -> set:
    assert response.status_code == 200
    return {o.pk for o in response.context["cl"].result_list}


def assign_and_book(order: Order, installer, start: datetime.datetime | None, status=OrderStatus.SCHEDULED) -> None:
    """Hand-built state: the order assigned to `installer` (and booked from `start`)."""
    Order.objects.filter(pk=order.pk).update(installer=installer, status=status)
    if start is not None:
        Booking.objects.create(
            order=order, installer=installer, start_at=start, end_at=start + datetime.timedelta(hours=2)
        )


def test_the_list_shows_the_columns_that_matter(org_a, staff_a):
    installer = make_installer("Oslo Elektro AS")
    tag = services.order_tags_create(organization=org_a, names=["VIP"])[0]
    order = create_order(
        org_a, contact_person_name="Kari Hansen", city="Bergen", postal_code="5003", order_tag_ids=[str(tag.pk)]
    )
    assign_and_book(order, installer, timezone.now() + datetime.timedelta(days=3))
    response = staff_a.get(reverse(LIST))
    assert response.context["cl"].list_display[1:] == [
        "display_id",
        "status_badge",
        "customer",
        "place",
        "installer",
        "booked_short",
        "tag_list",
        "age",
    ]
    body = response.content.decode()
    for text in (order.display_id, "scheduled", "Kari Hansen", "5003 Bergen", "Oslo Elektro AS", "VIP", "0 min"):
        assert text in body, text
    assert response.context["is_nav_sidebar_enabled"] is False  # the list gets the screen's width


def test_built_in_filters_are_there_for_every_user_and_work(org_a, staff_a):
    installer = make_installer("Oslo Elektro AS")
    unassigned = create_order(org_a)
    zone = request_zone([org_a.pk])
    monday = week_start(timezone.now(), zone)
    booked_now, booked_later, booked_before = create_order(org_a), create_order(org_a), create_order(org_a)
    assign_and_book(booked_now, installer, monday + datetime.timedelta(days=3, hours=10))  # Thursday 10:00
    assign_and_book(booked_later, installer, monday + datetime.timedelta(days=7))  # next Monday 00:00
    assign_and_book(booked_before, installer, monday - datetime.timedelta(minutes=1))  # last Sunday
    cancelled = create_order(org_a)
    Order.objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)
    page = staff_a.get(reverse(LIST))
    names = [f["name"] for f in page.context["saved_filters"]]
    assert names[:2] == ["My unassigned", "Starting this week"]
    by_name = dict(BUILT_IN_FILTERS)
    assert shown(staff_a.get(reverse(LIST) + "?" + by_name["My unassigned"])) == {unassigned.pk}
    assert shown(staff_a.get(reverse(LIST) + "?" + by_name["Starting this week"])) == {booked_now.pk}
    assert shown(staff_a.get(reverse(LIST) + "?starts=next_week")) == {booked_later.pk}
    assert shown(staff_a.get(reverse(LIST) + "?assigned=yes")) == {booked_now.pk, booked_later.pk, booked_before.pk}


def test_saving_the_current_filters_under_a_name(org_a, staff_a):
    tag = services.order_tags_create(organization=org_a, names=["VIP"])[0]
    vip = create_order(org_a, order_tag_ids=[str(tag.pk)])
    create_order(org_a)
    query = f"tag={tag.pk}&status__exact=0&p=2"
    response = staff_a.post(
        reverse("admin:orders_order_saved_filter_add"), {"name": "  VIP new ", "query_string": query}
    )
    saved = SavedFilter.objects.get(user=staff_a.user)
    assert (saved.name, saved.query_string) == ("VIP new", f"status__exact=0&tag={tag.pk}")  # paging dropped
    assert response.status_code == 302 and response["Location"].endswith("?" + saved.query_string)
    listed = staff_a.get(reverse(LIST) + "?" + saved.query_string)
    assert shown(listed) == {vip.pk}
    mine = [f for f in listed.context["saved_filters"] if not f["built_in"]]
    assert [(f["name"], f["active"]) for f in mine] == [("VIP new", True)]
    # The same name again replaces it.
    staff_a.post(reverse("admin:orders_order_saved_filter_add"), {"name": "VIP new", "query_string": "status__exact=1"})
    assert list(SavedFilter.objects.filter(user=staff_a.user).values_list("query_string", flat=True)) == [
        "status__exact=1"
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "query_string": "status__exact=0"},
        {"name": "x" * 81, "query_string": ""},
        {"query_string": "status__exact=0"},
    ],
)
def test_bad_input_saves_nothing(org_a, staff_a, data):
    response = staff_a.post(reverse("admin:orders_order_saved_filter_add"), data)
    assert response.status_code == 302
    assert not SavedFilter.objects.exists()
    messages = [str(m) for m in staff_a.get(response["Location"]).context["messages"]]
    assert any("not saved" in m for m in messages)


def test_saving_and_deleting_take_post_only(org_a, staff_a):
    assert staff_a.get(reverse("admin:orders_order_saved_filter_add")).status_code == 405
    saved = SavedFilter.objects.create(user=staff_a.user, name="Mine", query_string="status__exact=1")
    assert staff_a.get(reverse("admin:orders_order_saved_filter_delete", args=[saved.pk])).status_code == 405
    assert SavedFilter.objects.filter(pk=saved.pk).exists()


def test_a_saved_filter_is_only_its_users(org_a, staff_a):
    colleague = staff_client(org_a)
    saved = SavedFilter.objects.create(user=staff_a.user, name="Mine", query_string="status__exact=1")
    page = colleague.get(reverse(LIST))
    assert "Mine" not in [f["name"] for f in page.context["saved_filters"]]
    assert [f["name"] for f in page.context["saved_filters"]] == [name for name, _ in BUILT_IN_FILTERS]
    delete = reverse("admin:orders_order_saved_filter_delete", args=[saved.pk])
    assert colleague.post(delete).status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    assert staff_a.post(delete).status_code == 302
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()
    assert staff_a.post(delete).status_code == 404


def test_a_saved_filter_never_shows_another_organizations_orders(org_a, org_b, staff_a, staff_admin_b):
    tag_a = services.order_tags_create(organization=org_a, names=["VIP"])[0]
    order_a = create_order(org_a, order_tag_ids=[str(tag_a.pk)])
    order_b = create_order(org_b)
    # B's admin saves a filter naming A's tag, and one that matches everything.
    for name, query in (("A's tag", f"tag={tag_a.pk}"), ("Everything", "test=all")):
        staff_admin_b.post(reverse("admin:orders_order_saved_filter_add"), {"name": name, "query_string": query})
    for saved in SavedFilter.objects.filter(user=staff_admin_b.user):
        listed = shown(staff_admin_b.get(reverse(LIST) + "?" + saved.query_string))
        assert order_a.pk not in listed
    assert shown(staff_admin_b.get(reverse(LIST) + "?test=all")) == {order_b.pk}
    assert shown(staff_admin_b.get(reverse(LIST) + "?assigned=no")) == {order_b.pk}
    assert shown(staff_a.get(reverse(LIST) + "?assigned=no")) == {order_a.pk}


def test_filter_query_keeps_filters_only():
    assert filter_query({"p": "3", "q": "kari", "status__exact": "1", "e": "1", "_changelist_filters": "x"}) == (
        "q=kari&status__exact=1"
    )


def _list_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(LIST))
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["cl"].result_list)


def test_list_queries_are_the_same_for_1_and_50_rows(org_a, staff_a):
    installers = [make_installer(f"Installer {i}") for i in range(3)]
    for installer in installers:
        make_partner(org_a, installer)
    tags = services.order_tags_create(organization=org_a, names=["VIP", "Urgent", "Web"])
    SavedFilter.objects.create(user=staff_a.user, name="Mine", query_string="status__exact=2")

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            order = create_order(org_a, order_tag_ids=[str(tags[i % 3].pk), str(tags[(i + 1) % 3].pk)])
            start = timezone.now() + datetime.timedelta(days=2, hours=3 * i)
            assign_and_book(order, installers[i % 3], start if i % 2 == 0 else None)

    add(1, 0)
    one, rows_one = _list_queries(staff_a)
    add(49, 1)
    fifty, rows_fifty = _list_queries(staff_a)
    assert (rows_one, rows_fifty) == (1, 50)
    assert one == fifty, (one, fifty)
