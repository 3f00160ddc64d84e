"""Where a background task's row goes relative to the transaction that asks for it."""

from __future__ import annotations

from django.db import router


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
