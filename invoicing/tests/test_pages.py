"""The partner workspace's documented completion (lines, name, signature) and the admin:
the order's invoicing section, "Mark invoiced" (button and bulk action), downloads, the
dashboard's money."""

from __future__ import annotations

import base64
import io

import pypdf
import pytest
from PIL import Image

from accounts.models import Role
from backoffice.tests.conftest import staff_client
from invoicing.models import Completion, DeliveredLine, Invoice
from invoicing.tests.conftest import CHARGER, complete, quote, started
from orders.models import File, OrderEvent, OrderStatus
from partners.tests.conftest import member, signed_in


def png_data_url(size=(200, 80), fmt="PNG", mime="png") -> str:
    """An image as a data URL; `fmt` the bytes' real format, `mime` the one the URL claims."""
    image = Image.new("RGB", size, (255, 255, 255))
    for x in range(20, 180):
        image.putpixel((x, 5), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return f"data:image/{mime};base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def job(router, company):
    order = started(router, company)
    quote(order, CHARGER, {"description": "Installation", "unit": "hour", "unit_amount": 80000})
    return order


@pytest.fixture
def partner(company):
    return signed_in(member(company, "fixit-admin"))


def test_job_page_shows_the_quoted_work_and_a_signature_box(partner, job):
    html = partner.get(f"/partner/jobs/{job.pk}/").content.decode()
    assert 'id="work-lines"' in html and "Wallbox 11 kW" in html and "Installation" in html
    assert " h – Installation" in html and "hour" not in html  # the unit's symbol, not its code
    assert "10 000.00" not in html and "1000000" not in html  # no payer prices
    assert 'id="signature-pad"' in html and 'name="signature"' in html
    assert "invoicing/signature.js" in html


def test_partner_completes_with_name_and_signature(partner, job):
    response = partner.post(
        f"/partner/jobs/{job.pk}/complete/",
        {"comment": "Done", "customer_name": "Kari Nordmann", "signature": png_data_url()},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert job.status == OrderStatus.COMPLETED
    completion = Completion.objects.get(order=job)
    assert completion.customer_name == "Kari Nordmann" and completion.signed_at is not None
    signature = File.objects.get(pk=completion.signature_id)
    assert signature.order_id == job.pk and signature.content_type == "image/png"
    assert DeliveredLine.objects.filter(order=job).count() == 2
    html = partner.get(f"/partner/jobs/{job.pk}/").content.decode()
    assert "Recorded as delivered." in html


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"customer_name": "Kari", "signature": "data:image/png;base64,!!!"}, "base64"),
        ({"customer_name": "Kari", "signature": png_data_url(fmt="JPEG")}, "PNG"),
        ({"customer_name": "Kari", "signature": png_data_url(fmt="JPEG", mime="jpeg")}, "PNG"),
        (
            {"customer_name": "Kari", "signature": "data:image/png;base64," + base64.b64encode(b"not a png").decode()},
            "readable",
        ),
        ({"customer_name": "Kari", "signature": png_data_url(size=(5000, 10))}, "too large"),
        ({"customer_name": "", "signature": png_data_url()}, "name"),
    ],
)
def test_bad_signatures_are_refused_and_change_nothing(partner, job, data, needle):
    files_before = File.objects.count()
    response = partner.post(f"/partner/jobs/{job.pk}/complete/", data)
    assert response.status_code == 400
    assert needle in response.content.decode()
    job.refresh_from_db()
    assert job.status == OrderStatus.IN_PROGRESS
    assert File.objects.count() == files_before
    assert not Completion.objects.filter(order=job).exists()


def test_a_technician_of_another_job_cannot_complete_it(company, job):
    tech = signed_in(member(company, "fixit-tech", role=Role.TECHNICIAN))
    response = tech.post(f"/partner/jobs/{job.pk}/complete/", {"customer_name": "X", "signature": png_data_url()})
    assert response.status_code == 404


# ---- the admin ------------------------------------------------------------------------------


@pytest.fixture
def staff(router):
    return staff_client(router, Role.OPERATOR)


def test_order_page_section_button_and_pdf(staff, job, company):
    complete(job, company)
    extra = DeliveredLine.objects.create(
        order=job,
        position=1000,
        source="extra",
        approval="pending_approval",
        description="Extra cable",
        quantity=3,
        unit_amount=5000,
    )
    page = staff.get(f"/admin/orders/order/{job.pk}/change/").content.decode()
    assert 'id="order-section-invoicing"' in page and "not invoiced yet" in page
    assert "Mark invoiced" in page and "Pending approval" in page
    approve = staff.post(f"/admin/orders/order/{job.pk}/invoicing/lines/{extra.pk}/approve/")
    assert approve.status_code == 302
    extra.refresh_from_db()
    assert extra.approval == "approved"

    confirm = staff.get(f"/admin/orders/order/{job.pk}/do/invoice/")
    assert confirm.status_code == 200 and "Mark invoiced" in confirm.content.decode()
    response = staff.post(f"/admin/orders/order/{job.pk}/do/invoice/")
    assert response.status_code == 302
    invoice = Invoice.objects.get(order=job)
    assert invoice.net == 1000000 + 80000 + 15000
    assert OrderEvent.objects.filter(order=job, type="order.invoiced").exists()

    page = staff.get(f"/admin/orders/order/{job.pk}/change/").content.decode()
    assert f"invoiced, number {invoice.number}" in page
    assert "Mark invoiced" not in page
    pdf = staff.get(f"/admin/invoicing/invoice/{invoice.pk}/download/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert f"Invoice {invoice.number}" in text and "Extra cable" in text


def test_bulk_mark_invoiced(staff, router, company):
    done = [complete(started(router, company), company) for _ in range(2)]
    open_order = started(router, company)
    response = staff.post(
        "/admin/orders/order/",
        {"action": "mark_invoiced", "_selected_action": [str(o.pk) for o in [*done, open_order]]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(Invoice.objects.values_list("order_id", flat=True)) == {o.pk for o in done}
    text = response.content.decode()
    assert "Invoiced 2" in text and "Not invoiced 1" in text


def test_admin_tenancy(router, company, other_router):
    order = complete(started(router, company), company)
    staff_client(router, Role.OPERATOR).post(f"/admin/orders/order/{order.pk}/do/invoice/")
    invoice = Invoice.objects.get(order=order)
    outsider = staff_client(other_router, Role.OPERATOR)
    assert outsider.get(f"/admin/invoicing/invoice/{invoice.pk}/download/pdf/").status_code == 404
    assert outsider.get(f"/admin/orders/order/{order.pk}/do/invoice/").status_code == 404
    viewer = staff_client(router, Role.VIEWER)
    other = complete(started(router, company), company)
    assert viewer.post(f"/admin/orders/order/{other.pk}/do/invoice/").status_code == 404
    assert not Invoice.objects.filter(order=other).exists()
    assert viewer.get(f"/admin/invoicing/invoice/{invoice.pk}/download/pdf/").status_code == 200


def test_dashboard_shows_this_months_money(staff, router, company):
    first = started(router, company)
    quote(first, CHARGER)
    complete(first, company)
    second = started(router, company)
    quote(second, CHARGER)
    complete(second, company)
    staff.post(f"/admin/orders/order/{first.pk}/do/invoice/")
    html = staff.get("/admin/dashboard/").content.decode()
    assert 'id="money-invoiced">12 500.00 NOK<' in html
    assert 'id="money-not-invoiced">12 500.00 NOK (1 orders)<' in html
