"""The read-only coverage page, and the demo partner logins that `seed_demo` makes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import Membership, Role
from dispatch.models import CoverageArea, Partnership
from orders.demo import DEMO_PASSWORD
from orders.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_coverage_shows_each_routers_areas_skills_and_capacity(partner, router, company):
    other_router = OrganizationFactory(name="Beta Retail", slug="beta")
    p = Partnership.objects.create(router=other_router, installer=company, capacity=3, skills=["heat-pump"], priority=5)
    CoverageArea.objects.create(partnership=p, kind="radius", radius_km=12.5)
    CoverageArea.objects.create(partnership=p, kind="prefix", country_code="NO", value="30")
    unrelated = OrganizationFactory(name="Gamma Power", slug="gamma")
    stranger = OrganizationFactory(name="Stranger AS", slug="stranger", is_installer=True)
    Partnership.objects.create(router=unrelated, installer=stranger, skills=["secret-skill"])

    body = partner.get("/partner/coverage/").content.decode()
    assert "Alpha Energy" in body and "NO 0100–0999" in body and "ev-charger" in body and "No limit" in body
    assert "Beta Retail" in body and "12.5 km around your base" in body and "NO 30*" in body
    assert "heat-pump" in body and "3 open jobs at once" in body
    assert "Gamma Power" not in body and "secret-skill" not in body


def test_seed_demo_gives_each_demo_partner_an_admin_and_a_technician_who_can_sign_in():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", quiet=True)  # idempotent
    printed = out.getvalue()
    assert "/partner/login/" in printed and "oslo-admin" in printed and "oslo-tech" in printed
    for prefix in ("oslo", "fjord", "nordic"):
        admin = Membership.objects.select_related("organization").get(user__username=f"{prefix}-admin")
        tech = Membership.objects.get(user__username=f"{prefix}-tech")
        assert admin.organization.is_installer and admin.role == Role.ADMIN
        assert tech.organization_id == admin.organization_id and not tech.user.is_staff
    client = Client()
    response = client.post("/partner/login/", {"username": "oslo-admin", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    body = client.get("/partner/jobs/").content.decode()
    assert "Oslo Elektro AS" in body and "DEMO-" in body
