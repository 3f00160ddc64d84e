"""The customer's portal in headless Chromium on a phone, in Norwegian: see the steps, choose a
slot, download the .ics, ask to reschedule. axe-core finds no serious or critical violation on
any page; screenshots go to test-output/portal/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from installer.tests.browser import axe_script, chromium
from orders.models import OrderEvent
from orders.tests.factories import create_order
from portal.tests.conftest import assign, let_customer_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(settings.BASE_DIR) / "test-output" / "portal"


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


@pytest.fixture
def phone_nb(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls while Playwright's loop runs
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=1,
            locale="nb-NO",
            extra_http_headers={"Accept-Language": "nb-NO,nb;q=0.9"},
            accept_downloads=True,
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_customer_books_downloads_ics_and_asks_to_reschedule_in_norwegian(live_server, phone_nb, router, installer):
    axe = axe_script()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    order = create_order(router, contact_person_name="Kari Nordmann", address="Storgata 1", language="nb")
    let_customer_book(order)
    order = assign(order, router, installer)
    page = phone_nb

    page.goto(f"{live_server.url}/t/{order.client_token}/")
    assert page.locator("h1").inner_text() == "Installasjonen din"
    steps = page.locator("#steps li")
    assert steps.count() == 5
    assert page.locator("#steps li[data-state=completed]").count() == 1
    assert "Installatør funnet" in page.locator("#status").inner_text()
    check(page, "1-steps", axe)

    first_slot = page.locator("input[name=slot]").first
    label = page.locator(f"label[for={first_slot.get_attribute('id')}]").inner_text()
    first_slot.check()
    page.get_by_role("button", name="Book dette tidspunktet").click()
    assert "Avtalen din er booket." in page.locator("#result").inner_text()
    assert label.split(",")[0].lower() in page.locator("#booked").inner_text().lower()
    check(page, "2-booked", axe)

    with page.expect_download() as download_info:
        page.locator("#ics").click()
    download = download_info.value
    assert download.suggested_filename == f"appointment-{order.display_id}.ics"
    ics = Path(download.path()).read_text()
    assert "BEGIN:VEVENT" in ics and "Installasjon" in ics

    page.get_by_label("Flytt avtalen").check()
    page.get_by_label("Melding (valgfritt)").fill("Kan vi ta det en uke senere?")
    page.get_by_role("button", name="Send forespørsel").click()
    assert "flytte avtalen" in page.locator("#result").inner_text()
    check(page, "3-reschedule-asked", axe)
    event = OrderEvent.objects.get(order=order, type="customer.reschedule_requested")
    assert event.data == {"message": "Kan vi ta det en uke senere?"} and event.actor_type == "customer"

    # A failed submit: the error summary is shown and focused.
    page.get_by_role("button", name="Send notat").click()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    check(page, "4-error", axe)
