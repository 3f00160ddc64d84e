"""Demo priced work (`seed_demo`): the demo router's catalogue, its installation workflow
letting partners quote, and a quote sent to the customer of one new demo order (whose order
page then shows it). Idempotent: products by external id; the quote only when the demo has none."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import Organization
from orders.actors import Actor
from orders.models import Order, OrderStatus, Workflow
from pricing import services
from pricing.models import Product, Quote

PRODUCTS: list[dict[str, Any]] = [
    {
        "external_id": "EV-11",
        "name": "Ladeboks 11 kW",
        "unit": "piece",
        "unit_amount": 1299000,
        "payout_percent": Decimal(10),
        "shared_with_partners": True,
        "tags": ["lading"],
    },
    {
        "external_id": "INSTALL-HOUR",
        "name": "Montering (per time)",
        "unit": "hour",
        "unit_amount": 95000,
        "payout_amount": 75000,
        "shared_with_partners": True,
        "tags": ["arbeid"],
    },
    {
        "external_id": "CABLE-M",
        "name": "Kabel 5×6 mm²",
        "unit": "metre",
        "unit_amount": 15000,
        "payout_amount": 4000,
        "shared_with_partners": True,
    },
    {
        "external_id": "SURGE",
        "name": "Overspenningsvern",
        "unit": "piece",
        "unit_amount": 250000,
        "payout_percent": Decimal(20),
        "shared_with_partners": True,
    },
]


def seed(*, demo: Organization, stdout: Any, quiet: bool = False) -> Quote | None:
    """Returns the demo quote it created, or None when the demo already had one."""
    products = {}
    for spec in PRODUCTS:
        product = Product.objects.filter(organization=demo, external_id=spec["external_id"]).first()
        products[spec["external_id"]] = product or services.product_create(organization=demo, data=dict(spec))
    Workflow.objects.filter(organization=demo, custom_id="installation").update(partners_may_quote=True)
    if Quote.objects.filter(organization=demo).exists():
        return None
    order = (
        Order.objects.filter(
            organization=demo, status=OrderStatus.CREATED, test=False, workflow__custom_id="installation"
        )
        .order_by("created_at", "id")
        .first()
    )
    if order is None:
        return None
    author = services.Author(organization=demo, actor=Actor.system("seed_demo"))
    quote = services.quote_create(
        order_id=order.pk,
        author=author,
        data={
            "note": "Prisen gjelder montering på vegg ved garasjen.",
            "lines": [
                {"product_id": str(products["EV-11"].pk), "quantity": Decimal(1)},
                {"product_id": str(products["INSTALL-HOUR"].pk), "quantity": Decimal("2.5")},
                {"product_id": str(products["CABLE-M"].pk), "quantity": Decimal(10), "optional": True},
                {"product_id": str(products["SURGE"].pk), "quantity": Decimal(1), "optional": True},
            ],
        },
    )
    quote = services.quote_act(quote_id=quote.pk, action="send", author=author)
    if not quiet:
        stdout.write(f"  Demo quote (customer's page):  {order.client_url}\n")
    return quote
