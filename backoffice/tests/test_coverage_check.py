"""The coverage checker (/admin/coverage-check/): the dispatch preview without an order. Every
reason a partner is dropped is shown, the ranking is the one a real dispatch of such an order
offers, tenancy, bad input, constant query count."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization, RoutingStrategy
from backoffice.tests.conftest import staff_client
from dispatch import selectors as dispatch_selectors
from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.models import Order, OrderStatus, Workflow
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db

URL = "/admin/coverage-check/"
OSLO_CENTRE = (59.9139, 10.7522)
BERGEN = (60.3913, 5.3221)


def rows(html: str) -> list[tuple[str, str, str]]:
    """(installer, kept/dropped, reason) per candidate row, in the page's order."""
    found = re.findall(
        r'<tr class="candidate (kept|dropped)"\s+data-installer="([^"]+)">\s*<td>[^<]*</td>\s*<td>[^<]*</td>'
        r"\s*<td>.*?</td>\s*<td>([^<]*)</td>",
        html,
        re.S,
    )
    return [(name, state, reason) for state, name, reason in found]


@pytest.fixture
def world(org_a):
    """Partners of A, each with one reason to be dropped for NO 0150 at Oslo's centre, and two
    that take it."""
    workflow = org_a.workflows.get(is_default=True)
    heat_pump = Workflow.objects.create(
        organization=org_a, custom_id="hp", name="Heat pump", required_skills=["heat-pump"]
    )
    partners = {
        "first": make_partner(org_a, make_installer("Takes First"), priority=1, skills=["heat-pump"]),
        "second": make_partner(org_a, make_installer("Takes Second"), priority=5),
        "paused": make_partner(org_a, make_installer("Paused Partner"), priority=2, active=False),
        "elsewhere": make_partner(org_a, make_installer("Elsewhere AS"), coverage=(("prefix", "NO", "50*"),)),
        "full": make_partner(org_a, make_installer("Full House"), priority=3, capacity=1),
        "far": make_partner(
            org_a, make_installer("Bergen Radius", base=BERGEN), coverage=(("radius", 20),), priority=4
        ),
        "sweden": make_partner(org_a, make_installer("Svensk AB"), coverage=(("range", "SE", "0100", "0999"),)),
    }
    busy = create_order(org_a, postal_code="0150")
    Order.objects.filter(pk=busy.pk).update(status=OrderStatus.SCHEDULED, installer=partners["full"].installer)
    return {"workflow": workflow, "heat_pump": heat_pump, "partners": partners}


def check(client, workflow, /, **params):
    query = {"workflow": str(workflow.pk), "country": "NO", "postal_code": "0150", **params}
    return client.get(URL, query)


def test_every_reason_is_shown(org_a, world):
    staff = staff_client(org_a)
    response = check(staff, world["workflow"], latitude=OSLO_CENTRE[0], longitude=OSLO_CENTRE[1])
    assert response.status_code == 200
    html = response.content.decode()
    table = {name: (state, reason) for name, state, reason in rows(html)}
    assert table["Takes First"] == ("kept", "Covers by range NO 0100-0999.")
    assert table["Takes Second"][0] == "kept"
    assert table["Paused Partner"] == ("dropped", "Partnership is inactive.")
    assert table["Elsewhere AS"] == ("dropped", "Does not cover NO 0150.")
    assert table["Full House"] == ("dropped", "Capacity full: 1 of 1 open orders.")
    assert table["Bergen Radius"][0] == "dropped"
    assert (
        table["Bergen Radius"][1].startswith("Does not cover NO 0150 (30")
        and "km from base" in table["Bergen Radius"][1]
    )
    assert table["Svensk AB"] == ("dropped", "Does not cover NO 0150.")
    # Kept ones first, by rank.
    assert [name for name, _, _ in rows(html)][:2] == ["Takes First", "Takes Second"]
    assert "would offer the order to" in html and "Takes First" in html

    # Without coordinates the radius rule says what it needs.
    html = check(staff, world["workflow"]).content.decode()
    table = {name: (state, reason) for name, state, reason in rows(html)}
    assert table["Bergen Radius"] == (
        "dropped",
        "The order has no coordinates (latitude, longitude); coverage by radius 20 km needs them.",
    )

    # A workflow requiring a skill: only the partner listing it stays.
    html = check(staff, world["heat_pump"]).content.decode()
    table = {name: (state, reason) for name, state, reason in rows(html)}
    assert table["Takes Second"] == ("dropped", "Missing required skills: heat-pump.")
    assert table["Takes First"][0] == "kept"

    # Another country.
    html = check(staff, world["workflow"], country="se", postal_code="0150").content.decode()
    table = {name: (state, reason) for name, state, reason in rows(html)}
    assert table["Svensk AB"][0] == "kept" and table["Takes First"][0] == "dropped"


