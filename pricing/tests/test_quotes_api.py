"""Quotes API: create, read, update drafts, the state machine over every (status, action) pair,
decisions on the customer's word, bad input, tenancy and the partner's side."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal as D

import pytest

from orders.models import OrderEvent, Workflow
from orders.tests.factories import create_order
from pricing import services, transitions
from pricing.models import Quote, QuoteLine, QuoteStatus
from pricing.tests.conftest import make_quote, router_author
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.delivery import delivery_body


def quotes_url(order):
    return f"/api/v1/order/{order.pk}/quotes"


def quote_url(quote, action=""):
    return f"/api/v1/quotes/{quote.pk if hasattr(quote, 'pk') else quote}" + (f"/{action}" if action else "")


def create_body(charger, **overrides):
    data = {
        "payer": "customer",
        "validUntil": "2099-12-31",
        "note": "Includes travel.",
        "lines": [
            {"productId": str(charger.pk), "quantity": 1},
            {
                "description": "Installation",
                "unit": "hour",
                "quantity": "2.5",
                "unitAmount": 95000,
                "payoutPercent": 80,
            },
            {"description": "Surge protector", "quantity": 1, "unitAmount": 250000, "optional": True, "vatRate": "25"},
            {"description": "Discount", "quantity": 1, "unitAmount": -50000, "vatRate": 25},
        ],
    }
    data.update(overrides)
    return data


def test_create_a_quote_with_product_and_free_lines(operator_a, order, charger):
    response = operator_a.post(quotes_url(order), create_body(charger), format="json")
    assert response.status_code == 201, response.json()
    quote = response.json()
    assert quote["status"] == "draft" and quote["payer"] == "customer" and quote["currency"] == "NOK"
    assert quote["validUntil"] == "2099-12-31" and quote["version"] == 1
    product_line, hours, optional, discount = quote["lines"]
    # The product fills what the line leaves out.
    assert product_line["description"] == "Charger 11 kW"
    assert (product_line["unitAmount"], product_line["vatRate"], product_line["payoutPercent"]) == (
        1299000,
        "25.00",
        "60.00",
    )
    assert product_line["productId"] == str(charger.pk)
    # 2.5 × 95000 = 237500; VAT 59375; payout 80 % = 190000.
    assert (hours["net"], hours["vat"], hours["gross"], hours["installerPayout"]) == (237500, 59375, 296875, 190000)
    assert optional["optional"] is True and optional["chosen"] is False
    assert discount["net"] == -50000
    # Totals: chosen lines only (the optional one is not chosen until the customer takes it).
    net = 1299000 + 237500 - 50000
    assert quote["totals"]["net"] == net
    assert quote["totals"]["vat"] == 324750 + 59375 - 12500
    assert quote["totals"]["gross"] == net + 324750 + 59375 - 12500
    assert quote["totals"]["installerPayout"] == 779400 + 190000
    assert quote["totals"]["byRate"] == [{"vatRate": "25.00", "net": net, "vat": 371625}]
    assert operator_a.get(quote_url(quote["id"])).json() == quote
    assert operator_a.get(quotes_url(order)).json() == {"values": [quote], "count": 1}
    assert OrderEvent.objects.filter(order=order, type="quote.created").count() == 1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "x", "quantity": -1, "unitAmount": 100}, "lines[0].quantity"),
        ({"description": "x", "quantity": 0, "unitAmount": 100}, "lines[0].quantity"),
        ({"description": "x", "quantity": "1.2345", "unitAmount": 100}, "lines[0].quantity"),
        ({"description": "x", "quantity": "lots", "unitAmount": 100}, "lines[0].quantity"),
        ({"description": "x", "quantity": 1, "unitAmount": "100"}, "lines[0].unitAmount"),
        ({"description": "x", "quantity": 1, "unitAmount": 100.0}, "lines[0].unitAmount"),
        ({"description": "x", "quantity": 1, "unitAmount": 100, "discountPercent": 120}, "lines[0].discountPercent"),
        ({"description": "x", "quantity": 1, "unitAmount": 100, "vatRate": "x"}, "lines[0].vatRate"),
        (
            {"description": "x", "quantity": 1, "unitAmount": 100, "payoutPercent": 5, "payoutAmount": 5},
            "lines[0].payoutPercent",
        ),
        ({"quantity": 1, "unitAmount": 100}, "lines[0].description"),
        ({"description": "x", "quantity": 1}, "lines[0].unitAmount"),
        ({"productId": "00000000-0000-0000-0000-000000000000"}, "lines[0].productId"),
        ({"productId": "nope"}, "lines[0].productId"),
    ],
)
def test_bad_lines_are_a_400_and_write_nothing(operator_a, order, line, field):
    response = operator_a.post(quotes_url(order), {"lines": [line]}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["details"], response.json()
    assert not Quote.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"payer": "installer"}, "payer"),
        ({"validUntil": "tomorrow"}, "validUntil"),
        ({"currency": "NOKK"}, "currency"),
        ({"stepKey": "no-such-step"}, "stepKey"),
        ({"lines": "many"}, "lines"),
    ],
)
def test_bad_quote_fields_are_a_400(operator_a, order, charger, overrides, field):
    response = operator_a.post(quotes_url(order), create_body(charger, **overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]
    assert not Quote.objects.exists()


def test_another_organizations_product_is_refused(operator_a, operator_b, order):
    other = operator_b.post("/api/v1/products", {"name": "B's", "unitAmount": 100}, format="json").json()
    response = operator_a.post(quotes_url(order), {"lines": [{"productId": other["id"]}]}, format="json")
    assert response.status_code == 400 and "lines[0].productId" in response.json()["details"]


def test_inactive_product_and_other_currency_are_refused(operator_a, order, charger):
    charger.currency = "SEK"
    charger.save()
    response = operator_a.post(quotes_url(order), {"lines": [{"productId": str(charger.pk)}]}, format="json")
    assert response.status_code == 400 and "SEK" in response.json()["message"]
    charger.currency, charger.active = "NOK", False
    charger.save()
    response = operator_a.post(quotes_url(order), {"lines": [{"productId": str(charger.pk)}]}, format="json")
    assert response.status_code == 400 and "not active" in response.json()["message"]


def test_a_step_key_ties_the_quote_to_a_step(operator_a, order, charger):
    step = order.workflow.steps.first()
    quote = operator_a.post(quotes_url(order), create_body(charger, stepKey=step.key), format="json").json()
    assert quote["stepKey"] == step.key


def test_update_a_draft(operator_a, order, charger):
    quote = operator_a.post(quotes_url(order), create_body(charger), format="json").json()
    response = operator_a.patch(
        quote_url(quote["id"]),
        {"note": "New note", "payer": "router", "lines": [{"description": "Only", "unitAmount": 1000}], "version": 1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    updated = response.json()
    assert updated["note"] == "New note" and updated["payer"] == "router" and updated["version"] == 2
    assert [line["description"] for line in updated["lines"]] == ["Only"]
    assert QuoteLine.objects.filter(quote_id=quote["id"]).count() == 1
    # A stale version is a 409 and changes nothing.
    response = operator_a.patch(quote_url(quote["id"]), {"note": "Stale", "version": 1}, format="json")
    assert response.status_code == 409 and response.json()["version"] == 2
    assert Quote.objects.get(pk=quote["id"]).note == "New note"
    # Unknown fields are a 400.
    response = operator_a.patch(quote_url(quote["id"]), {"status": "accepted"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["details"]


def test_only_a_draft_can_be_updated(operator_a, order):
    quote = make_quote(order, send=True)
    response = operator_a.patch(quote_url(quote), {"note": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["statusCode"] == 409 and response.json()["error"] == "Conflict"


# -- the state machine ------------------------------------------------------------------------


def quote_in(order, status):
    """A quote of the order in `status`, reached through the services."""
    quote = make_quote(order)
    author = router_author(order.organization)
    path = {
        QuoteStatus.DRAFT: [],
        QuoteStatus.SENT: ["send"],
        QuoteStatus.ACCEPTED: ["send", "accept"],
        QuoteStatus.REJECTED: ["send", "reject"],
        QuoteStatus.WITHDRAWN: ["withdraw"],
    }[status]
    for action in path:
        quote = services.quote_act(quote_id=quote.pk, action=action, author=author)
    assert quote.status == status
    return quote


@pytest.mark.parametrize("status", QuoteStatus.values)
@pytest.mark.parametrize("action", transitions.ACTIONS)
def test_every_status_and_action(operator_a, order, status, action):
    quote = quote_in(order, status)
    events_before = OrderEvent.objects.filter(order=order).count()
    response = operator_a.post(quote_url(quote, action), {}, format="json")
    expected = transitions.next_status(status, action)
    quote.refresh_from_db()
    if expected is None:
        assert response.status_code == 409, response.json()
        assert response.json()["error"] == "Conflict"
        assert quote.status == status
        assert OrderEvent.objects.filter(order=order).count() == events_before
    else:
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == expected == quote.status
        event = OrderEvent.objects.filter(order=order).order_by("-sequence").first()
        assert (
            event.type
            == f"quote.{ {'send': 'sent', 'withdraw': 'withdrawn', 'accept': 'accepted', 'reject': 'rejected'}[action] }"
        )
        assert event.data["quote"]["id"] == str(quote.pk)


def test_the_table(order):
    assert transitions.ALLOWED == {
        ("draft", "send"): "sent",
        ("draft", "withdraw"): "withdrawn",
        ("sent", "withdraw"): "withdrawn",
        ("sent", "accept"): "accepted",
        ("sent", "reject"): "rejected",
    }


def test_operator_accepts_on_the_customers_word_with_optional_lines(operator_a, order):
    quote = make_quote(order, send=True)
    optional = quote.lines.get(optional=True)
    response = operator_a.post(quote_url(quote, "accept"), {"lineIds": [str(optional.pk)]}, format="json")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["status"] == "accepted" and answer["decidedVia"] == "operator_on_behalf"
    assert answer["decidedBy"] == "erp-a"  # the token's name
    assert all(line["chosen"] for line in answer["lines"])
    # 3 × 90000 + 40000 = 310000 net, 77500 VAT.
    assert (answer["totals"]["net"], answer["totals"]["vat"], answer["totals"]["gross"]) == (310000, 77500, 387500)
    quote.refresh_from_db()
    assert (quote.total_net, quote.total_vat, quote.total_gross) == (310000, 77500, 387500)
    event = OrderEvent.objects.get(order=order, type="quote.accepted")
    assert event.data["decidedVia"] == "operator_on_behalf" and event.data["quote"]["gross"] == 387500
    assert "installerPayout" not in str(event.data)


def test_accept_without_optional_lines_and_bad_line_ids(operator_a, order):
    quote = make_quote(order, send=True)
    required = quote.lines.get(optional=False)
    for bad in ([str(required.pk)], ["not-a-uuid"], ["00000000-0000-0000-0000-000000000000"]):
        response = operator_a.post(quote_url(quote, "accept"), {"lineIds": bad}, format="json")
        assert response.status_code == 400 and "lineIds[0]" in response.json()["details"]
    assert operator_a.post(quote_url(quote, "accept"), {"lineIds": "x"}, format="json").status_code == 400
    assert (
        operator_a.post(quote_url(quote, "reject"), {"lineIds": [str(required.pk)]}, format="json").status_code == 400
    )
    quote.refresh_from_db()
    assert quote.status == "sent"
    answer = operator_a.post(quote_url(quote, "accept"), {}, format="json").json()
    assert answer["totals"]["net"] == 270000
    assert [line["chosen"] for line in answer["lines"]] == [True, False]


def test_accept_after_withdraw_and_twice_is_a_409(operator_a, order):
    quote = make_quote(order, send=True)
    assert operator_a.post(quote_url(quote, "withdraw")).status_code == 200
    assert operator_a.post(quote_url(quote, "accept")).status_code == 409
    second = make_quote(order, send=True)
    assert operator_a.post(quote_url(second, "accept")).status_code == 200
    response = operator_a.post(quote_url(second, "accept"))
    assert response.status_code == 409
    assert Quote.objects.filter(order=order, status="accepted").count() == 1


def test_accepting_one_quote_withdraws_the_orders_other_open_quotes(operator_a, order):
    basic = make_quote(order, send=True)
    premium = make_quote(order, send=True)
    draft = make_quote(order)
    assert operator_a.post(quote_url(premium, "accept")).status_code == 200
    basic.refresh_from_db()
    draft.refresh_from_db()
    assert (basic.status, draft.status) == ("withdrawn", "withdrawn")
    # With an accepted quote the order takes no new one.
    response = operator_a.post(quotes_url(order), {"lines": [{"description": "x", "unitAmount": 1}]}, format="json")
    assert response.status_code == 409 and "accepted quote" in response.json()["message"]


def test_an_expired_quote_cannot_be_accepted(operator_a, order):
    quote = make_quote(order, send=True, valid_until=datetime.date(2020, 1, 1))
    response = operator_a.post(quote_url(quote, "accept"))
    assert response.status_code == 409 and "valid until" in response.json()["message"]


def test_a_quote_without_lines_cannot_be_sent(operator_a, order):
    quote = make_quote(order, lines=[])
    assert operator_a.post(quote_url(quote, "send")).status_code == 409


def test_a_finished_order_takes_no_quote(operator_a, order):
    quote = make_quote(order, send=True)
    assert operator_a.post(f"/api/v1/order/{order.pk}/cancel", {"reason": "other"}, format="json").status_code == 200
    response = operator_a.post(quotes_url(order), {"lines": [{"description": "x", "unitAmount": 1}]}, format="json")
    assert response.status_code == 409
    assert operator_a.post(quote_url(quote, "accept")).status_code == 409


def test_webhooks_receive_the_three_decision_events(operator_a, order, org_a):
    WebhookEndpoint.objects.create(organization=org_a, url="https://example.com/hook")
    org_a.has_webhook_endpoints = True
    org_a.save(update_fields=["has_webhook_endpoints"])
    accepted = make_quote(order, send=True)
    operator_a.post(quote_url(accepted, "accept"))
    other_order = create_order(org_a)
    rejected = make_quote(other_order, send=True)
    operator_a.post(quote_url(rejected, "reject"))
    deliveries = (
        WebhookDelivery.objects.filter(event_type__startswith="quote.")
        .select_related("event")
        .order_by("created_at", "event__sequence")
    )
    # created and withdrawn stay on the timeline only.
    assert [(d.event.order_id, d.event_type) for d in deliveries] == [
        (order.pk, "quote.sent"),
        (order.pk, "quote.accepted"),
        (other_order.pk, "quote.sent"),
        (other_order.pk, "quote.rejected"),
    ]
    body = json.loads(delivery_body(deliveries[1]))
    assert body["event"] == "quote.accepted"
    assert body["quote"]["id"] == str(accepted.pk) and body["quote"]["status"] == "accepted"
    assert body["quote"]["gross"] == 337500  # 3 × 90000 × 1.25
    assert body["data"]["id"] == str(order.pk)


# -- tenancy ----------------------------------------------------------------------------------


def test_another_organizations_quotes_are_a_404_on_every_route(operator_a, operator_b, order):
    quote = make_quote(order)
    routes = [
        operator_b.get(quotes_url(order)),
        operator_b.post(quotes_url(order), {"lines": [{"description": "x", "unitAmount": 1}]}, format="json"),
        operator_b.get(quote_url(quote)),
        operator_b.patch(quote_url(quote), {"note": "x"}, format="json"),
        *[operator_b.post(quote_url(quote, action)) for action in transitions.ACTIONS],
    ]
    for response in routes:
        assert response.status_code == 404, response.json()
        assert response.json()["statusCode"] == 404
    quote.refresh_from_db()
    assert quote.status == "draft" and quote.note == ""
    assert Quote.objects.count() == 1


def test_viewer_reads_quotes_but_cannot_act(viewer_a, order):
    quote = make_quote(order)
    assert viewer_a.get(quote_url(quote)).status_code == 200
    assert viewer_a.post(quote_url(quote, "send")).status_code == 403


# -- the installer partner ---------------------------------------------------------------------


def allow_partners(order):
    Workflow.objects.filter(pk=order.workflow_id).update(partners_may_quote=True)


def test_partner_reads_quotes_of_its_job_with_its_payout_but_not_router_drafts(installer_client, assigned):
    make_quote(assigned)  # the router's draft
    sent = make_quote(assigned, send=True)
    listed = installer_client.get(quotes_url(assigned)).json()
    assert [q["id"] for q in listed["values"]] == [str(sent.pk)]
    assert "installerPayout" in listed["values"][0]["totals"]
    assert installer_client.get(quote_url(sent)).status_code == 200


def test_partner_cannot_quote_unless_the_workflow_allows(installer_client, assigned, charger):
    body = {"lines": [{"productId": str(charger.pk)}]}
    response = installer_client.post(quotes_url(assigned), body, format="json")
    assert response.status_code == 403
    allow_partners(assigned)
    response = installer_client.post(quotes_url(assigned), body, format="json")
    assert response.status_code == 201, response.json()
    quote = response.json()
    assert quote["createdBy"]["organizationId"] == str(assigned.installer_id)
    assert installer_client.post(quote_url(quote["id"], "send")).status_code == 200
    # The partner does not decide for the customer.
    assert installer_client.post(quote_url(quote["id"], "accept")).status_code == 403


def test_partner_uses_only_shared_products(installer_client, assigned, cable):
    allow_partners(assigned)
    response = installer_client.post(quotes_url(assigned), {"lines": [{"productId": str(cable.pk)}]}, format="json")
    assert response.status_code == 400 and "lines[0].productId" in response.json()["details"]


def test_partner_cannot_touch_the_routers_quotes(installer_client, assigned):
    allow_partners(assigned)
    quote = make_quote(assigned, send=True)
    assert installer_client.post(quote_url(quote, "withdraw")).status_code == 403
    quote.refresh_from_db()
    assert quote.status == "sent"


def test_an_installer_not_assigned_sees_no_quotes(installer_client, order):
    quote = make_quote(order, send=True)
    assert installer_client.get(quote_url(quote)).status_code == 404
    assert installer_client.get(quotes_url(order)).status_code == 404


# -- queries -------------------------------------------------------------------------------


def test_quote_list_query_count_is_constant(operator_a, order, django_assert_num_queries):
    make_quote(order, lines=[{"description": "one", "unit_amount": 100}])
    operator_a.get(quotes_url(order))
    with django_assert_num_queries(4):  # token, order, quotes, lines
        assert operator_a.get(quotes_url(order)).status_code == 200
    many = [{"description": f"l{i}", "unit_amount": 100 + i, "quantity": D(i + 1)} for i in range(40)]
    for _ in range(5):
        make_quote(order, lines=many)
    with django_assert_num_queries(4):
        assert operator_a.get(quotes_url(order)).json()["count"] == 6
    quote = Quote.objects.filter(order=order).last()
    with django_assert_num_queries(3):  # token, quote, lines
        assert len(operator_a.get(quote_url(quote)).json()["lines"]) == 40


def test_create_query_count_is_constant_in_lines(operator_a, org_a, order, django_assert_num_queries):
    from pricing.models import Product

    products = [Product.objects.create(organization=org_a, name=f"P{i}", unit_amount=100 + i) for i in range(20)]
    operator_a.get(quotes_url(order))  # warm the token cache

    def create(n):
        body = {"lines": [{"productId": str(p.pk), "quantity": 1} for p in products[:n]]}
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = operator_a.post(quotes_url(order), body, format="json")
        assert response.status_code == 201, response.json()
        assert len(response.json()["lines"]) == n
        return len(queries)

    assert create(1) == create(20)


def test_a_form_encoded_body_is_a_415(operator_a, order):
    response = operator_a.post(quotes_url(order), {"currency": ""}, format="multipart")
    assert response.status_code == 415 and response.json()["statusCode"] == 415
    response = operator_a.post(
        "/api/v1/products", "name=x&unitAmount=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert not Quote.objects.exists()
