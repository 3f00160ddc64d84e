"""The partner workspace's job page: the job's quotes with the payer's amounts and the
partner's payout; where the router allows it, drafting a quote from shared products and free
lines, sending and withdrawing it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from accounts.models import Role
from orders.models import Workflow
from partners.tests.conftest import assigned, member, signed_in
from pricing.models import Product, Quote
from pricing.partner import parse_money
from pricing.tests.conftest import make_quote

pytestmark = pytest.mark.django_db


# The partners tests' fixtures (router, company, partner) under the names this module uses.
from partners.tests.conftest import company, partner, partner_user, router  # noqa: E402, F401


def job_url(order, rest=""):
    return f"/partner/jobs/{order.pk}/{rest}"


@pytest.fixture
def job(router, company):  # noqa: F811
    return assigned(router, company)


@pytest.fixture
def shared(router):  # noqa: F811
    return Product.objects.create(
        organization=router, name="Wallbox", unit_amount=1000000, payout_percent=D(60), shared_with_partners=True
    )


def allow(order):
    Workflow.objects.filter(pk=order.workflow_id).update(partners_may_quote=True)


def test_parse_money():
    assert parse_money("1299") == 129900
    assert parse_money("1 299,50") == 129950
    assert parse_money("1299.5kr") == 129950
    assert parse_money("1\u00a0299,5") == 129950
    for bad in ("abc", "1,2345", "12.345", "NaN"):
        with pytest.raises(ValueError):
            parse_money(bad)


def test_the_job_page_shows_the_quote_with_the_partners_payout(partner, job):  # noqa: F811
    make_quote(job, send=True, lines=[{"description": "Install", "unit_amount": 100000, "payout_percent": D(70)}])
    html = partner.get(job_url(job)).content.decode()
    assert 'id="quotes"' in html and "Install" in html
    assert "NOK\u00a01,250.00" in html  # 1000,00 + 25 %
    assert "NOK\u00a0700.00" in html  # the payout: 70 % of the net
    assert "New quote" not in html  # the workflow does not let partners quote


def test_partner_drafts_sends_and_withdraws_a_quote(partner, job, shared):  # noqa: F811
    allow(job)
    html = partner.get(job_url(job)).content.decode()
    assert "New quote" in html and "Wallbox" in html
    response = partner.post(
        job_url(job, "quotes/"),
        {
            "line0-product": str(shared.pk),
            "line0-quantity": "1",
            "line1-description": "Extra cable",
            "line1-quantity": "10",
            "line1-price": "150,00",
            "line1-optional": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    quote = Quote.objects.get(order=job)
    assert quote.status == "draft" and quote.created_by_organization == job.installer
    lines = list(quote.lines.order_by("position"))
    assert [(line.description, line.unit_amount, line.optional) for line in lines] == [
        ("Wallbox", 1000000, False),
        ("Extra cable", 15000, True),
    ]
    assert partner.post(job_url(job, f"quotes/{quote.pk}/send/")).status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == "sent"
    assert partner.post(job_url(job, f"quotes/{quote.pk}/withdraw/")).status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == "withdrawn"


def test_bad_quote_form_is_a_form_error(partner, job):  # noqa: F811
    allow(job)
    response = partner.post(job_url(job, "quotes/"), {"line0-description": "x", "line0-price": "abc"})
    assert response.status_code == 400
    assert "Write the price in kroner" in response.content.decode()
    response = partner.post(job_url(job, "quotes/"), {})
    assert response.status_code == 400 and "Add at least one line" in response.content.decode()
    assert not Quote.objects.exists()


def test_partner_cannot_quote_without_the_routers_leave_or_on_others_jobs(partner, router, job, company):  # noqa: F811
    response = partner.post(job_url(job, "quotes/"), {"line0-description": "x", "line0-price": "10"})
    assert response.status_code == 403
    assert not Quote.objects.exists()
    from partners.tests.conftest import make_company

    rival = make_company(router, "Rival")
    other_job = assigned(router, rival)
    allow(other_job)
    assert (
        partner.post(job_url(other_job, "quotes/"), {"line0-description": "x", "line0-price": "10"}).status_code == 404
    )
    routers_quote = make_quote(job, send=True)
    allow(job)
    response = partner.post(job_url(job, f"quotes/{routers_quote.pk}/withdraw/"))
    assert response.status_code == 403
    assert Quote.objects.get(pk=routers_quote.pk).status == "sent"


def test_a_viewer_may_not_quote(router, company, job):  # noqa: F811
    allow(job)
    viewer = signed_in(member(company, "fixit-viewer", Role.VIEWER))
    response = viewer.post(job_url(job, "quotes/"), {"line0-description": "x", "line0-price": "10"})
    assert response.status_code == 403 and not Quote.objects.exists()


def test_the_job_page_queries_are_constant_in_quotes(partner, job, shared):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    allow(job)
    make_quote(job, send=True, lines=[{"description": "a", "unit_amount": 100}])
    partner.get(job_url(job))
    with CaptureQueriesContext(connection) as one:
        partner.get(job_url(job))
    for _ in range(4):
        make_quote(job, lines=[{"description": f"l{i}", "unit_amount": i} for i in range(10)], send=True)
    with CaptureQueriesContext(connection) as many:
        html = partner.get(job_url(job)).content.decode()
    assert html.count('class="quote"') == 5
    assert len(many.captured_queries) == len(one.captured_queries)
