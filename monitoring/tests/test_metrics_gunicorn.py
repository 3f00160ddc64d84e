"""/metrics under gunicorn with several worker processes (prometheus-client's multiprocess mode,
PROMETHEUS_MULTIPROC_DIR): whichever process answers the scrape, the request counts are the sum
over every process."""

from __future__ import annotations

import pytest
import requests
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from installer.tests import ops
from installer.tests.task_backends import database_url

pytestmark = [pytest.mark.ops, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TOKEN = "metrics-token-for-the-gunicorn-test"


def healthz_count(base: str) -> float:
    response = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200
    return sum(
        s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name == "installer_http_requests_total" and s.labels["route"] == "/healthz"
    )


def test_request_counts_add_up_over_every_gunicorn_worker(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (gunicorn serves the test database)")
    multiproc = tmp_path / "prometheus"
    (multiproc).mkdir()
    (multiproc / "counter_999999.db").write_bytes(b"left from an earlier run")
    env = ops.app_env(database_url(), PROMETHEUS_MULTIPROC_DIR=str(multiproc), METRICS_TOKEN=TOKEN)
    node = ops.Gunicorn(env, tmp_path, "metrics", workers=3, threads=1)
    try:
        assert not (multiproc / "counter_999999.db").exists()  # cleared when gunicorn starts
        for _ in range(60):  # a new connection each: the kernel spreads them over the workers
            assert requests.get(f"{node.base}/healthz", timeout=10).status_code == 200
        served_by = {p.name for p in multiproc.glob("counter_*.db")}
        assert len(served_by) >= 2, served_by  # more than one process counted requests
        assert [healthz_count(node.base) for _ in range(6)] == [60.0] * 6
    finally:
        node.stop()
