"""Invoicing fixtures: a router (Europe/Oslo, with its invoicing details), an installer partner,
and orders walked through the real services to in progress or completed, with an accepted quote
when asked. API personas: the router's operator (`router_api`), the installer's (`installer_api`),
another router's (`other_api`)."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal as D

import pytest
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from dispatch import services as dispatch_services
from dispatch.tests.conftest import api_client_for
from orders.actors import Actor
from orders.tests.factories import OrganizationFactory
from partners.tests import conftest as partner_fixtures
from partners.tests.conftest import OSLO, make_company
from pricing.models import Quote, QuoteLine, QuoteStatus

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _run_on_commit_after_requests(monkeypatch):
    original = APIClient.request

    def request(self, *args, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return original(self, *args, **kwargs)

    monkeypatch.setattr(APIClient, "request", request)


@pytest.fixture
def router(db):
    return OrganizationFactory(
        name="Alpha Energy AS",
        slug="alpha",
        display_id_prefix="A",
        time_zone="Europe/Oslo",
        org_number="987654321",
        street_address="Storgata 1",
        postal_code="0155",
        city="Oslo",
        country_code="NO",
        email="billing@alpha.example",
        bank_account="1234.56.78903",
    )


@pytest.fixture
def company(router):
    installer = make_company(router, "Fix It")
    installer.org_number = "912345678"
    installer.country_code = "NO"
    installer.save()
    return installer


@pytest.fixture
def other_router(db):
    return OrganizationFactory(name="Beta Retail", slug="beta", display_id_prefix="B", time_zone="Europe/Oslo")


@pytest.fixture
def router_api(router):
    return api_client_for(router, "router-erp")


@pytest.fixture
def router_viewer_api(router):
    return api_client_for(router, "router-viewer", role=Role.VIEWER)


@pytest.fixture
def installer_api(company):
    return api_client_for(company, "installer-app")


@pytest.fixture
def other_api(other_router):
    return api_client_for(other_router, "other-erp")


def quote(order, *lines, payer="customer", currency="NOK"):
    """An accepted quote on the order with these lines (dicts of QuoteLine fields)."""
    q = Quote.objects.create(
        organization=order.organization, order=order, status=QuoteStatus.ACCEPTED, payer=payer, currency=currency
    )
    for position, line in enumerate(lines, start=1):
        base = {"description": f"Line {position}", "quantity": D(1), "unit_amount": 10000, "vat_rate": D(25)}
        base.update(line)
        QuoteLine.objects.create(quote=q, position=position, **base)
    return q


_slots = itertools.count(1)


def started(router, installer, **data):
    """An order in progress, booked on its own day (two bookings of one installer never overlap)."""
    day = timezone.now().astimezone(OSLO).replace(hour=9, minute=0, second=0, microsecond=0)
    start = day + datetime.timedelta(days=next(_slots))
    return partner_fixtures.started(router, installer, start=start, **data)


def complete(order, installer):
    dispatch_services.order_complete(order_id=order.pk, organization=installer, actor=SYSTEM)
    order.refresh_from_db()
    return order


CHARGER = {"description": "Wallbox 11 kW", "unit": "piece", "unit_amount": 1000000, "payout_percent": D(20)}
HOURS = {
    "description": "Installation",
    "unit": "hour",
    "quantity": D("2.5"),
    "unit_amount": 80000,
    "payout_amount": 60000,
}


@pytest.fixture
def in_progress(router, company):
    return started(router, company)


@pytest.fixture
def completed(router, company):
    order = started(router, company)
    quote(order, CHARGER, HOURS)
    return complete(order, company)
