"""installer.db._update_sql: a locked order's UPDATE is compiled once per shape (fields, which
values are NULL); later changes must run exactly the statement and values Django's compiler
would build, and write what the order holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from installer import db
from orders.models import Order
from orders.tests.factories import create_order
from orders.workflow_cache import steps

pytestmark = pytest.mark.django_db

# updated_at (auto_now) is stamped anew by every compile: compared on its own below.
FIELDS = ("completed_steps", "current_step", "event_seq", "metadata", "status")


def plain(params):
    """Parameters comparable with ==: JSON adapters by their document."""
    return [("json", v.obj) if hasattr(v, "obj") and hasattr(v, "dumps") else v for v in params]


def compiled(order, names):
    return db._compiled_update(order, [Order._meta.get_field(n) for n in names], connection)


def run(order, names):
    sql, params = db._update_sql(order, names, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return sql, params


def test_a_cached_update_is_the_compilers_statement_and_writes_the_new_values(org_a):
    first, second = create_order(org_a), create_order(org_a)
    step = steps(first.workflow)[0]
    db._UPDATE_SQL.clear()
    first.current_step, first.metadata, first.completed_steps = step, {"erp": 1}, ["a"]
    sql, _ = run(first, FIELDS)  # compiled, then kept
    assert len(db._UPDATE_SQL) == 1 and isinstance(next(iter(db._UPDATE_SQL.values())), str)

    second.status, second.event_seq, second.updated_at = 1, 7, timezone.now()
    second.current_step, second.metadata, second.completed_steps = step, {"erp": [2, None, "x"]}, ["b", "c"]
    cached_sql, cached_params = run(second, FIELDS)
    expected_sql, expected_params = compiled(second, FIELDS)
    assert cached_sql == expected_sql == sql
    assert plain(cached_params) == plain(expected_params)
    second.refresh_from_db()
    assert (second.status, second.event_seq, second.current_step_id) == (1, 7, step.pk)
    assert (second.metadata, second.completed_steps) == ({"erp": [2, None, "x"]}, ["b", "c"])
    first.refresh_from_db()
    assert (first.metadata, first.completed_steps) == ({"erp": 1}, ["a"])  # only its own row


def test_a_null_value_is_another_statement(org_a):
    order = create_order(org_a)
    step = steps(order.workflow)[0]
    db._UPDATE_SQL.clear()
    for current in (step, None, step, None):
        order.current_step = current
        sql, params = run(order, FIELDS)
        expected_sql, expected_params = compiled(order, FIELDS)
        assert (sql, plain(params)) == (expected_sql, plain(expected_params))
        order.refresh_from_db(fields=["current_step"])
        assert order.current_step_id == (current.pk if current else None)
    assert len(db._UPDATE_SQL) == 2  # with a step and without one


def test_an_expression_value_is_compiled_every_time(org_a):
    order = create_order(org_a)
    db._UPDATE_SQL.clear()
    order.event_seq = F("event_seq") + 5
    before = Order.objects.get(pk=order.pk).event_seq
    run(order, ("event_seq",))
    assert db._UPDATE_SQL == {}
    assert Order.objects.get(pk=order.pk).event_seq == before + 5


def test_an_auto_now_field_is_kept_and_written_as_stamped(org_a):
    order = create_order(org_a)
    db._UPDATE_SQL.clear()
    for status in (1, 2):
        order.status = status
        run(order, ("status", "updated_at"))  # pre_save stamps updated_at on the order
        assert Order.objects.values_list("status", "updated_at").get(pk=order.pk) == (status, order.updated_at)
    assert isinstance(next(iter(db._UPDATE_SQL.values())), str)
