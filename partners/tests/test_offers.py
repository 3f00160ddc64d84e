"""The offers inbox: the job summary without customer data, the deadline in the partner's zone,
Accept and Decline through the API's services with the user as the actor, and every refusal
(expired, taken, answered, another partner's offer, a role that may not answer) as a message on
the page, never a 500."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from dispatch import services as dispatch_services
from dispatch.models import Offer, OfferStatus
from orders.actors import Actor
from orders.models import ActorType, Order, OrderEvent, OrderStatus
from orders.tests.factories import add_custom_field
from partners.tests.conftest import member, offered, signed_in

pytestmark = pytest.mark.django_db

CUSTOMER = {
    "contact_person_name": "Kari Hemmelig",
    "email": "kari.hemmelig@example.com",
    "phone_number": "+4791112233",
    "address": "Hemmeligveien 7",
}


def test_an_open_offer_shows_the_job_summary_and_no_customer_data(partner, router, company):
    add_custom_field(router.workflows.get(is_default=True), "charger_type", label="Charger type")
    order, offer = offered(
        router, company, name="EV charger", custom_fields=[{"customId": "charger_type", "value": "22 kW"}], **CUSTOMER
    )
    body = partner.get("/partner/offers/").content.decode()
    assert f'id="offer-{offer.pk}"' in body
    for shown in (order.display_id, "EV charger", "0154", "Oslo", "Charger type", "22 kW", "default"):
        assert shown in body, shown
    for hidden in CUSTOMER.values():
        assert hidden not in body, hidden
    assert order.client_token not in body


def test_the_deadline_is_shown_in_the_partners_zone_with_the_time_left(partner, router, company, clock):
    order, offer = offered(router, company)
    deadline = timezone.now() + datetime.timedelta(hours=30, minutes=10)
    Offer.objects.filter(pk=offer.pk).update(expires_at=deadline)
    body = partner.get("/partner/offers/").content.decode()
    local = deadline.astimezone(datetime.UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Oslo"))
    assert local.strftime("%Y-%m-%d %H:%M") in body
    assert 'title="Europe/Oslo"' in body and "Times are in Europe/Oslo." in body
    assert "1 day 6 hours" in body


def test_accept_reveals_the_customer_on_the_job_page_and_records_the_user(partner, partner_user, router, company):
    order, offer = offered(router, company, **CUSTOMER)
    response = partner.post(f"/partner/offers/{offer.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == f"/partner/jobs/{order.pk}/"
    order.refresh_from_db()
    assert order.installer_id == company.pk and order.status == OrderStatus.DISPATCHING
    event = OrderEvent.objects.get(order=order, type="order.assigned")
    assert (event.actor_type, event.actor_id, event.actor_label) == (
        ActorType.USER,
        str(partner_user.pk),
        "fixit-admin",
    )
    page = partner.get(response["Location"]).content.decode()
    for shown in CUSTOMER.values():
        assert shown in page
    assert "Offer accepted" in page


def test_accepting_an_expired_offer_is_refused_on_the_page(partner, router, company, clock):
    order, offer = offered(router, company)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() + datetime.timedelta(hours=1))
    clock.advance(hours=2)
    body = partner.get("/partner/offers/").content.decode()
    assert f'id="offer-{offer.pk}"' not in body  # past its deadline it is not offered
    response = partner.post(f"/partner/offers/{offer.pk}/accept/")
    assert response.status_code == 409
    assert "This offer has expired" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert Order.objects.get(pk=order.pk).installer_id is None
    # Declining it is refused the same way.
    response = partner.post(f"/partner/offers/{offer.pk}/decline/", {"reason": "late"})
    assert response.status_code == 409 and "expired" in response.content.decode()
    past = partner.get("/partner/offers/").content.decode()
    assert "outcome-expired" in past


def test_losing_the_race_says_taken_and_nothing_about_who_won(partner, router, company, rival):
    router.offers_at_once = 2
    router.routing_strategy = "priority"
    router.save()
    from orders.tests.factories import create_order

    order = create_order(router)
    dispatch_services.order_dispatch(order_id=order.pk, organization=router, actor=Actor.system("test"))
    ours = Offer.objects.get(order=order, installer=company)
    theirs = Offer.objects.get(order=order, installer=rival)
    dispatch_services.offer_accept(offer_id=theirs.pk, installer=rival, actor=Actor.system("test"))

    response = partner.post(f"/partner/offers/{ours.pk}/accept/")
    body = response.content.decode()
    assert response.status_code == 409
    assert "This job has been taken." in body
    assert "Rival" not in body
    past = partner.get("/partner/offers/").content.decode()
    assert "outcome-taken" in past and "Rival" not in past
    assert partner.get(f"/partner/jobs/{order.pk}/").status_code == 404


def test_an_answered_offer_cannot_be_answered_again(partner, router, company):
    order, offer = offered(router, company)
    assert partner.post(f"/partner/offers/{offer.pk}/decline/", {"reason": "Fully booked"}).status_code == 302
    response = partner.post(f"/partner/offers/{offer.pk}/accept/")
    assert response.status_code == 409 and "already been answered" in response.content.decode()


def test_decline_with_a_reason_goes_on_the_timeline_as_the_user(partner, partner_user, router, company):
    order, offer = offered(router, company)
    response = partner.post(f"/partner/offers/{offer.pk}/decline/", {"reason": "Fully booked"})
    assert response.status_code == 302 and response["Location"] == "/partner/offers/"
    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason) == (OfferStatus.DECLINED, "Fully booked")
    event = OrderEvent.objects.get(order=order, type="offer.declined")
    assert event.actor_type == ActorType.USER and event.actor_id == str(partner_user.pk)
    assert event.data["reason"] == "Fully booked"
    body = partner.get("/partner/offers/").content.decode()
    assert "outcome-declined" in body and "Offer declined." in body


def test_a_too_long_decline_reason_is_a_form_error(partner, router, company):
    _, offer = offered(router, company)
    response = partner.post(f"/partner/offers/{offer.pk}/decline/", {"reason": "x" * 301})
    assert response.status_code == 400
    assert "at most 300 characters" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


def test_another_partners_offer_is_a_404(partner, router, rival):
    _, offer = offered(router, rival)
    assert partner.post(f"/partner/offers/{offer.pk}/accept/").status_code == 404
    assert partner.post(f"/partner/offers/{offer.pk}/decline/", {"reason": ""}).status_code == 404
    assert partner.post("/partner/offers/not-a-uuid/accept/").status_code == 404
    assert partner.post("/partner/offers/not-a-uuid/decline/").status_code == 404
    assert str(offer.pk) not in partner.get("/partner/offers/").content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


def test_a_viewer_may_read_offers_but_not_answer_them(router, company):
    viewer = signed_in(member(company, "fixit-viewer", Role.VIEWER))
    _, offer = offered(router, company)
    assert f'id="offer-{offer.pk}"' in viewer.get("/partner/offers/").content.decode()
    response = viewer.post(f"/partner/offers/{offer.pk}/accept/")
    assert response.status_code == 403 and "may not answer offers" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


def test_past_offers_are_paginated(partner, router, company):
    for _ in range(22):
        _, offer = offered(router, company)
        dispatch_services.offer_decline(offer_id=offer.pk, installer=company, actor=Actor.system("test"))
    first = partner.get("/partner/offers/").content.decode()
    assert first.count("outcome-declined") == 20 and "Page 1 of 2" in first
    second = partner.get("/partner/offers/?page=2").content.decode()
    assert second.count("outcome-declined") == 2
    assert partner.get("/partner/offers/?page=abc").status_code == 200


@pytest.mark.parametrize("count", [1, 50])
def test_the_inbox_costs_the_same_queries_for_1_and_50_offers(
    partner, router, company, count, django_assert_max_num_queries
):
    tags_field = add_custom_field(router.workflows.get(is_default=True), "notes", label="Notes")
    for _ in range(count):
        offered(router, company, custom_fields=[{"customId": tags_field.custom_id, "value": "x"}])
        _, old = offered(router, company)
        dispatch_services.offer_decline(offer_id=old.pk, installer=company, actor=Actor.system("test"))
    # Session, user, memberships, open offers, their orders with tags, files, workflow fields and
    # open offers, past offers' count and page: the same 13 for 1 offer and for 50.
    with django_assert_max_num_queries(13):
        response = partner.get("/partner/offers/")
    assert response.status_code == 200
    assert response.content.decode().count('class="card offer"') == count
