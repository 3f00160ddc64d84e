"""A list page reads its orders in one queryset with their relations prefetched
(`orders.selectors.with_order_relations`): each order object must render to the same bytes as
Get Order's, for orders of every kind: every status, installer, booking, tags
and files, custom fields, rich text, metadata with numbers orjson cannot read exactly,
timestamps with and without microseconds, NaN coordinates, a webform, a cancel reason."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import override_settings

from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from installer.api.renderers import dumps
from orders import selectors, services
from orders.actors import Actor
from orders.api.presenters import order_to_dict
from orders.models import File, Order, OrderStatus
from orders.tests.factories import add_custom_field, create_order, make_installer_partner
from orders.tests.helpers import move_to

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
BIG = 123456789012345678901234567890  # beyond 64 bits: orjson would read it as a float


def reference(viewer, ids) -> bytes:
    """What Get Order shows for each order (model instances, relations read by the ORM)."""
    orders = [selectors.order_get(viewer, pk) for pk in ids]
    return dumps([order_to_dict(order, viewer) for order in orders if order is not None])


@pytest.fixture
def orders(org_a, installer_org):
    workflow = services.workflow_create(organization=org_a, custom_id="survey", name="Survey")
    fields = [
        add_custom_field(workflow, "charger", label="Charger"),
        add_custom_field(workflow, "extra", label="Extra (nested)"),
        add_custom_field(workflow, "count", label="Count"),
    ]
    tags = services.order_tags_create(organization=org_a, names=["vip", "Øst", "Zeta", "ærlig", "éclair", "Alpha"])
    make_installer_partner(org_a, installer_org)
    assigned = [{"actorSlug": "installer", "organizationId": str(installer_org.pk)}]
    made = {
        "plain": create_order(org_a),
        "rich": create_order(
            org_a,
            name='Quote " and \\ backslash\u2028 line separator \U0001f600',
            description={"type": "doc", "content": [{"type": "paragraph", "text": "Hei\n", "n": BIG, "f": 0.1}]},
            metadata={"erpId": BIG, "price": 12.5, "neg": -(2**63) - 1, "list": [1, None, {"a": True}], "e": 1e-7},
            order_tag_ids=[str(t.pk) for t in tags],
            latitude=59.912345678901234,
            longitude=-10.75,
            workflow_custom_id="survey",
            custom_fields=[{"customId": "charger", "value": "11 kW"}],
        ),
        "text description": create_order(org_a, description="Plain text\ttab", metadata={}),
        "dispatching": create_order(org_a, actor_assignments=assigned, order_tag_ids=[str(tags[0].pk)]),
        "booked": create_order(org_a),
        "in progress": create_order(org_a, workflow_custom_id="survey"),
        "completed": create_order(org_a),
        "declined": create_order(org_a),
        "cancelled": create_order(org_a),
    }
    move_to(made["dispatching"], OrderStatus.DISPATCHING)
    move_to(made["in progress"], OrderStatus.IN_PROGRESS)
    move_to(made["completed"], OrderStatus.COMPLETED)
    move_to(made["declined"], OrderStatus.DECLINED)
    services.order_cancel(order_id=made["cancelled"].pk, organization=org_a, actor=ACTOR, reason="no_capacity")
    booked = made["booked"]
    installer = make_installer("Oslo Elektro")
    make_partner(org_a, installer)
    dispatch_services.order_dispatch(order_id=booked.pk, organization=org_a, actor=ACTOR)
    offer = Offer.objects.get(order=booked)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=installer, actor=ACTOR)
    start = dt.datetime(2031, 3, 4, 8, 0, 0, 250000, tzinfo=dt.UTC)
    dispatch_services.order_book(
        order_id=booked.pk, organization=org_a, actor=ACTOR, start_at=start, end_at=start + dt.timedelta(hours=2)
    )
    for index, name in enumerate(("b.jpg", "a.pdf", "c.png")):
        File.objects.create(
            organization=org_a,
            order=made["rich"],
            storage_key=f"test/{uuid.uuid4()}",
            name=name,
            content_type="image/jpeg",
            size=(2**62) + index,
        )
    # Timestamps: whole seconds, a few microseconds, trailing zeros in the microseconds.
    moments = [
        dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2030, 1, 1, 12, 0, 0, 1, tzinfo=dt.UTC),
        dt.datetime(2030, 6, 30, 23, 59, 59, 120000, tzinfo=dt.UTC),
        dt.datetime(1999, 12, 31, 0, 0, 0, 999999, tzinfo=dt.UTC),
    ]
    for index, order in enumerate(made.values()):
        Order.objects.filter(pk=order.pk).update(
            created_at=moments[index % 4], updated_at=moments[(index + 1) % 4], webform_id=None
        )
    webform_id = uuid.uuid4()
    Order.objects.filter(pk=made["plain"].pk).update(webform_id=webform_id, source="webform")
    Order.objects.filter(pk=made["text description"].pk).update(latitude=float("nan"), longitude=float("inf"))
    Order.objects.filter(pk=made["declined"].pk).update(metadata=[], custom_fields={"unknown": 1})
    # Values of any JSON shape, as an older definition of a field may have left them.
    charger, extra, count = (str(field.pk) for field in fields)
    Order.objects.filter(pk=made["rich"].pk).update(
        custom_fields={charger: "11 kW", extra: {"deep": [BIG, 2.5, "x"]}, count: 18446744073709551615}
    )
    return [order.pk for order in made.values()]


def page(viewer, ids) -> list[dict]:
    """These orders as a list page shows them to `viewer` (whatever it may read)."""
    rows = {o.pk: o for o in selectors.with_order_relations(Order.objects.filter(pk__in=ids), viewer)}
    return [order_to_dict(rows[pk], viewer) for pk in ids if pk in rows]


def test_a_page_is_the_same_bytes_as_get_order(org_a, orders):
    viewer = selectors.Viewer(organization=org_a)
    listed = page(viewer, orders)
    assert [str(o["id"]) for o in listed] == [str(pk) for pk in orders]
    mine, theirs = dumps(listed), reference(viewer, orders)
    at = next((i for i, (x, y) in enumerate(zip(mine, theirs)) if x != y), None)
    assert mine == theirs, (mine[at - 200 : at + 100], theirs[at - 200 : at + 100])
    # What the comparison covers: each kind of value shows in the page.
    by_id = {o["id"]: o for o in json.loads(mine)}
    rich = by_id[str(orders[1])]
    assert rich["metadata"]["erpId"] == BIG and rich["description"]["content"][0]["n"] == BIG
    assert [t["name"] for t in rich["tags"]] == ["Alpha", "vip", "Zeta", "ærlig", "éclair", "Øst"]
    assert [f["name"] for f in rich["files"]] == ["b.jpg", "a.pdf", "c.png"]
    assert {f["customId"]: f["value"] for f in rich["customFields"]}["extra"] == {"deep": [BIG, 2.5, "x"]}
    booked = by_id[str(orders[4])]
    assert booked["booking"]["startAt"] == "2031-03-04T08:00:00.250000+00:00"
    assert booked["installer"] is not None and "book" in booked["allowedActions"]
    assert by_id[str(orders[5])]["currentStep"] is not None
    assert by_id[str(orders[2])]["latitude"] is None and by_id[str(orders[2])]["longitude"] is None
    assert by_id[str(orders[0])]["webformId"] is not None
    assert by_id[str(orders[8])]["cancelReason"] == "no_capacity"
    assert {o["createdAt"] for o in by_id.values()} >= {"2030-01-01T12:00:00+00:00", "2030-01-01T12:00:00.000001+00:00"}


def test_an_installer_sees_no_contact_of_an_order_it_is_not_assigned(org_a, installer_org, orders):
    """A page hides what Get Order hides from a viewer that is neither the router nor the
    assigned installer."""
    stranger = selectors.Viewer(organization=installer_org)
    router = selectors.Viewer(organization=org_a)
    listed = page(stranger, orders)
    assert listed[0]["email"] is None and listed[0]["contactPersonName"] is None
    assert dumps(listed) == dumps([order_to_dict(selectors.order_get(router, pk), stranger) for pk in orders])
    assert page(router, [orders[0]])[0]["email"] == "ola@example.com"


@override_settings(PUBLIC_BASE_URL="https://track.example.com")
def test_the_list_answer_is_the_get_answer(operator_a, org_a, orders):
    response = operator_a.get("/api/v1/order", {"pageSize": 50})
    assert response.status_code == 200
    listed = response.json()["values"]
    assert len(listed) == len(orders)
    for order in listed:
        assert order == operator_a.get(f"/api/v1/order/{order['id']}").json()
        assert order["clientUrl"].startswith("https://track.example.com/t/")


@pytest.mark.postgres
def test_the_fast_read_builds_the_orm_reads_order_objects(org_a, org_b, installer_org, orders):
    """`selectors.orders_loaded_fast` (a fast path, docs/performance.md) against the ORM read
    it replaces: the same bytes for every kind of order, in the order asked, one query for the
    whole page and none while the objects are built; other organizations' and deleted orders
    are absent; an installer viewer takes the ORM path."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    viewer = selectors.Viewer(organization=org_a)
    other = create_order(org_b)
    deleted = create_order(org_a)
    Order.all_objects.filter(pk=deleted.pk).update(deleted_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    asked = [*reversed(orders), other.pk, deleted.pk, uuid.uuid4()]
    with CaptureQueriesContext(connection) as queries:
        fast = selectors.orders_loaded_fast(viewer, asked)
        assert fast is not None
        mine = dumps([order_to_dict(order, viewer) for order in fast])
    assert len(queries) == 1
    theirs = dumps(page(viewer, list(reversed(orders))))
    at = next((i for i, (x, y) in enumerate(zip(mine, theirs)) if x != y), None)
    assert mine == theirs, (mine[at - 200 : at + 100], theirs[at - 200 : at + 100])
    assert [o.pk for o in fast] == list(reversed(orders))
    assert selectors.orders_loaded_fast(viewer, []) == []
    assert selectors.orders_loaded_fast(selectors.Viewer(organization=installer_org), orders) is None
    assert selectors.order_get(selectors.Viewer(organization=org_b), orders[0]) is None


@pytest.mark.postgres
def test_the_fast_relations_read_loads_what_the_orm_reads(org_a, orders):
    """`selectors.relations_loaded_fast` (the tags and files of a write's answer, a fast path)
    against the ORM's: the same order objects, in one query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    viewer = selectors.Viewer(organization=org_a)
    for pk in orders:
        order = Order.objects.select_related("workflow", "installer").get(pk=pk)
        with CaptureQueriesContext(connection) as queries:
            assert selectors.relations_loaded_fast(order) is True
        assert len(queries) == 1
        plain = Order.objects.select_related("workflow", "installer").get(pk=pk)
        mine = dumps(order_to_dict(order, viewer))
        # Left to itself the presenter would take the same fast path: the ORM's reads, set here,
        # are the reference.
        plain.tag_links = list(plain.tagged_items.select_related("tag"))
        plain.file_list = list(plain.files.order_by("created_at", "id"))
        theirs = dumps(order_to_dict(plain, viewer))
        assert mine == theirs
