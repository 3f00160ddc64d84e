"""The customer's portal page /t/<token>/: what it shows per status and its forms."""

from __future__ import annotations

import datetime
import io

import pytest
from PIL import Image

from dispatch.models import Booking
from orders.models import File, Order, OrderEvent, OrderStatus
from orders.services import order_cancel
from orders.tests.factories import create_order
from portal.tests.conftest import SYSTEM, assign, book, let_customer_book, next_weekday

pytestmark = pytest.mark.django_db


def page(client, order, **headers) -> str:
    response = client.get(f"/t/{order.client_token}/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def states(html: str) -> list[str]:
    import re

    return re.findall(r'data-state="(\w+)"', html)


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 100, 50)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "garage.png"
    return buffer


def test_created_order_shows_steps_progress_and_no_booking_form(client, router):
    order = create_order(router)
    html = page(client, order)
    assert states(html) == ["current", "upcoming", "upcoming", "upcoming", "upcoming"]
    assert 'max="5" value="0"' in html and "0 of 5 steps done" in html
    assert "Order received" in html and "No installer found" not in html and "Cancelled" not in html
    assert 'id="form-book"' not in html  # nobody to book yet
    assert 'id="form-request"' in html and 'id="form-note"' in html and 'id="form-photo"' in html
    assert "kind-reschedule" not in html  # nothing booked to move


def test_assigned_order_offers_slots_in_the_installers_hours_and_names_installer_and_phone(client, assigned):
    html = page(client, assigned)
    assert states(html)[:2] == ["completed", "current"]
    assert "Fjord Elektro" in html and 'href="tel:+4791234567"' in html
    assert 'id="form-book"' in html and 'name="slot"' in html
    assert "(Europe/Oslo time)" in html
    # Slots are 08:00-16:00 on weekdays (the default week), two hours each.
    assert "08:00–10:00" in html and "14:00–16:00" in html and "16:00–18:00" not in html


def test_choosing_a_slot_books_through_dispatch_and_the_ics_downloads(client, assigned):
    start = next_weekday(datetime.time(10, 0))
    slot = f"{start.isoformat()}|{(start + datetime.timedelta(hours=2)).isoformat()}"
    step = let_customer_book(assigned)
    response = client.post(f"/t/{assigned.client_token}/book/", {"slot": slot, "step": step.pk})
    assert response.status_code == 302 and response["Location"].endswith("?done=booked#result")
    order = Order.objects.get(pk=assigned.pk)
    assert order.status == OrderStatus.SCHEDULED
    assert Booking.objects.get(order=order).start_at == start
    event = OrderEvent.objects.filter(order=order, type="booking.created").get()
    assert event.actor_type == "customer" and event.actor_label == "customer"
    html = client.get(response["Location"]).content.decode()
    assert "Your appointment is booked." in html and 'id="ics"' in html and "kind-reschedule" in html
    ics = client.get(f"/t/{order.client_token}/appointment.ics")
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    body = ics.content.decode()
    assert "BEGIN:VEVENT" in body and start.astimezone(datetime.UTC).strftime("DTSTART:%Y%m%dT%H%M%SZ") in body
    assert "Fjord Elektro" in body and order.client_url in body.replace("\r\n ", "")


def test_ics_is_404_without_a_booking(client, assigned):
    assert client.get(f"/t/{assigned.client_token}/appointment.ics").status_code == 404


