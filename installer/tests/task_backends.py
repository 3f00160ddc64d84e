"""The two task backends, for tests that run the same scenario on each: django-tasks-db
(`manage.py db_worker`) and RQ on Redis (django-tasks-rq, `manage.py rqworker --with-scheduler`).

`task_backend` (a pytest plugin fixture, loaded by the root conftest) is parametrized over
both. It switches the test process's TASKS setting (django-tasks rebuilds its backends when the
setting changes), so whatever the code under test enqueues goes to that backend, and gives the
command and environment for worker processes that take from it. The RQ variant uses Redis
database TEST_REDIS_URL (redis://127.0.0.1:6379/15 by default), flushed before and after each
test, and skips, saying why, on SQLite (worker processes need a database they can share with
the test) or when Redis does not answer (it fails instead with TEST_REQUIRE_REDIS=1, as in
.ci/run).

Reading what a backend holds goes through the Tasks API (`Task.get_result`) for the state; only
listing a task's results differs: the task table for the database, the queue and rq's job
registries for RQ.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE = "database"
RQ = "rq"


def redis_unavailable_reason(url: str = TEST_REDIS_URL) -> str | None:
    """None when Redis answers PING at `url`, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"RQ backend: Redis does not answer at {url} ({exc})"
    return None


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class TaskBackend:
    """One backend: how the test process enqueues (its settings), how worker processes are
    started, and what the backend holds."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"TaskBackend({self.name!r})"

    # --- worker processes ---------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        if self.name == RQ:
            return {"TASKS_BACKEND": "django_tasks_rq.RQBackend", "RQ_REDIS_URL": TEST_REDIS_URL}
        return {"TASKS_BACKEND": "django_tasks_db.DatabaseBackend"}

    def worker_command(self, *, batch: bool = False) -> list[str]:
        if self.name == RQ:
            command = [sys.executable, "manage.py", "rqworker", "--with-scheduler", "default"]
            return [*command, "--burst"] if batch else command
        command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.05"]
        return [*command, "--batch"] if batch else command

    def start_worker(self, *, batch: bool = False, log: Any = subprocess.DEVNULL, **env: str) -> subprocess.Popen:
        """A worker process on the test database, in its own process group (rq's scheduler is a
        child process of the worker: `kill` takes both)."""
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "installer.test_settings",
            "DB_POOL": "0",
            "WEBHOOK_RETRY_BASE_SECONDS": "0",
            **self.env(),
            **env,
        }
        return subprocess.Popen(
            self.worker_command(batch=batch),
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def kill(self, worker: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Sends `sig` to the worker's process group and waits for the worker. After a SIGKILL of
        an RQ worker, its scheduler's lock is released (it would run out after 61 s; the next
        worker's scheduler takes over then, which the tests do not wait for)."""
        try:
            os.killpg(worker.pid, sig)
        except ProcessLookupError:
            pass
        worker.wait(timeout=30)
        if self.name == RQ and sig == signal.SIGKILL:
            from rq.scheduler import RQScheduler

            self.redis().delete(RQScheduler.get_locking_key("default"))

    def ready_line(self) -> str:
        """A line the worker logs once it takes tasks."""
        return "Listening on" if self.name == RQ else "Starting worker"

    # --- what the backend holds --------------------------------------------------------------------

    def redis(self):
        import redis

        return redis.Redis.from_url(TEST_REDIS_URL)

    def results(self, task) -> list:
        """Every result the backend still holds for `task` (any state), via `Task.get_result`."""
        if self.name == RQ:
            import django_rq
            from rq import registry

            queue = django_rq.get_queue("default")
            ids = set(queue.get_job_ids())
            for registry_class in (
                registry.ScheduledJobRegistry,
                registry.StartedJobRegistry,
                registry.FinishedJobRegistry,
                registry.FailedJobRegistry,
            ):
                ids.update(registry_class(queue=queue).get_job_ids(cleanup=False))
            results = []
            for job_id in ids:
                try:
                    results.append(task.get_result(job_id))
                except Exception:  # another task's job (TaskResultMismatch) or gone meanwhile
                    continue
            return results
        from django_tasks_db.models import DBTaskResult

        return [row.task_result for row in DBTaskResult.objects.filter(task_path=task.module_path)]

    def count(self, task, status: str) -> int:
        return sum(1 for result in self.results(task) if result.status == status)


@pytest.fixture(params=[DATABASE, RQ])
def task_backend(request, settings):
    """Each test runs once per backend; see the module docstring."""
    from django.db import connection

    backend = TaskBackend(request.param)
    if backend.name == RQ:
        if connection.vendor != "postgresql":
            pytest.skip("RQ backend: worker processes share the test database only on PostgreSQL")
        reason = redis_unavailable_reason()
        if reason and os.environ.get("TEST_REQUIRE_REDIS"):
            pytest.fail(f"{reason}; TEST_REQUIRE_REDIS is set (.ci/run)")
        if reason:
            pytest.skip(reason)
        settings.RQ_QUEUES = {"default": {"URL": TEST_REDIS_URL, "DEFAULT_TIMEOUT": 300}}
        settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
        backend.redis().flushdb()
    else:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    from django.core.cache import cache

    cache.clear()  # installer.tasks.schedule_once keeps waiting task ids there
    yield backend
    if backend.name == RQ:
        backend.redis().flushdb()
