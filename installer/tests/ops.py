"""Helpers of the operations tests (test_ops.py): a private PostgreSQL cluster on its own port,
gunicorn nodes in subprocesses, and a load generator. Nothing here touches the shared
PostgreSQL on 5432."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "ops-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"


def free_port(start: int) -> int:
    for port in range(start, start + 200):
        with contextlib.closing(socket.socket()) as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


def can_run_private_cluster() -> str | None:
    """None when a private cluster can be started here, else the reason it cannot."""
    if not pg_bin("initdb") or not pg_bin("pg_ctl"):
        return "PostgreSQL server binaries (initdb, pg_ctl) not installed"
    if os.geteuid() != 0:
        import pwd

        if pwd.getpwuid(os.geteuid()).pw_name != "postgres":
            return "needs root (to run initdb as postgres) or the postgres user"
    elif not shutil.which("runuser"):
        return "runuser not found"
    return None


class PgCluster:
    """A throwaway cluster in a temp dir on its own port (fsync off: test data only)."""

    def __init__(self):
        # OPS_PG_PORT_BASE / OPS_HTTP_PORT_BASE: where the search for a free port starts, for
        # several suites on one machine.
        self.port = free_port(int(os.environ.get("OPS_PG_PORT_BASE", "55432")))
        self.dir = Path(tempfile.mkdtemp(prefix="installer-ops-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str | None, timeout: int = 60) -> None:
        cmd = [str(arg) for arg in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout, cwd=self.dir)  # noqa: S603

    def init(self) -> None:
        self._run(pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def createdb(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PYTEST", "DJANGO_"))}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "LOG_FORMAT": "json",
            "DJANGO_SETTINGS_MODULE": "installer.settings",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",  # the receiver of test_ops listens on 127.0.0.1
        }
    )
    env.pop("REDIS_URL", None)
    env.pop("CACHE_URL", None)
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Gunicorn:
    """One node: `gunicorn -c gunicorn.conf.py installer.wsgi` on its own port."""

    def __init__(self, env: dict[str, str], logdir: Path, name: str, workers: int = 2, threads: int = 4):
        self.port = free_port(int(os.environ.get("OPS_HTTP_PORT_BASE", "18000")) + zlib.crc32(name.encode()) % 1000)
        self.name = name
        self.log = logdir / f"gunicorn-{name}.log"
        env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
        self._logfile = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "installer.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=self._logfile,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} not ready:\n{self.log.read_text()[-3000:]}")

    def worker_pids(self) -> set[int]:
        out = subprocess.run(  # noqa: S603
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],
            capture_output=True,
            text=True,  # noqa: S607
        ).stdout
        return {int(p) for p in out.split()}

    def hup(self) -> None:
        self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._logfile.close()


@dataclass
class Result:
    at: float  # when the answer came
    status: int  # 0: no HTTP answer (connection refused/reset, timeout)
    body: dict | None
    error: str = ""
    started: float = 0.0  # when the request was sent


@dataclass
class Load:
    """Clients in threads, each sending GET list / POST create in a loop on new connections
    (like a proxy without upstream keep-alive), recording every outcome."""

    bases: list[str]
    token: str
    clients: int = 3
    results: list[Result] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.clients)]

    def _run(self, index: int) -> None:
        payload = {
            "address": "Storgata 1",
            "city": "Oslo",
            "postalCode": "0155",
            "countryCode": "NO",
            "email": "load@example.com",
            "phoneNumber": "+4791234567",
            "contactPersonName": "Load Test",
        }
        headers = {"Authorization": f"Bearer {self.token}", "Connection": "close"}
        n = 0
        while not self._stop.is_set():
            base = self.bases[(index + n) % len(self.bases)]
            started = time.monotonic()
            try:
                if n % 4 == 3:
                    response = requests.post(f"{base}/api/v1/order", json=payload, headers=headers, timeout=20)
                else:
                    response = requests.get(f"{base}/api/v1/order?pageSize=5", headers=headers, timeout=20)
                try:
                    body = response.json()
                except ValueError:
                    body = None
                result = Result(time.monotonic(), response.status_code, body, started=started)
            except requests.RequestException as exc:
                result = Result(time.monotonic(), 0, None, error=type(exc).__name__, started=started)
            with self._lock:
                self.results.append(result)
            n += 1

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def snapshot(self) -> list[Result]:
        with self._lock:
            return list(self.results)


class Worker:
    """One background worker: `manage.py db_worker` with its own worker id (kept on the task rows
    it runs, `worker_ids`), polling every `interval` seconds."""

    def __init__(self, env: dict[str, str], logdir: Path, name: str, interval: float = 0.1):
        self.name = name
        self.log = logdir / f"worker-{name}.log"
        self._logfile = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--queue-name",
                "*",
                "--worker-id",
                name,
                "--interval",
                str(interval),
                "--no-reload",
                "--no-startup-delay",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._logfile,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log.read_text()[-3000:]}")
            if "Starting worker" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} not ready:\n{self.log.read_text()[-3000:]}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._logfile.close()


@dataclass
class Hit:
    at: float  # time.time() when it arrived
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1 (a free port) that answers 200 and records every POST."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hit = Hit(time.time(), {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver._lock:
                    receiver.hits.append(hit)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class S3Server:
    """An S3-compatible server (moto) on 127.0.0.1 with one bucket; `env` holds the settings that
    point the app at it (STORAGE_BACKEND=s3, docs/files.md)."""

    BUCKET = "installer-ops"
    CREDENTIALS = {"aws_access_key_id": "ops-key", "aws_secret_access_key": "ops-secret", "region_name": "us-east-1"}

    def __init__(self):
        import boto3
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client = boto3.client("s3", endpoint_url=self.endpoint, **self.CREDENTIALS)
        self.client.create_bucket(Bucket=self.BUCKET)
        self.env = {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.BUCKET,
            "S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": self.CREDENTIALS["aws_secret_access_key"],
            "S3_REGION": self.CREDENTIALS["region_name"],
            "S3_ADDRESSING_STYLE": "path",
            "S3_PRESIGNED_EXPIRY": "60",
        }

    def stop(self) -> None:
        self._server.stop()
