"""Headless Chromium at a 1280×800 laptop screen, as the demo operator: the order list shows
every column without sideways scrolling, the order page shows status, customer and actions
above the fold, the dashboard's chart labels are inside the chart; axe-core finds no serious or
critical violation in what these pages add (the order header, timeline, files, saved filters,
the result list, the dashboard); screenshots under test-output/backoffice/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from installer.tests.browser import axe_script, chromium
from orders.models import Order, OrderStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(settings.BASE_DIR) / "test-output" / "backoffice"
WIDTH, HEIGHT = 1280, 800

LIST_COLUMNS = ("display_id", "status_badge", "customer", "place", "installer", "booked_short", "tag_list", "age")


def axe_violations(page, axe: Path, include: list[str]) -> list:
    """Serious and critical axe-core violations inside the elements of `include` (the parts
    this project renders; Django's own admin chrome around them is not checked)."""
    page.add_script_tag(path=str(axe))
    result = page.evaluate(
        "async (include) => await axe.run({include: include.map((s) => [s])}, {resultTypes: ['violations']})",
        include,
    )
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_operator_reads_list_order_and_dashboard_at_1280(live_server, monkeypatch):
    from orders.demo import DEMO_PASSWORD

    axe = axe_script()
    call_command("seed_demo", quiet=True)
    booked = (
        Order.objects.filter(organization__slug="demo", status=OrderStatus.SCHEDULED)
        .select_related("installer")
        .order_by("number")
        .first()
    )
    assert booked is not None and booked.installer is not None
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.set_default_timeout(15000)
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#dashboard-link")

            # The order list: every column inside the screen, no sideways scroll.
            page.goto(f"{live_server.url}/admin/orders/order/")
            page.wait_for_selector("#result_list")
            page.screenshot(path=str(OUT / "order-list-1280.png"))
            assert no_sideways_scroll(page)
            for column in LIST_COLUMNS:
                box = page.locator(f"#result_list th.column-{column}").bounding_box()
                assert box is not None, column
                assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (column, box)
            assert page.locator("#saved-filters a.saved-filter", has_text="My unassigned").count() == 1
            bad = axe_violations(page, axe, ["#saved-filters", "#result_list"])
            assert bad == [], bad

            # A built-in saved filter, then saving the current filter set under a name.
            page.click("#saved-filters a.saved-filter:has-text('Starting this week')")
            page.wait_for_selector("#saved-filter-name")
            page.fill("#saved-filter-name", "This week's bookings")
            page.click(".save-filter button[type=submit]")
            page.wait_for_selector('#saved-filters a.saved-filter:has-text("This week\'s bookings")')
            assert no_sideways_scroll(page)

            # The order page: status, customer and actions above the fold.
            page.goto(f"{live_server.url}/admin/orders/order/{booked.pk}/change/")
            page.wait_for_selector("#order-header")
            page.screenshot(path=str(OUT / "order-page-1280.png"))
            page.screenshot(path=str(OUT / "order-page-1280-full.png"), full_page=True)
            assert no_sideways_scroll(page)
            for selector in ("#order-status", "#order-customer", "#order-actions", "#order-booking"):
                box = page.locator(selector).bounding_box()
                assert box is not None, selector
                assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, (selector, box)
            assert booked.installer.name in page.locator("#order-installer").inner_text()
            assert "Europe/Oslo" in page.locator("#order-booking").inner_text()
            assert page.locator("#order-actions a.order-action").count() >= 1
            timeline = page.locator(".order-timeline")
            assert "Booked" in timeline.inner_text()
            assert page.locator(".order-timeline li.tl-row[data-type='workflow.step.activated']").count() == 0
            # The raw event is one click away.
            first = page.locator(".order-timeline details").first
            assert not first.locator("pre").first.is_visible()
            first.locator("summary").click()
            assert '"type"' in first.locator("pre").first.inner_text()
            bad = axe_violations(page, axe, ["#order-header", "#order-timeline", ".field-files_display"])
            assert bad == [], bad

            # The dashboard: no day label of the chart is clipped.
            page.goto(f"{live_server.url}/admin/dashboard/")
            page.wait_for_selector("#orders-per-day svg")
            page.screenshot(path=str(OUT / "dashboard-1280.png"), full_page=True)
            assert no_sideways_scroll(page)
            svg = page.locator("#orders-per-day svg").bounding_box()
            labels = page.locator("#orders-per-day text.day-label")
            assert labels.count() >= 2
            for index in range(labels.count()):
                box = labels.nth(index).bounding_box()
                assert box is not None
                assert box["x"] >= svg["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"], (index, box, svg)
            assert page.locator("#waiting-longest .dash-waiting-status").count() == 5
            assert page.locator("#partner-load tbody tr").count() >= 1
            bad = axe_violations(page, axe, ["#content-main"])
            assert bad == [], bad
        finally:
            browser.close()
    for name in ("order-list-1280", "order-page-1280", "dashboard-1280"):
        assert (OUT / f"{name}.png").stat().st_size > 10_000
    assert os.path.exists(OUT / "order-page-1280-full.png")
