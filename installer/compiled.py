"""Compiled queries: the ORM's SQL for a hot read, built once per thread, then only re-bound.

Django compiles a QuerySet to SQL on every evaluation. For the hottest reads of the API (the
token lookup of every request, Get Order, the tags and files of a page of orders) that
compilation was most of the request's CPU: hundreds of quoted column names for the joined rows,
the ordering, the joins, the UNION. A `CompiledQuery` runs the ORM once per (database alias,
thread) with *sentinel* arguments, finds each sentinel among the compiled parameters, and from
then on executes the same SQL with the real arguments put in their places, turning the rows
into model instances the way Django's own iterables do (select_related objects, converters,
annotations) or into tuples for `values_list()` querysets.

The ORM stays the single definition of each query: `build(*args)` returns an ordinary QuerySet
and the compiled SQL is exactly what Django would have run. When a sentinel cannot be found in
the parameters (the ORM transformed the value, e.g. a LIKE pattern, or the query's shape
depends on the value), the query is not cached and is evaluated by the ORM every time, so the
answer is always right; only the shortcut is lost.

Rules for `build`: use each argument only as a value to compare with (filter values, `__in`
lists); a list argument gets one sentinel per element, so the SQL depends on its length: pass
`key=len(list)` (the cache holds one compiled query per key). Supported argument types: UUID,
int, str, datetime (and lists of them).
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import JSONField, Model, QuerySet, prefetch_related_objects
from django.db.models.fields.json import KeyTransform
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.transaction import TransactionManagementError

_UNCACHEABLE = object()

# A run of 19 or more digits may be an integer beyond 64 bits, which orjson reads as a float:
# such a document is read by the json module, exactly as Django reads it.
_LONG_NUMBER = re.compile(r"[0-9]{19}")


def loads_exact(text: str):
    """A JSON document as Django's JSONField reads it (the json module), with orjson where that
    gives the same values: not for an integer beyond 64 bits (orjson reads it as a float), nor
    what orjson refuses (a lone surrogate, an infinity)."""
    if not _LONG_NUMBER.search(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _json_from_db(value, expression, connection):
    """`JSONField.from_db_value` (default decoder) with orjson: the same values, several times
    faster on a page of orders (every order row has several JSON columns). Whatever orjson would read
    differently (an integer beyond 64 bits) or refuses (a lone surrogate, an infinity) goes
    through the json module as Django does."""
    if value is None:
        return value
    if isinstance(expression, KeyTransform) and not isinstance(value, str):
        return value
    try:
        return loads_exact(value) if isinstance(value, str) else json.loads(value)
    except json.JSONDecodeError:
        return value


def _fast_converters(converters: dict) -> dict:
    """The compiler's converters with the default-decoder JSONField ones swapped for
    `_json_from_db`."""
    swapped = {}
    for position, (functions, expression) in converters.items():
        functions = [
            _json_from_db
            if getattr(f, "__func__", None) is JSONField.from_db_value and f.__self__.decoder is None
            else f
            for f in functions
        ]
        swapped[position] = (functions, expression)
    return swapped


def _sentinel(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (1 << 60) + secrets.randbits(56)
    if isinstance(value, str):
        return "~sentinel~" + secrets.token_hex(12)
    if isinstance(value, datetime.datetime):
        return datetime.datetime(1970, 1, 2, tzinfo=datetime.UTC) + datetime.timedelta(
            microseconds=secrets.randbits(40)
        )
    return None


def _holds_sentinel(param: Any, flat: list) -> bool:
    """Whether a query parameter has a sentinel's text in it (a LIKE pattern made of one, say)."""
    if not isinstance(param, (str, bytes)):
        return False
    text = param if isinstance(param, str) else param.decode("latin-1")
    for _, _, sentinel in flat:
        forms = [str(sentinel)]
        if isinstance(sentinel, uuid.UUID):
            forms.append(sentinel.hex)
        elif isinstance(sentinel, datetime.datetime):
            forms.append(sentinel.isoformat())
        if any(form in text for form in forms):
            return True
    return False


def _transforms(value: Any, connection) -> list[Callable[[Any], Any]]:
    """Ways the ORM may have turned an argument into a query parameter, on any backend."""
    identity = [lambda v: v]
    if isinstance(value, uuid.UUID):
        return [*identity, lambda v: v.hex, str]
    if isinstance(value, datetime.datetime):
        return [*identity, connection.ops.adapt_datetimefield_value]
    return identity


class _Entry:
    __slots__ = (
        "annotation_col_map",
        "col_count",
        "compiler",
        "converters",
        "end",
        "for_update",
        "init_list",
        "kind",
        "model_cls",
        "populators",
        "prefetch",
        "slots",
        "sql",
        "start",
    )