def test_overlap_and_past_and_outside_hours_are_form_errors(client, router, installer, assigned):
    step = let_customer_book(assigned)
    other = assign(create_order(router), router, installer)
    start = next_weekday(datetime.time(10, 0))
    book(other, start)

    def post(begin, hours=2):
        slot = f"{begin.isoformat()}|{(begin + datetime.timedelta(hours=hours)).isoformat()}"
        return client.post(f"/t/{assigned.client_token}/book/", {"slot": slot, "step": step.pk})

    taken = post(start)
    assert taken.status_code == 409 and "That time was just taken" in taken.content.decode()
    assert 'id="error-summary"' in taken.content.decode()
    past = post(start - datetime.timedelta(days=14))
    assert past.status_code == 400 and "That time has passed" in past.content.decode()
    night = post(next_weekday(datetime.time(20, 0)))
    assert night.status_code == 400 and "does not work at that time" in night.content.decode()
    garbage = client.post(f"/t/{assigned.client_token}/book/", {"slot": "yesterday", "step": step.pk})
    assert garbage.status_code == 400 and "Choose one of the times shown" in garbage.content.decode()
    assert not Booking.objects.filter(order=assigned).exists()
    # The taken slot is not offered.
    html = page(client, assigned)
    assert start.isoformat() not in html


def test_workflow_without_a_customer_step_offers_no_booking(client, router, installer):
    order = assign(create_order(router), router, installer)
    html = page(client, order)
    assert 'id="form-book"' not in html
    start = next_weekday(datetime.time(10, 0))
    slot = f"{start.isoformat()}|{(start + datetime.timedelta(hours=2)).isoformat()}"
    response = client.post(f"/t/{order.client_token}/book/", {"slot": slot, "step": "appointment"})
    assert response.status_code == 404
    assert not Booking.objects.filter(order=order).exists()


def test_reschedule_and_cancel_requests_are_customer_events(client, assigned):
    order = book(assigned, next_weekday(datetime.time(8, 0)))
    response = client.post(
        f"/t/{order.client_token}/request/", {"kind": "reschedule", "message": "Tuesday suits better"}
    )
    assert response.status_code == 302
    response = client.post(f"/t/{order.client_token}/request/", {"kind": "cancel", "message": ""})
    assert response.status_code == 302
    events = list(OrderEvent.objects.filter(order=order, type__startswith="customer.").order_by("sequence"))
    assert [(e.type, e.actor_type, e.data) for e in events] == [
        ("customer.reschedule_requested", "customer", {"message": "Tuesday suits better"}),
        ("customer.cancel_requested", "customer", {"message": ""}),
    ]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SCHEDULED  # a request changes nothing itself


def test_reschedule_before_a_booking_and_an_unknown_kind_are_refused(client, assigned):
    response = client.post(f"/t/{assigned.client_token}/request/", {"kind": "reschedule"})
    assert response.status_code == 409
    response = client.post(f"/t/{assigned.client_token}/request/", {"kind": "explode"})
    assert response.status_code == 400
    assert not OrderEvent.objects.filter(order=assigned, type__startswith="customer.").exists()


def test_note_and_photo(client, assigned):
    assert client.post(f"/t/{assigned.client_token}/note/", {"note": "  The dog is friendly. "}).status_code == 302
    event = OrderEvent.objects.get(order=assigned, type="customer.note_added")
    assert event.data == {"note": "The dog is friendly."}
    empty = client.post(f"/t/{assigned.client_token}/note/", {"note": "  "})
    assert empty.status_code == 400 and "Write a note first" in empty.content.decode()

    assert client.post(f"/t/{assigned.client_token}/photo/", {"photo": png()}).status_code == 302
    file = File.objects.get(order=assigned)
    assert file.content_type == "image/png" and file.uploaded_by == "customer"
    fake = io.BytesIO(b"%PDF-1.4 not a photo at all")
    fake.name = "photo.jpg"
    bad = client.post(f"/t/{assigned.client_token}/photo/", {"photo": fake})
    assert bad.status_code == 415 and "not a photo" in bad.content.decode()
    missing = client.post(f"/t/{assigned.client_token}/photo/", {})
    assert missing.status_code == 400
    assert File.objects.filter(order=assigned).count() == 1


