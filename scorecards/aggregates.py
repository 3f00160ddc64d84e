"""Database expressions the scorecard query needs on PostgreSQL and SQLite alike.

- `Median`: `percentile_cont(0.5) WITHIN GROUP (ORDER BY x)` on PostgreSQL; on SQLite an
  aggregate `scorecard_median(x)` registered on every new connection (`connection_created`,
  sqlite3's `create_aggregate`), the same interpolated median (`statistics.median`).
- `Seconds(end, start)`: `end - start` in seconds, as a float.
- `JSONArrayAgg(x)`: the values as a JSON array (`json_agg` / `json_group_array`).
"""

from __future__ import annotations

import statistics

from django.db.models import Aggregate, FloatField, Func, JSONField

SQLITE_MEDIAN = "scorecard_median"


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def register_sqlite_median(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: gives every SQLite connection the median aggregate."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _SqliteMedian)


class Median(Aggregate):
    """The median of a numeric expression (NULLs ignored); None when there is no value."""

    function = SQLITE_MEDIAN
    name = "Median"
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function = "PERCENTILE_CONT"
        clone.template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
        return clone.as_sql(compiler, connection, **extra_context)


class Seconds(Func):
    """`end - start` in seconds (a float); NULL when either is NULL."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra_context,
        )


class JSONArrayAgg(Aggregate):
    """The values as a JSON array; NULL (PostgreSQL) or [] (SQLite) when there is none."""

    function = "JSON_GROUP_ARRAY"
    name = "JSONArrayAgg"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function = "JSON_AGG"
        return clone.as_sql(compiler, connection, **extra_context)
