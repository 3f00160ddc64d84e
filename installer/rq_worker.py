"""The RQ worker class for `manage.py rqworker` (settings.RQ["WORKER_CLASS"]).

rq's SimpleWorker runs each task in the worker process itself, as `manage.py db_worker` does:
no fork per task, so the psycopg pool that the worker opens never crosses a fork. Once it has
registered with Redis it sends `installer.tasks.worker_started`, like db_worker, so the apps
reclaim what a killed worker left behind (leases that ran out) and queue their periodic sweeps.
Run it with the scheduler, which moves tasks deferred with `run_after` to the queue when due:

    manage.py rqworker --with-scheduler default
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import close_old_connections
from rq.worker import SimpleWorker

from installer.tasks import worker_started

logger = logging.getLogger("rq.worker")


class Worker(SimpleWorker):
    def execute_job(self, job: Any, queue: Any) -> None:
        """Drops a database connection that broke (PostgreSQL restarted) before and after each
        task, as Django does around a request and db_worker around a task, so the next task
        gets a working one."""
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        super().bootstrap(*args, **kwargs)
        for receiver, result in worker_started.send_robust(sender=type(self), worker_id=self.name):
            if isinstance(result, Exception):
                logger.error("worker_started receiver %r failed: %r", receiver, result, exc_info=result)
