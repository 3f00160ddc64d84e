"""List Orders: every filter, bad filter values, page/pageSize/direction and cursor paging."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from orders import services
from orders.actors import Actor
from orders.models import Order
from orders.tests.factories import create_order, make_installer_partner
from orders.tests.helpers import move_to

pytestmark = pytest.mark.django_db

URL = "/api/v1/order"
T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {o["id"] for o in response.json()["values"]}


@pytest.fixture
def world(operator_a, org_a, installer_org):
    """Five orders of A with distinct statuses, tags, workflows, installers, postal codes and times."""
    workflow = services.workflow_create(organization=org_a, custom_id="other", name="Other")
    vip, urgent = services.order_tags_create(organization=org_a, names=["VIP", "Urgent"])
    make_installer_partner(org_a, installer_org)
    assigned = [{"actorSlug": "installer", "organizationId": str(installer_org.pk)}]
    o = {
        "created": create_order(org_a, name="Alpha job", postal_code="0150", order_tag_ids=[str(vip.pk)]),
        "dispatching": create_order(org_a, name="Beta job", postal_code="0151", actor_assignments=assigned),
        "scheduled": create_order(
            org_a,
            name="Gamma",
            postal_code="0150",
            workflow_custom_id="other",
            order_tag_ids=[str(vip.pk), str(urgent.pk)],
        ),
        "cancelled": create_order(org_a, name="Delta", contact_person_name="Kari Nordmann", email="kari@firm.no"),
        "declined": create_order(org_a, name="Epsilon", address="Fjordveien 9"),
    }
    move_to(o["dispatching"], 1)
    move_to(o["scheduled"], 2)
    move_to(o["cancelled"], 6)
    move_to(o["declined"], 5)
    for index, order in enumerate(o.values()):
        Order.objects.filter(pk=order.pk).update(
            created_at=T0 + dt.timedelta(days=index), updated_at=T0 + dt.timedelta(days=10 + index)
        )
    create_order(services.organization_create(name="Z", slug="z"))  # another organization's order
    o["_tags"] = (vip, urgent)
    o["_workflow"] = workflow
    return {k: (str(v.pk) if isinstance(v, Order) else v) for k, v in o.items()}


def test_no_filter_lists_all_newest_first(operator_a, world):
    body = operator_a.get(URL).json()
    assert body["count"] == 5
    names = [o["name"] for o in body["values"]]
    assert names == ["Epsilon", "Delta", "Gamma", "Beta job", "Alpha job"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "0"}, ["created"]),
        ({"status": "created"}, ["created"]),
        ({"status": ["1", "scheduled"]}, ["dispatching", "scheduled"]),
        ({"status": "5,6"}, ["declined", "cancelled"]),
        ({"status": "4"}, []),
        ({"status": ""}, ["created", "dispatching", "scheduled", "cancelled", "declined"]),
        ({"postalCode": "0150"}, ["created", "scheduled"]),
        ({"postalCode": "015"}, []),
        ({"q": "A-1"}, ["created"]),
        ({"q": "job"}, ["created", "dispatching"]),
        ({"q": "kari nord"}, ["cancelled"]),
        ({"q": "@FIRM.no"}, ["cancelled"]),
        ({"q": "fjordveien"}, ["declined"]),
        ({"q": "nothing like it"}, []),
        ({"createdAfter": "2030-01-03T12:00:00Z"}, ["scheduled", "cancelled", "declined"]),
        ({"createdBefore": "2030-01-03T12:00:00Z"}, ["created", "dispatching"]),
        (
            {"createdAfter": "2030-01-02T00:00:00+00:00", "createdBefore": "2030-01-04T00:00:00+00:00"},
            ["dispatching", "scheduled"],
        ),
        ({"updatedSince": "2030-01-14T12:00:00Z"}, ["cancelled", "declined"]),
        ({"status": "6", "q": "Delta"}, ["cancelled"]),
        ({"status": "6", "q": "Alpha"}, []),
    ],
)
def test_filters(operator_a, world, params, expected):
    assert ids(operator_a.get(URL, params)) == {world[k] for k in expected}


def test_count_follows_the_filter(operator_a, world):
    assert operator_a.get(URL, {"status": ["0", "1"]}).json()["count"] == 2


def test_tag_filter(operator_a, world):
    vip, urgent = world["_tags"]
    assert ids(operator_a.get(URL, {"tagId": str(vip.pk)})) == {world["created"], world["scheduled"]}
    assert ids(operator_a.get(URL, {"tagId": str(urgent.pk)})) == {world["scheduled"]}
    assert ids(operator_a.get(URL, {"tagId": str(uuid.uuid4())})) == set()


def test_tag_filter_lists_each_order_once_with_all_its_tags(operator_a, world):
    vip, _ = world["_tags"]
    body = operator_a.get(URL, {"tagId": str(vip.pk)}).json()
    assert body["count"] == 2 and len(body["values"]) == 2
    gamma = next(o for o in body["values"] if o["name"] == "Gamma")
    assert sorted(t["name"] for t in gamma["tags"]) == ["Urgent", "VIP"]


def test_workflow_filter(operator_a, world):
    assert ids(operator_a.get(URL, {"workflowId": str(world["_workflow"].pk)})) == {world["scheduled"]}


def test_installer_filter(operator_a, world, installer_org):
    assert ids(operator_a.get(URL, {"installerId": str(installer_org.pk)})) == {world["dispatching"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "9"}, "status"),
        ({"status": "paused"}, "status"),
        ({"status": ["1", "x"]}, "status"),
        ({"tagId": "nope"}, "tagId"),
        ({"workflowId": "nope"}, "workflowId"),
        ({"installerId": "1"}, "installerId"),
        ({"createdAfter": "yesterday"}, "createdAfter"),
        ({"createdBefore": "2030-13-01T00:00:00Z"}, "createdBefore"),
        ({"updatedSince": "soon"}, "updatedSince"),
        ({"page": "-1"}, "page"),
        ({"page": "x"}, "page"),
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "501"}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"direction": "up"}, "direction"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": "Zm9vfGJhcg"}, "cursor"),  # base64 of "foo|bar"
    ],
)
def test_bad_filter_values_are_400(operator_a, params, field):
    response = operator_a.get(URL, params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["statusCode"] == 400 and field in body["details"], body


def test_page_size_500_is_allowed(operator_a, world):
    assert operator_a.get(URL, {"pageSize": "500"}).json()["count"] == 5


def test_page_and_page_size(operator_a, world):
    first = operator_a.get(URL, {"pageSize": 2}).json()
    second = operator_a.get(URL, {"pageSize": 2, "page": 1}).json()
    third = operator_a.get(URL, {"pageSize": 2, "page": 2}).json()
    beyond = operator_a.get(URL, {"pageSize": 2, "page": 3}).json()
    assert [o["name"] for o in first["values"]] == ["Epsilon", "Delta"]
    assert [o["name"] for o in second["values"]] == ["Gamma", "Beta job"]
    assert [o["name"] for o in third["values"]] == ["Alpha job"]
    assert beyond == {"values": [], "count": 5}
    assert first["count"] == second["count"] == third["count"] == 5
    assert "nextCursor" not in first


def test_direction_asc(operator_a, world):
    body = operator_a.get(URL, {"direction": "asc", "pageSize": 3}).json()
    assert [o["name"] for o in body["values"]] == ["Alpha job", "Beta job", "Gamma"]


def walk(client, params):
    seen, pages, cursor = [], 0, ""
    while cursor is not None:
        body = client.get(URL, {**params, "cursor": cursor}).json()
        assert "count" not in body
        seen.extend(o["id"] for o in body["values"])
        cursor = body["nextCursor"]
        pages += 1
        assert pages < 100
    return seen, pages


@pytest.mark.parametrize("direction", ["desc", "asc"])
@pytest.mark.parametrize("same_time", [False, True], ids=["distinct-times", "equal-created-at"])
def test_cursor_walks_every_order_once(operator_a, org_a, direction, same_time):
    orders = [create_order(org_a) for _ in range(11)]
    if same_time:
        Order.objects.filter(organization=org_a).update(created_at=T0)
    else:
        for index, order in enumerate(orders):
            Order.objects.filter(pk=order.pk).update(created_at=T0 + dt.timedelta(microseconds=index))
    seen, pages = walk(operator_a, {"pageSize": 3, "direction": direction})
    assert len(seen) == len(set(seen)) == 11
    assert pages == 4
    expected = list(
        Order.objects.filter(organization=org_a)
        .order_by(*(["created_at", "id"] if direction == "asc" else ["-created_at", "-id"]))
        .values_list("id", flat=True)
    )
    assert seen == [str(pk) for pk in expected]


def test_cursor_with_filter_and_exact_page_end(operator_a, org_a):
    for _ in range(4):
        create_order(org_a, postal_code="0001")
    create_order(org_a, postal_code="9999")
    seen, pages = walk(operator_a, {"pageSize": 2, "postalCode": "0001"})
    assert len(set(seen)) == 4 and pages == 2  # the last full page says nextCursor null


def test_cursor_picks_up_orders_created_later(operator_a, org_a):
    for _ in range(2):
        create_order(org_a)
    body = operator_a.get(URL, {"cursor": "", "direction": "asc", "pageSize": 2}).json()
    assert body["nextCursor"] is None
    last_seen = body["values"][-1]
    new = create_order(org_a)
    Order.objects.filter(pk=new.pk).update(created_at=timezone.now() + dt.timedelta(seconds=1))
    from installer.api.pagination import encode_cursor

    cursor = encode_cursor(dt.datetime.fromisoformat(last_seen["createdAt"]), uuid.UUID(last_seen["id"]))
    later = operator_a.get(URL, {"cursor": cursor, "direction": "asc"}).json()
    assert [o["id"] for o in later["values"]] == [str(new.pk)]


def test_list_shows_same_object_as_get(operator_a, world):
    listed = operator_a.get(URL, {"status": "2"}).json()["values"][0]
    assert listed == operator_a.get(f"{URL}/{listed['id']}").json()


def test_cancelled_by_service_has_actor(org_a):
    order = create_order(org_a)
    services.order_cancel(order_id=order.pk, organization=org_a, actor=Actor.system("cron"))
    assert order.events.last().actor_label == "cron"


def test_each_filter_set_has_its_own_filters_bound_to_it(org_a):
    """OrderFilter copies its filters shallowly and shares its form fields (orders.filters): each
    instance's filters, and the FilterMethod of a `method` filter, must still be its own, and one
    request's invalid input must not show in another's form."""
    import threading

    from django.http import QueryDict

    from orders import selectors
    from orders.filters import OrderFilter

    viewer = selectors.Viewer(organization=org_a)
    first = OrderFilter(QueryDict("status=bogus"), queryset=selectors.orders_visible_to(viewer))
    second = OrderFilter(QueryDict("q=abc&status=1"), queryset=selectors.orders_visible_to(viewer))
    for filterset in (first, second):
        for name, filter_ in filterset.filters.items():
            assert filter_.parent is filterset and filter_ is not OrderFilter.base_filters[name]
        assert filterset.filters["q"].filter.f is filterset.filters["q"]
        assert filterset.filters["tagId"].filter.f is filterset.filters["tagId"]
    assert not hasattr(OrderFilter.base_filters["q"], "parent")
    assert not first.is_valid() and "status" in first.errors
    assert second.is_valid() and second.form.cleaned_data["status"] == [1] and not second.errors
    assert "display_id" in str(second.qs.query).lower()  # its `q` method ran on it

    # Concurrent filter sets in threads each filter by their own input.
    results = {}

    def run(index):
        tag = f"00000000-0000-0000-0000-{index:012d}"
        filterset = OrderFilter(QueryDict(f"tagId={tag}"), queryset=selectors.orders_visible_to(viewer))
        assert filterset.is_valid()
        results[index] = str(filterset.qs.query)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(f"{i:012d}" in results[i] for i in range(8))


def test_the_same_filters_with_other_values_answer_for_those_values(operator_a, world):
    vip, urgent = world["_tags"]
    assert ids(operator_a.get(URL, {"tagId": str(vip.pk)})) == {world["created"], world["scheduled"]}
    assert ids(operator_a.get(URL, {"tagId": str(urgent.pk)})) == {world["scheduled"]}
    assert ids(operator_a.get(URL, {"tagId": str(uuid.uuid4())})) == set()
    assert ids(operator_a.get(URL, {"q": "job"})) == {world["created"], world["dispatching"]}
    assert ids(operator_a.get(URL, {"q": "Delta"})) == {world["cancelled"]}
