"""Database plumbing shared by the apps' services."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import MethodType
from typing import Any

from django.db import connections, models, router
from django.db.models import Model
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.models.sql.compiler import SQLInsertCompiler as GenericInsertCompiler


@contextmanager
def custom_plans(enabled: bool = True, using: str = "default") -> Iterator[None]:
    """Statements run inside are not prepared by psycopg, so PostgreSQL plans each one with its
    actual values (a custom plan) instead of, after five runs of a prepared statement, a generic
    plan built for any value.

    For a query whose best plan depends on its values: a list's filters and cursor. The generic
    plan of `updated_at >= $2 ORDER BY created_at DESC LIMIT 51` walks the organization's orders
    newest first and filters them (estimated: a third match, so 150 rows); for a client that
    syncs with a recent `updatedSince` almost none match, and at 1M orders every poll after the
    tenth on a pooled connection read the whole index: 1.7 s where the custom plan (the
    updated_at index, a sort) takes 2 ms. A rare tag, postal code or search term meets the
    same plan. Statements whose plan does not depend on their values (a row by its id, the token)
    stay prepared. Costs each such query its planning (a few tenths of a millisecond).
    """
    connection = connections[using]
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = None  # psycopg: prepare nothing, use no prepared statement
    try:
        yield
    finally:
        raw.prepare_threshold = before


def _compiled_update(obj: Model, fields: Sequence[Any], connection) -> tuple[str, list]:
    model = type(obj)
    query = UpdateQuery(model)
    query.add_update_fields([(field, None, field.pre_save(obj, False)) for field in fields])
    query.add_filter("pk", obj.pk)
    sql, params = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def _same(a: Any, b: Any) -> bool:
    """Two prepared values that mean the same (JSON adapters compare by their document)."""
    if type(a) is not type(b):
        return False
    return a == b or (hasattr(a, "obj") and hasattr(a, "dumps") and a.obj == b.obj and a.dumps == b.dumps)


# UPDATE statements by (database, model, fields, which values are NULL): the SQL of a change of
# the same fields is the same, only its values differ (`_update_sql`). False: not cacheable.
_UPDATE_SQL: dict[tuple, str | bool] = {}
_CACHE_MAX = 512  # entries of each statement cache of this module


def _update_params(obj: Model, fields: Sequence[Any], raw: Sequence[Any], connection) -> tuple[tuple, list]:
    """(which values are NULL, the parameters of the UPDATE): each value prepared as the compiler
    does, the NULLs left out (the compiler writes them as literals), the key's value last."""
    values = [field.get_db_prep_save(v, connection=connection) for field, v in zip(fields, raw, strict=True)]
    params = [v for v in values if v is not None]
    params.append(type(obj)._meta.pk.get_db_prep_value(obj.pk, connection, prepared=False))
    return tuple(v is None for v in values), params


def _update_sql(obj: Model, names: Sequence[str], connection) -> tuple[str, list]:
    """`obj.save(update_fields=names)`'s UPDATE, as SQL (no signals; auto_now fields are not
    touched: the caller sets what it writes), compiled once per shape. The compiler writes a NULL
    value as the literal `NULL`, so which values are NULL is part of the shape. The first
    statement of a shape is compiled by Django, and it is kept only when the values prepared
    here (`pre_save`, `get_db_prep_save`, the key's `get_db_prep_value`, as the compiler does)
    are exactly the compiler's; a shape with an expression value or a custom placeholder is
    compiled every time."""
    model = type(obj)
    fields = [model._meta.get_field(name) for name in names]
    raw = [field.pre_save(obj, False) for field in fields]
    if any(hasattr(v, "resolve_expression") or hasattr(v, "prepare_database_save") for v in raw):
        return _compiled_update(obj, fields, connection)
    nulls, params = _update_params(obj, fields, raw, connection)
    key = (connection.alias, model, tuple(names), nulls)
    cached = _UPDATE_SQL.get(key)
    if isinstance(cached, str):
        return cached, params
    sql, compiled = _compiled_update(obj, fields, connection)
    if cached is None:
        # What the compiler's own pre_save left on the object (an auto_now field stamps again),
        # prepared here as above: kept only if it is exactly what the compiler bound.
        _, again = _update_params(obj, fields, [getattr(obj, field.attname) for field in fields], connection)
        plain = not any(hasattr(field, "get_placeholder") for field in fields)
        matches = plain and len(compiled) == len(again) and all(map(_same, compiled, again))
        if len(_UPDATE_SQL) >= _CACHE_MAX:
            _UPDATE_SQL.clear()
        _UPDATE_SQL[key] = sql if matches else False
    return sql, compiled


# INSERT statements by (database, model, fields, number of rows): the SQL of a batch of the
# same shape is the same, only its values differ (`insert_sql`).
_INSERT_SQL: dict[tuple, tuple[str, bool]] = {}


