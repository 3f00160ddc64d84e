"""Headless Chromium: the demo operator logs in, opens the dashboard and an order; screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from installer.tests.browser import chromium
from orders.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(settings.BASE_DIR) / "test-output" / "backoffice"


def test_demo_operator_uses_dashboard_and_order(live_server, monkeypatch):
    from orders.demo import DEMO_PASSWORD

    call_command("seed_demo", quiet=True)
    order = Order.objects.filter(organization__slug="demo", status=0).order_by("number").first()
    cancelled = Order.objects.filter(organization__slug="demo", status=6).count()
    other = Order.objects.filter(organization__slug="other").values_list("display_id", flat=True).first()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#dashboard-link")
            page.click("#dashboard-link")
            page.wait_for_selector("#orders-per-day svg")
            assert page.locator("#orders-per-status [data-status=cancelled] strong").inner_text() == str(cancelled)
            assert page.locator("#orders-per-day rect.bar").count() == 30
            page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)

            page.goto(f"{live_server.url}/admin/orders/order/")
            page.wait_for_selector("#result_list")
            assert order.display_id in page.content()
            if other:
                assert other not in page.content()  # the other organization's orders are not listed
            page.click(f"text={order.display_id}")
            page.wait_for_selector(".order-timeline")
            assert "Charger type" in page.content()
            assert page.locator("a.order-action", has_text="Cancel order").count() == 1
            page.screenshot(path=str(OUT / "order.png"), full_page=True)
        finally:
            browser.close()
    assert (OUT / "dashboard.png").stat().st_size > 10_000
    assert (OUT / "order.png").stat().st_size > 10_000
