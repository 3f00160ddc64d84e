"""Database plumbing shared by the apps' services."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, router
from django.db.models import Model
from django.db.models.sql import InsertQuery


def insert_together(batches: Sequence[tuple[type[Model], Sequence[Model]]]) -> None:
    """Inserts new rows of several models, batch by batch, in the caller's transaction.

    On PostgreSQL, two or more batches go into ONE statement: every batch but the last becomes
    a data-modifying CTE (`WITH b0 AS (INSERT ...), b1 AS (INSERT ...) INSERT ...`). Each
    INSERT is built by Django's own insert compiler, so values are prepared exactly as
    `bulk_create` prepares them. Elsewhere (SQLite has no data-modifying CTE), and for a single
    batch, each batch is one `bulk_create`.

    Preconditions: inside `transaction.atomic()`; every object's primary key is set before the
    call (UUID defaults), since nothing is read back, except for a model whose key the database
    assigns (an AutoField, e.g. a tag link): that batch leaves its key out and its objects keep
    `pk = None`; plain models (no multi-table
    inheritance); rows that reference each other do so through foreign keys, which Django
    creates deferrable (checked at commit). Like `bulk_create`, sends no model signals.
    """
    batches = [(model, list(objs)) for model, objs in batches if objs]
    if not batches:
        return
    using = router.db_for_write(batches[0][0])
    connection = connections[using]
    if len(batches) == 1 or connection.vendor != "postgresql":
        for model, objs in batches:
            model._default_manager.db_manager(using).bulk_create(objs)
        return
    statements: list[str] = []
    params: list = []
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
