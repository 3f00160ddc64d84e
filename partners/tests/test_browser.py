"""The partner workspace in headless Chromium at phone size (390x844): a demo partner admin
signs in, accepts an offer, books it, assigns the demo technician, visits the calendar and the
team and signs out; the technician signs in, starts and completes the job with a photo. Every page is
checked with axe-core (no serious or critical violations) and has no sideways scroll.
Screenshots go to test-output/partners/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from PIL import Image

from dispatch import services as dispatch_services
from dispatch.models import Offer, OfferStatus
from installer.tests.browser import axe_script, chromium
from orders.actors import Actor
from orders.demo import DEMO_PASSWORD
from orders.models import File, Order, OrderStatus
from orders.tests.factories import create_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

User = get_user_model()
OUTPUT = Path(settings.BASE_DIR) / "test-output" / "partners"


@pytest.fixture
def browser_page():
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def check(page, name: str, axe: Path) -> None:
    """No sideways scroll, no serious or critical axe-core violation; a screenshot."""
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


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_admin_and_a_technician_walk_an_offer_to_a_completed_job(live_server, browser_page, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls while Playwright's loop runs
    axe = axe_script()
    call_command("seed_demo", quiet=True)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = browser_page
    oslo = Order.objects.filter(installer__slug="oslo-elektro").first().installer
    # A fresh order offered to Oslo Elektro, as the router's dispatch sends it.
    demo = Order.objects.filter(idempotency_key="demo-1").first().organization
    order = create_order(demo, postal_code="0155", name="EV charger in Oslo", contact_person_name="Kari Kunde")
    dispatch_services.order_dispatch(
        order_id=order.pk, organization=demo, actor=Actor.system("test"), installer_id=oslo.pk
    )
    offer = Offer.objects.get(order=order, installer=oslo, status=OfferStatus.SENT)

    page.goto(f"{live_server.url}/partner/login/")
    check(page, "login", axe)
    page.get_by_label("Username").fill("oslo-admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/partner/offers/$"))
    card = page.locator(f"#offer-{offer.pk}")
    assert order.display_id in card.inner_text() and "Kari Kunde" not in page.content()
    check(page, "offers", axe)

    card.get_by_role("button", name=re.compile("^Accept")).click()
    page.wait_for_url(re.compile(rf"/partner/jobs/{order.pk}/$"))
    assert "Kari Kunde" in page.locator("#customer").inner_text()
    check(page, "job-accepted", axe)

    page.locator("#id_date").fill("2031-03-04")
    page.locator("#id_start").fill("10:00")
    page.locator("#id_end").fill("12:00")
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_load_state()
    assert "2031-03-04 10:00" in page.locator("#booking").inner_text()
    check(page, "job-booked", axe)

    # The admin assigns the demo technician, looks at the calendar and the team, signs out.
    tech = User.objects.get(username="oslo-tech")
    page.get_by_label("Assigned to").select_option(str(tech.pk))
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    order.refresh_from_db()
    assert order.assignee_id == tech.pk
    assert page.locator("#assignee").inner_text().strip() == (tech.get_full_name() or tech.username)
    check(page, "job-assigned", axe)

    page.get_by_role("link", name="Jobs", exact=True).click()
    page.wait_for_load_state()
    check(page, "jobs", axe)
    page.goto(f"{live_server.url}/partner/calendar/?date=2031-03-04")
    assert order.display_id in page.locator("#calendar").inner_text()
    check(page, "calendar-week", axe)
    page.get_by_role("link", name="Month").click()
    page.wait_for_load_state()
    check(page, "calendar-month", axe)
    page.get_by_role("button", name=re.compile("calendar link")).click()
    page.wait_for_load_state()
    assert ".ics" in page.locator("#feed-link").input_value()
    check(page, "calendar-link", axe)
    page.get_by_role("link", name="Team").click()
    page.wait_for_load_state()
    assert "oslo-tech" in page.locator("#members").inner_text() or tech.get_full_name() in page.content()
    check(page, "team", axe)
    page.get_by_role("link", name="Coverage").click()
    page.wait_for_load_state()
    check(page, "coverage", axe)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/partner/login/$"))

    # The technician signs in, lands on its jobs, starts and completes with a photo.
    page.get_by_label("Username").fill("oslo-tech")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/partner/jobs/$"))
    assert "Offers" not in page.locator("nav.main").inner_text()
    check(page, "tech-jobs", axe)
    page.get_by_role("link", name=order.display_id).click()
    page.wait_for_url(re.compile(rf"/partner/jobs/{order.pk}/$"))
    assert page.get_by_label("Assigned to").count() == 0
    page.get_by_role("button", name="Start the work").click()
    page.wait_for_load_state()
    assert "You started before the booked day" in page.content()
    check(page, "job-started", axe)

    page.get_by_label("Comment").fill("Charger installed and tested.")
    page.locator('input[name="photos"]').set_input_files(
        files=[{"name": "done.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_role("button", name="Mark as completed").click()
    page.wait_for_load_state()
    assert "Job completed." in page.content()
    check(page, "job-completed", axe)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert File.objects.get(order=order).content_type == "image/png"
    page.goto(f"{live_server.url}/partner/calendar/?date=2031-03-04")
    check(page, "tech-calendar", axe)
    for name in ("login", "offers", "job-assigned", "team", "calendar-week", "tech-jobs", "job-completed"):
        assert (OUTPUT / f"{name}.png").stat().st_size > 5000
