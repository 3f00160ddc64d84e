"""The orders table's indexes on PostgreSQL: none that another index already
serves (each costs every write of an order an entry), the client token still unique."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from orders.models import Order
from orders.tests.factories import create_order

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'orders_order'")
        return dict(cursor.fetchall())


def test_no_index_that_another_one_serves():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes")
    found = indexes()
    assert "orders_order_organization_id_7455e8e5" not in found
    assert "orders_order_installer_id_51b20db6" not in found
    assert not [name for name, sql in found.items() if "varchar_pattern_ops" in sql]
    # What serves them instead, and every index the model declares, are there.
    assert found["order_installer_status_idx"].endswith("(installer_id, status, created_at, id)")
    # The router's two lists carry what every list asks besides (not deleted, test or real), so
    # that a page's ids and its count are read from the index alone.
    assert found["order_org_status_idx"].endswith(
        "(organization_id, status, created_at, id) INCLUDE (test, deleted_at)"
    )
    assert found["order_org_created_idx"].endswith("(organization_id, created_at, id) INCLUDE (test, deleted_at)")
    for index in Order._meta.indexes:
        assert index.name in found
    assert "order_client_token_unique" in found
    # `q`'s trigram indexes, which the migration adds on PostgreSQL only (outside the model state).
    for name in ("order_q_name_trgm", "order_q_contact_trgm", "order_q_email_trgm", "order_q_address_trgm"):
        assert "gin_trgm_ops" in found[name]


def test_the_client_token_is_still_unique(org_a):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's indexes")
    first, second = create_order(org_a), create_order(org_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=second.pk).update(client_token=first.client_token)
