"""`GET /api/v1/dispatch/preview`: the dispatch preview without an order, for integrators."""

from __future__ import annotations

import pytest

from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.models import Workflow
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/dispatch/preview"


@pytest.fixture
def partners(org_a):
    org_a.offers_at_once = 5
    org_a.save()
    return [
        make_partner(org_a, make_installer("Second Choice"), priority=5),
        make_partner(org_a, make_installer("First Choice"), priority=1),
        make_partner(org_a, make_installer("Paused One"), priority=0, active=False),
        make_partner(org_a, make_installer("Radius Only", base=(59.91, 10.75)), coverage=(("radius", 10),)),
    ]


def test_ranks_as_a_real_dispatch_and_explains_the_others(operator_a, org_a, partners):
    response = operator_a.get(URL, {"postalCode": "0150", "lat": "59.9139", "lng": "10.7522"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["strategy"] == "priority" and body["offersAtOnce"] == 5
    order = create_order(org_a, postal_code="0150", latitude=59.9139, longitude=10.7522)
    dispatch_services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system("test"))
    offered = list(Offer.objects.filter(order=order).order_by("rank").values_list("installer__name", flat=True))
    assert [w["name"] for w in body["wouldOffer"]] == offered == ["First Choice", "Second Choice", "Radius Only"]
    dropped = {c["installer"]["name"]: c["reason"] for c in body["candidates"] if not c["kept"]}
    assert dropped == {"Paused One": "Partnership is inactive."}
    # Without coordinates (country defaults to the one the coverage rules name: NO).
    body = operator_a.get(URL, {"postalCode": "0150"}).json()
    reasons = {c["installer"]["name"]: c["reason"] for c in body["candidates"]}
    assert reasons["Radius Only"].startswith("The order has no coordinates")


def test_workflow_skills_and_country(operator_a, org_a, partners):
    skilled = Workflow.objects.create(organization=org_a, custom_id="hp", name="Heat pump", required_skills=["hp"])
    body = operator_a.get(URL, {"postalCode": "0150", "workflowId": str(skilled.pk)}).json()
    assert body["wouldOffer"] == []
    assert {c["reason"] for c in body["candidates"] if c["installer"]["name"] == "First Choice"} == {
        "Missing required skills: hp."
    }
    body = operator_a.get(URL, {"postalCode": "0150", "countryCode": "se"}).json()
    assert body["wouldOffer"] == []


def test_another_organizations_workflow_is_404(operator_a, org_b, partners):
    other = org_b.workflows.get(is_default=True)
    response = operator_a.get(URL, {"postalCode": "0150", "workflowId": str(other.pk)})
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404
    response = operator_a.get(URL, {"postalCode": "0150", "workflowId": "00000000-0000-0000-0000-000000000000"})
    assert response.status_code == 404


def test_another_organizations_partners_never_show(operator_b, partners):
    make_partner(operator_b.org, make_installer("B Partner"), coverage=(("exact", "NO", "0150"),))
    body = operator_b.get(URL, {"postalCode": "0150"}).json()
    assert [c["installer"]["name"] for c in body["candidates"]] == ["B Partner"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "postalCode"),
        ({"postalCode": ""}, "postalCode"),
        ({"postalCode": "<b>"}, "postalCode"),
        ({"postalCode": "0150", "lat": "59.9"}, "lng"),
        ({"postalCode": "0150", "lat": "100", "lng": "10"}, "lat"),
        ({"postalCode": "0150", "lat": "x", "lng": "10"}, "lat"),
        ({"postalCode": "0150", "countryCode": "N0"}, "countryCode"),
        ({"postalCode": "0150", "workflowId": "nope"}, "workflowId"),
    ],
)
def test_bad_input_is_400_in_the_error_shape(operator_a, partners, params, field):
    response = operator_a.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Bad Request" and body["statusCode"] == 400
    assert field in body["details"]


def test_no_country_to_default_to_is_400(operator_b):
    response = operator_b.get(URL, {"postalCode": "0150"})
    assert response.status_code == 400
    assert "countryCode" in response.json()["details"]


def test_needs_a_token(anon):
    assert anon.get(URL, {"postalCode": "0150"}).status_code == 401
