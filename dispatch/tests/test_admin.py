"""Dispatch in the back office: the order buttons call the API's services (same timeline), refusals
are messages (never a 500), tenancy holds for buttons and list actions, pages stay bounded."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from backoffice.tests.conftest import staff_client
from dispatch import services
from dispatch.models import Booking, CoverageArea, Offer, OfferStatus, Partnership
from dispatch.tests.conftest import make_installer, make_partner
from orders import services as order_services
from orders.actors import Actor
from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import create_order, order_payload

pytestmark = pytest.mark.django_db


def action_url(order, name: str) -> str:
    return reverse("admin:orders_order_action", args=[order.pk, name])


def change_url(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def shape(order) -> list[tuple]:
    """The timeline as the API and the admin must both write it: type, statuses, data keys."""
    return [
        (e.type, e.from_status, e.to_status, sorted(e.data or {}))
        for e in OrderEvent.objects.filter(order=order).order_by("sequence")
    ]


def accept_open_offer(order, installer) -> None:
    offer = Offer.objects.get(order=order, status=OfferStatus.SENT)
    services.offer_accept(offer_id=offer.pk, installer=installer, actor=Actor.system("installer"))


@pytest.fixture
def staff_a(org_a):
    return staff_client(org_a, Role.OPERATOR)


@pytest.fixture
def partner(org_a, installer_org):
    return make_partner(org_a, installer_org, coverage=[("range", "NO", "0150", "0599")])


def test_dispatch_book_rebook_cancel_write_the_same_timeline_as_the_api(
    org_a, staff_a, operator_a, installer_org, partner
):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    via_admin = create_order(org_a)
    via_api = Order.objects.get(pk=operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"])

    # Dispatch: the preview page, then "by the routing strategy".
    page = staff_a.get(change_url(via_admin)).content.decode()
    assert action_url(via_admin, "dispatch") in page and action_url(via_admin, "book") not in page
    preview = staff_a.get(action_url(via_admin, "dispatch"))
    body = preview.content.decode()
    assert preview.status_code == 200 and 'id="dispatch-preview"' in body
    assert "Fix-It Installers" in body and "preview-would-offer" in body
    response = staff_a.post(action_url(via_admin, "dispatch"), {"mode": "strategy"})
    assert response.status_code == 302 and response["Location"] == change_url(via_admin)
    assert operator_a.post(f"/api/v1/order/{via_api.pk}/dispatch", {}, format="json").status_code == 200

    for order in (via_admin, via_api):
        accept_open_offer(order, installer_org)

    # Book (08:00-12:00 Oslo time), then rebook; the API books another day (one installer).
    page = staff_a.get(change_url(via_admin)).content.decode()
    assert action_url(via_admin, "book") in page and action_url(via_admin, "dispatch") not in page
    form = staff_a.get(action_url(via_admin, "book"))
    assert 'type="datetime-local"' in form.content.decode() and "Europe/Oslo" in form.content.decode()
    response = staff_a.post(
        action_url(via_admin, "book"), {"start_at": "2030-05-06T08:00", "end_at": "2030-05-06T12:00"}
    )
    assert response.status_code == 302, response.content.decode()
    booking = Booking.objects.get(order=via_admin)
    assert booking.start_at == datetime.datetime(2030, 5, 6, 6, 0, tzinfo=datetime.UTC)
    response = staff_a.post(
        action_url(via_admin, "book"), {"start_at": "2030-05-07T09:00", "end_at": "", "all_day": "on"}
    )
    assert response.status_code == 302, response.content.decode()
    for start in ("2030-06-06T08:00:00+02:00", "2030-06-07T09:00:00+02:00"):
        end = (datetime.datetime.fromisoformat(start) + datetime.timedelta(hours=4)).isoformat()
        api = operator_a.put(f"/api/v1/order/{via_api.pk}/booking", {"startAt": start, "endAt": end}, format="json")
        assert api.status_code == 200, api.content

    # Cancel both (withdraws nothing, removes the booking).
    staff_a.post(action_url(via_admin, "cancel"), {"reason": "other", "comment": "Moved."})
    assert (
        operator_a.post(
            f"/api/v1/order/{via_api.pk}/cancel", {"reason": "other", "comment": "Moved."}, format="json"
        ).status_code
        == 200
    )

    admin_walk, api_walk = shape(via_admin), shape(via_api)
    assert admin_walk == api_walk
    types = [t for t, *_ in admin_walk]
    for expected in (
        "order.dispatched",
        "offer.sent",
        "order.assigned",
        "booking.created",
        "booking.updated",
        "order.cancelled",
        "booking.cancelled",
    ):
        assert expected in types
    events = {e.type: e for e in OrderEvent.objects.filter(order=via_admin)}
    assert (events["order.dispatched"].actor_type, events["order.dispatched"].actor_label) == (
        "user",
        staff_a.user.username,
    )
    assert events["order.dispatched"].data["strategy"] == "priority"
    assert events["booking.created"].data == {
        "startAt": "2030-05-06T06:00:00+00:00",
        "endAt": "2030-05-06T10:00:00+00:00",
        "allDay": False,
    }
    assert events["booking.updated"].data["allDay"] is True
    assert events["booking.updated"].data["endAt"] == "2030-05-08T07:00:00+00:00"  # 24 h
    assert OrderEvent.objects.get(order=via_api, type="order.dispatched").actor_type == "api_token"


def test_manual_pick_among_covering_installers(org_a, staff_a, partner):
    other = make_installer("Second Installer")
    make_partner(org_a, other, coverage=[("prefix", "NO", "0")], priority=200)
    far = make_installer("Bergen Only")
    make_partner(org_a, far, coverage=[("prefix", "NO", "5")])
    order = create_order(org_a)
    form = staff_a.get(action_url(order, "dispatch")).context["form"]
    choices = dict(form.fields["installer"].choices)
    assert set(choices.values()) == {"---------", "Fix-It Installers", "Second Installer"}  # not Bergen Only
    # Manual without an installer is a form error; an uncovered installer is not a choice.
    assert staff_a.post(action_url(order, "dispatch"), {"mode": "manual"}).status_code == 200
    refused = staff_a.post(action_url(order, "dispatch"), {"mode": "manual", "installer": str(far.pk)})
    assert refused.status_code == 200 and "installer" in refused.context["form"].errors
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED
    response = staff_a.post(action_url(order, "dispatch"), {"mode": "manual", "installer": str(other.pk)})
    assert response.status_code == 302
    assert [(o.installer.name, o.status) for o in Offer.objects.filter(order=order)] == [("Second Installer", "sent")]
    assert OrderEvent.objects.get(order=order, type="order.dispatched").data["strategy"] == "manual"


def test_no_covering_installer_is_a_message_not_a_500(org_a, staff_a, partner):
    order = create_order(org_a, postal_code="9990", city="Hammerfest")
    preview = staff_a.get(action_url(order, "dispatch"))
    body = preview.content.decode()
    assert "No installer partner covers this order." in body
    assert "Does not cover" in body or "dropped" in body
    response = staff_a.post(action_url(order, "dispatch"), {"mode": "strategy"}, follow=True)
    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("No installer partner covers this order" in t and "422" in t for t in texts), texts
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED


def test_conflict_while_dispatching_is_a_message(org_a, staff_a, partner, monkeypatch):
    """Another operator cancels the order between the preview and the click: 409 as a message."""
    order = create_order(org_a)
    real = services.order_dispatch

    def racing(**kwargs):
        order_services.order_cancel(order_id=order.pk, organization=org_a, actor=Actor.system("other operator"))
        return real(**kwargs)

    monkeypatch.setattr(services, "order_dispatch", racing)
    response = staff_a.post(action_url(order, "dispatch"), {"mode": "strategy"}, follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == change_url(order)
    texts = [str(m) for m in response.context["messages"]]
    assert any("cannot be dispatched" in t and "409" in t for t in texts), texts
    assert not Offer.objects.filter(order=order).exists()


def test_overlapping_booking_is_a_form_error(org_a, staff_a, installer_org, partner):
    first, second = create_order(org_a), create_order(org_a)
    for order in (first, second):
        services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system())
        accept_open_offer(order, installer_org)
    staff_a.post(action_url(first, "book"), {"start_at": "2030-05-06T08:00", "end_at": "2030-05-06T12:00"})
    response = staff_a.post(action_url(second, "book"), {"start_at": "2030-05-06T11:00", "end_at": "2030-05-06T13:00"})
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1 and "already" in errors[0] and "409" in errors[0]
    assert "already" in response.content.decode()
    assert Order.objects.get(pk=second.pk).status == OrderStatus.DISPATCHING
    # Back to back is fine; end before start is a field error.
    bad = staff_a.post(action_url(second, "book"), {"start_at": "2030-05-06T12:00", "end_at": "2030-05-06T11:00"})
    assert "end_at" in bad.context["form"].errors
    ok = staff_a.post(action_url(second, "book"), {"start_at": "2030-05-06T12:00", "end_at": "2030-05-06T13:00"})
    assert ok.status_code == 302


def test_unbook_start_complete_buttons(org_a, staff_a, installer_org, partner):
    order = create_order(org_a)
    services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system())
    accept_open_offer(order, installer_org)
    staff_a.post(action_url(order, "book"), {"start_at": "2030-05-06T08:00", "end_at": "2030-05-06T12:00"})
    page = staff_a.get(change_url(order)).content.decode()
    assert action_url(order, "unbook") in page and action_url(order, "start") in page
    assert staff_a.post(action_url(order, "unbook")).status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DISPATCHING
    assert not Booking.objects.filter(order=order).exists()
    staff_a.post(action_url(order, "book"), {"start_at": "2030-05-06T08:00", "end_at": "2030-05-06T12:00"})
    # Booked for a later day than today: the start takes the explicit confirmation.
    assert staff_a.post(action_url(order, "start")).status_code == 200
    assert staff_a.post(action_url(order, "start"), {"confirm_early": "on"}).status_code == 302
    assert action_url(order, "complete") in staff_a.get(change_url(order)).content.decode()
    assert staff_a.post(action_url(order, "complete"), {"comment": "Done."}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    types = [
        t
        for t in OrderEvent.objects.filter(order=order).order_by("sequence").values_list("type", flat=True)
        if t.startswith(("booking.", "order.started", "order.completed"))
    ]
    assert types == ["booking.created", "booking.cancelled", "booking.created", "order.started", "order.completed"]
    done = OrderEvent.objects.get(order=order, type="order.completed")
    assert done.data == {"comment": "Done.", "fileIds": []} and done.actor_type == "user"
    # A completed order has no buttons left, and the URLs are 404.
    assert staff_a.post(action_url(order, "start")).status_code == 404


def test_operator_of_b_cannot_dispatch_or_book_orders_of_a(org_a, org_b, staff_a, installer_org, partner):
    staff_b = staff_client(org_b, Role.ADMIN)
    fresh, assigned = create_order(org_a), create_order(org_a)
    services.order_dispatch(order_id=assigned.pk, organization=org_a, actor=Actor.system())
    accept_open_offer(assigned, installer_org)
    before = {o.pk: shape(o) for o in (fresh, assigned)}
    for order, name, data in (
        (fresh, "dispatch", {"mode": "strategy"}),
        (assigned, "book", {"start_at": "2030-05-06T08:00", "end_at": "2030-05-06T12:00"}),
        (assigned, "unbook", {}),
    ):
        assert staff_b.get(action_url(order, name)).status_code == 404
        assert staff_b.post(action_url(order, name), data).status_code == 404
    assert staff_b.get(change_url(fresh)).status_code == 404
    # The list action: A's ids posted by B touch nothing.
    changelist = reverse("admin:orders_order_changelist")
    staff_b.post(changelist, {"action": "dispatch_orders", "_selected_action": [str(fresh.pk)]})
    assert {o.pk: shape(o) for o in (fresh, assigned)} == before
    assert Order.objects.get(pk=fresh.pk).status == OrderStatus.CREATED
    # A's own operator may.
    response = staff_a.post(changelist, {"action": "dispatch_orders", "_selected_action": [str(fresh.pk)]})
    assert response.status_code == 302
    assert Order.objects.get(pk=fresh.pk).status == OrderStatus.DISPATCHING


def test_viewer_has_no_dispatch_buttons(org_a, partner):
    viewer = staff_client(org_a, Role.VIEWER)
    order = create_order(org_a)
    assert action_url(order, "dispatch") not in viewer.get(change_url(order)).content.decode()
    assert viewer.get(action_url(order, "dispatch")).status_code == 404


def test_bulk_dispatch_reports_refusals(org_a, staff_a, partner):
    covered, uncovered = create_order(org_a), create_order(org_a, postal_code="9990")
    response = staff_a.post(
        reverse("admin:orders_order_changelist"),
        {"action": "dispatch_orders", "_selected_action": [str(covered.pk), str(uncovered.pk)]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert "1 order(s) dispatched." in texts
    assert any(uncovered.display_id in t and "422" in t for t in texts)
    assert Order.objects.get(pk=uncovered.pk).status == OrderStatus.CREATED


def test_change_page_shows_offers_and_booking(org_a, staff_a, installer_org, partner):
    second = make_installer("Second Installer")
    make_partner(org_a, second, priority=200)
    order = create_order(org_a)
    services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system())
    first_offer = Offer.objects.get(order=order, status=OfferStatus.SENT)
    services.offer_decline(
        offer_id=first_offer.pk, installer=installer_org, actor=Actor.system(), reason="Fully booked."
    )
    accept_open_offer(order, second)
    services.order_book(
        order_id=order.pk,
        organization=org_a,
        actor=Actor.system(),
        start_at=datetime.datetime(2030, 5, 6, 8, tzinfo=datetime.UTC),
        end_at=datetime.datetime(2030, 5, 6, 12, tzinfo=datetime.UTC),
    )
    response = staff_a.get(change_url(order))
    body = response.content.decode()
    assert 'id="order-section-dispatch"' in body
    sections = response.context["order_sections"]
    assert [s["key"] for s in sections] == ["dispatch"]
    html = sections[0]["html"]
    assert "offer-declined" in html and "Fully booked." in html and "offer-accepted" in html
    assert "Fix-It Installers" in html and "Second Installer" in html
    assert "2030-05-06 08:00 – 2030-05-06 12:00 (UTC)" in html
    assert "Latest dispatch" in html


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_action_pages_use_bounded_queries(org_a, staff_a, installer_org, partner):
    order = create_order(org_a)
    few = _count(staff_a, action_url(order, "dispatch"))
    for i in range(8):
        make_partner(org_a, make_installer(f"Extra {i}"), priority=300 + i)
    many = _count(staff_a, action_url(order, "dispatch"))
    assert few == many, (few, many)
    assert many <= 25

    # The order page with one offer and with nine (broadcast) costs the same.
    org_a.offers_at_once = 1
    org_a.save(update_fields=["offers_at_once"])
    one = create_order(org_a)
    services.order_dispatch(order_id=one.pk, organization=org_a, actor=Actor.system())
    org_a.offers_at_once = 9
    org_a.save(update_fields=["offers_at_once"])
    nine = create_order(org_a)
    services.order_dispatch(order_id=nine.pk, organization=org_a, actor=Actor.system())
    assert Offer.objects.filter(order=nine).count() == 9
    staff_a.get(change_url(one))  # warms Django's ContentType cache (taggit), once per process
    assert _count(staff_a, change_url(one)) == _count(staff_a, change_url(nine))

    accept_open_offer(one, installer_org)
    assert _count(staff_a, action_url(one, "book")) <= 20


def offers_panel(response) -> str:
    """The dashboard's "Offers about to expire" card."""
    body = response.content.decode()
    start = body.index('id="panel-offers_expiring"')
    return body[start : body.index("</div>", start)]