@pytest.mark.parametrize(
    "strategy",
    [RoutingStrategy.PRIORITY, RoutingStrategy.NEAREST, RoutingStrategy.LEAST_LOADED, RoutingStrategy.ROUND_ROBIN],
)
def test_ranking_equals_a_real_dispatch(org_a, strategy):
    org_a.routing_strategy = strategy
    org_a.offers_at_once = 10  # broadcast: the dispatch offers every kept candidate, in rank order
    org_a.save()
    workflow = org_a.workflows.get(is_default=True)
    make_partner(org_a, make_installer("Near", base=(59.92, 10.75)), priority=9, capacity=4)
    make_partner(org_a, make_installer("Middle", base=(59.7, 10.8)), priority=1, capacity=2)
    make_partner(org_a, make_installer("Far", base=(60.8, 11.0)), priority=5)
    make_partner(org_a, make_installer("Nowhere", base=(59.9, 10.7)), coverage=(("exact", "NO", "9999"),))
    loaded = create_order(org_a, postal_code="0150")
    Order.objects.filter(pk=loaded.pk).update(
        status=OrderStatus.SCHEDULED, installer=Organization.objects.get(name="Middle")
    )
    staff = staff_client(org_a)
    html = check(staff, workflow, latitude=OSLO_CENTRE[0], longitude=OSLO_CENTRE[1]).content.decode()
    shown = [name for name, state, _ in rows(html) if state == "kept"]

    order = create_order(org_a, postal_code="0150", latitude=OSLO_CENTRE[0], longitude=OSLO_CENTRE[1])
    dispatch_services.order_dispatch(order_id=order.pk, organization=org_a, actor=Actor.system("test"))
    offered = list(Offer.objects.filter(order=order).order_by("rank").values_list("installer__name", flat=True))
    assert len(offered) == 3
    assert shown == offered
    would = re.search(r'class="preview-would-offer">(.*?)</strong>', html, re.S)
    assert would is not None and [n.strip() for n in would.group(1).split(",")] == offered


def test_same_function_as_the_order_preview(org_a, world):
    order = create_order(org_a, postal_code="0150", latitude=OSLO_CENTRE[0], longitude=OSLO_CENTRE[1])
    subject = dispatch_selectors.DispatchSubject(
        organization=org_a,
        workflow=world["workflow"],
        country_code="NO",
        postal_code="0150",
        latitude=OSLO_CENTRE[0],
        longitude=OSLO_CENTRE[1],
    )
    preview = dispatch_selectors.dispatch_preview(order)
    assert preview.pop("orderId") == order.pk and preview.pop("dispatchable") is True
    assert preview == dispatch_selectors.subject_preview(subject)


# --- tenancy


def test_only_the_users_organizations_workflows_and_partners(org_a, org_b, world):
    b_workflow = org_b.workflows.get(is_default=True)
    make_partner(org_b, make_installer("B Only Partner"))
    staff = staff_client(org_a)
    html = staff.get(URL).content.decode()
    assert str(world["workflow"].pk) in html and str(b_workflow.pk) not in html
    response = check(staff, b_workflow)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert "B Only Partner" not in response.content.decode()
    html = check(staff_client(org_b), b_workflow).content.decode()
    assert "B Only Partner" in html and "Takes First" not in html


def test_superuser_checks_any_organizations_workflow(org_a, world, superuser_client):
    html = check(superuser_client, world["workflow"]).content.decode()
    assert "Takes First" in html


# --- bad input


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"postal_code": ""}, "Enter a postal code."),
        ({"postal_code": "   "}, "Enter a postal code."),
        ({"postal_code": "<script>"}, "letters, digits, spaces and dashes only"),
        ({"postal_code": "1" * 21}, "at most 20 characters"),
        ({"workflow": "00000000-0000-0000-0000-000000000000"}, "Select a valid choice"),
        ({"workflow": "nope"}, "is not a valid UUID"),
        ({"country": "N0"}, "two letters"),
        ({"country": ""}, "This field is required"),
        ({"latitude": "59.9"}, "Give both latitude and longitude"),
        ({"latitude": "91", "longitude": "10"}, "less than or equal to 90"),
        ({"latitude": "x", "longitude": "10"}, "Enter a number"),
    ],
)
def test_bad_input_is_400_with_the_error(org_a, world, params, message):
    response = check(staff_client(org_a), world["workflow"], **params)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html and message in html
    assert 'id="coverage-result"' not in html


def test_first_visit_shows_the_form_with_defaults(org_a, world):
    html = staff_client(org_a).get(URL).content.decode()
    assert 'id="coverage-form"' in html and 'id="coverage-result"' not in html
    assert 'name="country" value="NO"' in html  # most coverage rules are Norwegian
    assert re.search(rf'<option value="{world["workflow"].pk}" selected>', html)


def test_query_count_does_not_grow_with_partners(org_a):
    workflow = org_a.workflows.get(is_default=True)
    staff = staff_client(org_a)

    def count(n: int) -> tuple[int, int]:
        for i in range(n):
            make_partner(org_a, make_installer(f"Partner {org_a.installer_partnerships.count()}"), priority=i)
        with CaptureQueriesContext(connection) as ctx:
            html = check(staff, workflow).content.decode()
        return len(ctx.captured_queries), len(rows(html))

    one, shown_one = count(1)
    many, shown_many = count(29)
    assert (shown_one, shown_many) == (1, 30)
    assert one == many
