"""installer.db.insert_sql: a batch's INSERT is compiled once per shape (model, fields, number of
rows); later batches must run exactly the statement and values Django's compiler would build."""

from __future__ import annotations

import decimal
import uuid

import pytest
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from installer import db
from orders import services
from orders.actors import Actor
from orders.models import OrderEvent, TaggedOrder
from orders.tests.factories import create_order

# Used by insert_together on PostgreSQL only (elsewhere each batch is a bulk_create).
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
if connection.vendor != "postgresql":
    pytest.skip("insert_together's single statement is PostgreSQL only", allow_module_level=True)


def plain(params):
    """Parameters comparable with ==: JSON adapters by their document."""
    out = []
    for value in params:
        if isinstance(value, list | tuple):
            out.append(plain(value))
        elif isinstance(value, Jsonb):
            out.append(("jsonb", value.obj))
        else:
            out.append((type(value).__name__, value))  # e.g. psycopg's Int4 is not a plain int
    return out


def events(order, n, seq):
    return [
        OrderEvent(
            id=uuid.uuid4(),
            order=order,
            organization_id=order.organization_id,
            sequence=seq + i,
            type="order.updated",
            actor_type="system",
            actor_label="t",
            data={"i": i, "nested": [1, None, "x"]},
            created_at=timezone.now(),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("rows", [1, 3, db.VALUES_MAX_ROWS + 1])
def test_a_cached_insert_is_the_compilers_statement_with_the_new_values(org_a, rows):
    order = create_order(org_a)
    db._INSERT_SQL.clear()
    fields = [f for f in OrderEvent._meta.concrete_fields if not f.generated]
    first = events(order, rows, 100)
    sql, params = db.insert_sql(OrderEvent, fields, first, connection)  # compiled, then cached
    assert len(db._INSERT_SQL) == 1
    assert ("UNNEST" in sql) == (rows > db.VALUES_MAX_ROWS)  # a few rows: VALUES, scalar parameters
    second = events(order, rows, 200)
    cached_sql, cached_params = db.insert_sql(OrderEvent, fields, second, connection)
    stamped = [e.created_at for e in second]  # auto_now_add: set by the pre_save of the insert
    expected_sql, expected_params = db._compiled_insert(OrderEvent, fields, second, connection)
    assert cached_sql == expected_sql == sql
    # The compiler stamps created_at again (a later now()): compare the rest, and the stamps
    # with what the cached insert set on the objects.
    at = fields.index(OrderEvent._meta.get_field("created_at"))
    cached_params, run_params = list(cached_params), cached_params
    if rows > db.VALUES_MAX_ROWS:  # one array per column
        assert cached_params[at] == stamped
        cached_params[at] = expected_params[at] = None
    else:  # one parameter per value, row by row
        stamps = [cached_params[row * len(fields) + at] for row in range(rows)]
        assert stamps == stamped
        for row in range(rows):
            cached_params[row * len(fields) + at] = expected_params[row * len(fields) + at] = None
    assert plain(cached_params) == plain(expected_params)
    assert plain(cached_params) != plain(params)
    with connection.cursor() as cursor:  # and it runs
        cursor.execute(cached_sql, run_params)
    assert sorted(OrderEvent.objects.filter(order=order, sequence__gte=200).values_list("sequence", flat=True)) == [
        200 + i for i in range(rows)
    ]
    assert OrderEvent.objects.get(order=order, sequence=200).data == {"i": 0, "nested": [1, None, "x"]}


def test_another_number_of_rows_or_a_database_key_is_another_statement(org_a):
    order = create_order(org_a)
    db._INSERT_SQL.clear()
    tags = services.order_tags_create(organization=org_a, names=["a", "b", "c"])
    fields = [f for f in TaggedOrder._meta.concrete_fields if not f.primary_key]  # the key is the database's
    for count in (1, 2, 1):
        links = [TaggedOrder(content_object=order, tag=tag) for tag in tags[:count]]
        sql, params = db.insert_sql(TaggedOrder, fields, links, connection)
        assert (sql, plain(params)) == (lambda c: (c[0], plain(c[1])))(
            db._compiled_insert(TaggedOrder, fields, links, connection)
        )
    assert len(db._INSERT_SQL) == 2  # one row and two rows


def test_an_expression_value_is_compiled_every_time(org_a):
    from django.db.models import Value
    from django.db.models.functions import Lower

    order = create_order(org_a)
    db._INSERT_SQL.clear()
    fields = [f for f in OrderEvent._meta.concrete_fields if not f.generated]
    batch = events(order, 1, 300)
    batch[0].type = Lower(Value("ORDER.UPDATED"))
    sql, _ = db.insert_sql(OrderEvent, fields, batch, connection)
    assert "LOWER(" in sql.upper()
    assert db._INSERT_SQL == {}
    services.order_cancel(order_id=order.pk, organization=org_a, actor=Actor.system("t"))  # writes still work


@pytest.mark.parametrize(
    "field, values",
    [
        (models.UUIDField(), [uuid.uuid4(), None, "6f1c7a52-8a0e-4f57-9a39-1e0f1d7c2b11"]),
        (models.AutoField(primary_key=True), [5, None]),
        (models.BigAutoField(primary_key=True), [5]),
        (models.IntegerField(), [5, None, True, "7"]),
        (models.BigIntegerField(), [2**40]),
        (models.SmallIntegerField(), [-3]),
        (models.PositiveIntegerField(), [5]),
        (models.PositiveBigIntegerField(), [5]),
        (models.PositiveSmallIntegerField(), [5]),
        (models.CharField(max_length=5), ["abc", None, 12]),
        (models.EmailField(), ["a@example.com"]),
        (models.TextField(), ["x"]),
        (models.BooleanField(), [True, False, None, 1]),
        (models.FloatField(), [1.5, 2, None]),
        (models.DateTimeField(), [timezone.now(), None]),
        (models.JSONField(), [{"a": [1, None]}, None]),
        (models.DecimalField(max_digits=5, decimal_places=2), [decimal.Decimal("1.50")]),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, models.Field) else None,
)
def test_a_fast_preparer_gives_what_get_db_prep_save_gives(field, values):
    """`_preparers` skips get_db_prep_save only where it would hand the value back unchanged (or,
    for an int, wrapped in the column's integer type): the value and its type are Django's."""
    field.set_attributes_from_name("f")
    prepare = db._preparer(field, connection)
    for value in values:
        expected = field.get_db_prep_save(value, connection=connection)
        got = prepare(field, value)
        assert plain([got]) == plain([expected]), (type(field).__name__, value)
