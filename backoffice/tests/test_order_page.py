"""The order page read top-down: the header (status, customer, place, installer, booking in the
organization's zone, the allowed actions), the timeline as sentences with step activations
folded in, the title in the order's fieldset, thumbnails, editing kept, and a query count that
does not grow with events, files or offers."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from backoffice.tests.conftest import make_file, staff_client
from dispatch import services as dispatch_services
from dispatch.models import Offer, OfferStatus
from dispatch.tests.conftest import make_installer, make_partner
from orders import services
from orders.actors import Actor
from orders.admin.actions import allowed_actions_for
from orders.models import Order, OrderStatus
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


def change_url(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


@pytest.fixture
def oslo_org(org_a):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    return org_a


def booked_order(org, installer, start: datetime.datetime, **data) -> Order:
    """An order dispatched to `installer`, accepted and booked from `start` for four hours."""
    order = create_order(org, postal_code="0155", **data)
    dispatch_services.order_dispatch(
        order_id=order.pk, organization=org, actor=Actor.system("kari"), installer_id=installer.pk
    )
    offer = Offer.objects.get(order=order, status=OfferStatus.SENT)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=installer, actor=Actor.system("Oslo Elektro API"))
    dispatch_services.order_book(
        order_id=order.pk,
        organization=org,
        actor=Actor.system("Oslo Elektro API"),
        start_at=start,
        end_at=start + datetime.timedelta(hours=4),
    )
    return Order.objects.get(pk=order.pk)


def future_start() -> datetime.datetime:
    """07:00 UTC (08:00 in Oslo in winter, 09:00 in summer) some days ahead."""
    day = (timezone.now() + datetime.timedelta(days=10)).date()
    return datetime.datetime.combine(day, datetime.time(7, 0), tzinfo=datetime.UTC)


def test_header_names_status_customer_place_installer_booking_and_the_allowed_actions(oslo_org, staff_a):
    installer = make_installer("Oslo Elektro AS")
    make_partner(oslo_org, installer)
    start = future_start()
    order = booked_order(
        oslo_org, installer, start, contact_person_name="Kari Nordmann", address="Storgata 1", city="Oslo"
    )
    response = staff_a.get(change_url(order))
    assert response.status_code == 200
    header = response.context["order_header"]
    local = start.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    assert header["customer"] == "Kari Nordmann"
    assert header["place"] == "Storgata 1, 0155 Oslo"
    assert header["installer"] == "Oslo Elektro AS"
    assert header["booking"].endswith(f"{local:%H:%M}–{local + datetime.timedelta(hours=4):%H:%M} (Europe/Oslo)")
    assert header["zone"] == "Europe/Oslo"
    assert "scheduled" in header["status"]
    # The actions are the order buttons the policy allows for this user, each linked once.
    shown = [a["url"].rstrip("/").rsplit("/", 1)[-1] for a in response.context["order_actions"]]
    request = response.wsgi_request
    assert sorted(shown) == sorted(
        a for a in allowed_actions_for(request, order) if a in {"cancel", "book", "unbook", "start"}
    )
    assert set(shown) == {"cancel", "book", "unbook", "start"}
    body = response.content.decode()
    header_html = body[body.index('id="order-header"') : body.index("</section>", body.index('id="order-header"'))]
    for action in shown:
        assert reverse("admin:orders_order_action", args=[order.pk, action]) in header_html
    # Header first, then the timeline, then the fields.
    assert body.index('id="order-header"') < body.index('id="order-timeline"') < body.index('id="id_email"')
    assert "Quote: no quote · Not invoiced" in header_html


def test_the_header_says_where_the_money_stands(org_a, staff_a):
    order = create_order(org_a)
    Order.objects.filter(pk=order.pk).update(quote_status="accepted", invoice_status="invoiced")
    body = staff_a.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Quote: accepted · Invoiced" in body


def test_a_viewer_sees_the_header_without_actions(oslo_org):
    viewer = staff_client(oslo_org, Role.VIEWER)
    order = create_order(oslo_org)
    response = viewer.get(change_url(order))
    assert response.status_code == 200
    assert response.context["order_actions"] == []
    assert "No action is open to you on this order now." in response.content.decode()
    assert response.context["order_header"]["booking"] == ""
    assert "Not booked" in response.content.decode() and "Not assigned" in response.content.decode()


def test_timeline_reads_as_sentences_newest_first_with_steps_folded(oslo_org, staff_a):
    installer = make_installer("Oslo Elektro AS")
    make_partner(oslo_org, installer)
    order = booked_order(oslo_org, installer, future_start())
    rows = staff_a.get(change_url(order)).context["timeline_rows"]
    texts = [row.text for row in rows]
    assert texts[0].startswith("Booked ") and texts[0].endswith(" by Oslo Elektro API")
    assert "Oslo Elektro AS accepted the offer" in texts
    assert texts[-1] == "Order created through the API by test"
    assert all(row.event.type != "workflow.step.activated" for row in rows)
    activations = order.events.filter(type="workflow.step.activated").count()
    assert sum(len(row.folded) for row in rows) == activations >= 2
    sequences = [row.event.sequence for row in rows]
    assert sequences == sorted(sequences, reverse=True)
    body = staff_a.get(change_url(order)).content.decode()
    assert "Oslo Elektro AS accepted the offer — " in body
    assert "<details>" in body and "&quot;type&quot;: &quot;order.assigned&quot;" in body  # raw event, one click away
    assert "times in Europe/Oslo" in body
    # The offers below are in the organization's zone too, named.
    sent = Offer.objects.get(order=order).sent_at.astimezone(ZoneInfo("Europe/Oslo"))
    assert f"<td>{sent:%Y-%m-%d %H:%M} {sent.tzname()}</td>" in body


def test_the_title_is_the_orders_not_the_customers(org_a, staff_a):
    order = create_order(org_a, name="Order an EV charger", contact_person_name="Kari Nordmann")
    response = staff_a.get(change_url(order))
    fieldsets = {fs.name: fs for fs in response.context["adminform"]}
    order_fields = [f for line in fieldsets["Order"] for f in line]
    customer_fields = [f for line in fieldsets["Customer"] for f in line]
    title = next(f for f in order_fields if f.field.name == "name")
    assert title.field.label == "Title" and title.field.value() == "Order an EV charger"
    assert all(f.field.name != "name" for f in customer_fields)
    name = next(f for f in customer_fields if f.field.name == "contact_person_name")
    assert name.field.value() == "Kari Nordmann"
    header = response.context["order_header"]
    assert (header["title"], header["customer"]) == ("Order an EV charger", "Kari Nordmann")


def test_editing_still_goes_through_the_service(org_a, staff_a):
    order = create_order(org_a, name="Old title")
    page = staff_a.get(change_url(order))
    data = {
        name: (value if value is not None else "")
        for name, value in page.context["adminform"].form.initial.items()
        if name in page.context["adminform"].form.fields
    }
    data.update(name="New title", email="new@example.com")
    response = staff_a.post(change_url(order), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert (order.name, order.email) == ("New title", "new@example.com")
    event = order.events.get(type="order.updated")
    assert set(event.data["fields"]) == {"name", "email"}


def test_images_show_as_thumbnails_other_files_as_links(org_a, staff_a):
    order = create_order(org_a)
    image = make_file(org_a, order=order, name="site.png", content_type="image/png")
    pdf = make_file(org_a, order=order, name="quote.pdf", content_type="application/pdf")
    body = staff_a.get(change_url(order)).content.decode()
    assert reverse("admin:orders_file_thumbnail", args=[image.pk]) in body
    assert reverse("admin:orders_file_thumbnail", args=[pdf.pk]) not in body
    assert reverse("admin:orders_file_content", args=[pdf.pk]) in body and "quote.pdf" in body


def test_another_organizations_order_page_is_a_404(org_a, org_b, staff_a):
    other = create_order(org_b)
    assert staff_a.get(change_url(other)).status_code == 404


def _page_queries(client, order) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(change_url(order))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_order_page_queries_do_not_grow_with_events_files_or_offers(oslo_org, staff_a):
    partners = [make_installer(f"Installer {i}") for i in range(6)]
    for partner in partners:
        make_partner(oslo_org, partner)
    tags = services.order_tags_create(organization=oslo_org, names=[f"T{i}" for i in range(10)])

    def order_with(n: int) -> Order:
        order = create_order(oslo_org, postal_code="0155")
        for i in range(n):
            make_file(oslo_org, order=order, name=f"p{i}.png")
            services.order_tag_assign(
                order_id=order.pk, tag_id=tags[i % len(tags)].pk, organization=oslo_org, actor=Actor.system("t")
            )
        for partner in partners[: max(n // 4, 1)]:
            dispatch_services.order_dispatch(
                order_id=order.pk, organization=oslo_org, actor=Actor.system("t"), installer_id=partner.pk
            )
            offer = Offer.objects.get(order=order, status=OfferStatus.SENT)
            dispatch_services.offer_decline(offer_id=offer.pk, installer=partner, actor=Actor.system("p"))
        return order

    few, many = order_with(1), order_with(24)
    assert many.events.count() > 3 * few.events.count()
    assert Offer.objects.filter(order=many).count() == 6 and many.files.count() == 24
    assert _page_queries(staff_a, few) == _page_queries(staff_a, many)
    assert Order.objects.get(pk=many.pk).status == OrderStatus.DECLINED


def test_model_names_read_properly_in_the_admin(org_a, staff_admin_a):
    body = staff_admin_a.get(reverse("admin:index")).content.decode()
    assert "API tokens" in body and "Api tokens" not in body


def test_a_cancelled_order_reads_the_same_way_without_edits_or_actions(org_a, staff_a):
    order = create_order(org_a, name="Heat pump")
    services.order_cancel(order_id=order.pk, organization=org_a, actor=Actor.system("kari"), reason="no_capacity")
    response = staff_a.get(change_url(order))
    assert response.status_code == 200
    assert response.context["order_actions"] == [] and "cancelled" in response.context["order_header"]["status"]
    assert response.context["timeline_rows"][0].text == "Cancelled by kari — no capacity"
    assert 'name="email"' not in response.content.decode()  # read-only once cancelled
