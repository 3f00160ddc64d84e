"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py installer.wsgi`.

Every value can be overridden from the environment (GUNICORN_*), or on the command line.

- Workers: gthread, 3 processes x 2 threads by default, sized for 2 cores. Requests spend part
  of their time waiting on PostgreSQL, so a second thread keeps a process busy meanwhile; one
  process more than cores keeps both cores busy even when the kernel hands a burst of keep-alive
  connections to one process, whose GIL would otherwise cap the server near one core.
  Rule of thumb: WORKERS = cores + 1, THREADS = 2, and DB_POOL_MAX_SIZE >= THREADS (each
  thread holds one pooled connection while it serves a request; PostgreSQL's max_connections >=
  nodes x WORKERS x DB_POOL_MAX_SIZE).
- preload_app is off: each worker imports the app after the fork and opens its own psycopg pool
  (a pool must never cross a fork), and `kill -HUP <master>` then really loads new code:
  gunicorn starts new workers with it and retires the old ones gracefully, without refusing a
  request (tested in installer/tests/test_ops.py).
- Timeouts: a request may run `timeout` seconds (30) before its worker is recycled; on HUP or
  TERM workers get `graceful_timeout` seconds (30) to finish what they serve; keep-alive 5 s
  (behind a proxy that reuses upstream connections, set it above the proxy's idle timeout so
  the app never closes a connection the proxy is about to reuse).
- max_requests with jitter recycles workers now and then, a guard against slow leaks.
- Logs: JSON lines on stderr, access lines with method, path, status, duration_ms and the
  request id (the one in X-Request-ID and on the timeline events), see installer/logging.py.
"""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
preload_app = False

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "5000"))

# Headers and request line limits (gunicorn's defaults, stated): 8 KB per header line.
limit_request_line = 8190
limit_request_fields = 100

# Trust X-Forwarded-* only from the proxy's address (comma-separated), never from clients.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

_format = os.environ.get("LOG_FORMAT", "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "installer.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": _format, "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": _format, "stream": "ext://sys.stdout"},
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def post_worker_init(worker):
    """The loaded app's objects (modules, URL patterns, templates) live as long as the worker:
    freezing them keeps the garbage collector's full passes to what requests allocate, instead of
    rescanning the whole heap."""
    import gc

    gc.collect()
    gc.freeze()


def on_starting(server):
    """Metrics in multiprocess mode: the directory starts empty, so counts from a previous run
    (dead processes) are not added to this one's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        import pathlib

        path = pathlib.Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    """Metrics in prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR set, see
    docs/operations.md): a worker that exits leaves its files; its gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
