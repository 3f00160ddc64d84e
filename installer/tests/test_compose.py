"""compose.yaml (docs/deploying.md#compose): its shape, and `podman-compose config` accepts it.

Only a syntax and shape check: the containers it describes (migrate, web, worker) are the image's
roles, which installer/tests/test_image.py runs; PostgreSQL, Redis and MinIO come from registries
that the test machines do not reach.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / "compose.env.example"
CONFIGURATION = ROOT / "docs" / "configuration.md"
# Variables of compose.env.example that the other services read, not the app.
SERVICE_VARIABLES = {"POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
APP_ROLES = {"migrate": ["migrate"], "web": ["web"], "worker": ["worker"]}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_every_role_runs_the_one_image_after_migrate():
    services = _compose()["services"]
    assert set(services) == {"migrate", "web", "worker", "postgres", "redis", "minio", "minio-init"}
    for name, command in APP_ROLES.items():
        service = services[name]
        assert service["command"] == command
        assert service["build"]["dockerfile"] == "Containerfile"
        assert service["env_file"] == "compose.env"
        assert service["image"] == services["web"]["image"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_health_checks_volumes_and_the_s3_profile():
    compose = _compose()
    services = compose["services"]
    for name in ("web", "postgres", "redis", "minio"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["web"]["healthcheck"]["test"][-1] == "/app/container/healthcheck.py"
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media", "miniodata"}
    assert "media:/data/media" in services["web"]["volumes"]
    for name in ("minio", "minio-init"):
        assert services[name]["profiles"] == ["s3"]
    for name in ("migrate", "web", "worker", "postgres", "redis"):
        assert "profiles" not in services[name], name


def test_the_env_example_sets_only_documented_variables():
    documented = {
        name
        for line in CONFIGURATION.read_text().splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
    }
    assigned = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "STORAGE_BACKEND", "WORKER_COMMAND"} <= assigned
    assert sorted(assigned - SERVICE_VARIABLES - documented) == []


def test_podman_compose_config_accepts_it(tmp_path):
    tool = shutil.which("podman-compose", path=str(Path(sys.executable).parent)) or shutil.which("podman-compose")
    if not tool or not shutil.which("podman"):
        pytest.skip("podman-compose or podman is not installed (requirements-dev.txt has podman-compose)")
    shutil.copy(COMPOSE, tmp_path / "compose.yaml")
    shutil.copy(ENV_EXAMPLE, tmp_path / "compose.env")
    for profile in ([], ["--profile", "s3"]):
        result = subprocess.run(  # noqa: S603
            [tool, *profile, "-f", str(tmp_path / "compose.yaml"), "config"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        resolved = yaml.safe_load(result.stdout)
        assert {"migrate", "web", "worker", "postgres", "redis"} <= set(resolved["services"])
        assert ("minio" in resolved["services"]) == bool(profile)
        assert resolved["services"]["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
