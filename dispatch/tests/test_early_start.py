"""Starting a job before its booked day: allowed, recorded on `order.started` (and so named by
the webhook of that event), warned about by the API (`Installer-Warning`, the body unchanged) and
confirmed explicitly in the admin. Days are the router's calendar days in its time zone."""

from __future__ import annotations

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.zones import day_text
from backoffice.tests.conftest import staff_client
from dispatch import services
from dispatch.models import Booking, Offer
from dispatch.tests.conftest import make_partner
from orders.actors import Actor
from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import create_order
from webhooks import services as webhook_services
from webhooks.models import WebhookDelivery
from webhooks.services.delivery import delivery_body

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
UTC = datetime.UTC
OSLO = ZoneInfo("Europe/Oslo")  # CET (UTC+1) in December
# Sunday 6 December 2026, 11:00 in Oslo.
NOW = datetime.datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
# Thursday 10 December 2026, 08:00 in Oslo.
NEXT_THURSDAY = datetime.datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
WARNING = "This order is booked for Thu 10 Dec 08:00 (Europe/Oslo) and was started before that day."


@pytest.fixture
def frozen(monkeypatch):
    """`timezone.now()` is NOW for the whole test (the offers, the booking and the start)."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def oslo(org_a):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    return org_a


@pytest.fixture
def make_booked(oslo, installer_org):
    """An order of the Oslo organization, assigned to the installer and booked at `start`."""
    make_partner(oslo, installer_org)

    def make(start: datetime.datetime, *, all_day: bool = False) -> Order:
        order = create_order(oslo)
        services.order_dispatch(order_id=order.pk, organization=oslo, actor=ACTOR)
        offer = Offer.objects.get(order=order)
        services.offer_accept(offer_id=offer.pk, installer=installer_org, actor=ACTOR)
        end = start + datetime.timedelta(hours=24 if all_day else 2)
        services.order_book(
            order_id=order.pk, organization=oslo, actor=ACTOR, start_at=start, end_at=end, all_day=all_day
        )
        return order

    return make


def started_event(order) -> OrderEvent:
    return OrderEvent.objects.get(order=order, type="order.started")


# ---- the service ----------------------------------------------------------------------------


def test_a_start_before_the_booked_day_is_recorded_on_the_event(frozen, make_booked, installer_org):
    order = make_booked(NEXT_THURSDAY)
    started = services.order_start(order_id=order.pk, organization=installer_org, actor=ACTOR)
    assert started.status == OrderStatus.IN_PROGRESS
    assert getattr(started, services.STARTED_BEFORE_BOOKING) == Booking.objects.get(order=order)
    assert started_event(order).data == {"startedBeforeBooking": True, "bookedStartAt": "2026-12-10T08:00:00+01:00"}


def test_a_start_on_the_booked_day_records_nothing_more(frozen, make_booked, installer_org):
    order = make_booked(NOW + datetime.timedelta(hours=10))  # 21:00 in Oslo, the same Sunday
    started = services.order_start(order_id=order.pk, organization=installer_org, actor=ACTOR)
    assert started.status == OrderStatus.IN_PROGRESS
    assert getattr(started, services.STARTED_BEFORE_BOOKING) is None
    assert started_event(order).data == {}


def test_a_start_after_the_booked_day_records_nothing_more(frozen, make_booked, installer_org):
    order = make_booked(NOW + datetime.timedelta(hours=2))
    # Two days late: a late start is no early start.
    late = NOW + datetime.timedelta(days=2)
    started = services.order_start(order_id=order.pk, organization=installer_org, actor=ACTOR, now=late)
    assert getattr(started, services.STARTED_BEFORE_BOOKING) is None
    assert started_event(order).data == {}


@pytest.mark.parametrize(
    ("now", "start", "flagged"),
    [
        # 23:30 UTC on the 9th is 00:30 on the 10th in Oslo; 08:00 on the 10th is the same day
        # there although the UTC dates differ.
        (
            datetime.datetime(2026, 12, 9, 23, 30, tzinfo=UTC),
            datetime.datetime(2026, 12, 10, 7, 0, tzinfo=UTC),
            None,
        ),
        # 22:30 UTC on the 9th is 23:30 on the 9th in Oslo; 23:30 UTC the same UTC day is
        # already 00:30 on the 10th there: the next day.
        (
            datetime.datetime(2026, 12, 9, 22, 30, tzinfo=UTC),
            datetime.datetime(2026, 12, 9, 23, 30, tzinfo=UTC),
            "2026-12-10T00:30:00+01:00",
        ),
    ],
    ids=["utc-dates-differ-same-oslo-day", "same-utc-date-next-oslo-day"],
)
def test_days_are_the_organization_s_calendar_days(make_booked, installer_org, now, start, flagged):
    order = make_booked(start)
    services.order_start(order_id=order.pk, organization=installer_org, actor=ACTOR, now=now)
    expected = {"startedBeforeBooking": True, "bookedStartAt": flagged} if flagged else {}
    assert started_event(order).data == expected


def test_the_booked_day_is_named_in_english_with_the_zone_and_the_year_when_it_differs():
    assert day_text(NEXT_THURSDAY, OSLO, now=NOW) == "Thu 10 Dec 08:00 (Europe/Oslo)"
    assert day_text(NEXT_THURSDAY, OSLO, now=NOW, with_time=False) == "Thu 10 Dec (Europe/Oslo)"
    new_year = datetime.datetime(2027, 1, 4, 6, 30, tzinfo=UTC)
    assert day_text(new_year, OSLO, now=NOW) == "Mon 4 Jan 2027 07:30 (Europe/Oslo)"


# ---- the webhook ----------------------------------------------------------------------------


def test_the_order_started_webhook_names_the_event_that_carries_the_flag(frozen, oslo, make_booked, installer_org):
    order = make_booked(NEXT_THURSDAY)
    webhook_services.endpoint_create(organization=oslo, url="https://hooks.example.com/", events=["order.started"])
    services.order_start(order_id=order.pk, organization=installer_org, actor=ACTOR)
    delivery = WebhookDelivery.objects.get(event_type="order.started")
    assert delivery.event == started_event(order)
    assert delivery.event.data == {"startedBeforeBooking": True, "bookedStartAt": "2026-12-10T08:00:00+01:00"}
    body = json.loads(delivery_body(delivery))
    # The body's id (and the `webhook-id` header) is that event's id; `data` is the order.
    assert body["id"] == str(delivery.event_id) == delivery.message_id
    assert body["event"] == "order.started" and body["data"]["statusName"] == "in_progress"


# ---- the API --------------------------------------------------------------------------------


def test_the_api_warns_in_a_header_and_keeps_the_body(frozen, make_booked, installer_client, operator_a):
    early, on_the_day = make_booked(NEXT_THURSDAY), make_booked(NOW + datetime.timedelta(hours=3))

    plain = installer_client.post(f"/api/v1/order/{on_the_day.pk}/start")
    assert plain.status_code == 200, plain.content
    assert "Installer-Warning" not in plain

    warned = installer_client.post(f"/api/v1/order/{early.pk}/start")
    assert warned.status_code == 200, warned.content
    assert warned["Installer-Warning"] == WARNING
    assert set(warned.json()) == set(plain.json())  # no new field in the order object
    assert warned.json()["statusName"] == "in_progress"

    # The router's token gets the same warning; the timeline shows the flag to both.
    third = make_booked(NEXT_THURSDAY + datetime.timedelta(hours=3))
    response = operator_a.post(f"/api/v1/order/{third.pk}/start")
    assert response.status_code == 200, response.content
    assert response["Installer-Warning"] == WARNING.replace("08:00", "11:00")
    for client in (operator_a, installer_client):
        events = client.get(f"/api/v1/order/{early.pk}/events").json()["values"]
        started = next(e for e in events if e["type"] == "order.started")
        assert started["data"] == {"startedBeforeBooking": True, "bookedStartAt": "2026-12-10T08:00:00+01:00"}


def test_the_api_names_an_all_day_booking_by_its_day(frozen, make_booked, installer_client):
    order = make_booked(datetime.datetime(2026, 12, 9, 23, 0, tzinfo=UTC), all_day=True)  # Thu 10 Dec, 00:00
    response = installer_client.post(f"/api/v1/order/{order.pk}/start")
    assert response.status_code == 200, response.content
    assert (
        response["Installer-Warning"]
        == "This order is booked for Thu 10 Dec (Europe/Oslo) and was started before that day."
    )


def test_the_schema_documents_the_warning_header(operator_a):
    schema = operator_a.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    start = schema["paths"]["/api/v1/order/{id}/start"]["post"]
    assert "Installer-Warning" in start["responses"]["200"]["headers"]
    assert "Installer-Warning" not in schema["paths"]["/api/v1/order/{id}/complete"]["post"]["responses"]["200"].get(
        "headers", {}
    )


# ---- the admin ------------------------------------------------------------------------------


def start_url(order) -> str:
    return reverse("admin:orders_order_action", args=[order.pk, "start"])


def test_the_admin_starts_a_job_booked_on_a_later_day_only_after_a_confirmation(frozen, oslo, make_booked):
    order = make_booked(NEXT_THURSDAY)
    staff = staff_client(oslo, Role.OPERATOR)
    page = staff.get(start_url(order)).content.decode()
    assert "This job is booked for Thu 10 Dec 08:00 (Europe/Oslo). Start it now anyway?" in page
    assert 'name="confirm_early"' in page

    response = staff.post(start_url(order), {})
    assert response.status_code == 200
    assert "The job is booked for a later day. Tick this box to start it now." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SCHEDULED
    assert not OrderEvent.objects.filter(order=order, type="order.started").exists()

    # The form posts its CSRF token: without it nothing happens.
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(staff.user)
    assert csrf_checked.post(start_url(order), {"confirm_early": "on"}).status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SCHEDULED

    response = staff.post(start_url(order), {"confirm_early": "on"})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS
    event = started_event(order)
    assert event.actor_type == "user"
    assert event.data == {"startedBeforeBooking": True, "bookedStartAt": "2026-12-10T08:00:00+01:00"}


def test_the_admin_starts_a_job_booked_today_as_before(frozen, oslo, make_booked):
    order = make_booked(NOW + datetime.timedelta(hours=3))
    staff = staff_client(oslo, Role.OPERATOR)
    page = staff.get(start_url(order)).content.decode()
    assert "Start it now anyway" not in page and 'name="confirm_early"' not in page
    assert staff.post(start_url(order), {}).status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS
    assert started_event(order).data == {}
