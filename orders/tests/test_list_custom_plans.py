"""List Orders' filtered queries are never prepared statements (installer.db.custom_plans).

psycopg prepares a statement a connection has run 5 times (settings: server-side binding), and
PostgreSQL then plans a prepared statement for any value (a generic plan) once 5 custom ones
cost no less. For a list's filters that plan can be ruinous: at 1M orders, polling
`updatedSince=<a moment ago>` with a cursor went from 2 ms to 1.7 s per request after the tenth
poll on a connection (bench/results/experiments-2026-11-29-session10.md). These tests read the
connection's own prepared statements (`pg_prepared_statements`) after a list's filters have run
more often than the threshold.
"""

from __future__ import annotations

import pytest
from django.db import connection

from installer.db import custom_plans
from orders import services
from orders.tests.factories import create_order
from orders.tests.helpers import prepared_statements

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

RUNS = 12  # more than psycopg's prepare_threshold (5), and than PostgreSQL's 5 custom plans


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements of PostgreSQL")


@pytest.fixture
def orders(org_a, operator_a):
    tag = services.order_tags_create(organization=org_a, names=["rare"])[0]
    for index in range(3):
        create_order(org_a, order_tag_ids=[str(tag.pk)] if index == 0 else [])
    operator_a.get("/api/v1/workflows")  # the token's last_used_at written: later requests only read
    return tag


def test_the_test_sees_prepared_statements(orders, operator_a):
    """Get Order's query (its plan does not depend on the id) is prepared after 5 runs: so the
    tests below would see a prepared list query if there were one."""
    order_id = create_order(operator_a.org).pk
    for _ in range(RUNS):
        assert operator_a.get(f"/api/v1/order/{order_id}").status_code == 200
    assert any('"orders_order"."id" =' in statement for statement in prepared_statements())


@pytest.mark.parametrize(
    "query",
    [
        {"updatedSince": "2020-01-01T00:00:00Z", "cursor": ""},
        {"updatedSince": "2020-01-01T00:00:00Z"},
        {"createdAfter": "2020-01-01T00:00:00Z", "status": "created"},
        {"tagId": "TAG", "pageSize": "1"},  # a full page: the list is counted too
        {"postalCode": "0154", "cursor": ""},
    ],
    ids=["updatedSince-cursor", "updatedSince-page", "createdAfter-status", "tag-counted", "postalCode-cursor"],
)
def test_a_filtered_list_is_planned_for_its_values(orders, operator_a, query):
    query = {key: str(orders.pk) if value == "TAG" else value for key, value in query.items()}
    for _ in range(RUNS):
        response = operator_a.get("/api/v1/order", query)
        assert response.status_code == 200, response.content
    statements = prepared_statements()
    listing = [s for s in statements if 'FROM "orders_order"' in s and ("LIMIT" in s or "COUNT(" in s.upper())]
    assert not listing, listing
    # The page's rows by id (a plan that does not depend on the ids) are still prepared.
    assert any('"orders_order"."id" IN' in s for s in statements), statements


def test_custom_plans_restores_the_connection_on_error():
    connection.ensure_connection()
    before = connection.connection.prepare_threshold
    with pytest.raises(RuntimeError), custom_plans():
        assert connection.connection.prepare_threshold is None
        raise RuntimeError
    assert connection.connection.prepare_threshold == before
    with custom_plans(enabled=False):
        assert connection.connection.prepare_threshold == before


def test_an_installers_filtered_list_is_planned_for_its_values(installer_client):
    installer_client.get("/api/v1/workflows")  # the token's last_used_at written
    for _ in range(RUNS):
        response = installer_client.get("/api/v1/order", {"updatedSince": "2020-01-01T00:00:00Z", "cursor": ""})
        assert response.status_code == 200, response.content
    listing = [s for s in prepared_statements() if 'FROM "orders_order"' in s and "LIMIT" in s]
    assert not listing, listing


def test_an_installers_offers_by_status_are_planned_for_their_values(installer_client):
    installer_client.get("/api/v1/workflows")  # the token's last_used_at written
    for _ in range(RUNS):
        response = installer_client.get("/api/v1/offers", {"status": "sent", "pageSize": "1"})
        assert response.status_code == 200, response.content
    listing = [s for s in prepared_statements() if 'FROM "dispatch_offer"' in s and ("LIMIT" in s or "COUNT(" in s)]
    assert not listing, listing
