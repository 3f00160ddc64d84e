"""Query counts are fixed numbers, the same for 1 and for 50 orders (CONVENTIONS.md "Queries").

Every request: 1 query for the token (last_used_at is fresh, so no write). Get Order: 1 for
the order with workflow, installer and booking joined, 1 for its tags and 1 for its files
(orders.selectors.with_order_relations). A list page: the same three for the whole page, and
when the page is full its count (the cache's lookup, then the COUNT). On PostgreSQL a router's
reads take the fast path (orders.selectors.orders_loaded_fast): Get Order's order is one
statement, a list page's rows two (the page's ids, then the orders with everything). Steps and custom field
definitions come from the per-process workflow cache (orders.workflow_cache), warmed by the
first request.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from orders import services
from orders.models import FieldType, File
from orders.tests.factories import add_custom_field, create_order, make_installer_partner

pytestmark = pytest.mark.django_db

# The order rows (workflow, installer and booking joined), their tags, their files; on
# PostgreSQL, the fast path's statement (and for a list page the page's ids before it).
FAST = connection.vendor == "postgresql"
R = 1 if FAST else 3
R_LIST = 2 if FAST else 3
# A full page's count: the cache's lookup (a query with the database cache), then the COUNT.
COUNT = 1 + (1 if str(settings.CACHES["default"]["BACKEND"]).endswith("DatabaseCache") else 0)


@pytest.fixture(params=[1, 50], ids=["1-order", "50-orders"])
def orders(request, operator_a, org_a, installer_org):
    workflows = []
    for index in range(2):
        workflow = services.workflow_create(organization=org_a, custom_id=f"w{index}", name=f"W{index}")
        add_custom_field(workflow, "notes", FieldType.TEXT)
        add_custom_field(workflow, "size", FieldType.NUMBER)
        workflows.append(workflow)
    tags = services.order_tags_create(organization=org_a, names=["x", "y", "z"])
    make_installer_partner(org_a, installer_org)
    created = []
    for index in range(request.param):
        order = create_order(
            org_a,
            workflow_custom_id=f"w{index % 2}",
            order_tag_ids=[str(t.pk) for t in tags[: 1 + index % 3]],
            custom_fields=[{"customId": "notes", "value": "n"}, {"customId": "size", "value": index}],
            actor_assignments=[{"actorSlug": "installer", "organizationId": str(installer_org.pk)}],
        )
        File.objects.create(
            organization=org_a, order=order, storage_key=f"k/{order.pk}", name="a.png", content_type="image/png", size=1
        )
        created.append(order)
    operator_a.get("/api/v1/workflows")  # records last_used_at, so that later requests only read
    operator_a.get("/api/v1/order?pageSize=500")  # warms the workflow cache, as a worker's first request does
    return created


def get(client, url, num, assert_num):
    with assert_num(num):
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_get_order(operator_a, orders, django_assert_num_queries):
    body = get(operator_a, f"/api/v1/order/{orders[-1].pk}", 1 + R, django_assert_num_queries)
    assert len(body["tags"]) >= 1 and len(body["files"]) == 1 and body["installer"] is not None
    assert [f["customId"] for f in body["customFields"]] == ["notes", "size"]


def test_list_orders_whole_list(operator_a, orders, django_assert_num_queries):
    body = get(operator_a, "/api/v1/order?pageSize=500", 1 + R_LIST, django_assert_num_queries)
    assert len(body["values"]) == body["count"] == len(orders)
    assert all(len(o["files"]) == 1 and o["tags"] and len(o["customFields"]) == 2 for o in body["values"])


def test_list_orders_default_page(operator_a, orders, django_assert_num_queries):
    # A page that is not full needs no COUNT query; a full one does.
    body = get(operator_a, "/api/v1/order", (1 if len(orders) < 25 else 1 + COUNT) + R_LIST, django_assert_num_queries)
    assert body["count"] == len(orders) and len(body["values"]) == min(25, len(orders))


def test_list_orders_filtered_by_tag(operator_a, orders, django_assert_num_queries):
    tag = orders[0].tags.first()
    body = get(operator_a, f"/api/v1/order?pageSize=500&tagId={tag.pk}&status=0", 1 + R_LIST, django_assert_num_queries)
    assert body["count"] >= 1


def test_list_orders_cursor(operator_a, orders, django_assert_num_queries):
    body = get(operator_a, "/api/v1/order?cursor=&pageSize=500", 1 + R_LIST, django_assert_num_queries)
    assert len(body["values"]) == len(orders) and body["nextCursor"] is None


def test_timeline(operator_a, orders, django_assert_num_queries):
    body = get(operator_a, f"/api/v1/order/{orders[0].pk}/events", 3, django_assert_num_queries)
    assert body["count"] >= 2


def test_tags_and_workflows(operator_a, orders, django_assert_num_queries):
    assert get(operator_a, "/api/v1/order-tags", 3, django_assert_num_queries)["count"] == 3
    assert get(operator_a, "/api/v1/workflows", 4, django_assert_num_queries)["count"] == 3
