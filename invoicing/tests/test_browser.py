"""Headless Chromium at phone size: the technician completes a job with the quoted lines and the
customer's drawn signature in the partner workspace (axe-core checked); the operator marks the
order invoiced in the admin and downloads the PDF. Screenshots in test-output/invoicing/."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest
from django.conf import settings

from accounts.groups import sync_user_groups
from accounts.models import Role
from installer.tests.browser import axe_script
from invoicing.models import Completion, DeliveredLine, Invoice
from invoicing.tests.conftest import CHARGER, HOURS, quote, started
from orders.models import File, OrderStatus
from orders.tests.factories import MembershipFactory, UserFactory
from partners.tests.conftest import PASSWORD, member
from partners.tests.test_browser import browser_page, check  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTPUT = Path(settings.BASE_DIR) / "test-output" / "invoicing"


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    """ORM calls (fixtures included) while Playwright's event loop runs in this thread."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_technician_signs_off_and_operator_invoices(live_server, router, company, browser_page, monkeypatch):  # noqa: F811
    monkeypatch.setattr("partners.tests.test_browser.OUTPUT", OUTPUT)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    axe = axe_script()
    tech = member(company, "fixit-tech", role=Role.TECHNICIAN)
    order = started(router, company)
    quote(order, CHARGER, HOURS)
    order.assignee = tech
    order.save(update_fields=["assignee"])
    page = browser_page

    page.goto(f"{live_server.url}/partner/login/")
    page.get_by_label("Username").fill("fixit-tech")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/partner/jobs/$"))
    page.goto(f"{live_server.url}/partner/jobs/{order.pk}/")
    work = page.locator("#work-lines").inner_text()
    assert "Wallbox 11 kW" in work and "2.5 h – Installation" in work
    check(page, "job-to-complete", axe)

    page.get_by_label("Comment").fill("Charger installed and tested.")
    page.get_by_label("Customer's name").fill("Kari Nordmann")
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + box["height"] / 2 + (15 if step % 2 else -15))
    page.mouse.up()
    assert page.locator("#id_signature").input_value().startswith("data:image/png;base64,")
    page.screenshot(path=str(OUTPUT / "signed.png"), full_page=True)
    page.get_by_role("button", name="Mark as completed").click()
    page.wait_for_load_state()
    assert "Job completed." in page.content()
    assert "Recorded as delivered." in page.content()
    check(page, "job-completed", axe)

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    completion = Completion.objects.get(order=order)
    assert completion.customer_name == "Kari Nordmann"
    assert File.objects.get(pk=completion.signature_id).content_type == "image/png"
    assert DeliveredLine.objects.filter(order=order).count() == 2

    # The operator marks it invoiced in the admin and downloads the PDF.
    operator = UserFactory(username="alpha-operator", is_staff=True)
    operator.set_password(PASSWORD)
    operator.save()
    MembershipFactory(user=operator, organization=router, role=Role.OPERATOR)
    sync_user_groups(operator)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("alpha-operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    assert "not invoiced yet" in page.locator("#invoice-state").inner_text()
    page.get_by_role("link", name="Mark invoiced…").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Mark invoiced").click()
    page.wait_for_load_state()
    invoice = Invoice.objects.get(order=order)
    assert f"invoiced, number {invoice.number}" in page.locator("#invoice-state").inner_text()
    page.screenshot(path=str(OUTPUT / "admin-invoiced.png"), full_page=True)
    href = page.locator("a.invoice-download-pdf").first.get_attribute("href")
    assert href
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(response.body())).pages[0].extract_text()
    assert f"Invoice {invoice.number}" in text and "15 000.00 NOK" in text and "Kari" not in text
    assert "Ola Nordmann" in text
