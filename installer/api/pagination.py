"""Lists: `{"values": [...], "count": N}` with `page` (0-based), `pageSize` (default 25, max 500)
and `direction`; or `cursor` for high-volume sync: `{"values": [...], "nextCursor": ...}`, no count.

Keyset pagination over (created_at, id): a deep cursor page costs the same as the first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Hashable

from django.conf import settings
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500


def _int_param(params, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({name: ["Must be an integer."]}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValidationError({name: [f"Must be {bounds}."]})
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


class CountCache:
    """Counts of big lists, kept a few seconds per process (LIST_COUNT_CACHE_SECONDS, counts of at
    least LIST_COUNT_CACHE_MIN rows). A COUNT over tens of thousands of matching orders costs
    hundreds of milliseconds at a million orders, and clients that sync poll the same filters
    again and again; below the threshold counts are always exact and fresh. Per process: no
    query, nothing shared, bounded (MAX_ENTRIES, least recently used first out).

    One COUNT at a time per key and process: requests that arrive while it runs wait for its
    result instead of running the same COUNT side by side (16 of them on two cores took seconds),
    and once a kept count has expired, one request recounts while the others are answered with
    the expired count (at most twice LIST_COUNT_CACHE_SECONDS old)."""

    MAX_ENTRIES = 1024

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()  # key: (fresh until, count)
        self._flights: dict[Hashable, threading.Event] = {}

    @staticmethod
    def seconds() -> float:
        return getattr(settings, "LIST_COUNT_CACHE_SECONDS", 0)

    def count(self, key: Hashable, compute) -> int:
        """The kept count for `key`, else `compute()` (kept when big enough)."""
        seconds = self.seconds()
        if seconds <= 0:
            return compute()
        with self._lock:
            now = time.monotonic()
            entry = self._entries.get(key)
            if entry is not None and now < entry[0]:
                self._entries.move_to_end(key)
                return entry[1]
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = threading.Event()
                leader = True
            elif entry is not None and now < entry[0] + seconds:
                return entry[1]  # expired, being recounted by another request
            else:
                leader = False
        if leader:
            try:
                value = compute()
                self.put(key, value)
                return value
            finally:
                with self._lock:
                    self._flights.pop(key, None)
                flight.set()
        flight.wait(timeout=60)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and time.monotonic() < entry[0]:
                return entry[1]
        return compute()  # a small count (not kept), or the other request failed

    def get(self, key: Hashable) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= time.monotonic():
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, count: int) -> None:
        seconds = self.seconds()
        if seconds <= 0 or count < getattr(settings, "LIST_COUNT_CACHE_MIN", 10_000):
            return
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, count)
            self._entries.move_to_end(key)
            while len(self._entries) > self.MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


counts = CountCache()


class Page:
    """Applies paging to a queryset ordered by (created_at, id); `direction` picks the way."""

    def __init__(self, request, *, time_field: str = "created_at"):
        params = request.query_params
        self.page_size = _int_param(params, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        direction = params.get("direction", "desc") or "desc"
        if direction not in ("asc", "desc"):
            raise ValidationError({"direction": ["Must be 'asc' or 'desc'."]})
        self.descending = direction == "desc"
        self.cursor = params.get("cursor")
        self.use_cursor = self.cursor is not None
        self.page = 0 if self.use_cursor else _int_param(params, "page", 0, 0)
        self.time_field = time_field

    def ordering(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{self.time_field}", f"{sign}id"]

    def apply(self, queryset: QuerySet, *, count_key: Hashable = None) -> tuple[list, dict]:
        """Returns (rows, extra) where extra is {"count": N} or {"nextCursor": ...}.
        `count_key`: what identifies the filtered list (caller and filters), to keep the count
        of a big list a few seconds (CountCache); None counts every time."""
        queryset = queryset.order_by(*self.ordering())
        if self.use_cursor:
            if self.cursor:
                created, pk = decode_cursor(self.cursor)
                op = "lt" if self.descending else "gt"
                # The first condition is implied by the second; it is there for the index: the
                # scan of (..., created_at, id) starts at the cursor instead of filtering from
                # the first row (a deep page would cost as much as reading every newer row).
                queryset = queryset.filter(
                    Q(**{f"{self.time_field}__{op}e": created}),
                    Q(**{f"{self.time_field}__{op}": created}) | Q(**{self.time_field: created, f"id__{op}": pk}),
                )
            rows = list(queryset[: self.page_size + 1])
            more = len(rows) > self.page_size
            rows = rows[: self.page_size]
            next_cursor = encode_cursor(*self._cursor_key(rows[-1])) if more and rows else None
            return rows, {"nextCursor": next_cursor}
        start = self.page * self.page_size
        rows = list(queryset[start : start + self.page_size])
        if self.page == 0 and len(rows) < self.page_size:
            return rows, {"count": len(rows)}
        if count_key is None:
            return rows, {"count": queryset.order_by().count()}
        return rows, {"count": counts.count(count_key, queryset.order_by().count)}

    def apply_ids(self, queryset: QuerySet, *, count_key: Hashable = None) -> tuple[list, dict]:
        """Like `apply`, but reads only the page's primary keys, in page order: the caller reads
        the rows by id (a query it can compile once: installer.compiled), so the filtered query
        stays narrow whatever the rows join."""
        rows, extra = self.apply(queryset.values_list("pk", self.time_field), count_key=count_key)
        return [pk for pk, _ in rows], extra

    def _cursor_key(self, row) -> tuple:
        if isinstance(row, tuple):
            return row[1], row[0]
        return getattr(row, self.time_field), row.pk
