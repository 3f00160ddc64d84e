"""Where a background task's row goes relative to the transaction that asks for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import router
from django.dispatch import Signal
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist


def run_after_for(moment: datetime) -> datetime:
    """The `run_after` of a task due at `moment`: a moment ahead rounded up to the whole second.
    RQ keeps a deferred job's time in whole seconds, truncated, and would start the task up to a
    second early; rounded up, it starts at `moment` or after it on every backend. A moment
    already past is kept (the task runs at once)."""
    if moment.microsecond and moment > timezone.now():
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


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


def schedule_once(task, *, run_after: datetime) -> bool:
    """Enqueues `task` (no arguments) to run at `run_after` unless the one this function
    enqueued last is still waiting (READY). Returns whether it enqueued one.

    Backend-neutral: the waiting task's id is kept in the default cache (shared by every process:
    the database cache or Redis in production) and its state read back with the Tasks API
    (`Task.get_result`), which every backend answers. A task left RUNNING by a killed worker, a
    finished one, or one the backend no longer knows is not waiting, so a new one is queued. A
    lost cache entry queues an extra task at worst, and two chains become one again: each run
    asks here before it queues its successor. Needs a backend that can defer."""
    backend = task.get_backend()
    if not backend.supports_defer:
        return False
    key = f"installer.tasks.waiting:{backend.alias}:{task.module_path}"
    waiting_id = cache.get(key)
    if waiting_id:
        try:
            if task.get_result(waiting_id).status == TaskResultStatus.READY:
                return False
        except TaskResultDoesNotExist:
            pass
    result = task.using(run_after=run_after).enqueue()
    cache.set(key, result.id, timeout=None)
    return True
