"""Query counts do not grow with the number of rows: the delivered lines, the invoice list in
the admin, the order's invoice answer."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from backoffice.tests.conftest import staff_client
from invoicing.models import DeliveredLine
from invoicing.tests.conftest import CHARGER, complete, quote, started


def count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries.captured_queries)  # read now: the next request resets the log


def test_lines_and_invoice_answers(router, company, router_api, installer_api):
    order = complete(started(router, company), company)
    DeliveredLine.objects.create(order=order, description="One", quantity=1, unit_amount=100)
    router_api.get("/api/v1/order")  # warm up: the tokens' first use is recorded once
    installer_api.get("/api/v1/order")
    lines_one = count(lambda: router_api.get(f"/api/v1/order/{order.pk}/lines"))
    installer_one = count(lambda: installer_api.get(f"/api/v1/order/{order.pk}/lines"))
    basis_one = count(lambda: router_api.get(f"/api/v1/order/{order.pk}/invoice"))
    for index in range(30):
        DeliveredLine.objects.create(
            order=order, position=index + 2, description=f"L{index}", quantity=1, unit_amount=100
        )
    assert count(lambda: router_api.get(f"/api/v1/order/{order.pk}/lines")) == lines_one
    assert count(lambda: installer_api.get(f"/api/v1/order/{order.pk}/lines")) == installer_one
    assert count(lambda: router_api.get(f"/api/v1/order/{order.pk}/invoice")) == basis_one
    router_api.post(f"/api/v1/order/{order.pk}/invoice")
    invoiced_one = count(lambda: router_api.get(f"/api/v1/order/{order.pk}/invoice"))
    router_api.post(f"/api/v1/order/{order.pk}/credit-note", {"full": True}, format="json")
    # One more document: the answer's queries stay the same (documents and lines are prefetched).
    assert count(lambda: router_api.get(f"/api/v1/order/{order.pk}/invoice")) == invoiced_one


def test_admin_invoice_list(router, company, router_api):
    staff = staff_client(router, Role.OPERATOR)
    first = started(router, company)
    quote(first, CHARGER)
    complete(first, company)
    router_api.post(f"/api/v1/order/{first.pk}/invoice")
    staff.get("/admin/invoicing/invoice/")  # warm up the session
    one = count(lambda: staff.get("/admin/invoicing/invoice/"))
    for _ in range(5):
        order = complete(started(router, company), company)
        router_api.post(f"/api/v1/order/{order.pk}/invoice")
    assert count(lambda: staff.get("/admin/invoicing/invoice/")) == one
