"""The customer's tracking page /t/<token>/."""

from __future__ import annotations

import datetime

import pytest

from orders.actors import Actor
from orders.models import Order, OrderStatus
from orders.services import order_cancel
from orders.tests.factories import create_order
from webforms.presenters import tracking_context

pytestmark = pytest.mark.django_db


def test_tracking_page_shows_status_in_words_and_only_what_the_customer_entered(client, org_a):
    order = create_order(
        org_a,
        contact_person_name="Kari Nordmann",
        metadata={"erpId": "SECRET-ERP-42"},
        description="internal: customer is difficult",
    )
    response = client.get(f"/t/{order.client_token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Request {order.display_id}" in html
    assert '<p class="status" id="status">Received</p>' in html
    assert "Not booked yet" in html and "Not assigned yet" in html
    # No installer yet: the area only, not the customer's name or street.
    assert "0154 Oslo" in html
    hidden = ("Kari Nordmann", "Karl Johans", "SECRET-ERP-42", "difficult", order.email, order.phone_number, org_a.name)
    for secret in hidden:
        assert secret not in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"  # the secret address never leaves the site


def test_one_order_never_shows_another_orders_data(client, org_a, org_b):
    mine = create_order(org_a, city="Bergen", postal_code="5003")
    theirs = create_order(org_b, city="Trondheim", postal_code="7010")
    order_cancel(order_id=theirs.pk, organization=org_b, actor=Actor.system())
    html = client.get(f"/t/{mine.client_token}/").content.decode()
    assert "5003 Bergen" in html and mine.display_id in html
    assert "Trondheim" not in html and theirs.display_id not in html
    assert "Cancelled" not in html
    other = client.get(f"/t/{theirs.client_token}/").content.decode()
    assert "7010 Trondheim" in other and "Cancelled" in other and "Bergen" not in other


def test_name_and_street_only_once_an_installer_is_assigned(client, org_a):
    """The page needs no login: it shows no more than the order's installer may read. An
    installer with an open offer reads no customer name or street, nor after it declines."""
    from dispatch import services as dispatch_services
    from dispatch.models import Offer
    from dispatch.tests.conftest import make_installer, make_partner

    first, second = make_installer("First Elektro"), make_installer("Second Elektro")
    make_partner(org_a, first, priority=1)
    make_partner(org_a, second, priority=2)
    order = create_order(org_a, contact_person_name="Kari Nordmann", address="Storgata 1")
    actor = Actor.system("test")
    dispatch_services.order_dispatch(order_id=order.pk, organization=org_a, actor=actor)

    def page() -> str:
        response = client.get(f"/t/{order.client_token}/")
        assert response.status_code == 200
        return response.content.decode()

    html = page()  # an open offer to the first installer, not accepted
    assert "Finding an installer" in html and "0154 Oslo" in html and "Not assigned yet" in html
    assert "Kari Nordmann" not in html and "Storgata" not in html
    offer = Offer.objects.get(order=order, installer=first)
    dispatch_services.offer_decline(offer_id=offer.pk, installer=first, actor=actor)
    html = page()  # the second installer's offer is open now
    assert "Kari Nordmann" not in html and "Storgata" not in html

    offer = Offer.objects.get(order=order, installer=second)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=second, actor=actor)
    html = page()
    assert "Second Elektro" in html and "Kari Nordmann" in html and "Storgata 1, 0154 Oslo" in html


@pytest.mark.parametrize("token", ["wrong-token", "x" * 65, "%00", "a%00b"])
def test_wrong_token_is_404(client, org_a, token):
    order = create_order(org_a)
    response = client.get(f"/t/{token}/")
    assert response.status_code == 404
    assert "We cannot find this request" in response.content.decode()
    assert order.contact_person_name not in response.content.decode()


def test_tokens_are_long_and_random(org_a):
    tokens = {create_order(org_a).client_token for _ in range(3)}
    assert len(tokens) == 3 and all(len(t) >= 32 for t in tokens)


def test_booked_date_and_installer_come_from_the_order(client, org_a):
    """A real dispatch, accept and booking: the page shows the date and the installer's name."""
    from dispatch import services as dispatch_services
    from dispatch.models import Offer
    from dispatch.tests.conftest import make_installer, make_partner

    installer = make_installer("Oslo Elektro")
    make_partner(org_a, installer)
    order = create_order(org_a)
    actor = Actor.system("test")
    dispatch_services.order_dispatch(order_id=order.pk, organization=org_a, actor=actor)
    offer = Offer.objects.get(order=order)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=installer, actor=actor)
    dispatch_services.order_book(
        order_id=order.pk,
        organization=org_a,
        actor=actor,
        start_at=datetime.datetime(2030, 5, 17, 8, 0, tzinfo=datetime.UTC),
        end_at=datetime.datetime(2030, 5, 17, 10, 0, tzinfo=datetime.UTC),
    )
    order = Order.objects.select_related("organization", "installer", "booking").get(pk=order.pk)
    context = tracking_context(order)
    assert context["status_title"] == "Appointment booked"
    assert context["booked"]["start"].isoformat() == "2030-05-17T08:00:00+00:00"
    html = client.get(f"/t/{order.client_token}/").content.decode()
    assert "Oslo Elektro" in html
    order.status = OrderStatus.DECLINED
    assert tracking_context(order)["status_title"] == "Finding an installer"  # not "declined"


@pytest.mark.parametrize("token", ["%00", "abc%00"])
def test_odd_tokens_on_the_confirmation_page_are_404(client, org_a, token):
    assert client.get(f"/f/anything/done/{token}/").status_code == 404
