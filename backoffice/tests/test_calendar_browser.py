"""Headless Chromium at 1280x800: the demo operator opens the calendar from the admin index,
finds a demo booking in the week view and clicks it to open the order; then the coverage
checker shows the partners for a postal code. axe-core finds no serious or critical
violation on either page; screenshots in test-output/backoffice/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.zones import zone_of
from dispatch.models import Booking
from installer.tests.browser import axe_script, chromium
from orders.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "test-output" / "backoffice"


def no_violations(page, name: str, axe: Path) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    page.add_script_tag(path=str(axe))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_calendar_week_shows_a_demo_booking_and_the_checker_shows_partners(live_server, monkeypatch):
    axe = axe_script()
    call_command("seed_demo", quiet=True)
    booking = (
        Booking.objects.filter(order__organization__slug="demo", order__test=False)
        .select_related("order", "order__organization")
        .order_by("start_at")
        .first()
    )
    assert booking is not None, "the demo data has a booking"
    order = booking.order
    day = booking.start_at.astimezone(zone_of(order.organization)).date()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(15000)
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("input[type=submit]")
            page.click("#calendar-link")
            page.wait_for_selector("#calendar")
            page.goto(f"{live_server.url}/admin/calendar/?view=week&date={day.isoformat()}")
            entry = page.locator(f'a.cal-entry[data-order="{order.display_id}"]')
            assert entry.count() == 1
            assert entry.is_visible()
            assert "Europe/Oslo" in page.locator("#zone").inner_text()
            assert page.locator("#legend li").count() == 3
            no_violations(page, "calendar-week", axe)
            page.click("#view-month")
            page.wait_for_selector("ol.cal-month")
            no_violations(page, "calendar-month", axe)
            page.go_back()
            page.locator(f'a.cal-entry[data-order="{order.display_id}"]').click()
            page.wait_for_url(f"**/admin/orders/order/{order.pk}/change/")
            assert order.display_id in page.content()

            page.goto(f"{live_server.url}/admin/")
            page.click("#coverage-check-link")
            page.wait_for_selector("#coverage-form")
            page.fill("#id_postal_code", "0155")
            page.click("#coverage-submit")
            page.wait_for_selector("#coverage-result")
            names = page.locator("tr.candidate").evaluate_all("rows => rows.map(r => r.dataset.installer)")
            assert "Oslo Elektro AS" in names
            assert page.locator("tr.candidate.kept").count() >= 1
            no_violations(page, "coverage-check", axe)

            page.fill("#id_postal_code", "")
            page.click("#coverage-submit")
            page.wait_for_selector("#error-summary")
            no_violations(page, "coverage-check-error", axe)
        finally:
            browser.close()
    assert (OUT / "calendar-week.png").stat().st_size > 10_000