class CompiledQuery:
    """`CompiledQuery(Model, build)`; `fetch(*args, key=None, write=False)` -> list of model instances
    (or of tuples for a `values_list()` query), exactly what `list(build(*args))` would give."""

    # Compiled queries kept per thread (least recently used out): keys such as a page length
    # come from the client, so the cache must not grow with what clients send.
    max_entries = 32

    def __init__(self, model: type[Model], build: Callable[..., QuerySet]):
        self.model = model  # for the database router: which alias reads (or writes) it
        self.build = build
        self._local = threading.local()

    # -- preparing ---------------------------------------------------------------------------
    def _prepare(self, args: tuple, alias: str):
        """An _Entry; _UNCACHEABLE when this query cannot be re-bound (the ORM transformed an
        argument); None when these arguments cannot make sentinels (evaluate, don't cache)."""
        flat: list[Any] = []  # (argument index, element index or None, sentinel)
        sentinel_args = []
        for index, value in enumerate(args):
            if isinstance(value, (list, tuple)):
                items = []
                for position, item in enumerate(value):
                    sentinel = _sentinel(item)
                    if sentinel is None:
                        return None
                    flat.append((index, position, sentinel))
                    items.append(sentinel)
                sentinel_args.append(items)
            else:
                sentinel = _sentinel(value)
                if sentinel is None:
                    return None
                flat.append((index, None, sentinel))
                sentinel_args.append(sentinel)
        queryset = self.build(*sentinel_args)
        if (
            queryset._iterable_class not in (ModelIterable, ValuesListIterable)
            or queryset._known_related_objects
            or any(not isinstance(lookup, str) for lookup in queryset._prefetch_related_lookups)
        ):
            return _UNCACHEABLE  # (a Prefetch's queryset would keep the sentinels)
        connection = connections[alias]
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            # An argument the ORM judged before it became a parameter (an integer beyond the
            # column's range: the sentinel's): not cacheable, and not worth trying again.
            return _UNCACHEABLE
        found = set()
        slots = []
        for param in params:
            for index, position, sentinel in flat:
                transform = next((t for t in _transforms(sentinel, connection) if t(sentinel) == param), None)
                if transform is not None:
                    slots.append((index, position, transform))
                    found.add((index, position))
                    break
            else:
                if _holds_sentinel(param, flat):
                    # An argument the ORM also used transformed (`q`: equal to one column, LIKE
                    # '%...%' another): this parameter would be kept with the sentinel in it.
                    return _UNCACHEABLE
                slots.append((None, None, param))  # a constant of the query
        if len(found) != len(flat):
            return _UNCACHEABLE
        entry = _Entry()
        entry.sql, entry.slots, entry.compiler = sql, slots, compiler
        entry.col_count = compiler.col_count if compiler.has_extra_select else None
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        entry.converters = _fast_converters(compiler.get_converters(fields))
        entry.prefetch = queryset._prefetch_related_lookups
        entry.for_update = queryset.query.select_for_update
        if queryset._iterable_class is ModelIterable:
            entry.kind = "model"
            select, klass_info = compiler.select, compiler.klass_info
            entry.model_cls = klass_info["model"]
            select_fields = klass_info["select_fields"]
            entry.start, entry.end = select_fields[0], select_fields[-1] + 1
            entry.init_list = [f[0].target.attname for f in select[entry.start : entry.end]]
            entry.populators = get_related_populators(klass_info, select, alias)
            entry.annotation_col_map = compiler.annotation_col_map
        else:
            entry.kind = "tuples"
        return entry

    # -- running -----------------------------------------------------------------------------
    def fetch(self, *args, key: Hashable = None, write: bool = False) -> list:
        alias = router.db_for_write(self.model) if write else router.db_for_read(self.model)
        alias = alias or "default"
        connection = connections[alias]
        entries = getattr(self._local, "entries", None)
        if entries is None:
            entries = self._local.entries = OrderedDict()
        entry = entries.get((alias, key))
        if entry is None or (entry is not _UNCACHEABLE and entry.compiler.connection is not connection):
            entry = self._prepare(args, alias)
            if entry is not None:
                entries[(alias, key)] = entry
                if len(entries) > self.max_entries:  # e.g. every pageSize from 1 to 500
                    entries.popitem(last=False)
        else:
            entries.move_to_end((alias, key))
        if entry is None or entry is _UNCACHEABLE:
            return list(self.build(*args).using(alias))
        if entry.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = [
            value if index is None else value(args[index] if position is None else args[index][position])
            for index, position, value in entry.slots
        ]
        with connection.cursor() as cursor:
            cursor.execute(entry.sql, params)
            rows = cursor.fetchall()
        if entry.col_count is not None:
            rows = [row[: entry.col_count] for row in rows]
        if entry.converters:
            rows = list(entry.compiler.apply_converters(rows, entry.converters))
        if entry.kind == "tuples":
            return [tuple(row) for row in rows]
        objects = []
        model_cls, init_list, start, end = entry.model_cls, entry.init_list, entry.start, entry.end
        populators, annotations = entry.populators, entry.annotation_col_map
        for row in rows:
            obj = model_cls.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            if annotations:
                for attr_name, col_pos in annotations.items():
                    setattr(obj, attr_name, row[col_pos])
            objects.append(obj)
        if entry.prefetch and objects:
            prefetch_related_objects(objects, *entry.prefetch)
        return objects
