"""Lists: `{"values": [...], "count": N}` with `page` (0-based), `pageSize` (default 25, max 500)
and `direction`; or `cursor` for high-volume sync: `{"values": [...], "nextCursor": ...}`, no count.

Keyset pagination over (created_at, id): a deep cursor page costs the same as the first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re
import time
import uuid
from collections.abc import Hashable

from django.conf import settings
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from installer.caching import kept

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500
# The last page number: page x pageSize stays far below 2^63, the largest OFFSET the databases
# take, at any page size.
MAX_PAGE = 10**16

INTEGER = re.compile(r"-?[0-9]+")

# The paging query parameters of every paged list, with the bounds `Page` enforces.
PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 0, "maximum": MAX_PAGE},
        description=f"0-based page number, at most {MAX_PAGE}",
    ),
    OpenApiParameter(
        "pageSize",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        description=f"1-{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}",
    ),
]
DIRECTION_PARAMETER = OpenApiParameter("direction", OpenApiTypes.STR, enum=["asc", "desc"])
CURSOR_PARAMETER = OpenApiParameter("cursor", OpenApiTypes.STR, description="keyset cursor; empty for the first page")
LIST_PARAMETERS = [*PAGE_PARAMETERS, DIRECTION_PARAMETER, CURSOR_PARAMETER]


def _int_param(params, name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter within [minimum, maximum]; absent is `default`, present but
    empty or out of bounds is a 400."""
    raw = params.get(name)
    if raw is None:
        return default
    if not isinstance(raw, str) or not INTEGER.fullmatch(raw):
        raise ValidationError({name: ["Must be an integer."]})
    out_of_bounds = ValidationError({name: [f"Must be between {minimum} and {maximum}."]})
    if len(raw) > 20:  # beyond every bound, and long digit strings are slow to convert
        raise out_of_bounds
    value = int(raw)
    if value < minimum or value > maximum:
        raise out_of_bounds
    return value


def encode_cursor(created_at: datetime.datetime, pk: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|", 1)
        return datetime.datetime.fromisoformat(created), uuid.UUID(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor."]}) from None


def _count_cache_key(key: Hashable) -> str:
    return "list-count:" + hashlib.sha256(repr(key).encode()).hexdigest()


def list_count(queryset: QuerySet, key: Hashable | None) -> int:
    """The number of rows of the (unordered) list. With `key` (what identifies the list: whose
    rows, which filters), a count that is big (LIST_COUNT_CACHE_MIN rows or more) or slow
    (LIST_COUNT_CACHE_SLOW_MS or more) is kept in the cache framework (Redis or the database
    cache), shared by every process, for LIST_COUNT_CACHE_SECONDS; then one request counts again
    while the others answer the kept count (`installer.caching.kept`). A small, quick count is
    always exact and fresh."""
    seconds = getattr(settings, "LIST_COUNT_CACHE_SECONDS", 0)
    if key is None or seconds <= 0:
        return queryset.count()
    took_ms = 0.0

    def count() -> int:
        nonlocal took_ms
        started = time.perf_counter()
        value = queryset.count()
        took_ms = (time.perf_counter() - started) * 1000
        return value

    def big_or_slow(value: int) -> bool:
        return took_ms >= getattr(settings, "LIST_COUNT_CACHE_SLOW_MS", 10) or value >= getattr(
            settings, "LIST_COUNT_CACHE_MIN", 10_000
        )

    return int(kept(_count_cache_key(key), seconds, count, keep=big_or_slow))


def keyset_after(queryset: QuerySet, time_field: str, descending: bool, moment, pk) -> QuerySet:
    """The rows after the cursor (moment, pk) in the order (time_field, id), either way. The
    first condition is implied by the second; it is there for the index: the scan of
    (..., time_field, id) starts at the cursor instead of filtering from the first row (a deep
    page would cost as much as reading every newer row)."""
    op = "lt" if descending else "gt"
    return queryset.filter(
        Q(**{f"{time_field}__{op}e": moment}),
        Q(**{f"{time_field}__{op}": moment}) | Q(**{time_field: moment, f"id__{op}": pk}),
    )


class Page:
    """Applies paging to a queryset ordered by (created_at, id); `direction` picks the way."""

    def __init__(self, request, *, time_field: str = "created_at"):
        params = request.query_params
        self.page_size = _int_param(params, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        direction = params.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise ValidationError({"direction": ["Must be 'asc' or 'desc'."]})
        self.descending = direction == "desc"
        self.cursor = params.get("cursor")
        self.use_cursor = self.cursor is not None
        page = _int_param(params, "page", 0, 0, MAX_PAGE)  # checked even where a cursor pages
        self.page = 0 if self.use_cursor else page
        self.time_field = time_field

    def ordering(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{self.time_field}", f"{sign}id"]

    def apply(self, queryset: QuerySet, *, count_key: Hashable = None) -> tuple[list, dict]:
        """Returns (rows, extra) where extra is {"count": N} or {"nextCursor": ...}.
        `count_key`: what identifies the filtered list (caller and filters), to keep the count
        of a big list a few seconds (`list_count`); None counts every time."""
        ordered = queryset.order_by(*self.ordering())
        if self.use_cursor:
            if self.cursor:
                moment, pk = decode_cursor(self.cursor)
                ordered = keyset_after(ordered, self.time_field, self.descending, moment, pk)
            rows = list(ordered[: self.page_size + 1])
            more = len(rows) > self.page_size
            rows = rows[: self.page_size]
            next_cursor = encode_cursor(*self._cursor_key(rows[-1])) if more and rows else None
            return rows, {"nextCursor": next_cursor}
        start = self.page * self.page_size
        rows = list(ordered[start : start + self.page_size])
        if self.page == 0 and len(rows) < self.page_size:
            return rows, {"count": len(rows)}
        return rows, {"count": list_count(queryset.order_by(), count_key)}

    def _cursor_key(self, row) -> tuple:
        if isinstance(row, tuple):
            return row[1], row[0]
        return getattr(row, self.time_field), row.pk
