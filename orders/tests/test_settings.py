"""Settings from the environment: SECRET_KEY is required unless DEBUG is on; DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRINT = (
    "import json, installer.settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'key': bool(s.SECRET_KEY), 'db': s.DATABASES['default']['ENGINE'], "
    "'pool': s.DATABASES['default'].get('OPTIONS', {}).get('pool'), 'hosts': s.ALLOWED_HOSTS, 'tz': s.TIME_ZONE}))"
)


def run_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "ALLOWED_HOSTS", "TIME_ZONE", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    for debug in ("0", ""):
        result = run_settings(DEBUG=debug)
        assert result.returncode != 0
        assert "SECRET_KEY is not set" in result.stderr
        assert result.stdout == ""


def test_dev_key_only_with_debug_and_env_values_win():
    import json

    dev = run_settings(DEBUG="1")
    assert dev.returncode == 0, dev.stderr
    assert json.loads(dev.stdout)["key"] is True
    prod = run_settings(
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="orders.example.com, api.example.com",
        TIME_ZONE="Europe/Oslo",
        DATABASE_URL="postgres://u:p@db.example.com:5432/installer",
    )
    assert prod.returncode == 0, prod.stderr
    values = json.loads(prod.stdout)
    assert values["debug"] is False
    assert values["hosts"] == ["orders.example.com", "api.example.com"]
    assert values["tz"] == "Europe/Oslo"
    assert values["db"] == "django.db.backends.postgresql"
    assert values["pool"]["max_size"] == 20
