"""Completion records the quoted lines; invoicing freezes them; the API's answers."""

from __future__ import annotations

from invoicing.models import DeliveredLine, Invoice
from orders.models import OrderEvent


def test_completion_records_the_accepted_quote_lines(completed):
    lines = list(DeliveredLine.objects.filter(order=completed).order_by("position"))
    assert [(line.description, line.approval) for line in lines] == [
        ("Wallbox 11 kW", "approved"),
        ("Installation", "approved"),
    ]


def test_invoice_basis_and_invoicing(router_api, completed):
    answer = router_api.get(f"/api/v1/order/{completed.pk}/invoice").json()
    assert answer["status"] == "not_invoiced"
    totals = answer["basis"]["totals"]
    # 10 000.00 + 25 % ; 2.5 h × 800.00 = 2 000.00 + 25 %; payout 20 % of 10 000 + 2.5 × 600
    assert totals["net"] == 1200000
    assert totals["vat"] == 300000
    assert totals["gross"] == 1500000
    assert totals["payout"] == 200000 + 150000
    response = router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    assert response.status_code == 201, response.content
    assert response.json()["number"] == 1
    assert Invoice.objects.get(order=completed).gross == 1500000
    assert OrderEvent.objects.filter(order=completed, type="order.invoiced").count() == 1
    again = router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    assert again.status_code == 409
