"""Operations, on real processes: two gunicorn nodes on one PostgreSQL, PostgreSQL restarted
under load, gunicorn reloaded (HUP) under load.

These run against a PRIVATE PostgreSQL cluster that the tests create (initdb into a temp dir,
its own port from 55432 up), never the shared server on 5432, which other work uses. They run
with the PostgreSQL suite (`DATABASE_URL=postgres://... make test`, and so in CI) as root or
the postgres user, and are skipped elsewhere (`make test` on SQLite). About a minute in all.
Their figures are written to test-output/ops-figures.json and copied into README "Operations".
"""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from installer.tests import ops

pytestmark = [pytest.mark.ops, pytest.mark.postgres]

_reason = ops.can_run_private_cluster()
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    _reason = "operations tests run with the PostgreSQL suite (DATABASE_URL=postgres://...)"
if _reason:
    pytestmark.append(pytest.mark.skip(reason=_reason))

FIGURES = ops.ROOT / "test-output" / "ops-figures.json"


def record(name: str, figures: dict) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data[name] = figures
    FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True))
    print(f"\n{name}: {figures}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A private cluster with the schema migrated and the demo data seeded; yields
    (cluster, env, token, logdir)."""
    pg = ops.PgCluster()
    try:
        pg.init()
        pg.start()
        pg.createdb("installer_ops")
        env = ops.app_env(pg.url("installer_ops"), DB_POOL_TIMEOUT="2", API_RATE_LIMIT="off")
        ops.manage(env, "migrate", "--noinput")
        ops.manage(env, "seed_demo", "--quiet")
        token = ops.manage(env, "create_api_token", "demo", "--name", "ops").strip()
        yield pg, env, token, tmp_path_factory.mktemp("ops-logs")
    finally:
        pg.destroy()


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_two_nodes_share_the_database_and_the_throttle_counters(cluster):
    pg, env, token, logdir = cluster
    # A token of its own, limited to 6 requests a minute across both nodes (database cache).
    limited = ops.manage(env, "create_api_token", "demo", "--name", "ops-limited").strip()
    node_env = {**env, "API_RATE_LIMIT": "6/min"}
    a = ops.Gunicorn(node_env, logdir, "node-a")
    b = ops.Gunicorn(node_env, logdir, "node-b")
    try:
        created = requests.post(
            f"{a.base}/api/v1/order",
            json={
                "address": "Storgata 1",
                "city": "Oslo",
                "postalCode": "0155",
                "countryCode": "NO",
                "email": "kari@example.com",
                "phoneNumber": "+4791234567",
                "contactPersonName": "Kari",
            },
            headers={**_auth(token), "X-Request-ID": "two-nodes-1"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        order = created.json()
        read = requests.get(f"{b.base}/api/v1/order/{order['id']}", headers=_auth(token), timeout=10)
        assert read.status_code == 200
        assert read.json()["displayId"] == order["displayId"] and read.json()["contactPersonName"] == "Kari"
        events = requests.get(f"{b.base}/api/v1/order/{order['id']}/events", headers=_auth(token), timeout=10)
        assert events.json()["values"][0]["requestId"] == "two-nodes-1"

        # Throttling counts on both nodes together.
        codes = [
            requests.get(f"{node.base}/api/v1/workflows", headers=_auth(limited), timeout=10).status_code
            for node in (a, b, a, b, a, b)
        ]
        assert codes == [200] * 6
        refused = requests.get(f"{b.base}/api/v1/workflows", headers=_auth(limited), timeout=10)
        assert refused.status_code == 429
        assert refused.json()["retryAfter"] == int(refused.headers["Retry-After"]) >= 1
        assert requests.get(f"{a.base}/api/v1/workflows", headers=_auth(limited), timeout=10).status_code == 429

        # JSON access lines carry the request id of the timeline event.
        a.stop()
        lines = [json.loads(line) for line in a.log.read_text().splitlines() if line.startswith("{")]
        access = [line for line in lines if line.get("logger") == "gunicorn.access"]
        mine = [line for line in access if line.get("request_id") == "two-nodes-1"]
        assert mine and mine[0]["method"] == "POST" and mine[0]["status"] == 201 and mine[0]["duration_ms"] > 0
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("pool_check", [False, True], ids=["pool", "pool-check"])
def test_postgres_restart_under_load_gives_503_then_recovers(cluster, pool_check):
    pg, env, token, logdir = cluster
    node = ops.Gunicorn({**env, "DB_POOL_CHECK": "1" if pool_check else "0"}, logdir, f"restart-{pool_check}")
    try:
        with ops.Load([node.base], token, clients=3) as load:
            time.sleep(3)
            stopped_at = time.monotonic()
            pg.stop("fast")
            time.sleep(5)
            pg.start()
            started_at = time.monotonic()
            deadline = started_at + 30
            while time.monotonic() < deadline:
                after = [r for r in load.snapshot() if r.at > started_at]
                if len(after) >= 10 and all(r.status in (200, 201) for r in after[-10:]):
                    break
                time.sleep(0.2)
            time.sleep(2)
        results = load.results
    finally:
        node.stop()

    down = [r for r in results if stopped_at < r.at <= started_at]
    after = [r for r in results if r.at > started_at]
    first_ok = next((r.at for r in after if r.status in (200, 201)), None)
    unexpected = [(r.status, r.error, r.body) for r in results if r.status not in (200, 201, 503)]
    figures = {
        "requests": len(results),
        "ok": sum(r.status in (200, 201) for r in results),
        "503": sum(r.status == 503 for r in results),
        "other_failures": len(unexpected),
        "down_seconds": round(started_at - stopped_at, 1),
        "recovery_seconds": round(first_ok - started_at, 2) if first_ok else None,
        # requests sent after the database was back that still met a broken pooled connection
        "503_sent_after_restart": sum(r.status == 503 for r in results if r.started > started_at),
    }
    record("postgres_restart" + ("_pool_check" if pool_check else ""), figures)
    assert not unexpected, unexpected[:5]
    assert down and any(r.status == 503 for r in down)
    for r in results:
        if r.status == 503:
            assert r.body["statusCode"] == 503 and r.body["error"] == "Service Unavailable", r.body
            assert r.body["message"] == "The database is unavailable. Try again shortly."
    assert first_ok is not None and first_ok - started_at < 15
    tail = after[-10:]
    assert len(tail) == 10 and all(r.status in (200, 201) for r in tail), [(r.status, r.body) for r in tail]


def test_gunicorn_reload_under_load_fails_no_request(cluster):
    pg, env, token, logdir = cluster
    node = ops.Gunicorn(env, logdir, "reload")
    try:
        before = node.worker_pids()
        with ops.Load([node.base], token, clients=3) as load:
            time.sleep(2)
            node.hup()
            time.sleep(6)
            node.hup()
            time.sleep(6)
        after = node.worker_pids()
        results = load.results
    finally:
        node.stop()
    failed = [(r.status, r.error) for r in results if r.status not in (200, 201)]
    figures = {"requests": len(results), "failed": len(failed), "reloads": 2}
    record("gunicorn_reload", figures)
    assert len(results) > 50
    assert not failed, failed[:10]
    assert before and after and not (before & after), (before, after)  # every worker was replaced