# Batches of up to this many rows are inserted with VALUES, larger ones as Django does (on
# PostgreSQL, one array per column with UNNEST). UNNEST saves planning a long VALUES list, but a
# statement of a cached shape is prepared by the connection anyway (`prepare_threshold`), and
# psycopg adapts an array in Python (its type, its text form) where it adapts a scalar in C: a
# change's few events, offers and task rows cost less as scalars.
VALUES_MAX_ROWS = 16


def _compiled_insert(model: type[Model], fields: list, objs: Sequence[Model], connection) -> tuple[str, list]:
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    if len(objs) <= VALUES_MAX_ROWS:  # the generic compiler's VALUES form
        compiler.assemble_as_sql = MethodType(GenericInsertCompiler.assemble_as_sql, compiler)
    ((sql, params),) = compiler.as_sql()
    return sql, list(params)


# On PostgreSQL, these fields' `get_db_prep_save` hands a value of its exact type back unchanged
# (a UUID, a str, a bool, a float, an aware datetime) or, an int, wrapped in the column's integer
# type: `_preparers` does that without the call. A field subclass, a value of another type or a
# naive datetime goes through the field as usual.
# (AutoField and BigAutoField are not here: Django hands their int back unwrapped.)
_AS_IS: dict[type, type] = {
    models.UUIDField: uuid.UUID,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.FloatField: float,
    models.DateTimeField: datetime.datetime,
}
_PREPARERS: dict[tuple, list] = {}


def _prepared(field, value, connection):
    return field.get_db_prep_save(value, connection=connection)


def _preparer(field, connection):
    """The function that prepares `field`'s values for `connection` as `get_db_prep_save` does."""
    target = field.target_field if field.is_relation and field.many_to_one else field
    kind = _AS_IS.get(type(target)) if connection.vendor == "postgresql" else None
    if kind is None or type(target).get_db_prep_save is not models.Field.get_db_prep_save:
        return lambda field, value: _prepared(field, value, connection)
    if kind is datetime.datetime:
        return lambda field, value: (
            value
            if type(value) is datetime.datetime and value.tzinfo is not None
            else _prepared(field, value, connection)
        )
    if kind is int:  # psycopg 3: Django wraps it in the column's integer type (Int2, Int4, Int8)
        wrap = getattr(connection.ops, "integerfield_type_map", {}).get(target.get_internal_type())
        if wrap is None:
            return lambda field, value: _prepared(field, value, connection)
        return lambda field, value: (
            None if value is None else wrap(value) if type(value) is int else _prepared(field, value, connection)
        )
    return lambda field, value: value if value is None or type(value) is kind else _prepared(field, value, connection)


def _preparers(model: type[Model], fields: list, connection) -> list:
    key = (connection.alias, model, tuple(fields))
    found = _PREPARERS.get(key)
    if found is None:
        if len(_PREPARERS) >= _CACHE_MAX:
            _PREPARERS.clear()
        found = _PREPARERS[key] = [(field, _preparer(field, connection)) for field in fields]
    return found


def insert_sql(model: type[Model], fields: list, objs: Sequence[Model], connection) -> tuple[str, list]:
    """The INSERT of `objs` that Django's compiler builds (what `bulk_create` runs), with its SQL
    compiled once per shape: later batches of the same model, fields and number of rows only
    prepare their values (`pre_save`, `get_db_prep_save`, as the compiler does) and lay them out
    as the compiled statement takes them: one parameter per value (VALUES), or one array per
    column (PostgreSQL's UNNEST form for several rows). A value that is an expression, which
    changes the SQL, is compiled every time."""
    prepare = _preparers(model, fields, connection)
    rows = [[prep(field, field.pre_save(obj, True)) for field, prep in prepare] for obj in objs]
    if any(hasattr(value, "as_sql") or hasattr(value, "resolve_expression") for row in rows for value in row):
        return _compiled_insert(model, fields, objs, connection)
    key = (connection.alias, model, tuple(fields), len(objs))
    cached = _INSERT_SQL.get(key)
    if cached is None:
        sql, params = _compiled_insert(model, fields, objs, connection)
        by_column = (
            len(objs) > 1
            and len(params) == len(fields)
            and all(isinstance(p, list) and len(p) == len(objs) for p in params)
        )
        if len(params) == (len(fields) if by_column else len(fields) * len(objs)):
            if len(_INSERT_SQL) >= _CACHE_MAX:
                _INSERT_SQL.clear()
            _INSERT_SQL[key] = (sql, by_column)
        return sql, params
    sql, by_column = cached
    if by_column:
        return sql, [list(column) for column in zip(*rows, strict=True)]
    return sql, [value for row in rows for value in row]


