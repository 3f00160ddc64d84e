"""A value that is slow to compute, kept in the cache framework (Redis or the database cache)
and shared by every process, recomputed by one caller at a time once it is stale."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

T = TypeVar("T")

# A kept value is answered for at most this many times its freshness: stale while one caller
# computes it again, then dropped.
STALE_FACTOR = 10


def _now() -> float:
    return time.time()


def kept(
    key: str,
    seconds: int,
    compute: Callable[[], T],
    *,
    keep: Callable[[T], bool] | None = None,
    usable: Callable[[Any], bool] | None = None,
) -> T:
    """The value kept under `key`, fresh for `seconds`; `compute()` when there is none.

    Once the value is stale, the caller that takes the key's lock (`cache.add`, which only one
    caller wins) computes it again while the others answer the stale value: without the lock,
    every caller that found it stale would compute at once, and a value that takes a quarter of
    a second to compute would stall the server whenever it ran out. A stale value is answered
    for at most STALE_FACTOR times `seconds`. A process that dies while computing holds the
    lock for at most `seconds`.

    `keep(value)`: whether a computed value is kept (default: always); a value it refuses is
    dropped from the cache, so the next caller computes it again. `usable(value)`: whether a
    kept value may be answered at all (default: always); one it refuses is computed again at
    once by this caller, lock or not."""
    found = cache.get(key)
    if isinstance(found, tuple) and len(found) == 2 and (usable is None or usable(found[0])):
        value, fresh_until = found
        if fresh_until > _now() or not cache.add(f"{key}:computing", 1, seconds):
            return value
    computed = compute()
    if keep is None or keep(computed):
        cache.set(key, (computed, _now() + seconds), seconds * STALE_FACTOR)
    elif found is not None:
        cache.delete(key)
    if found is not None:
        cache.delete(f"{key}:computing")
    return computed
