"""Production settings: `check --deploy` clean with the documented environment, SECRET_KEY
required, static files collected and compressed, JSON log lines with the request id."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from installer.logging import JsonFormatter, RequestContextFilter
from orders.tests.factories import order_payload

ROOT = Path(settings.BASE_DIR)

# The environment of docs/deploying.md (with example host names), minus the database.
PRODUCTION_ENV = {
    "SECRET_KEY": "k3Yx-9fQ2-long-random-production-key-8d7f6e5a4b3c2d1e0f9a8b7c6d5e4f3a",
    "ALLOWED_HOSTS": "orders.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://orders.example.com",
    "BEHIND_TLS_PROXY": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def run_manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    base["DATABASE_URL"] = "sqlite:///:memory:"
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_deploy_passes_with_the_documented_environment():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_unsafe_settings():
    unsafe = {**PRODUCTION_ENV, "SECRET_KEY": "short", "SECURE_HSTS_SECONDS": "0", "SECURE_COOKIES": "0"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=unsafe)
    assert result.returncode != 0
    for check in ("security.W009", "security.W004", "security.W012", "security.W016"):
        assert check in result.stderr, result.stderr


def test_secret_key_is_required_without_debug():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_collectstatic_writes_hashed_compressed_files(tmp_path):
    result = run_manage("collectstatic", "--noinput", env={**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path)}, timeout=300)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]
    assert hashed != "admin/css/base.css" and (tmp_path / hashed).exists()
    assert (tmp_path / f"{hashed}.gz").exists()  # whitenoise serves this to gzip clients
    assert any(name.startswith("drf_spectacular_sidecar/swagger-ui-dist/") for name in manifest)


def test_json_log_line_carries_the_request_context(client):
    """A log line written while a request is served names that request; the id is the one
    echoed in X-Request-ID."""
    seen = {}

    class Capture(logging.Handler):
        def emit(self, record):
            RequestContextFilter().filter(record)
            seen["line"] = JsonFormatter().format(record)

    handler = Capture()
    logger = logging.getLogger("installer.db")
    logger.addHandler(handler)
    try:
        from installer import views

        original = views.connection

        class Broken:
            def cursor(self):
                from django.db import OperationalError

                logger.warning("probe failed", extra={"database": "default"})
                raise OperationalError("gone")

        views.connection = Broken()
        try:
            response = client.get("/readyz", HTTP_X_REQUEST_ID="req-log-1")
        finally:
            views.connection = original
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 503
    line = json.loads(seen["line"])
    assert line["request_id"] == "req-log-1" == response["X-Request-ID"]
    assert line["method"] == "GET" and line["path"] == "/readyz"
    assert line["message"] == "probe failed" and line["database"] == "default" and line["level"] == "WARNING"


def test_gunicorn_access_line_is_json_with_status_and_duration():
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(m)s", None, None)
    record.args = {
        "m": "POST",
        "U": "/api/v1/order",
        "q": "",
        "s": "201",
        "D": "12345",
        "B": "900",
        "h": "10.0.0.1",
        "a": 'curl "quoted"',
        "p": "<42>",
        "{x-request-id}o": "abc",
    }
    line = json.loads(JsonFormatter().format(record))
    assert line == {
        **{k: line[k] for k in ("time",)},
        "level": "INFO",
        "logger": "gunicorn.access",
        "message": "request",
        "request_id": "abc",
        "method": "POST",
        "path": "/api/v1/order",
        "query": None,
        "status": 201,
        "duration_ms": 12.3,
        "bytes": 900,
        "remote_addr": "10.0.0.1",
        "user_agent": 'curl "quoted"',
        "pid": 42,
    }


@pytest.mark.django_db
def test_timeline_event_carries_the_request_id_of_the_log_lines(operator_a):
    response = operator_a.post("/api/v1/order", order_payload(), format="json", HTTP_X_REQUEST_ID="trace-77")
    assert response.status_code == 201
    events = operator_a.get(f"/api/v1/order/{response.json()['id']}/events").json()["values"]
    assert events[0]["requestId"] == "trace-77"
