"""Headless Chromium: the demo operator dispatches a created order through the preview page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from dispatch.models import Offer
from installer.tests.browser import chromium
from orders.models import Order, OrderEvent, OrderStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(settings.BASE_DIR) / "test-output" / "backoffice"


def test_demo_operator_dispatches_an_order_via_the_preview(live_server, monkeypatch):
    from orders.demo import DEMO_PASSWORD

    call_command("seed_demo", quiet=True)
    order = Order.objects.filter(organization__slug="demo", status=OrderStatus.CREATED).order_by("number").first()
    assert order is not None
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{live_server.url}/admin/login/?next=/admin/orders/order/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#result_list")
            page.click(f"text={order.display_id}")
            page.wait_for_selector(".order-timeline")
            page.click("a.order-action:has-text('Dispatch')")
            page.wait_for_selector("#dispatch-preview")
            kept = page.locator("#dispatch-preview tr.candidate.kept")
            assert kept.count() >= 1
            would_offer = page.locator(".preview-would-offer").inner_text()
            assert "Oslo Elektro AS" in would_offer
            page.screenshot(path=str(OUT / "dispatch-preview.png"), full_page=True)

            page.check("input[name=mode][value=strategy]")
            page.click("input[type=submit][value=Dispatch]")
            page.wait_for_selector("#order-section-dispatch")
            assert "dispatched" in page.locator("ul.messagelist").inner_text()
            assert page.locator("#order-section-dispatch tr.offer-sent").count() >= 1
            assert "Oslo Elektro AS" in page.locator("#order-section-dispatch").inner_text()
            assert page.locator(".order-timeline li.tl-row[data-type='order.dispatched']").count() == 1
            assert "Offer sent to Oslo Elektro AS" in page.locator(".order-timeline").inner_text()
            page.screenshot(path=str(OUT / "dispatched-order.png"), full_page=True)
        finally:
            browser.close()
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHING
    assert Offer.objects.filter(order=order, status="sent", installer__name="Oslo Elektro AS").exists()
    event = OrderEvent.objects.get(order=order, type="order.dispatched")
    assert (event.actor_type, event.actor_label) == ("user", "operator")
    assert (OUT / "dispatch-preview.png").stat().st_size > 10_000
    assert (OUT / "dispatched-order.png").stat().st_size > 10_000
