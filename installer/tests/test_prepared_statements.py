"""The fast paths' fixed statements are prepared once per connection (`installer.raw_rows
.prepared_cursor`); the ORM's own statements, whose plans must fit their values, never are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.api.authentication import token_by_hash
from accounts.models import hash_token
from orders.models import Order
from orders.selectors import Viewer, order_get
from orders.tests.factories import MembershipFactory, OrganizationFactory, create_order, make_token
from orders.tests.helpers import prepared_statements

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_token_lookup_is_prepared_once_and_run_again():
    membership = MembershipFactory(organization=OrganizationFactory())
    key_hash = hash_token(make_token(membership, name="erp"))
    for _ in range(3):
        assert token_by_hash(key_hash).membership == membership
    [(statement, generic, custom)] = prepared_statements("key_hash")
    assert "$1" in statement  # the value is bound on the server, not written into the text
    assert generic + custom == 3


def test_an_order_read_is_prepared_and_logged_with_its_values():
    org = OrganizationFactory()
    order = create_order(org)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(2):
            assert order_get(Viewer(organization=org), order.pk) == order
    assert len(queries) == 2
    assert all(str(order.pk.hex) in q["sql"] or str(order.pk) in q["sql"] for q in queries)
    assert [generic + custom for _, generic, custom in prepared_statements("json_agg")] == [2]


def test_the_orms_statements_are_not_prepared():
    org = OrganizationFactory()
    create_order(org)
    for _ in range(6):
        assert Order.objects.filter(organization=org, status=0).count() == 1
    assert prepared_statements("COUNT(*)") == []


def test_one_orders_read_keeps_a_generic_plan():
    """PostgreSQL plans a prepared statement for its values five times, then keeps a generic
    plan when it costs no more: for one id (`o.id = $1`) it does, so Get Order is not planned
    again per request."""
    org = OrganizationFactory()
    order = create_order(org)
    for _ in range(8):
        order_get(Viewer(organization=org), order.pk)
    [(_, generic, _)] = prepared_statements("json_agg")
    assert generic >= 3
