"""Where a background task's row goes relative to the transaction that asks for it."""

from __future__ import annotations

from django.db import router
from django.dispatch import Signal


def enqueues_in_transaction(task, model) -> bool:
    """True when `task` is enqueued by django-tasks-db into the database that writes `model`:
    the task row can then be written inside the change's transaction (atomic with it, no
    second transaction after commit). False for any other backend (Redis, a broker), whose
    enqueue is visible at once and so must wait for the commit."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - another backend installed instead
        return False
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return False
    return (router.db_for_write(DBTaskResult) or "default") == (router.db_for_write(model) or "default")


# Sent by `manage.py db_worker` (installer/management/commands/db_worker.py) when it starts
# polling and again each time it is back after losing the database, with `worker_id`. Apps
# connect what a worker must make sure of before it takes tasks (webhooks: the sweep is
# queued and expired leases are reclaimed). Receivers run with `send_robust`: an error is
# logged and does not stop the worker.
worker_started = Signal()
