"""Model instances from the columns of a raw SQL row, built as the ORM builds them
(`Model.from_db`, each field's database converters). Used only by the fast paths listed in
docs/performance.md, each of which a test compares with its ORM version."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs a prepared statement with its values in place, as Django logs its own statements
    (psycopg does not keep the text of a statement it ran prepared)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


def prepared_cursor(connection: Any) -> CursorWrapper:
    """A cursor for a fast path's fixed statement, which PostgreSQL then plans once per
    connection and keeps: the parameters are bound on the server (a psycopg `Cursor` on Django's
    connection) and psycopg prepares the statement (`prepare_threshold` in the database's
    OPTIONS, setting `DB_PREPARED_STATEMENTS`). Django's own cursors bind on the client and are
    never prepared, so a list's filtered query is planned for its values every time, as it
    should be. The cursor is wrapped as Django wraps its own, so query logging,
    `CaptureQueriesContext` and execute wrappers see its statements."""
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return _PreparedDebugCursor(raw, connection)
    return connection.make_cursor(raw)


class RowShape:
    """One model's columns in a statement: `columns` for its SELECT list (qualified by the
    statement's alias for the model's table), `take` to build the instance from a row."""

    def __init__(self, connection: Any, model: type[Model], alias: str, fields: Iterable[Field] | None = None):
        chosen = list(model._meta.concrete_fields if fields is None else fields)
        quote = connection.ops.quote_name
        self.model = model
        self.table = f"{quote(model._meta.db_table)} {alias}"
        self.names = [f.attname for f in chosen]
        self.columns = ", ".join(f"{alias}.{quote(f.column)}" for f in chosen)
        self._converters = [(i, f.get_db_converters(connection)) for i, f in enumerate(chosen)]
        self._converters = [(i, found) for i, found in self._converters if found]
        self._connection = connection
        self.width = len(self.names)

    def take(self, row: Sequence[Any], start: int) -> tuple[Model | None, int]:
        """The instance from `row[start:]` (None when its primary key is null: an outer join
        that found nothing), and where the next model's columns start."""
        end = start + len(self.names)
        values = list(row[start:end])
        if values[0] is None:
            return None, end
        for i, converters in self._converters:
            for convert in converters:
                values[i] = convert(values[i], None, self._connection)
        return self.model.from_db(self._connection.alias, self.names, values), end
