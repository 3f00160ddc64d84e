"""Each strategy picks the installer its definition says, on one field of partners covering by
exact, prefix, range and radius, with a full one, one missing a skill, an inactive one and two
that do not cover the order; the preview explains every kept and dropped candidate."""

import datetime

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.models import Order, OrderStatus, Workflow
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

OSLO = (59.9127, 10.7461)


@pytest.fixture
def field(org_a):
    """Kept: Alpha (range), Bravo (prefix), Charlie (exact), Delta (radius). Dropped: Echo (full),
    Foxtrot (no skill), Golf (inactive), Hotel (elsewhere), India (other country)."""
    Workflow.objects.filter(organization=org_a, is_default=True).update(required_skills=["ev"])
    ev = ["ev", "heat-pump"]
    p = {
        "alpha": make_partner(
            org_a,
            make_installer("Alpha Range", base=(59.95, 10.75)),
            coverage=[("range", "NO", "0100", "0199")],
            priority=30,
            capacity=10,
            skills=ev,
        ),
        "bravo": make_partner(
            org_a,
            make_installer("Bravo Prefix", base=(60.39, 5.32)),
            coverage=[("prefix", "NO", "01*")],
            priority=20,
            capacity=2,
            skills=ev,
        ),
        "charlie": make_partner(
            org_a,
            make_installer("Charlie Exact"),
            coverage=[("exact", "NO", "0154")],
            priority=40,
            capacity=4,
            skills=ev,
        ),
        "delta": make_partner(
            org_a,
            make_installer("Delta Radius", base=(59.92, 10.75)),
            coverage=[("radius", 10)],
            priority=50,
            capacity=5,
            skills=ev,
        ),
        "echo": make_partner(
            org_a, make_installer("Echo Full"), coverage=[("prefix", "NO", "0")], priority=1, capacity=1, skills=ev
        ),
        "foxtrot": make_partner(
            org_a, make_installer("Foxtrot Noskill"), coverage=[("prefix", "NO", "0")], priority=2, skills=["heat-pump"]
        ),
        "golf": make_partner(
            org_a,
            make_installer("Golf Inactive"),
            coverage=[("prefix", "NO", "0")],
            priority=3,
            skills=ev,
            active=False,
        ),
        "hotel": make_partner(
            org_a, make_installer("Hotel Bergen"), coverage=[("range", "NO", "5000", "5999")], priority=4, skills=ev
        ),
        "india": make_partner(
            org_a, make_installer("India Sweden"), coverage=[("exact", "SE", "0154")], priority=5, skills=ev
        ),
    }
    # Load: one open order each for Bravo (1/2), Charlie (1/4), Delta (1/5) and Echo (1/1 = full).
    for key in ("bravo", "charlie", "delta", "echo"):
        busy = create_order(org_a, name=f"busy {key}")
        Order.objects.filter(pk=busy.pk).update(status=OrderStatus.SCHEDULED, installer=p[key].installer)
    return p


@pytest.fixture
def order(org_a, field):
    return create_order(org_a, name="Charger", postal_code="0154", latitude=OSLO[0], longitude=OSLO[1])


def set_strategy(org, strategy, offers_at_once=1):
    org.routing_strategy = strategy
    org.offers_at_once = offers_at_once
    org.save(update_fields=["routing_strategy", "offers_at_once"])


def dispatch_names(order, org, **kwargs):
    services.order_dispatch(order_id=order.pk, organization=org, actor=Actor.system("test"), **kwargs)
    return list(Offer.objects.filter(order=order).order_by("rank").values_list("installer__name", flat=True))


def test_preview_explains_every_candidate(operator_a, org_a, order):
    set_strategy(org_a, "priority")
    body = operator_a.get(f"/api/v1/order/{order.pk}/dispatch/preview").json()
    assert body["strategy"] == "priority" and body["dispatchable"] is True and body["offersAtOnce"] == 1
    assert [i["name"] for i in body["wouldOffer"]] == ["Bravo Prefix"]
    explained = {c["installer"]["name"]: (c["kept"], c["rank"], c["reason"]) for c in body["candidates"]}
    assert explained == {
        "Bravo Prefix": (True, 1, "Covers by prefix NO 01*."),
        "Alpha Range": (True, 2, "Covers by range NO 0100-0199."),
        "Charlie Exact": (True, 3, "Covers by postal code NO 0154."),
        "Delta Radius": (True, 4, "Covers by radius 10 km (0.8 km from base)."),
        "Echo Full": (False, None, "Capacity full: 1 of 1 open orders."),
        "Foxtrot Noskill": (False, None, "Missing required skills: ev."),
        "Golf Inactive": (False, None, "Partnership is inactive."),
        "Hotel Bergen": (False, None, "Does not cover NO 0154."),
        "India Sweden": (False, None, "Does not cover NO 0154."),
    }
    # Kept first by rank, then the dropped ones; the preview sent nothing.
    assert [c["kept"] for c in body["candidates"]] == [True] * 4 + [False] * 5
    assert not Offer.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("priority", "Bravo Prefix"),  # lowest priority number among the kept (20)
        ("nearest", "Delta Radius"),  # 0.8 km, Alpha 4.2 km, Bravo in Bergen, Charlie no base (last)
        ("least_loaded", "Alpha Range"),  # 0/10, Delta 1/5, Charlie 1/4, Bravo 1/2
        ("round_robin", "Charlie Exact"),  # least recently offered (see below)
    ],
)
def test_each_strategy_picks_its_installer(operator_a, org_a, field, order, strategy, expected):
    if strategy == "round_robin":
        other = create_order(org_a, name="earlier offers")
        now = timezone.now()
        for key, hours_ago in (("alpha", 1), ("bravo", 2), ("charlie", 5), ("delta", 0.2)):
            Offer.objects.create(
                order=other,
                installer=field[key].installer,
                status="declined",
                sent_at=now - datetime.timedelta(hours=hours_ago),
            )
    set_strategy(org_a, strategy)
    preview = operator_a.get(f"/api/v1/order/{order.pk}/dispatch/preview").json()
    assert [i["name"] for i in preview["wouldOffer"]] == [expected]
    response = operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    assert response.status_code == 200, response.content
    assert [o["installer"]["name"] for o in response.json()["offers"]] == [expected]


