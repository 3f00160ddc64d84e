"""Lists: `{"values": [...], "count": N}` with `page` (0-based), `pageSize` (default 25, max 500)
and `direction`; or `cursor` for high-volume sync: `{"values": [...], "nextCursor": ...}`, no count.

Keyset pagination over (created_at, id): a deep cursor page costs the same as the first.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
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
    least LIST_COUNT_CACHE_MIN rows, or counts that took LIST_COUNT_CACHE_SLOW_MS or more). A
    COUNT over tens of thousands of matching orders costs hundreds of milliseconds at a million
    orders, and clients that sync poll the same filters again and again; a small count that is
    quick to take is always exact and fresh. Per process: no
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

    def count(self, key: Hashable, compute, queryset: QuerySet | None = None) -> int:
        """The kept count for `key`, else `compute()` (kept when big enough). With `queryset`
        (what `compute` counts) on PostgreSQL, a count this process has kept before is
        refreshed through the count every process shares (`SharedCounts`)."""
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
                return self._refresh(key, compute, queryset, known_big=entry is not None)
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

    def _refresh(self, key: Hashable, compute, queryset: QuerySet | None, *, known_big: bool) -> int:
        """A new count for `key`, kept. A count this process has never kept (a new key, or a
        small list) is counted here, and a big one is also written to the shared table. One it
        has kept goes through the shared count: the process that claims it recounts it (one
        COUNT per TTL for the whole cluster, not one per process), and the others take the
        shared value, fresh or being recounted (at most twice the TTL old)."""
        shared = shared_counts(queryset)
        if shared is None:
            value, slow = self._timed(compute)
            self.put(key, value, slow=slow)
            return value
        seconds = self.seconds()
        shared_key = SharedCounts.key_of(key)
        if not known_big:
            value, slow = self._timed(compute)
            if self.worth_keeping(value, slow):
                shared.store(shared_key, value)
            self.put(key, value, slow=slow)
            return value
        value, age, claimed = shared.claim(shared_key, seconds)
        if claimed:
            value, slow = self._timed(lambda: shared.recount(shared_key, queryset))
            self.put(key, value, slow=slow)
            return value
        if value is not None and age is not None and age < 2 * seconds:
            # Fresh: kept until it is due. Being recounted elsewhere: asked again shortly. (Its
            # claimer found it worth keeping.)
            self.put(key, value, seconds=seconds - age if age < seconds else min(1.0, seconds), slow=True)
            return value
        value, slow = self._timed(compute)  # no usable shared count (its claimer died, say)
        self.put(key, value, slow=slow)
        return value

    @staticmethod
    def _timed(compute) -> tuple[int, bool]:
        """(count, whether counting took at least LIST_COUNT_CACHE_SLOW_MS)."""
        started = time.perf_counter()
        value = compute()
        elapsed_ms = (time.perf_counter() - started) * 1000
        return value, elapsed_ms >= getattr(settings, "LIST_COUNT_CACHE_SLOW_MS", 10)

    @staticmethod
    def worth_keeping(count: int, slow: bool = False) -> bool:
        """A big count (at least LIST_COUNT_CACHE_MIN), or one that was slow to count: a few
        matches among many rows of the filter's index range (a narrow tag within a large
        status, say) cost a COUNT as long as a big list's."""
        return slow or count >= getattr(settings, "LIST_COUNT_CACHE_MIN", 10_000)

    def get(self, key: Hashable) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= time.monotonic():
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, count: int, seconds: float | None = None, *, slow: bool = False) -> None:
        """Keeps a count worth keeping (`worth_keeping`) `seconds` (default LIST_COUNT_CACHE_SECONDS)."""
        if self.seconds() <= 0 or not self.worth_keeping(count, slow):
            return
        seconds = self.seconds() if seconds is None else seconds
        with self._lock:
            self._entries[key] = (time.monotonic() + seconds, count)
            self._entries.move_to_end(key)
            while len(self._entries) > self.MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class SharedCounts:
    """The counts of big lists that every process and node shares (PostgreSQL, table
    `orders_listcount`, model `orders.models.ListCount`). A request costs at most two queries
    here: the claim (which also reads the shared count), then, for the one claimer, the recount
    that stores its result in the same statement."""

    LEASE_SECONDS = 60  # a claim older than this is taken over (its process died meanwhile)

    def __init__(self, connection):
        self.connection = connection

    # Times are clock_timestamp(), not now(): now() is the start of the transaction, and a list
    # may be read inside one (the test suite's, an admin action's).

    @staticmethod
    def key_of(key: Hashable) -> str:
        return hashlib.sha256(repr(key).encode()).hexdigest()

    def claim(self, shared_key: str, seconds: float) -> tuple[int | None, float | None, bool]:
        """(count, age in seconds, claimed): the shared count as it was, and whether this
        request claimed it to recount (it was missing or due, and nobody else holds a claim)."""
        lease = max(self.LEASE_SECONDS, 2 * seconds)
        with self.connection.cursor() as cursor:
            cursor.execute(
                """
                WITH old AS (SELECT "count", "counted_at" FROM "orders_listcount" WHERE "key" = %s),
                claim AS (
                    INSERT INTO "orders_listcount" ("key", "count", "counted_at", "claimed_until")
                    VALUES (%s, NULL, NULL, clock_timestamp() + make_interval(secs => %s))
                    ON CONFLICT ("key") DO UPDATE SET "claimed_until" = EXCLUDED."claimed_until"
                    WHERE ("orders_listcount"."counted_at" IS NULL
                           OR "orders_listcount"."counted_at" < clock_timestamp() - make_interval(secs => %s))
                      AND ("orders_listcount"."claimed_until" IS NULL OR "orders_listcount"."claimed_until" < clock_timestamp())
                    RETURNING 1
                )
                SELECT (SELECT "count" FROM old),
                       (SELECT EXTRACT(EPOCH FROM clock_timestamp() - "counted_at")::float FROM old),
                       EXISTS (SELECT 1 FROM claim)
                """,
                [shared_key, shared_key, float(lease), float(seconds)],
            )
            count, age, claimed = cursor.fetchone()
        return count, age, claimed

    def recount(self, shared_key: str, queryset: QuerySet) -> int:
        """COUNTs the list and stores the result, releasing the claim, in one statement."""
        inner, params = queryset.order_by().values("pk").query.sql_with_params()
        with self.connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "orders_listcount" SET "count" = (SELECT COUNT(*) FROM ({inner}) AS "listed"), '
                '"counted_at" = clock_timestamp(), "claimed_until" = NULL WHERE "key" = %s RETURNING "count"',
                [*params, shared_key],
            )
            row = cursor.fetchone()
        if row is None:  # the row was removed meanwhile: count without it
            return queryset.order_by().count()
        return row[0]

    def store(self, shared_key: str, count: int) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                'INSERT INTO "orders_listcount" ("key", "count", "counted_at", "claimed_until") '
                'VALUES (%s, %s, clock_timestamp(), NULL) ON CONFLICT ("key") DO UPDATE '
                'SET "count" = EXCLUDED."count", "counted_at" = EXCLUDED."counted_at"',
                [shared_key, count],
            )


