"""The OCI image (Containerfile, docs/deploying.md#the-image): built on a Debian bookworm base made
here with mmdebstrap, then run in its roles against the PostgreSQL on 127.0.0.1 with podman.

A `migrate` container creates the schema of a fresh database, `manage` containers load the demo
data and print an API token, then a `web` and a `worker` container serve it: /readyz answers 200,
the image's HEALTHCHECK passes, an order created through the web container's API is dispatched
by the demo's routing (an offer is sent), and the worker container delivers its webhooks, signed,
to a receiver in this test on 127.0.0.1.

Marker `image`: `make test` leaves it out (a build takes minutes); `.ci/run` runs it as its own
step when podman works (`pytest -m image`). Without podman, runc or a PostgreSQL on 127.0.0.1 it
skips, saying why.

Caches (cheap to keep, slow to make): the base image (`podman image exists` skips mmdebstrap;
its tarball is kept in IMAGE_TEST_CACHE, default ~/.cache/installer-image), the wheels in
container/wheels (rebuilt when requirements.txt or the base changes) and podman's build layers.
IMAGE_TEST_BASE names another base image to build on (it must exist already).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from installer.tests.ops import Receiver, free_port

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BASE = "localhost/bookworm-python:latest"
BASE_IMAGE = os.environ.get("IMAGE_TEST_BASE", DEFAULT_BASE)
IMAGE = "localhost/installer:image-test"
CACHE = Path(os.environ.get("IMAGE_TEST_CACHE", Path.home() / ".cache" / "installer-image"))
WHEELS = ROOT / "container" / "wheels"
PODMAN = ["podman", "--runtime", "runc"]
# What works on these machines: runc (crun fails on the kernel's cgroups), the host's network,
# limits that an unprivileged container may set.
RUN_OPTS = ["--network=host", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
SECRET_KEY = "image-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def _run(cmd: list[str], *, timeout: float, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)  # noqa: S603
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd[:8])} ... exited {result.returncode}\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
    return result


def _podman_problem() -> str | None:
    """None when podman can run containers here, else why not."""
    if not shutil.which("podman"):
        return "podman is not installed (apt-get install podman runc mmdebstrap; .ci/run does)"
    if not shutil.which("runc"):
        return "runc is not installed (apt-get install runc)"
    info = subprocess.run([*PODMAN, "info"], capture_output=True, text=True, timeout=60)  # noqa: S603
    if info.returncode != 0:
        return f"podman does not work here: {info.stderr.strip()[-300:]}"
    return None


def _pg_base_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    return "postgres://postgres@127.0.0.1:5432"


def _image_exists(name: str) -> bool:
    return subprocess.run([*PODMAN, "image", "exists", name], timeout=60).returncode == 0  # noqa: S603


def _ensure_base() -> None:
    """The bookworm base with python3: imported from a tarball that mmdebstrap makes once."""
    if _image_exists(BASE_IMAGE):
        return
    if BASE_IMAGE != DEFAULT_BASE:
        pytest.skip(f"IMAGE_TEST_BASE={BASE_IMAGE} does not exist in podman's storage")
    tarball = CACHE / "bookworm-python.tar"
    if not tarball.exists():
        if not shutil.which("mmdebstrap"):
            pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap) and no base image exists")
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial.tar")
        _run(
            [
                "mmdebstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,python3-pip,ca-certificates,libpq5",
                "bookworm",
                str(partial),
            ],
            timeout=900,
        )
        partial.rename(tarball)
    _run([*PODMAN, "import", "--change", 'CMD ["/bin/bash"]', str(tarball), BASE_IMAGE], timeout=300)


def _ensure_wheels() -> None:
    """Wheels of requirements.txt built inside the base image (its exact Python decides the
    markers), for a build that needs no index. The host's CA bundle is lent to pip, for machines
    whose way to PyPI goes through a proxy with its own certificate authority."""
    base_id = _run([*PODMAN, "image", "inspect", "--format", "{{.Id}}", BASE_IMAGE], timeout=60).stdout.strip()
    stamp = hashlib.sha256((ROOT / "requirements.txt").read_bytes() + base_id.encode()).hexdigest()
    stamp_file = WHEELS / ".stamp"
    if stamp_file.exists() and stamp_file.read_text().strip() == stamp and any(WHEELS.glob("*.whl")):
        return
    for wheel in WHEELS.glob("*.whl"):
        wheel.unlink()
    (CACHE / "pip").mkdir(parents=True, exist_ok=True)
    mounts = [
        "-v",
        f"{ROOT / 'requirements.txt'}:/req/requirements.txt:ro",
        "-v",
        f"{WHEELS}:/wheels",
        "-v",
        f"{CACHE / 'pip'}:/pipcache",
        "-e",
        "PIP_CACHE_DIR=/pipcache",
    ]
    if HOST_CA.exists():
        mounts += ["-v", f"{HOST_CA}:/host-ca.crt:ro", "-e", "PIP_CERT=/host-ca.crt"]
    _run(
        [
            *PODMAN,
            "run",
            "--rm",
            *RUN_OPTS,
            *mounts,
            BASE_IMAGE,
            "sh",
            "-c",
            "python3 -m venv /tmp/venv && /tmp/venv/bin/pip wheel --quiet --disable-pip-version-check"
            " --use-pep517 -r /req/requirements.txt -w /wheels",
        ],
        timeout=900,
    )
    stamp_file.write_text(stamp)


@contextlib.contextmanager
def _database(name: str) -> Iterator[str]:
    import psycopg

    base = _pg_base_url()
    try:
        admin = psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {base}: {exc}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (requests.RequestException, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


@pytest.fixture(scope="module")
def image(request) -> str:
    if "image" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the image test runs only when selected: pytest -m image (.ci/run's image step)")
    problem = _podman_problem()
    if problem:
        pytest.skip(problem)
    _ensure_base()
    _ensure_wheels()
    _run(
        [
            *PODMAN,
            "build",
            "--format",
            "docker",  # HEALTHCHECK is a Docker-format instruction (OCI images drop it)
            *RUN_OPTS,
            "--build-arg",
            f"BASE_IMAGE={BASE_IMAGE}",
            "--tag",
            IMAGE,
            "--file",
            str(ROOT / "Containerfile"),
            str(ROOT),
        ],
        timeout=1500,
    )
    return IMAGE


class Containers:
    """The containers of one test, all removed at the end (`podman rm -f`), failed or not."""

    def __init__(self, image: str, env: dict[str, str]):
        self.image = image
        self.env = env
        self.prefix = f"installer-image-test-{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []

    def _env_args(self) -> list[str]:
        return [arg for key, value in self.env.items() for arg in ("-e", f"{key}={value}")]

    def once(self, *args: str, timeout: float = 300) -> str:
        """Runs the image with these arguments to its end; its stdout."""
        name = f"{self.prefix}-{len(self.names)}"
        self.names.append(name)
        return _run(
            [*PODMAN, "run", "--rm", "--name", name, *RUN_OPTS, *self._env_args(), self.image, *args], timeout=timeout
        ).stdout

    def start(self, role: str) -> str:
        name = f"{self.prefix}-{role}"
        self.names.append(name)
        _run([*PODMAN, "run", "--detach", "--name", name, *RUN_OPTS, *self._env_args(), self.image, role], timeout=120)
        return name

    def logs(self, name: str) -> str:
        result = _run([*PODMAN, "logs", name], timeout=60, check=False)
        return result.stdout + result.stderr

    def health(self, name: str) -> str:
        result = _run([*PODMAN, "healthcheck", "run", name], timeout=60, check=False)
        return result.stdout.strip() or ("healthy" if result.returncode == 0 else f"exit {result.returncode}")

    def exec(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        return _run([*PODMAN, "exec", name, *args], timeout=60, check=False)

    def remove_all(self) -> None:
        if self.names:
            subprocess.run([*PODMAN, "rm", "--force", "--ignore", *self.names], capture_output=True, timeout=120)  # noqa: S603


def _verify_signatures(hit: Any, secret: str) -> None:
    """Both signatures of docs/webhooks.md: Standard Webhooks and X-Installer-Signature."""
    msg_id, timestamp = hit.headers["webhook-id"], hit.headers["webhook-timestamp"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + hit.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert f"v1,{expected}" in hit.headers["webhook-signature"].split(" ")
    installer = hmac.new(secret.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["x-installer-signature"] == f"sha256={installer}"


def test_image_roles_serve_dispatch_and_deliver(image):
    started = time.monotonic()
    port = free_port(int(os.environ.get("IMAGE_TEST_PORT_BASE", "18400")))
    base = f"http://127.0.0.1:{port}"
    receiver = Receiver()
    with _database("installer_image_test") as database_url:
        containers = Containers(
            image,
            {
                # Only the variables of docs/configuration.md, production mode.
                "SECRET_KEY": SECRET_KEY,
                "DATABASE_URL": database_url,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PORT": str(port),
                "PUBLIC_BASE_URL": base,
                "GUNICORN_WORKERS": "2",
                "DB_POOL_MIN_SIZE": "1",
                "DB_POOL_MAX_SIZE": "4",
                "EMAIL_URL": "dummy:",
                # The receiver listens on 127.0.0.1: test only (production refuses private targets).
                "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
            },
        )
        try:
            migrated = containers.once("migrate")
            assert "Applying orders.0001_initial... OK" in migrated
            containers.once("manage", "seed_demo", "--quiet")
            token = (
                containers.once("manage", "create_api_token", "demo", "--name", "image-test").strip().splitlines()[-1]
            )
            assert token, "create_api_token printed no token"

            worker = containers.start("worker")
            web = containers.start("web")

            def ready() -> bool:
                return requests.get(f"{base}/readyz", timeout=5).status_code == 200

            try:
                _wait(ready, 120, "/readyz of the web container")
            except AssertionError:
                raise AssertionError(f"web never ready; its log:\n{containers.logs(web)[-4000:]}") from None
            assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
            # The static files were collected at build time and are served by whitenoise (hashed).
            docs = requests.get(f"{base}/api/docs/", timeout=10)
            assert docs.status_code == 200
            # The image's HEALTHCHECK: the web container asks its /healthz, the worker's process runs.
            assert containers.health(web) == "healthy"
            assert containers.health(worker) == "healthy"
            # ... and the check is real: pointed at a port where nothing listens, it fails.
            elsewhere = containers.exec(
                web, "env", f"PORT={free_port(port + 1)}", "/opt/venv/bin/python", "/app/container/healthcheck.py"
            )
            assert elsewhere.returncode == 1, elsewhere

            auth = {"Authorization": f"Bearer {token}"}
            hook = requests.post(
                f"{base}/api/v1/webhooks", json={"url": receiver.url, "events": []}, headers=auth, timeout=10
            )
            assert hook.status_code == 201, hook.text
            secret = hook.json()["secret"]

            created = requests.post(
                f"{base}/api/v1/order",
                json={
                    "address": "Storgata 1",
                    "city": "Oslo",
                    "postalCode": "0155",
                    "countryCode": "NO",
                    "email": "kari@example.com",
                    "phoneNumber": "+4791234567",
                    "contactPersonName": "Kari Image",
                },
                headers=auth,
                timeout=10,
            )
            assert created.status_code == 201, created.text
            order = created.json()
            if order["status"] == 0:  # the demo workflow does not dispatch on creation: ask
                dispatched = requests.post(
                    f"{base}/api/v1/order/{order['id']}/dispatch", json={}, headers=auth, timeout=10
                )
                assert dispatched.status_code == 200, dispatched.text

            def offer_sent() -> list[dict[str, Any]]:
                events = requests.get(f"{base}/api/v1/order/{order['id']}/events", headers=auth, timeout=10)
                assert events.status_code == 200, events.text
                return [e for e in events.json()["values"] if e["type"] == "offer.sent"]

            offers = _wait(offer_sent, 60, "an offer of the dispatched order")
            assert offers[0]["data"].get("offerId")
            assert requests.get(f"{base}/api/v1/order/{order['id']}", headers=auth, timeout=10).json()["status"] == 1

            def delivered() -> list[Any]:
                wanted = {"order.created", "order.dispatched"}
                got = [h for h in receiver.snapshot() if json.loads(h.body).get("data", {}).get("id") == order["id"]]
                return got if wanted <= {json.loads(h.body)["event"] for h in got} else []

            try:
                hits = _wait(delivered, 90, "webhooks order.created and order.dispatched at the receiver")
            except AssertionError:
                raise AssertionError(f"no delivery; worker log:\n{containers.logs(worker)[-4000:]}") from None
            for hit in hits:
                _verify_signatures(hit, secret)
                assert json.loads(hit.body)["id"] == hit.headers["webhook-id"]

            # The worker container delivered them: the web container runs no task.
            assert "path=webhooks.tasks.deliver state=SUCCESSFUL" in containers.logs(worker)
            assert "path=webhooks.tasks.deliver" not in containers.logs(web)
        finally:
            containers.remove_all()
            receiver.stop()
    print(f"\nimage test: {time.monotonic() - started:.0f}s after the build")  # noqa: T201