def test_finished_orders_stay_readable_and_refuse_every_action(client, assigned):
    order_cancel(order_id=assigned.pk, organization=assigned.organization, actor=SYSTEM)
    html = page(client, assigned)
    assert "This order is finished" in html and 'id="form-request"' not in html and 'id="form-book"' not in html
    assert states(html)[-1] == "current" and "skipped" in states(html)
    for path, data in (
        ("request", {"kind": "cancel"}),
        ("note", {"note": "hello"}),
        ("photo", {"photo": png()}),
        (
            "book",
            {
                "slot": f"{next_weekday(datetime.time(8, 0)).isoformat()}|{next_weekday(datetime.time(10, 0)).isoformat()}",
                "step": "appointment",
            },
        ),
    ):
        response = client.post(f"/t/{assigned.client_token}/{path}/", data)
        assert response.status_code == 409, path
        assert "This order is finished" in response.content.decode()
    assert not OrderEvent.objects.filter(order=assigned, type__startswith="customer.").exists()


def test_completed_order_shows_every_step_done(client, assigned):
    from dispatch import services as dispatch_services

    order = book(assigned, next_weekday(datetime.time(8, 0)))
    dispatch_services.order_start(order_id=order.pk, organization=order.organization, actor=SYSTEM)
    dispatch_services.order_complete(order_id=order.pk, organization=order.organization, actor=SYSTEM)
    html = page(client, order)
    assert set(states(html)) == {"completed"} and "5 of 5 steps done" in html
    assert "Completed" in html and 'id="form-note"' not in html


def test_rotated_or_unknown_token_is_404_for_page_forms_and_ics(client, assigned):
    from portal.services import client_token_rotate

    old = assigned.client_token
    order = client_token_rotate(order_id=assigned.pk, organization_id=assigned.organization_id, actor=SYSTEM)
    assert order.client_token != old and len(order.client_token) >= 32
    for path in ("", "appointment.ics"):
        assert client.get(f"/t/{old}/{path}").status_code == 404
    assert client.post(f"/t/{old}/note/", {"note": "hi"}).status_code == 404
    assert client.get(f"/t/{order.client_token}/").status_code == 200


def test_page_never_shows_other_installers_or_decline_reasons(client, router, installer):
    from dispatch import services as dispatch_services
    from dispatch.models import Offer
    from dispatch.tests.conftest import make_installer, make_partner

    first = make_installer("Decliner AS")
    make_partner(router, first, priority=1)
    make_partner(router, installer, priority=2)
    order = create_order(router, contact_person_name="Kari Nordmann", metadata={"erp": "SECRET-1"})
    dispatch_services.order_dispatch(order_id=order.pk, organization=router, actor=SYSTEM)
    offer = Offer.objects.get(order=order, installer=first)
    dispatch_services.offer_decline(offer_id=offer.pk, installer=first, actor=SYSTEM, reason="too_far")
    html = page(client, order)
    for secret in ("Decliner AS", "too_far", "SECRET-1", "Kari Nordmann", order.email, router.name, "Fjord Elektro"):
        assert secret not in html


def test_page_queries_are_constant(client, assigned, django_assert_max_num_queries, router, installer):
    """The page reads the order (one query), the working hours and the bookings for the slots,
    and the quotes; the same whatever the number of bookings and steps done."""
    client.get(f"/t/{assigned.client_token}/")  # warm the workflow cache
    with django_assert_max_num_queries(5):
        page(client, assigned)
    for hour in (8, 10, 12):
        book(assign(create_order(router), router, installer), next_weekday(datetime.time(hour, 0), weeks=2))
    with django_assert_max_num_queries(5):
        page(client, assigned)


def test_rate_limit_on_actions(client, assigned, settings):
    settings.PORTAL_RATE_LIMIT = 2
    for _ in range(2):
        assert client.post(f"/t/{assigned.client_token}/note/", {"note": "x"}).status_code == 302
    response = client.post(f"/t/{assigned.client_token}/note/", {"note": "x"})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert OrderEvent.objects.filter(order=assigned, type="customer.note_added").count() == 2