def shared_counts(queryset: QuerySet | None) -> SharedCounts | None:
    """The shared counts, when there are (PostgreSQL, and LIST_COUNT_SHARED on); None otherwise
    (each process counts for itself). They live on the primary, also when the list itself is
    read from a replica (installer.db_router), and writing them does not pin the request to
    the primary: like the cache's table, they are not the request's data."""
    if queryset is None or not getattr(settings, "LIST_COUNT_SHARED", True):
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    return SharedCounts(connection) if connection.vendor == "postgresql" else None


counts = CountCache()


# A page's rows read by the caller: fetch(cursor, start, stop) -> the rows [start:stop] of the
# list in the page's order, after the keyset cursor (time, pk) when it is not None.
PageFetch = Callable[[tuple[datetime.datetime, uuid.UUID] | None, int, int], list]


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
        return self._apply(lambda: queryset, None, count_key)

    def apply_ids(self, queryset, *, count_key: Hashable = None, fetch: PageFetch | None = None) -> tuple[list, dict]:
        """Like `apply`, but reads only the page's primary keys, in page order: the caller reads
        the rows by id (a query it can compile once: installer.compiled), so the filtered query
        stays narrow whatever the rows join. `queryset` may be a callable that builds it: with
        `fetch`, which reads the page's (pk, time) rows itself (a compiled query), it is built
        only to count the list when the count is not kept."""
        build = queryset if callable(queryset) else (lambda: queryset)
        rows, extra = self._apply(lambda: build().values_list("pk", self.time_field), fetch, count_key)
        return [pk for pk, _ in rows], extra

    def _apply(self, build, fetch: PageFetch | None, count_key: Hashable) -> tuple[list, dict]:
        if fetch is None:
            queryset = build().order_by(*self.ordering())

            def fetch(cursor, start, stop):
                if cursor is not None:
                    return list(keyset_after(queryset, self.time_field, self.descending, *cursor)[start:stop])
                return list(queryset[start:stop])

        if self.use_cursor:
            cursor = decode_cursor(self.cursor) if self.cursor else None
            rows = fetch(cursor, 0, self.page_size + 1)
            more = len(rows) > self.page_size
            rows = rows[: self.page_size]
            next_cursor = encode_cursor(*self._cursor_key(rows[-1])) if more and rows else None
            return rows, {"nextCursor": next_cursor}
        start = self.page * self.page_size
        rows = fetch(None, start, start + self.page_size)
        if self.page == 0 and len(rows) < self.page_size:
            return rows, {"count": len(rows)}
        if count_key is None:
            return rows, {"count": build().order_by().count()}
        kept = counts.get(count_key)
        if kept is not None:
            return rows, {"count": kept}
        unordered = build().order_by()
        return rows, {"count": counts.count(count_key, unordered.count, queryset=unordered)}

    def _cursor_key(self, row) -> tuple:
        if isinstance(row, tuple):
            return row[1], row[0]
        return getattr(row, self.time_field), row.pk