def test_dashboard_lists_offers_about_to_expire(org_a, org_b, staff_a, installer_org, partner):
    from dispatch.selectors import EXPIRING_LIMIT

    make_partner(org_b, installer_org)
    mine = [create_order(org_a) for _ in range(3)]
    theirs = create_order(org_b)
    for order in (*mine, theirs):
        services.order_dispatch(order_id=order.pk, organization=order.organization, actor=Actor.system())
    now = timezone.now()
    # Deadlines: 2 h, 30 h (too late for the panel), 20 h; and B's in 1 h.
    for order, hours in zip((*mine, theirs), (2, 30, 20, 1), strict=True):
        Offer.objects.filter(order=order).update(expires_at=now + datetime.timedelta(hours=hours))
    dispatching_order = mine[0]
    response = staff_a.get(reverse("backoffice-dashboard"))
    html = offers_panel(response)
    assert html.index(mine[0].display_id) < html.index(mine[2].display_id)  # soonest first
    assert mine[1].display_id not in html and theirs.display_id not in html
    body = response.content.decode()
    # The oldest orders waiting in dispatching are there too (the dashboard's own panel).
    assert [o.pk for o in response.context["oldest_dispatching"]] == [o.pk for o in mine]
    assert dispatching_order.display_id in body

    # Bounded: 25 more expiring offers show 20, with the same number of queries.
    few = _count(staff_a, reverse("backoffice-dashboard"))
    for _ in range(25):
        order = create_order(org_a)
        services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system())
    Offer.objects.filter(order__organization=org_a, status="sent").update(expires_at=now + datetime.timedelta(hours=3))
    html = offers_panel(staff_a.get(reverse("backoffice-dashboard")))
    assert html.count("<tr>") == EXPIRING_LIMIT + 1  # header row + 20
    assert _count(staff_a, reverse("backoffice-dashboard")) == few


