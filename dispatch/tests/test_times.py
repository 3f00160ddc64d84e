"""Time: stored in UTC, shown to people in the organization's zone with the zone named (the
customer's tracking page, the admin's order list); an API time without an offset is a 400, and
so is a booking that starts in the past (the admin records one after a confirmation)."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization, Role
from backoffice.tests.conftest import staff_client
from dispatch import services
from dispatch.models import Booking, Offer
from dispatch.tests.conftest import make_partner
from orders.actors import Actor
from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
UTC = datetime.UTC
# 08:00 UTC on 17 May 2030 is 10:00 in Oslo (CEST, UTC+2).
START = datetime.datetime(2030, 5, 17, 8, 0, tzinfo=UTC)
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def oslo(org_a):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    return org_a


@pytest.fixture
def assigned(oslo, installer_org):
    """An order of the Oslo organization with its installer, ready to book."""
    make_partner(oslo, installer_org)
    order = create_order(oslo)
    services.order_dispatch(order_id=order.pk, organization=oslo, actor=ACTOR)
    offer = Offer.objects.get(order=order)
    services.offer_accept(offer_id=offer.pk, installer=installer_org, actor=ACTOR)
    return order


def book(order, start=START, hours=2):
    services.order_book(
        order_id=order.pk,
        organization=order.organization,
        actor=ACTOR,
        start_at=start,
        end_at=start + datetime.timedelta(hours=hours),
    )


def snapshot(order):
    order = Order.objects.get(pk=order.pk)
    return (
        order.status,
        order.event_seq,
        OrderEvent.objects.filter(order=order).count(),
        list(Booking.objects.filter(order=order).values_list("start_at", "end_at")),
    )


def test_the_demo_organization_is_in_oslo():
    call_command("seed_demo", stdout=io.StringIO())
    assert Organization.objects.get(slug="demo").time_zone == "Europe/Oslo"
    # An existing demo still in UTC gets its zone on the next seed.
    Organization.objects.filter(slug="demo").update(time_zone="UTC")
    call_command("seed_demo", stdout=io.StringIO())
    assert Organization.objects.get(slug="demo").time_zone == "Europe/Oslo"


# ---- the API --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    ["2030-06-03T10:00:00", "2030-06-03T10:00", "2030-06-03 10:00:00", "2030-06-03"],
)
def test_a_booking_time_without_an_offset_is_a_400(installer_client, assigned, start):
    before = snapshot(assigned)
    response = installer_client.put(
        f"/api/v1/order/{assigned.pk}/booking", {"startAt": start, "endAt": "2030-06-03T12:00:00+02:00"}, format="json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["details"] == {
        "startAt": ["Give the time with its UTC offset, e.g. 2030-06-03T10:00:00+02:00 or 2030-06-03T08:00:00Z."]
    }
    assert snapshot(assigned) == before
    # The end is checked the same way.
    response = installer_client.put(
        f"/api/v1/order/{assigned.pk}/booking",
        {"startAt": "2030-06-03T10:00:00+02:00", "endAt": "2030-06-03T12:00:00"},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["details"]) == ["endAt"]
    assert snapshot(assigned) == before


def test_a_booking_time_with_an_offset_is_that_instant(installer_client, assigned):
    response = installer_client.put(
        f"/api/v1/order/{assigned.pk}/booking",
        {"startAt": "2030-05-17T10:00:00+02:00", "endAt": "2030-05-17T10:00:00Z"},
        format="json",
    )
    assert response.status_code == 200, response.content
    booking = Booking.objects.get(order=assigned)
    assert (booking.start_at, booking.end_at) == (START, START + datetime.timedelta(hours=2))


def test_a_booking_that_starts_in_the_past_is_a_400(installer_client, assigned):
    before = snapshot(assigned)
    start = timezone.now() - datetime.timedelta(minutes=5)
    response = installer_client.put(
        f"/api/v1/order/{assigned.pk}/booking",
        {"startAt": start.isoformat(), "endAt": (start + datetime.timedelta(hours=2)).isoformat()},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["details"] == {"startAt": ["Must not be in the past."]}
    assert snapshot(assigned) == before


@pytest.mark.parametrize("name", ["createdAfter", "createdBefore", "updatedSince"])
def test_a_list_filter_time_without_an_offset_is_a_400(operator_a, name):
    create_order(operator_a.org)
    response = operator_a.get("/api/v1/order", {name: "2030-01-01T00:00:00"})
    assert response.status_code == 400, response.content
    assert response.json()["details"][name] == [
        "Give the time with its UTC offset, e.g. 2030-06-03T10:00:00+02:00 or 2030-06-03T08:00:00Z."
    ]
    response = operator_a.get("/api/v1/order", {name: "2000-01-01T00:00:00+01:00"})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == (0 if name == "createdBefore" else 1)


# ---- the admin ------------------------------------------------------------------------------


def book_url(order) -> str:
    return reverse("admin:orders_order_action", args=[order.pk, "book"])


def test_the_admin_records_a_past_booking_only_after_a_confirmation(oslo, assigned):
    staff = staff_client(oslo, Role.OPERATOR)
    yesterday = timezone.now() - datetime.timedelta(days=1)
    local = yesterday.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M")  # the form is in Oslo time
    before = snapshot(assigned)
    response = staff.post(book_url(assigned), {"start_at": local, "all_day": "on"})
    assert response.status_code == 200
    assert "The start is in the past. Tick this box to record the booking anyway." in response.content.decode()
    assert snapshot(assigned) == before

    response = staff.post(book_url(assigned), {"start_at": local, "all_day": "on", "confirm_past": "on"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    booking = Booking.objects.get(order=assigned)
    assert booking.start_at.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M") == local
    assert Order.objects.get(pk=assigned.pk).status == OrderStatus.SCHEDULED


def test_the_admin_order_list_shows_the_organization_s_time_and_names_it(oslo, assigned):
    book(assigned)
    Order.objects.filter(pk=assigned.pk).update(created_at=datetime.datetime(2030, 1, 15, 12, 30, tzinfo=UTC))
    staff = staff_client(oslo, Role.OPERATOR)
    html = staff.get(reverse("admin:orders_order_changelist")).content.decode()
    # Created 12:30 UTC in January = 13:30 CET (the age column's hover); booked 08:00 UTC in
    # May = 10:00 CEST.
    assert 'title="Created 2030-01-15 13:30 CET"' in html
    assert 'Fri 17 May 2030 10:00 <abbr title="Europe/Oslo">CEST</abbr>' in html
    assert "12:30" not in html and "08:00" not in html


# ---- the customer's tracking page -----------------------------------------------------------


def test_the_tracking_page_shows_the_organization_s_time_and_names_it(client, assigned):
    book(assigned)
    Order.objects.filter(pk=assigned.pk).update(created_at=datetime.datetime(2030, 1, 15, 23, 30, tzinfo=UTC))
    html = client.get(f"/t/{assigned.client_token}/").content.decode()
    assert "Friday 17 May 2030, 10:00–12:00 CEST" in html and "(Europe/Oslo time)" in html
    # 23:30 UTC on 15 January is already the 16th in Oslo.
    assert "16 January 2030, 00:30 CET" in html
    assert "08:00" not in html and "15 January" not in html
