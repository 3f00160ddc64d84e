"""Completion records the quoted lines; extras need approval; invoicing freezes the lines; credit
notes; tenancy and bad input on every route."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from invoicing.models import DeliveredLine, Invoice
from invoicing.tests.conftest import CHARGER, complete, quote, started
from orders.models import OrderEvent
from webhooks.models import WebhookDelivery, WebhookEndpoint

EXTRA = {"description": "Extra cable", "unit": "metre", "quantity": "12", "unitAmount": 5000, "vatRate": "25"}


def test_completion_records_the_accepted_quote_lines(completed):
    lines = list(DeliveredLine.objects.filter(order=completed).order_by("position"))
    assert [(line.description, line.approval, line.quantity) for line in lines] == [
        ("Wallbox 11 kW", "approved", D(1)),
        ("Installation", "approved", D("2.5")),
    ]
    assert OrderEvent.objects.filter(order=completed, type="order.lines_recorded").count() == 1


def test_only_chosen_lines_are_delivered(router, company):
    order = started(router, company)
    quote(order, CHARGER, {"description": "Optional socket", "optional": True, "chosen": False})
    complete(order, company)
    assert list(DeliveredLine.objects.filter(order=order).values_list("description", flat=True)) == ["Wallbox 11 kW"]


def test_invoice_basis_and_invoicing(router_api, completed, router):
    WebhookEndpoint.objects.create(organization=router, url="https://erp.example/hook", events=["order.invoiced"])
    router.has_webhook_endpoints = True
    router.save(update_fields=["has_webhook_endpoints"])
    answer = router_api.get(f"/api/v1/order/{completed.pk}/invoice").json()
    assert answer["status"] == "not_invoiced" and answer["invoice"] is None
    totals = answer["basis"]["totals"]
    # 10 000.00 + 25 %; 2.5 h × 800.00 = 2 000.00 + 25 %; payout 20 % of 10 000 + 2.5 × 600.
    assert (totals["net"], totals["vat"], totals["gross"], totals["payout"]) == (1200000, 300000, 1500000, 350000)
    assert answer["basis"]["payer"] == "customer"
    assert answer["basis"]["buyer"]["name"] == "Ola Nordmann"
    assert answer["basis"]["seller"]["orgNumber"] == "987654321"

    response = router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 1 and body["kind"] == "invoice"
    assert body["totals"]["gross"] == 1500000
    assert [line["net"] for line in body["lines"]] == [1000000, 200000]
    invoice = Invoice.objects.get(order=completed)
    assert (invoice.net, invoice.vat, invoice.gross, invoice.payout) == (1200000, 300000, 1500000, 350000)
    event = OrderEvent.objects.get(order=completed, type="order.invoiced")
    assert event.data["number"] == 1 and event.data["gross"] == 1500000
    assert WebhookDelivery.objects.filter(event_type="order.invoiced").count() == 1

    state = router_api.get(f"/api/v1/order/{completed.pk}/invoice").json()
    assert state["status"] == "invoiced" and state["number"] == 1 and state["invoicedAt"]
    assert router_api.get(f"/api/v1/order/{completed.pk}").json()["invoiceStatus"] == "invoiced"

    again = router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    assert again.status_code == 409
    assert again.json()["statusCode"] == 409
    assert Invoice.objects.filter(order=completed).count() == 1


def test_numbers_run_per_organization(router, company, router_api, other_router, other_api):
    first = complete(started(router, company), company)
    second = complete(started(router, company), company)
    assert router_api.post(f"/api/v1/order/{first.pk}/invoice").json()["number"] == 1
    assert router_api.post(f"/api/v1/order/{second.pk}/invoice").json()["number"] == 2


def test_only_completed_orders_are_invoiced(router_api, in_progress):
    response = router_api.post(f"/api/v1/order/{in_progress.pk}/invoice")
    assert response.status_code == 409
    assert "completed" in response.json()["message"]
    assert not Invoice.objects.exists()


def test_payer_router_the_installer_invoices_the_router(router, company, router_api):
    order = started(router, company)
    quote(order, CHARGER, payer="router")
    complete(order, company)
    body = router_api.post(f"/api/v1/order/{order.pk}/invoice").json()
    assert body["payer"] == "router"
    assert body["seller"]["name"] == "Fix It" and body["buyer"]["name"] == "Alpha Energy AS"
    assert body["totals"]["gross"] == 1250000


def test_without_a_quote_the_router_pays_nothing_is_billed(router, company, router_api):
    order = complete(started(router, company), company)
    basis = router_api.get(f"/api/v1/order/{order.pk}/invoice").json()["basis"]
    assert basis["payer"] == "router" and basis["lines"] == [] and basis["totals"]["gross"] == 0


def test_extras_need_the_routers_approval(completed, installer_api, router_api):
    added = installer_api.post(f"/api/v1/order/{completed.pk}/lines", EXTRA, format="json")
    assert added.status_code == 201, added.content
    line = added.json()
    assert line["approval"] == "pending_approval" and line["source"] == "extra"
    basis = router_api.get(f"/api/v1/order/{completed.pk}/invoice").json()["basis"]
    assert basis["totals"]["net"] == 1200000 and basis["pendingExtras"] == 1

    # The installer cannot approve its own extra; the router can, once.
    assert installer_api.post(f"/api/v1/order/{completed.pk}/lines/{line['id']}/approve").status_code == 404
    approved = router_api.post(f"/api/v1/order/{completed.pk}/lines/{line['id']}/approve")
    assert approved.status_code == 200 and approved.json()["approval"] == "approved"
    assert router_api.post(f"/api/v1/order/{completed.pk}/lines/{line['id']}/approve").status_code == 409
    basis = router_api.get(f"/api/v1/order/{completed.pk}/invoice").json()["basis"]
    assert basis["totals"]["net"] == 1200000 + 60000 and basis["pendingExtras"] == 0
    assert OrderEvent.objects.filter(order=completed, type="order.line_approved").count() == 1


def test_unapproved_extras_are_never_billed(completed, installer_api, router_api):
    installer_api.post(f"/api/v1/order/{completed.pk}/lines", EXTRA, format="json")
    body = router_api.post(f"/api/v1/order/{completed.pk}/invoice").json()
    assert body["totals"]["net"] == 1200000
    assert [line["description"] for line in body["lines"]] == ["Wallbox 11 kW", "Installation"]


def test_the_installer_sees_no_payer_price_of_quoted_lines(completed, installer_api):
    values = installer_api.get(f"/api/v1/order/{completed.pk}/lines").json()["values"]
    assert values[0]["description"] == "Wallbox 11 kW"
    assert "unitAmount" not in values[0]
    assert values[0]["payoutPercent"] == "20"


def test_installer_changes_only_its_pending_extras(completed, installer_api, router_api):
    quoted = installer_api.get(f"/api/v1/order/{completed.pk}/lines").json()["values"][0]
    refused = installer_api.patch(
        f"/api/v1/order/{completed.pk}/lines/{quoted['id']}", {"quantity": "2"}, format="json"
    )
    assert refused.status_code == 409
    extra = installer_api.post(f"/api/v1/order/{completed.pk}/lines", EXTRA, format="json").json()
    changed = installer_api.patch(
        f"/api/v1/order/{completed.pk}/lines/{extra['id']}", {"quantity": "10"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["quantity"] == "10"
    # The router corrects a quoted line (delivered less than quoted).
    fewer = router_api.patch(f"/api/v1/order/{completed.pk}/lines/{quoted['id']}", {"quantity": "0.5"}, format="json")
    assert fewer.status_code == 200
    assert DeliveredLine.objects.get(pk=quoted["id"]).quantity == D("0.5")


def test_invoiced_lines_are_frozen(completed, router_api, installer_api):
    extra = installer_api.post(f"/api/v1/order/{completed.pk}/lines", EXTRA, format="json").json()
    router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    quoted = router_api.get(f"/api/v1/order/{completed.pk}/lines").json()["values"][0]
    assert router_api.post(f"/api/v1/order/{completed.pk}/lines", EXTRA, format="json").status_code == 409
    assert (
        router_api.patch(f"/api/v1/order/{completed.pk}/lines/{quoted['id']}", {"quantity": "9"}, format="json")
    ).status_code == 409
    assert router_api.post(f"/api/v1/order/{completed.pk}/lines/{extra['id']}/approve").status_code == 409
    assert DeliveredLine.objects.get(pk=quoted["id"]).quantity == D(1)


def test_lines_change_only_in_progress_or_completed(router, company, router_api):
    from partners.tests.conftest import booked

    order = booked(router, company)
    assert router_api.post(f"/api/v1/order/{order.pk}/lines", EXTRA, format="json").status_code == 409


def test_extras_added_in_progress_join_the_quoted_lines(router, company, installer_api):
    order = started(router, company)
    quote(order, CHARGER)
    installer_api.post(f"/api/v1/order/{order.pk}/lines", EXTRA, format="json")
    complete(order, company)
    rows = list(DeliveredLine.objects.filter(order=order).order_by("position"))
    assert [(r.description, r.approval) for r in rows] == [
        ("Wallbox 11 kW", "approved"),
        ("Extra cable", "pending_approval"),
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        ({**EXTRA, "quantity": "0"}, "quantity"),
        ({**EXTRA, "quantity": "abc"}, "quantity"),
        ({**EXTRA, "unitAmount": 12.5}, "unitAmount"),
        ({**EXTRA, "vatRate": "100"}, "vatRate"),
        ({**EXTRA, "unit": "parsec"}, "unit"),
        ({k: v for k, v in EXTRA.items() if k != "description"}, "description"),
        ({**EXTRA, "payoutPercent": "10", "payoutAmount": 5}, "payoutAmount"),
    ],
)
def test_bad_lines_are_400_and_change_nothing(completed, router_api, body, field):
    before = DeliveredLine.objects.count()
    response = router_api.post(f"/api/v1/order/{completed.pk}/lines", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]
    assert DeliveredLine.objects.count() == before


def test_credit_note_with_negative_lines(completed, router_api):
    router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    body = {
        "lines": [
            {
                "description": "Installation not needed",
                "unit": "hour",
                "quantity": "-0.5",
                "unitAmount": 80000,
                "vatRate": "25",
                "payoutAmount": 60000,
            },
            {"description": "Goodwill", "quantity": "1", "unitAmount": -3333, "vatRate": "25"},
        ],
        "reason": "Shorter job",
    }
    response = router_api.post(f"/api/v1/order/{completed.pk}/credit-note", body, format="json")
    assert response.status_code == 201, response.content
    note = response.json()
    assert note["kind"] == "credit_note" and note["number"] == 2 and note["creditedNumber"] == 1
    # −0.5 × 800.00 = −400.00, VAT −100.00; −33.33, VAT −8.3325 -> −8.33; payout −0.5 × 600.00.
    assert [(x["net"], x["vat"], x["gross"]) for x in note["lines"]] == [(-40000, -10000, -50000), (-3333, -833, -4166)]
    assert note["totals"]["gross"] == -54166 and note["totals"]["payout"] == -30000
    assert OrderEvent.objects.filter(order=completed, type="order.credited").count() == 1
    state = router_api.get(f"/api/v1/order/{completed.pk}/invoice").json()
    assert [n["number"] for n in state["creditNotes"]] == [2]


def test_full_credit_note_mirrors_the_invoice_and_no_more(completed, router_api):
    router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    note = router_api.post(f"/api/v1/order/{completed.pk}/credit-note", {"full": True}, format="json").json()
    assert note["totals"]["gross"] == -1500000 and note["totals"]["payout"] == -350000
    assert router_api.get(f"/api/v1/order/{completed.pk}").json()["invoiceStatus"] == "credited"
    more = {"lines": [{"description": "More", "quantity": "-1", "unitAmount": 1, "vatRate": "0"}]}
    response = router_api.post(f"/api/v1/order/{completed.pk}/credit-note", more, format="json")
    assert response.status_code == 400
    assert Invoice.objects.filter(order=completed).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"full": True, "lines": [{"description": "x", "quantity": "-1", "unitAmount": 100}]},
        {"lines": [{"description": "Positive", "quantity": "1", "unitAmount": 100, "vatRate": "25"}]},
        {"lines": [{"description": "Zero", "quantity": "0", "unitAmount": 100, "vatRate": "25"}]},
        {"lines": "nope"},
    ],
)
def test_bad_credit_notes_are_400(completed, router_api, body):
    router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    response = router_api.post(f"/api/v1/order/{completed.pk}/credit-note", body, format="json")
    assert response.status_code == 400, response.content
    assert Invoice.objects.filter(order=completed).count() == 1


def test_credit_note_needs_an_invoice(completed, router_api):
    response = router_api.post(f"/api/v1/order/{completed.pk}/credit-note", {"full": True}, format="json")
    assert response.status_code == 409


def test_tenancy(completed, router_api, other_api, installer_api, router_viewer_api):
    line = router_api.get(f"/api/v1/order/{completed.pk}/lines").json()["values"][0]
    assert other_api.get(f"/api/v1/order/{completed.pk}/invoice").status_code == 404
    assert other_api.post(f"/api/v1/order/{completed.pk}/invoice").status_code == 404
    assert other_api.get(f"/api/v1/order/{completed.pk}/lines").status_code == 404
    assert other_api.post(f"/api/v1/order/{completed.pk}/lines", EXTRA, format="json").status_code == 404
    assert other_api.patch(f"/api/v1/order/{completed.pk}/lines/{line['id']}", {}, format="json").status_code == 404
    assert other_api.post(f"/api/v1/order/{completed.pk}/lines/{line['id']}/approve").status_code == 404
    assert other_api.post(f"/api/v1/order/{completed.pk}/credit-note", {"full": True}, format="json").status_code == 404
    # The installer never reads the invoice (the customer's price) nor invoices.
    assert installer_api.get(f"/api/v1/order/{completed.pk}/invoice").status_code == 404
    assert installer_api.post(f"/api/v1/order/{completed.pk}/invoice").status_code == 404
    # A viewer reads but does not invoice.
    assert router_viewer_api.get(f"/api/v1/order/{completed.pk}/invoice").status_code == 200
    assert router_viewer_api.post(f"/api/v1/order/{completed.pk}/invoice").status_code == 403
    assert not Invoice.objects.exists()
    note_url = f"/api/v1/order/{completed.pk}/credit-notes/not-a-uuid"
    assert router_api.get(note_url).status_code == 404
    assert router_api.get("/api/v1/order/not-a-uuid/invoice").status_code == 404


def test_another_routers_invoice_is_404(completed, router_api, other_api):
    router_api.post(f"/api/v1/order/{completed.pk}/invoice")
    note = router_api.post(f"/api/v1/order/{completed.pk}/credit-note", {"full": True}, format="json").json()
    for accept in ("application/json", "application/pdf", "application/xml", "text/csv"):
        assert other_api.get(f"/api/v1/order/{completed.pk}/invoice", HTTP_ACCEPT=accept).status_code == 404
        assert (
            other_api.get(f"/api/v1/order/{completed.pk}/credit-notes/{note['id']}", HTTP_ACCEPT=accept).status_code
            == 404
        )
