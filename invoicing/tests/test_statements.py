"""Partner statements: the API (router side), the admin page and the partner workspace; tenancy;
query counts constant in the number of orders."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal as D

import pypdf
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from backoffice.tests.conftest import staff_client
from invoicing.models import Completion
from invoicing.tests.conftest import CHARGER, HOURS, complete, quote, started
from partners.tests.conftest import OSLO, make_company, member, signed_in


def today():
    return timezone.now().astimezone(OSLO).date()


def period(days_back=1, days_forward=1):
    return {
        "from": (today() - datetime.timedelta(days=days_back)).isoformat(),
        "to": (today() + datetime.timedelta(days=days_forward)).isoformat(),
    }


def url(installer):
    return f"/api/v1/partners/installers/{installer.pk}/statement"


@pytest.fixture
def two_jobs(router, company, router_api):
    """Two completed jobs of `company`; the first invoiced. Payouts: 20 % of 10 000.00 and
    2.5 × 600.00 = 3 500.00 on each."""
    jobs = []
    for _ in range(2):
        order = started(router, company)
        quote(order, CHARGER, HOURS)
        jobs.append(complete(order, company))
    router_api.post(f"/api/v1/order/{jobs[0].pk}/invoice")
    return jobs


def test_api_statement(router_api, company, two_jobs):
    response = router_api.get(url(company), period())
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["displayId"] for row in body["orders"]] == [job.display_id for job in two_jobs]
    assert [row["invoiceNumber"] for row in body["orders"]] == [1, None]
    assert [row["payout"] for row in body["orders"]] == [350000, 350000]
    assert [row["payoutVat"] for row in body["orders"]] == [87500, 87500]
    assert body["totals"] == {"orders": 2, "payout": 700000, "payoutVat": 175000, "payoutGross": 875000}
    assert body["timeZone"] == "Europe/Oslo"


def test_the_period_is_in_the_organizations_zone(router_api, company, two_jobs):
    # Completed "now": a period that ends yesterday (Oslo) leaves them out.
    Completion.objects.update(completed_at=timezone.now() - datetime.timedelta(days=3))
    assert router_api.get(url(company), period(1, 1)).json()["totals"]["orders"] == 0
    assert router_api.get(url(company), period(4, 0)).json()["totals"]["orders"] == 2


def test_statement_csv_and_pdf(router_api, company, two_jobs):
    response = router_api.get(url(company), period(), HTTP_ACCEPT="text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["payout"]) for r in rows] == [350000, 350000]
    assert {r["installer"] for r in rows} == {"Fix It"}
    response = router_api.get(url(company), period(), HTTP_ACCEPT="application/pdf")
    assert response["Content-Type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Statement Fix It" in text and two_jobs[1].display_id in text and "8 750.00 NOK" in text


def test_a_payout_with_vat_rates(router, company, router_api):
    order = started(router, company)
    quote(order, {"description": "Grant paperwork", "unit_amount": 10001, "vat_rate": D(15), "payout_amount": 3333})
    complete(order, company)
    row = router_api.get(url(company), period()).json()["orders"][0]
    assert (row["payout"], row["payoutVat"]) == (3333, 500)  # 3333 × 15 % = 499.95 -> 500


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"from": "2026-01-01"},
        {"from": "yesterday", "to": "2026-01-02"},
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_periods_are_400(router_api, company, query):
    response = router_api.get(url(company), query)
    assert response.status_code == 400
    assert response.json()["details"]


def test_statement_tenancy(router_api, other_api, installer_api, company, two_jobs, router):
    # Another router, an installer's own token, an organization that is no partner, a bad id: 404.
    assert other_api.get(url(company), period()).status_code == 404
    assert installer_api.get(url(company), period()).status_code == 404
    assert router_api.get(url(router), period()).status_code == 404
    assert router_api.get("/api/v1/partners/installers/not-a-uuid/statement", period()).status_code == 404


def test_statement_queries_do_not_grow(router, company, router_api, django_assert_num_queries):
    order = started(router, company)
    quote(order, CHARGER)
    complete(order, company)
    router_api.post(f"/api/v1/order/{order.pk}/invoice")  # invoiced: its frozen lines are read too
    with CaptureQueriesContext(connection) as one:
        assert router_api.get(url(company), period()).json()["totals"]["orders"] == 1
    budget = len(one.captured_queries)  # read now: every request resets the connection's log
    assert budget > 3
    for _ in range(4):
        order = started(router, company)
        quote(order, CHARGER)
        complete(order, company)
    router_api.post(f"/api/v1/order/{order.pk}/invoice")
    router_api.post(f"/api/v1/order/{order.pk}/credit-note", {"full": True}, format="json")
    with django_assert_num_queries(budget):
        body = router_api.get(url(company), period()).json()
    assert body["totals"]["orders"] == 5


# ---- the partner workspace ------------------------------------------------------------------


def test_partner_sees_its_own_statement(router, company, two_jobs, other_router):
    rival = make_company(router, "Rival Elektro")
    order = started(router, rival)
    quote(order, CHARGER)
    complete(order, rival)
    client = signed_in(member(company, "fixit-admin"))
    page = client.get(
        "/partner/statement/", {"router": str(router.pk), "date_from": period()["from"], "date_to": period()["to"]}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert two_jobs[0].display_id in html and two_jobs[1].display_id in html
    assert order.display_id not in html  # the rival's job
    assert "7 000.00" in html
    assert "15 000.00" not in html  # the customer's price is not the partner's to see
    csv_response = client.get(
        "/partner/statement/",
        {"router": str(router.pk), "date_from": period()["from"], "date_to": period()["to"], "format": "csv"},
    )
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert [r["order_display_id"] for r in rows] == [j.display_id for j in two_jobs]
    pdf = client.get(
        "/partner/statement/",
        {"router": str(router.pk), "date_from": period()["from"], "date_to": period()["to"], "format": "pdf"},
    )
    assert pdf["Content-Type"] == "application/pdf"
    # A router the partner does not work for is not a choice: 400, nothing shown.
    refused = client.get(
        "/partner/statement/",
        {"router": str(other_router.pk), "date_from": period()["from"], "date_to": period()["to"]},
    )
    assert refused.status_code == 400
    assert two_jobs[0].display_id not in refused.content.decode()


def test_technicians_have_no_statement(company):
    client = signed_in(member(company, "fixit-tech", role=Role.TECHNICIAN))
    assert client.get("/partner/statement/").status_code == 403


# ---- the admin ------------------------------------------------------------------------------


def test_admin_statement_page(router, company, two_jobs, other_router):
    staff = staff_client(router, Role.OPERATOR)
    query = {"installer": str(company.pk), "date_from": period()["from"], "date_to": period()["to"]}
    page = staff.get("/admin/invoicing/invoice/statement/", query)
    assert page.status_code == 200
    assert "7 000.00" in page.content.decode()
    pdf = staff.get("/admin/invoicing/invoice/statement/", {**query, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    outsider = staff_client(other_router, Role.OPERATOR)
    page = outsider.get("/admin/invoicing/invoice/statement/", query)
    assert two_jobs[0].display_id not in page.content.decode()
