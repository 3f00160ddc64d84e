"""Headless Chromium: the demo operator opens the partner scorecards list and a partner's card;
screenshots under test-output/scorecards/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from installer.tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(settings.BASE_DIR) / "test-output" / "scorecards"


def test_demo_operator_reads_the_scorecards(live_server, monkeypatch):
    from orders.demo import DEMO_PASSWORD

    call_command("seed_demo", quiet=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{live_server.url}/admin/login/?next=/admin/scorecards/partnerscorecard/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", DEMO_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#result_list")
            rows = page.locator("#result_list tbody tr")
            assert rows.count() == 3
            assert "Oslo Elektro AS" in page.locator("#result_list").inner_text()
            assert page.locator("a.scorecard-csv").get_attribute("href").endswith("/csv/?window=90")
            page.screenshot(path=str(OUT / "list.png"), full_page=True)
            # Every column fits at 1280 px: the results table does not scroll sideways.
            widths = page.evaluate(
                "() => { const r = document.querySelector('.results'); return [r.scrollWidth, r.clientWidth]; }"
            )
            assert widths[0] <= widths[1], widths

            page.click("#result_list a:text('Oslo Elektro AS')")
            page.wait_for_selector("#scorecard .scorecard-figures")
            panel = page.locator("#scorecard").inner_text().lower()  # the admin upper-cases headers
            assert "offers received" in panel and "30 days" in panel and "90 days" in panel
            page.locator("#scorecard").scroll_into_view_if_needed()
            page.screenshot(path=str(OUT / "partner.png"), full_page=True)
        finally:
            browser.close()
    assert (OUT / "list.png").stat().st_size > 10_000
    assert (OUT / "partner.png").stat().st_size > 5_000
