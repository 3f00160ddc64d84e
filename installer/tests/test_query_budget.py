"""Query budget of the hot API paths, counted over whole HTTP requests: token
authentication, the service, the outbox hook and the answer.

| request                                    | budget |
|--------------------------------------------|-------:|
| Get Order                                  |      4 |
| List Orders (any page size, status+tagId)  |      6 |

On PostgreSQL a router's reads take the fast path of `orders.selectors.orders_loaded_fast`: Get
Order is the token and one statement, a list page the token, the page's ids and one statement.
| Create Order (tags and custom fields)      |     10 |
| each transition (cancel, book, start,      |      7 |
| complete, accept)                          |        |
| Dispatch (+ its run, offers, expiry tasks, |     11 |
| the candidates' performance scores)        |        |

Without webhook endpoints (`Organization.has_webhook_endpoints` off) the outbox costs nothing;
with one subscribed, each change costs exactly five more (the endpoints, the order read once
for the deliveries' `data`: the row, its tags and its files; the delivery rows), pinned below. `-s` prints every query of every request.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dispatch.models import DispatchRun, Offer
from dispatch.tests.conftest import make_installer, make_partner
from installer.tasks import run_after_for
from orders import services
from orders.models import FieldType
from orders.tests.factories import add_custom_field, create_order, order_payload
from webhooks import services as webhook_services
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db

BUDGET = {"get": 4, "list": 6, "create": 10, "transition": 7, "dispatch": 11}
FAST_READS = connection.vendor == "postgresql"
# A full page's count: the cache's lookup (a query with the database cache), then the COUNT.
COUNT = 1 + (1 if str(settings.CACHES["default"]["BACKEND"]).endswith("DatabaseCache") else 0)


@pytest.fixture
def world(operator_a, installer_client, org_a, installer_org):
    workflow = services.workflow_create(organization=org_a, custom_id="install", name="Install")
    add_custom_field(workflow, "charger", FieldType.TEXT)
    add_custom_field(workflow, "cable", FieldType.NUMBER)
    tags = services.order_tags_create(organization=org_a, names=["vip", "north", "ev"])
    make_partner(org_a, installer_org)
    # First requests of each token write last_used_at; later ones only read. Creating an order
    # warms the per-process workflow cache, as the first request of a worker does.
    operator_a.get("/api/v1/workflows")
    installer_client.get("/api/v1/workflows")
    operator_a.post("/api/v1/order", order_payload(workflowCustomId="install"), format="json")
    return {"workflow": workflow, "tags": tags}


def make_orders(org, world, n: int) -> list:
    return [
        create_order(
            org,
            workflow_custom_id="install",
            order_tag_ids=[str(t.pk) for t in world["tags"][: 1 + i % 3]],
            custom_fields=[{"customId": "charger", "value": "11 kW"}, {"customId": "cable", "value": i}],
        )
        for i in range(n)
    ]


def measure(call, label: str):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    queries = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    print(f"\n== {label}: {len(queries)} queries, HTTP {response.status_code}")
    for sql in queries:
        print("   ", sql[:300])
    assert response.status_code < 300, response.content
    return response, len(queries)


def test_get_order(operator_a, org_a, world):
    order = make_orders(org_a, world, 1)[0]
    response, n = measure(lambda: operator_a.get(f"/api/v1/order/{order.pk}"), "get order")
    body = response.json()
    assert body["tags"] and [f["customId"] for f in body["customFields"]] == ["charger", "cable"]
    assert body["workflowCustomId"] == "install"
    # token, then the order with its workflow, installer, booking, tags and files in one statement
    # (the fast path), or the order (workflow, installer, booking joined), its tags, its files.
    assert n == (2 if FAST_READS else BUDGET["get"])


@pytest.mark.parametrize("page_size", [1, 50])
def test_list_orders_filtered(operator_a, org_a, world, page_size):
    make_orders(org_a, world, 12)
    tag = world["tags"][0]
    for query in (
        f"?pageSize={page_size}&status=0&tagId={tag.pk}",
        f"?pageSize={page_size}&status=0&tagId={tag.pk}&cursor=",
        f"?pageSize={page_size}&status=0&status=1",
    ):
        response, n = measure(lambda q=query: operator_a.get(f"/api/v1/order{q}"), f"list {query}")
        values = response.json()["values"]
        assert values and all(v["customFields"] and (v["tags"] or "tagId" not in query) for v in values)
        assert n <= BUDGET["list"]
        # token, the page's orders, their tags, their files (the fast path: the page's ids, then
        # the orders with everything in one statement); the count of a full page 0 (a list of at
        # most one page is counted from its rows).
        assert n == (3 if FAST_READS else 4) + (0 if "cursor" in query or page_size > 12 else COUNT), query


def test_create_order(operator_a, org_a, world):
    body = order_payload(
        workflowCustomId="install",
        orderTagIds=[str(t.pk) for t in world["tags"][:2]],
        customFields=[{"customId": "charger", "value": "22 kW"}, {"customId": "cable", "value": 5}],
        idempotencyKey="budget-1",
    )
    response, n = measure(lambda: operator_a.post("/api/v1/order", body, format="json"), "create")
    data = response.json()
    assert len(data["tags"]) == 2 and data["customFields"][0]["value"] == "22 kW"
    assert n <= BUDGET["create"]


def test_create_order_without_tags_or_files_reads_no_relations(operator_a, org_a, world):
    """A new order has exactly the tags and files its create gave: with none, the answer needs no
    tags-and-files query."""
    body = order_payload(workflowCustomId="install", idempotencyKey="budget-2")
    with_tags = order_payload(
        workflowCustomId="install", idempotencyKey="budget-3", orderTagIds=[str(world["tags"][0].pk)]
    )
    response, n = measure(lambda: operator_a.post("/api/v1/order", body, format="json"), "create, no tags")
    _, n_tags = measure(lambda: operator_a.post("/api/v1/order", with_tags, format="json"), "create, a tag")
    assert response.status_code == 201 and response.json()["tags"] == [] and response.json()["files"] == []
    assert response.json() == operator_a.get(f"/api/v1/order/{response.json()['id']}").json() | {
        "value": response.json()["id"]
    }
    # The tag costs its ownership check (which reads the tags the answer shows) and its INSERT.
    assert n_tags == n + 2
    # token, workflow, the order, its events, the number: on PostgreSQL one UPDATE ... RETURNING,
    # elsewhere the counter's UPDATE, its read and the order's UPDATE (`number_order_orm`)
    assert n == (5 if FAST_READS else 7)


def test_transitions(operator_a, installer_client, org_a, installer_org, world):
    order, other = make_orders(org_a, world, 2)
    counts = {}
    response, counts["dispatch"] = measure(
        lambda: operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json"), "dispatch"
    )
    assert response.json()["offers"][0]["status"] == "sent"
    offer = Offer.objects.get(order=order)
    # The offer's expiry task is written in the dispatch's own transaction.
    assert (
        DBTaskResult.objects.filter(task_path="dispatch.tasks.expire_offer", args_kwargs__args=[str(offer.pk)]).count()
        == 1
    )
    response, counts["accept"] = measure(
        lambda: installer_client.post(f"/api/v1/offers/{offer.pk}/accept", {}, format="json"), "accept"
    )
    assert response.json()["order"]["installer"]["id"] == str(installer_org.pk)
    start = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    response, counts["book"] = measure(
        lambda: installer_client.put(
            f"/api/v1/order/{order.pk}/booking", {"startAt": start, "allDay": True}, format="json"
        ),
        "book",
    )
    assert response.json()["status"] == 2 and response.json()["booking"] is not None
    response, counts["start"] = measure(
        lambda: installer_client.post(f"/api/v1/order/{order.pk}/start", {}, format="json"), "start"
    )
    assert response.json()["status"] == 3
    response, counts["complete"] = measure(
        lambda: installer_client.post(f"/api/v1/order/{order.pk}/complete", {}, format="json"), "complete"
    )
    assert response.json()["status"] == 4
    response, counts["cancel"] = measure(
        lambda: operator_a.post(f"/api/v1/order/{other.pk}/cancel", {"reason": "other"}, format="json"), "cancel"
    )
    assert response.json()["status"] == 6
    print("\ntransition queries:", counts)
    budget = dict.fromkeys(counts, BUDGET["transition"]) | {"dispatch": BUDGET["dispatch"]}
    if connection.vendor == "sqlite":
        budget["book"] += 1  # SQLite has no exclusion constraint: one overlap query
    # Completing also inserts the completion row and reads the accepted quote's lines
    # (invoicing's hook, orders.hooks.order_completing).
    budget["complete"] += 2
    assert all(n <= budget[name] for name, n in counts.items()), (counts, budget)
    # token, lock, [candidates, their scores, run, offers, expiry task | the offers' update | booking], the
    # order's UPDATE, its events, and the answer's tags and files: on PostgreSQL read by the
    # lock's own statement (`lock_order_fast`), elsewhere two reads by the presenter. An accept
    # locks the offer with its order, and reads them after (on PostgreSQL one statement,
    # `orders.selectors.relations_loaded_fast`).
    answer = 0 if FAST_READS else 2
    assert counts == {
        "dispatch": 9 + answer,
        "accept": 5 + (1 if FAST_READS else 2),
        "book": 5 + answer + (1 if connection.vendor == "sqlite" else 0),
        "start": 4 + answer,
        "complete": 6 + answer,
        "cancel": 4 + answer,
    }


def test_broadcast_dispatch_writes_its_rows(operator_a, org_a, world):
    """Three offers at once and a webhook endpoint: the offers in one INSERT, three expiry
    tasks, the deliveries (+5, as for any change) reference the events, and the answer lists
    the offers as they were written."""
    for name in ("Second Co", "Third Co"):
        make_partner(org_a, make_installer(name))
    org_a.offers_at_once = 3
    org_a.save(update_fields=["offers_at_once"])
    webhook_services.endpoint_create(organization=org_a, url="http://127.0.0.1:9/hook")
    order = make_orders(org_a, world, 1)[0]
    response, n = measure(
        lambda: operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json"), "broadcast dispatch"
    )
    run = DispatchRun.objects.get(order=order)
    offers = list(Offer.objects.filter(order=order).order_by("rank"))
    assert [o["id"] for o in response.json()["offers"]] == [str(o.pk) for o in offers]
    assert len(offers) == 3 and {o.dispatch_run_id for o in offers} == {run.pk}
    assert run.offers_at_once == 3 and [c["rank"] for c in run.candidates] == [1, 2, 3]
    events = list(order.events.order_by("sequence").values_list("type", "data"))
    assert [t for t, _ in events[-5:]] == ["order.dispatched", "workflow.step.activated"] + ["offer.sent"] * 3
    assert events[-5][1]["dispatchRunId"] == str(run.pk)
    assert WebhookDelivery.objects.filter(event__order=order, event_type="order.dispatched").count() == 1
    tasks = DBTaskResult.objects.filter(task_path="dispatch.tasks.expire_offer")
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == sorted(str(o.pk) for o in offers)
    assert offers[0].expires_at is not None
    assert {t.run_after for t in tasks} == {run_after_for(offers[0].expires_at)}
    assert n <= BUDGET["dispatch"] + 5 + 2  # two more expiry tasks


def test_webhook_endpoint_costs_five_queries_per_change(operator_a, org_a, world):
    first, second = make_orders(org_a, world, 2)
    _, without = measure(lambda: operator_a.post(f"/api/v1/order/{first.pk}/cancel", {}, format="json"), "cancel")
    webhook_services.endpoint_create(organization=org_a, url="http://127.0.0.1:9/hook")
    org_a.refresh_from_db()
    assert org_a.has_webhook_endpoints
    _, with_endpoint = measure(
        lambda: operator_a.post(f"/api/v1/order/{second.pk}/cancel", {}, format="json"), "cancel, endpoint"
    )
    assert with_endpoint == without + 5
    assert WebhookDelivery.objects.filter(event__order=second, event_type="order.cancelled").count() == 1
    assert not WebhookDelivery.objects.filter(event__order=first).exists()


def test_me_is_one_query(operator_a, org_a, world):
    response, n = measure(lambda: operator_a.get("/api/v1/me"), "me")
    assert response.json() == {
        "organization": {"id": str(org_a.pk), "name": org_a.name, "slug": org_a.slug},
        "role": "operator",
        "tokenName": "erp-a",
    }
    assert n == 1


def test_me_needs_a_token(anon):
    assert anon.get("/api/v1/me").status_code == 401
