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


def insert_together(
    batches: Sequence[tuple[type[Model], Sequence[Model]]],
    *,
    update: tuple[Model, Sequence[str]] | None = None,
) -> None:
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
    """
    batches = [(model, list(objs)) for model, objs in batches if objs]
    if not batches and update is None:
        return
    using = router.db_for_write(batches[0][0] if batches else type(update[0]))
    connection = connections[using]
    statements: list[str] = []
    params: list = []
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
        return
    if len(batches) + len(statements) == 1 or connection.vendor != "postgresql":
        for model, objs in batches:
            model._default_manager.db_manager(using).bulk_create(objs)
        return
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
        query = InsertQuery(model)
        query.insert_values(fields, objs)
        ((sql, sql_params),) = query.get_compiler(connection=connection).as_sql()
        statements.append(sql)
        params.extend(sql_params)
    *ctes, last = statements
    with_clause = ", ".join(f"b{index} AS ({sql})" for index, sql in enumerate(ctes))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {with_clause} {last}", params)
    for _, objs in batches:
        for obj in objs:
            obj._state.adding, obj._state.db = False, using