def test_partnership_admin_offers_installer_companies_and_coverage_inline(org_a, installer_org):
    admin_a = staff_client(org_a, Role.ADMIN)
    router_elsewhere = make_installer("Not Mine Router")
    router_elsewhere.is_installer = False
    router_elsewhere.save(update_fields=["is_installer"])
    add_url = reverse("admin:dispatch_partnership_add")
    form = admin_a.get(add_url).context["adminform"].form
    installer_choices = {str(pk) for pk, _ in form.fields["installer"].choices if pk}
    router_choices = {str(pk) for pk, _ in form.fields["router"].choices if pk}
    assert str(installer_org.pk) in installer_choices  # not a member of it, but an installer company
    assert str(router_elsewhere.pk) not in installer_choices and str(org_a.pk) not in installer_choices
    assert router_choices == {str(org_a.pk)}  # the router stays scoped to the user's organizations

    data = {
        "router": str(org_a.pk),
        "installer": str(installer_org.pk),
        "active": "on",
        "priority": "10",
        "capacity": "",
        "skills": "[]",
        "coverage-TOTAL_FORMS": "2",
        "coverage-INITIAL_FORMS": "0",
        "coverage-MIN_NUM_FORMS": "0",
        "coverage-MAX_NUM_FORMS": "1000",
        "coverage-0-kind": "range",
        "coverage-0-country_code": "no",
        "coverage-0-value": "0150",
        "coverage-0-value_to": "0599",
        "coverage-1-kind": "prefix",
        "coverage-1-country_code": "NO",
        "coverage-1-value": "03*",
    }
    # Another router is refused.
    bad = admin_a.post(add_url, {**data, "router": str(router_elsewhere.pk)})
    assert bad.status_code == 200 and "router" in bad.context["adminform"].form.errors
    response = admin_a.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    partnership = Partnership.objects.get(router=org_a, installer=installer_org)
    assert sorted(
        CoverageArea.objects.filter(partnership=partnership).values_list("kind", "country_code", "value")
    ) == [
        ("prefix", "NO", "03"),
        ("range", "NO", "0150"),
    ]
    # ...and it dispatches: the admin's partner gets the offer.
    order = create_order(org_a, postal_code="0301")
    services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system())
    assert Offer.objects.get(order=order).installer_id == installer_org.pk
