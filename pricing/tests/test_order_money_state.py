"""The order object says where its money stands: `quoteStatus` follows its quotes through their
states (a draft only for the router), `invoiceStatus` follows invoicing and credit notes; the
customer's page reads the same without drafts."""

from __future__ import annotations

import pytest

from orders.tests.factories import create_order
from pricing.tests.conftest import assign
from pricing.tests.test_quotes_api import create_body, quote_url, quotes_url

pytestmark = pytest.mark.django_db


def _order(client, order) -> dict:
    return client.get(f"/api/v1/order/{order.pk}").json()


def test_quote_status_follows_the_quotes(operator_a, installer_client, org_a, installer_org, charger, client):
    order = assign(create_order(org_a), installer_org)
    assert _order(operator_a, order)["quoteStatus"] is None
    assert _order(operator_a, order)["invoiceStatus"] == "not_invoiced"
    quote = operator_a.post(quotes_url(order), create_body(charger), format="json").json()
    assert _order(operator_a, order)["quoteStatus"] == "draft"
    # The installer and the customer do not learn of a draft.
    assert _order(installer_client, order)["quoteStatus"] is None
    token = order.client_url.rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/api/clients/{token}").json()["quoteStatus"] is None
    assert operator_a.post(quote_url(quote["id"], "send")).status_code == 200
    assert _order(installer_client, order)["quoteStatus"] == "sent"
    assert client.get(f"/api/clients/{token}").json()["quoteStatus"] == "sent"
    # A second quote in draft does not hide the sent one.
    operator_a.post(quotes_url(order), create_body(charger), format="json")
    assert _order(operator_a, order)["quoteStatus"] == "sent"
    assert operator_a.post(quote_url(quote["id"], "accept"), {}, format="json").status_code == 200
    assert _order(operator_a, order)["quoteStatus"] == "accepted"
    assert client.get(f"/api/clients/{token}").json()["quoteStatus"] == "accepted"
    # The list shows the same as the order.
    listed = {o["id"]: o for o in operator_a.get("/api/v1/order").json()["values"]}
    assert listed[str(order.pk)]["quoteStatus"] == "accepted"


def test_a_rejected_quote_reads_rejected(operator_a, order, charger):
    quote = operator_a.post(quotes_url(order), create_body(charger), format="json").json()
    operator_a.post(quote_url(quote["id"], "send"))
    assert operator_a.post(quote_url(quote["id"], "reject"), {}, format="json").status_code == 200
    assert _order(operator_a, order)["quoteStatus"] == "rejected"


def test_the_partner_and_the_customer_pages_say_when_the_job_is_invoiced(org_a, installer_org, client):
    from django.test import Client

    from accounts.models import Role
    from orders.models import Order
    from orders.tests.factories import MembershipFactory

    order = assign(create_order(org_a), installer_org)
    partner = Client()
    partner.force_login(MembershipFactory(organization=installer_org, role=Role.ADMIN).user)
    path = order.client_url.split("://", 1)[1].split("/", 1)[1]
    assert "Jobben er fakturert." not in client.get(f"/{path}", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert 'id="job-invoiced"' not in partner.get(f"/partner/jobs/{order.pk}/").content.decode()
    Order.objects.filter(pk=order.pk).update(invoice_status="invoiced", language="nb")
    assert "Jobben er fakturert." in client.get(f"/{path}", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    page = partner.get(f"/partner/jobs/{order.pk}/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "<strong>Fakturert.</strong>" in page
