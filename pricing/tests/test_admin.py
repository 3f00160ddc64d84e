"""The back office: products per organization (tags as names), quotes read-only with the
operator's actions on the customer's word, and the order page's "Quotes" section."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from backoffice.tests.conftest import staff_client
from orders.models import OrderEvent
from pricing.models import Product, Quote
from pricing.tests.conftest import make_quote


def product_form(org, **overrides):
    data = {
        "organization": str(org.pk),
        "name": "Heat pump",
        "description": "",
        "unit": "piece",
        "external_id": "HP-1",
        "currency": "NOK",
        "vat_rate": "25.00",
        "unit_amount": "2500000",
        "payout_percent": "",
        "payout_amount": "1000000",
        "active": "on",
        "tag_names": "pumps, Heat",
    }
    data.update(overrides)
    return data


def test_operator_adds_and_edits_a_product_with_tags(org_a):
    staff = staff_client(org_a, Role.OPERATOR)
    response = staff.post("/admin/pricing/product/add/", product_form(org_a))
    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(name="Heat pump")
    assert product.organization == org_a and product.payout_amount == 1000000
    assert sorted(product.tags.names()) == ["Heat", "pumps"]
    assert product.tags.first().organization == org_a
    response = staff.post(
        f"/admin/pricing/product/{product.pk}/change/", product_form(org_a, unit_amount="2600000", tag_names="pumps")
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.unit_amount == 2600000 and list(product.tags.names()) == ["pumps"]
    listing = staff.get("/admin/pricing/product/").content.decode()
    assert "Heat pump" in listing and "NOK\u00a026,000.00" in listing


def test_product_form_refuses_both_payouts(org_a):
    staff = staff_client(org_a, Role.OPERATOR)
    response = staff.post("/admin/pricing/product/add/", product_form(org_a, payout_percent="10"))
    assert response.status_code == 200 and "not both" in response.content.decode()
    assert not Product.objects.exists()


def test_another_organizations_products_and_quotes_are_hidden(org_a, org_b, charger, order):
    quote = make_quote(order)
    staff = staff_client(org_b, Role.ADMIN)
    assert "Charger 11 kW" not in staff.get("/admin/pricing/product/").content.decode()
    assert staff.get(f"/admin/pricing/product/{charger.pk}/change/").status_code in (302, 404)
    assert staff.get(f"/admin/pricing/quote/{quote.pk}/change/").status_code in (302, 404)
    assert str(order.display_id) not in staff.get("/admin/pricing/quote/").content.decode()


def test_operator_accepts_on_the_customers_word_from_the_quote_list(org_a, org_b, order):
    quote = make_quote(order, send=True)
    other_staff = staff_client(org_b, Role.ADMIN)
    other_staff.post("/admin/pricing/quote/", {"action": "accept_quotes", "_selected_action": [str(quote.pk)]})
    assert Quote.objects.get(pk=quote.pk).status == "sent"  # not theirs
    staff = staff_client(org_a, Role.OPERATOR)
    response = staff.post("/admin/pricing/quote/", {"action": "accept_quotes", "_selected_action": [str(quote.pk)]})
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == "accepted" and quote.decided_via == "operator_on_behalf"
    assert quote.decided_by_label == staff.user.get_username()
    event = OrderEvent.objects.get(order=order, type="quote.accepted")
    assert event.actor_type == "user"
    # A second accept is refused and said so.
    response = staff.post(
        "/admin/pricing/quote/", {"action": "accept_quotes", "_selected_action": [str(quote.pk)]}, follow=True
    )
    assert "cannot be accepted" in response.content.decode()


def test_viewer_cannot_act_on_quotes(org_a, order):
    quote = make_quote(order, send=True)
    viewer = staff_client(org_a, Role.VIEWER)
    viewer.post("/admin/pricing/quote/", {"action": "reject_quotes", "_selected_action": [str(quote.pk)]})
    assert Quote.objects.get(pk=quote.pk).status == "sent"


def test_order_page_shows_quotes_in_constant_queries(org_a, order):
    from orders.tests.factories import create_order

    staff = staff_client(org_a, Role.OPERATOR)
    counts = {}
    for count in (1, 6):
        target = create_order(org_a)
        for _ in range(count):
            make_quote(target, lines=[{"description": f"l{i}", "unit_amount": 1000} for i in range(5)])
        staff.get(f"/admin/orders/order/{target.pk}/change/")  # warm the caches
        with CaptureQueriesContext(connection) as queries:
            page = staff.get(f"/admin/orders/order/{target.pk}/change/")
        html = page.content.decode()
        assert page.status_code == 200 and "Quotes" in html
        assert html.count('<tr data-status="draft">') == count and "NOK\u00a062.50" in html
        counts[count] = len(queries)
    assert counts[6] == counts[1], counts


def test_the_order_list_keeps_the_portal_action(org_a):
    staff = staff_client(org_a, Role.ADMIN)
    assert "rotate_client_links" in staff.get("/admin/orders/order/").content.decode()


def test_the_workflow_admin_sets_the_quote_flags(org_a):
    from orders.models import Workflow

    staff = staff_client(org_a, Role.ADMIN)
    workflow = Workflow.objects.get(organization=org_a, is_default=True)
    html = staff.get(f"/admin/orders/workflow/{workflow.pk}/change/").content.decode()
    assert 'name="partners_may_quote"' in html and "requires_accepted_quote" in html
