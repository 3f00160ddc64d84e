"""Optional read replica (`DATABASE_REPLICA_URL`): reads go to the "replica" alias only where
that is safe, everything else to "default" (the primary).

A read goes to the replica only when all hold:
- it happens inside a request with a safe method (GET/HEAD/OPTIONS) — management commands,
  the background worker and unsafe requests always read the primary;
- the request has not written anything yet (the first write pins the rest of the request to
  the primary, so a request reads its own writes);
- no transaction is open on the primary (reads inside `transaction.atomic()` and
  `select_for_update()`, which Django routes as a write, stay on the primary).
Replication lag is then only visible between requests, never inside one.

The database cache's table (`django_cache`: throttling counters, other cached values) always
uses the primary and does not pin: its counters must be exact across nodes, and a counter
written by every request would otherwise send every request's reads to the primary.
"""

from __future__ import annotations

import contextlib
import contextvars

from django.conf import settings
from django.db import connections

PRIMARY = "default"
REPLICA = "replica"
CACHE_APP_LABEL = "django_cache"  # django.core.cache.backends.db.DatabaseCache's model

_may_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("may_use_replica", default=False)


@contextlib.contextmanager
def request_scope(*, may_use_replica: bool):
    """Used by RequestIdMiddleware around every request."""
    token = _may_use_replica.set(may_use_replica)
    try:
        yield
    finally:
        _may_use_replica.reset(token)


def pin_to_primary() -> None:
    """Sends every further read of the current request to the primary."""
    _may_use_replica.set(False)


def reads_use_replica() -> bool:
    return _may_use_replica.get()


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


def _is_cache(model) -> bool:
    return getattr(model._meta, "app_label", None) == CACHE_APP_LABEL


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _may_use_replica.get() or not has_replica() or _is_cache(model):
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints):
        if not _is_cache(model):
            pin_to_primary()
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica gets its schema by replication, never by `migrate`.
        return db == PRIMARY
