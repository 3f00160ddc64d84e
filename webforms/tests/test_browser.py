"""The demo form in headless Chromium: wrong phone, error beside it, fix, success, tracking.
Screenshots go to test-output/webforms/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image

from installer.tests.browser import chromium
from orders.models import File, Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(settings.BASE_DIR) / "test-output" / "webforms"


@pytest.fixture
def browser_page():
    with chromium() as browser:
        # A phone-sized screen: the form must work on mobile.
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_demo_form_wrong_phone_fix_success_and_tracking(live_server, browser_page, monkeypatch, settings):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM checks while Playwright's loop runs
    settings.PUBLIC_BASE_URL = live_server.url  # the tracking link points at this server
    call_command("seed_demo", quiet=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = browser_page

    page.goto(f"{live_server.url}/f/demo-ev-charger/")
    assert page.locator("h1").inner_text() == "Get your EV charger installed"
    page.get_by_label("Your name").fill("Kari Nordmann")
    page.get_by_label("Email").fill("kari@example.com")
    page.get_by_label("Phone number").fill("12345")
    page.get_by_label("Street address").fill("Storgata 1")
    page.get_by_label("Postal code").fill("0155")
    page.get_by_label("City").fill("Oslo")
    assert page.get_by_label("Country").input_value() == "NO"
    page.get_by_label("Charger type").select_option("22 kW")
    page.get_by_label("Cable length (m)").fill("7")
    page.get_by_label("Private parking space").check()
    page.get_by_label("Preferred date").fill("2030-06-01")
    page.get_by_label("Wall mount").check()
    page.get_by_label("Notes for the installer").fill("Dog in the garden.")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    page.screenshot(path=str(OUTPUT / "form.png"), full_page=True)

    page.get_by_role("button", name="Send request").click()
    page.wait_for_load_state()
    error = page.locator("#id_phone_number_group #id_phone_number_error")
    assert "Enter a valid phone number" in error.inner_text()
    phone = page.locator("#id_phone_number")
    assert phone.get_attribute("aria-invalid") == "true"
    assert "id_phone_number_error" in phone.get_attribute("aria-describedby")
    # The error is beside the phone field: directly above its input, not only at the top.
    error_box, phone_box = error.bounding_box(), phone.bounding_box()
    assert 0 <= phone_box["y"] - (error_box["y"] + error_box["height"]) < 40
    # Everything else typed is kept.
    assert phone.input_value() == "12345"
    assert page.get_by_label("Your name").input_value() == "Kari Nordmann"
    assert page.get_by_label("Charger type").input_value() == "22 kW"
    assert page.get_by_label("Cable length (m)").input_value() == "7"
    assert page.get_by_label("Private parking space").is_checked()
    assert page.get_by_label("Preferred date").input_value() == "2030-06-01"
    assert page.get_by_label("Wall mount").is_checked() and not page.get_by_label("Load balancing").is_checked()
    assert page.get_by_label("Notes for the installer").input_value() == "Dog in the garden."
    assert page.locator('[aria-invalid="true"]').count() == 1
    assert Order.objects.filter(source="webform").count() == 0
    page.screenshot(path=str(OUTPUT / "error.png"), full_page=True)

    phone.fill("+47 912 34 567")
    page.locator("#id_photo").set_input_files(files=[{"name": "wall.png", "mimeType": "image/png", "buffer": _png()}])
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/f/demo-ev-charger/done/"))
    display_id = page.locator("#display-id").inner_text()
    assert re.fullmatch(r"DEMO-\d+", display_id)
    assert "certified installer" in page.locator("#success").inner_text()
    page.screenshot(path=str(OUTPUT / "success.png"), full_page=True)

    page.locator("#tracking-link").click()
    page.wait_for_url(re.compile(r"/t/[^/]+/$"))
    assert page.locator("#status").inner_text() == "Received"
    assert display_id in page.locator("#tracking").inner_text()
    assert "Not booked yet" in page.locator("#booked").inner_text()
    page.screenshot(path=str(OUTPUT / "tracking.png"), full_page=True)

    order = Order.objects.get(display_id=display_id)
    assert (order.source, order.phone_number, order.contact_person_name) == ("webform", "+4791234567", "Kari Nordmann")
    assert page.url == order.client_url
    assert File.objects.get(order=order).content_type == "image/png"
    for name in ("form.png", "error.png", "success.png"):
        assert (OUTPUT / name).stat().st_size > 5000
