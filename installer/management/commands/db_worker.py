"""`manage.py db_worker`: django-tasks-db's worker, kept running while the database goes away.

django-tasks-db's worker exits on the first database error that is not a lock (a PostgreSQL
restart raises OperationalError in `get_locked`). This worker catches a lost database
(`installer.middleware.is_db_unavailable`) wherever it happens in the polling loop, closes the
connections (a pooled one that broke is discarded by the pool), waits with exponential backoff
(RECONNECT_FIRST_DELAY doubling up to RECONNECT_MAX_DELAY seconds) and polls again. Any other
error still stops it, as before. A task whose result could not be recorded because the
database went away meanwhile stays RUNNING in the task table; the work it stands for is owned
by its own rows (webhook deliveries, offers), which the sweep and the expiry tasks reclaim.

Before it polls, and again after each reconnection, it sends `installer.tasks.worker_started`.
Arguments and signals (TERM/INT: finish the current task, then exit) are django-tasks-db's.
"""

from __future__ import annotations

import logging
import os
import time

from django.core.management.base import CommandError
from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from installer.middleware import is_db_unavailable
from installer.tasks import worker_started

logger = logging.getLogger("django_tasks_db")

RECONNECT_FIRST_DELAY = 0.5
RECONNECT_MAX_DELAY = 30.0


class Worker(db_worker.Worker):
    def run(self) -> None:
        delay = RECONNECT_FIRST_DELAY
        while self.running:
            started = time.monotonic()
            try:
                self._announce()
                super().run()
                return  # --batch or --max-tasks reached
            except Exception as exc:
                if not is_db_unavailable(exc):
                    raise
                if time.monotonic() - started > RECONNECT_MAX_DELAY:
                    delay = RECONNECT_FIRST_DELAY  # it ran for a while: a new outage
                logger.warning(
                    "Database unavailable for worker_id=%s (%s: %s); retrying in %.1f s",
                    self.worker_id,
                    type(exc).__name__,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else "",
                    delay,
                )
                connections.close_all()
                time.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY)
                self.startup_delay = False

    def _announce(self) -> None:
        for receiver, result in worker_started.send_robust(sender=type(self), worker_id=self.worker_id):
            if isinstance(result, Exception):
                if is_db_unavailable(result):
                    raise result
                logger.error("worker_started receiver %r failed: %r", receiver, result, exc_info=result)


class Command(db_worker.Command):
    help = "Run a database background worker that waits out a lost database instead of exiting."

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        # django-tasks-db's own handle(), with this module's Worker.
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("Warning: --reload and --batch cannot be specified together. Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the reloaded child handles signals
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
