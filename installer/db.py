"""Database plumbing shared by the apps' services."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Model
from django.db.models.sql import InsertQuery, UpdateQuery


def _update_sql(obj: Model, fields: Sequence[str], connection) -> tuple[str, list]:
    """`obj.save(update_fields=fields)`'s UPDATE, as SQL (no signals; auto_now fields are not
    touched: the caller sets what it writes)."""
    model = type(obj)
    query = UpdateQuery(model)
    query.add_update_fields(
        [(field, None, field.pre_save(obj, False)) for field in (model._meta.get_field(name) for name in fields)]
    )
    query.add_filter("pk", obj.pk)
    sql, params = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


# INSERT statements by (database, model, fields, number of rows): the SQL of a batch of the
# same shape is the same, only its values differ (`insert_sql`).
_INSERT_SQL: dict[tuple, tuple[str, bool]] = {}
_INSERT_SQL_MAX = 512


def _compiled_insert(model: type[Model], fields: list, objs: Sequence[Model], connection) -> tuple[str, list]:
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    ((sql, params),) = query.get_compiler(connection=connection).as_sql()
    return sql, list(params)


def insert_sql(model: type[Model], fields: list, objs: Sequence[Model], connection) -> tuple[str, list]:
    """The INSERT of `objs` that Django's compiler builds (what `bulk_create` runs), with its SQL
    compiled once per shape: later batches of the same model, fields and number of rows only
    prepare their values (`pre_save`, `get_db_prep_save`, as the compiler does) and lay them out
    as the compiled statement takes them: one parameter per value (VALUES), or one array per
    column (PostgreSQL's UNNEST form for several rows). A value that is an expression, which
    changes the SQL, is compiled every time."""
    rows = [
        [field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in fields] for obj in objs
    ]
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
            if len(_INSERT_SQL) >= _INSERT_SQL_MAX:
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
