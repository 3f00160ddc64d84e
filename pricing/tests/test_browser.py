"""The customer accepts a quote on their order page, on a phone, in Norwegian: the totals follow
the ticked optional line before submitting, the accepted quote is shown read-only. axe-core
finds no serious or critical violation; screenshots go to test-output/pricing/."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings

from installer.tests.browser import axe_script
from orders.models import OrderEvent
from orders.tests.factories import create_order
from portal.tests.test_browser import phone_nb  # noqa: F401 - fixture
from pricing.models import Quote
from pricing.tests.conftest import make_quote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(settings.BASE_DIR) / "test-output" / "pricing"


def check(page, name: str, axe: Path) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    page.add_script_tag(path=str(axe))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def test_customer_accepts_a_quote_with_one_optional_line_in_norwegian(live_server, phone_nb, org_a):  # noqa: F811
    axe = axe_script()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    order = create_order(org_a, contact_person_name="Kari Nordmann", language="nb")
    quote = make_quote(
        order,
        send=True,
        note="Prisen gjelder montering på vegg.",
        lines=[
            {"description": "Ladeboks 11 kW", "unit_amount": 1299000, "payout_percent": D(60)},
            {"description": "Montering", "unit": "hour", "quantity": D("2.5"), "unit_amount": 95000},
            {"description": "Overspenningsvern", "unit_amount": 250000, "optional": True},
            {"description": "Ekstra kabel", "unit": "metre", "quantity": D(10), "unit_amount": 15000, "optional": True},
        ],
    )
    surge = quote.lines.get(description="Overspenningsvern")
    page = phone_nb

    page.goto(f"{live_server.url}/t/{order.client_token}/")
    card = page.locator(f"#quote-{quote.pk}")
    assert card.locator("h2").inner_text() == "Tilbud"
    assert "Venter på svaret ditt" in card.inner_text()
    gross = page.locator(f"#quote-gross-{quote.pk}")
    # Required lines: (1 299 000 + 237 500) × 1.25 = 1 920 625 øre.
    assert gross.inner_text() == "19\u00a0206,25\u00a0kr"
    check(page, "1-quote-sent", axe)

    page.get_by_label("Overspenningsvern").check()
    # Live: + 2 500,00 × 1.25 = 3 125,00 kr.
    assert gross.inner_text() == "22\u00a0331,25\u00a0kr"
    assert page.locator(f"#quote-net-{quote.pk}").inner_text() == "17\u00a0865,00\u00a0kr"
    page.get_by_role("button", name="Godta tilbudet").click()
    assert "Takk! Du har godtatt tilbudet." in page.locator("#result").inner_text()
    card = page.locator(f"#quote-{quote.pk}")
    assert "Godtatt" in card.inner_text()
    assert card.locator("input[type=checkbox]").count() == 0  # read-only now
    assert page.get_by_role("button", name="Godta tilbudet").count() == 0
    check(page, "2-quote-accepted", axe)

    quote.refresh_from_db()
    assert quote.status == "accepted" and quote.decided_via == "customer"
    assert quote.total_gross == 2233125
    chosen = {line.description: line.chosen for line in quote.lines.all()}
    assert chosen == {"Ladeboks 11 kW": True, "Montering": True, "Overspenningsvern": True, "Ekstra kabel": False}
    assert str(surge.pk) in {str(line.pk) for line in quote.lines.filter(chosen=True)}
    assert OrderEvent.objects.get(order=order, type="quote.accepted").actor_type == "customer"
    assert Quote.objects.filter(order=order, status="accepted").count() == 1