def test_nearest_ranks_by_distance_with_unknown_last(org_a, order):
    set_strategy(org_a, "nearest", offers_at_once=4)
    assert dispatch_names(order, org_a) == ["Delta Radius", "Alpha Range", "Bravo Prefix", "Charlie Exact"]


def test_round_robin_never_offered_comes_first(org_a, field, order):
    other = create_order(org_a, name="earlier offers")
    for key in ("alpha", "bravo", "delta"):
        Offer.objects.create(order=other, installer=field[key].installer, status="declined", sent_at=timezone.now())
    set_strategy(org_a, "round_robin")
    assert dispatch_names(order, org_a) == ["Charlie Exact"]


def test_broadcast_sends_offers_at_once_in_rank_order(org_a, order):
    set_strategy(org_a, "priority", offers_at_once=3)
    assert dispatch_names(order, org_a) == ["Bravo Prefix", "Alpha Range", "Charlie Exact"]
    assert set(Offer.objects.filter(order=order).values_list("status", flat=True)) == {"sent"}


def test_workflow_overrides_the_organization(org_a, order):
    set_strategy(org_a, "priority")
    Workflow.objects.filter(pk=order.workflow_id).update(routing_strategy="nearest", offers_at_once=2)
    assert dispatch_names(order, org_a) == ["Delta Radius", "Alpha Range"]


def test_manual_dispatch_names_the_installer(operator_a, org_a, field, order):
    set_strategy(org_a, "manual")
    response = operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"installerId": ["Required by the manual routing strategy."]}
    # A dropped candidate cannot be named: 422 with the reason, nothing sent.
    response = operator_a.post(
        f"/api/v1/order/{order.pk}/dispatch", {"installerId": str(field["golf"].installer_id)}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["message"] == "Golf Inactive cannot take this order: Partnership is inactive."
    response = operator_a.post(
        f"/api/v1/order/{order.pk}/dispatch", {"installerId": str(field["charlie"].installer_id)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert [o["installer"]["name"] for o in response.json()["offers"]] == ["Charlie Exact"]
    run = order.dispatch_runs.get()
    assert run.strategy == "manual"
    kept = [c["installer"]["name"] for c in run.candidates if c["kept"]]
    assert kept == ["Charlie Exact"]


def test_unknown_installer_is_400(operator_a, org_a, order, org_b):
    response = operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {"installerId": str(org_b.pk)}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"installerId": ["Not an installer partner of this organization."]}
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED


def test_stored_explanation_matches_preview(operator_a, org_a, order):
    set_strategy(org_a, "least_loaded")
    preview = operator_a.get(f"/api/v1/order/{order.pk}/dispatch/preview").json()
    operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    run = order.dispatch_runs.get()
    assert run.candidates == preview["candidates"]
    scores = {c["installer"]["name"]: c["score"] for c in run.candidates if c["kept"]}
    assert scores == {"Alpha Range": 0.0, "Delta Radius": 0.2, "Charlie Exact": 0.25, "Bravo Prefix": 0.5}


def test_radius_coverage_without_coordinates_says_what_is_missing(operator_a, org_a):
    """A radius rule cannot apply to an order without coordinates (or an installer without a
    base location): the reason says that, not only that the postal code is not covered."""
    make_partner(org_a, make_installer("Radius Only", base=(59.92, 10.75)), coverage=[("radius", 10)])
    make_partner(
        org_a,
        make_installer("Radius And Range", base=(59.92, 10.75)),
        coverage=[("range", "NO", "5000", "5999"), ("radius", 25)],
    )
    make_partner(org_a, make_installer("No Base"), coverage=[("radius", 10)])
    make_partner(org_a, make_installer("Range Only"), coverage=[("range", "NO", "5000", "5999")])
    without = create_order(org_a, name="No coordinates", postal_code="0155", latitude=None, longitude=None)
    body = operator_a.get(f"/api/v1/order/{without.pk}/dispatch/preview").json()
    reasons = {c["installer"]["name"]: c["reason"] for c in body["candidates"]}
    assert reasons == {
        "Radius Only": "The order has no coordinates (latitude, longitude); coverage by radius 10 km needs them.",
        "Radius And Range": (
            "Does not cover NO 0155. The order has no coordinates (latitude, longitude); "
            "coverage by radius 25 km needs them."
        ),
        "No Base": "The order has no coordinates (latitude, longitude); coverage by radius 10 km needs them.",
        "Range Only": "Does not cover NO 0155.",
    }
    # With coordinates, the installer without a base location is the one that is missing one.
    located = create_order(org_a, name="Located", postal_code="0155", latitude=OSLO[0], longitude=OSLO[1])
    body = operator_a.get(f"/api/v1/order/{located.pk}/dispatch/preview").json()
    reasons = {c["installer"]["name"]: (c["kept"], c["reason"]) for c in body["candidates"]}
    assert reasons["No Base"] == (False, "The installer has no base location; coverage by radius 10 km needs it.")
    assert reasons["Radius Only"] == (True, "Covers by radius 10 km (0.8 km from base).")
