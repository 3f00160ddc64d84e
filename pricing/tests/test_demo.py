"""`seed_demo` gives the demo a catalogue, lets partners quote on its installation workflow and
sends one quote (with a "quote sent" customer email rule); a second run adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import Organization
from notifications.models import Message, Notification
from orders.models import Workflow
from pricing.models import Product, Quote

pytestmark = pytest.mark.django_db


def test_seed_demo_prices_the_demo_once():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    demo = Organization.objects.get(slug="demo")
    assert Product.objects.filter(organization=demo).count() == 4
    assert Workflow.objects.get(organization=demo, custom_id="installation").partners_may_quote
    quote = Quote.objects.get(organization=demo)
    assert quote.status == "sent" and quote.lines.count() == 4
    assert quote.order.client_url in out.getvalue()
    rule = Notification.objects.get(workflow=quote.order.workflow, trigger_event="quote.sent")
    assert rule.channel == "customer_email" and "{{trackingUrl}}" in rule.templates["nb"]["body"]
    # The rules are seeded before the quote is sent: the customer's email is planned.
    assert Message.objects.filter(order=quote.order, notification=rule).count() == 1
    # A second run creates nothing.
    products, quotes, messages = Product.objects.count(), Quote.objects.count(), Message.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert (Product.objects.count(), Quote.objects.count(), Message.objects.count()) == (products, quotes, messages)