def insert_together(
    batches: Sequence[tuple[type[Model], Sequence[Model]]],
    *,
    update: tuple[Model, Sequence[str]] | None = None,
    head: tuple[str, Sequence] | None = None,
    computed: tuple[Model, dict[str, tuple[str, Sequence]]] | None = None,
    returning: str | None = None,
) -> tuple | None:
    """Inserts new rows of several models, batch by batch, in the caller's transaction, after
    `update` = (obj, fields): an UPDATE of those fields of an existing row (a locked order).

    On PostgreSQL, the update and the batches go into ONE statement (when there are two or more
    of them): every statement but the last becomes a data-modifying CTE (`WITH b0 AS (UPDATE
    ...), b1 AS (INSERT ...) INSERT ...`). Each statement is built by Django's own compilers, so
    values are prepared exactly as `save` and `bulk_create` prepare them. Elsewhere (SQLite has
    no data-modifying CTE), the update is one statement and each batch one `bulk_create`.

    Preconditions: inside `transaction.atomic()`; every object's primary key is set before the
    call (UUID defaults), since nothing is read back, except for a model whose key the database
    assigns (an AutoField, e.g. a tag link): that batch leaves its key out and its objects keep
    `pk = None`; plain models (no multi-table inheritance); rows that reference each other do so
    through foreign keys, which Django creates deferrable (checked at commit); the updated row
    exists (it is locked by the caller). Like `bulk_create`, sends no model signals.

    PostgreSQL only, for a statement that must compute some values itself (Create Order takes
    the organization's next number in the statement that inserts the order):
    - `head` = (sql, params): a data-modifying statement that comes first, as the CTE `head`
      (e.g. an `UPDATE ... RETURNING`);
    - `computed` = (obj, {field name: (sql, params)}): SQL expressions (they may read `head`)
      for those fields of `obj`, which must be alone in its batch; their attributes are left as
      they are;
    - `returning`: added to the last statement; its first row is returned.
    """
    batches = [(model, list(objs)) for model, objs in batches if objs]
    if not batches and update is None:
        return None
    using = router.db_for_write(batches[0][0] if batches else type(update[0]))
    connection = connections[using]
    statements: list[str] = []
    params: list = []
    if head is not None or computed is not None or returning is not None:
        if connection.vendor != "postgresql" or not batches:
            raise ValueError("head, computed and returning need PostgreSQL and rows to insert.")
        if head is not None:
            statements.append(head[0])
            params.extend(head[1])
    if update is not None:
        obj, fields = update
        if router.db_for_write(type(obj)) != using:
            raise ValueError(f"{type(obj).__name__} is not written to the {using!r} database.")
        sql, sql_params = _update_sql(obj, fields, connection)
        if connection.vendor != "postgresql" or not batches:
            with connection.cursor() as cursor:
                cursor.execute(sql, sql_params)
        else:
            statements.append(sql)
            params.extend(sql_params)
    if not batches:
        return None
    if connection.vendor != "postgresql" or (len(batches) + len(statements) == 1 and computed is None):
        for model, objs in batches:
            model._default_manager.db_manager(using).bulk_create(objs)
        if returning is not None:
            raise ValueError("returning needs one statement")
        return None
    for model, objs in batches:
        if router.db_for_write(model) != using:
            raise ValueError(f"{model.__name__} is not written to the {using!r} database.")
        pk_field = model._meta.pk
        database_key = getattr(pk_field, "db_returning", False) and all(obj.pk is None for obj in objs)
        for obj in objs:
            if obj.pk is None and not database_key:
                raise ValueError(f"insert_together needs the primary key of every {model.__name__} set.")
            obj._prepare_related_fields_for_save(operation_name="insert_together")
        fields = [f for f in model._meta.concrete_fields if not f.generated and not (database_key and f is pk_field)]
        sql, sql_params = insert_sql(model, fields, objs, connection)
        if computed is not None and computed[0] in objs:
            sql, sql_params = _with_computed(sql, sql_params, fields, objs, computed[1])
        statements.append(sql)
        params.extend(sql_params)
    *ctes, last = statements
    names = [f"b{index}" for index in range(len(ctes))]
    if head is not None:
        names[0] = "head"
    with_clause = ", ".join(f"{name} AS ({sql})" for name, sql in zip(names, ctes, strict=True))
    if returning is not None:
        last = f"{last} RETURNING {returning}"
    row = None
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {with_clause} {last}" if ctes else last, params)
        if returning is not None:
            row = cursor.fetchone()
    for _, objs in batches:
        for obj in objs:
            obj._state.adding, obj._state.db = False, using
    return row


def _with_computed(sql: str, params: list, fields: list, objs: list, expressions: dict) -> tuple[str, list]:
    """A one-row `INSERT ... VALUES (%s, ...)` with some values replaced by SQL expressions."""
    if len(objs) != 1:
        raise ValueError("computed values need their object alone in its batch")
    placeholders = ", ".join(["%s"] * len(fields))
    if not sql.endswith(f"VALUES ({placeholders})") or len(params) != len(fields):
        raise ValueError("computed values need a plain VALUES insert")
    values, new_params = [], []
    for field, param in zip(fields, params, strict=True):
        if field.name in expressions:
            expression, expression_params = expressions[field.name]
            values.append(expression)
            new_params.extend(expression_params)
        else:
            values.append("%s")
            new_params.append(param)
    head = sql[: -len(f"VALUES ({placeholders})")]
    return f"{head}VALUES ({', '.join(values)})", new_params
