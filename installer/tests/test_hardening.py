"""Throttling (per token, generic per-client helper), the read-replica router, and a lost
database answered with 503 in the error shape."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from installer import throttling
from installer.db_router import PrimaryReplicaRouter, request_scope
from installer.middleware import DatabaseUnavailableMiddleware, RequestIdMiddleware
from orders.models import Order

# --- throttling ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_parse_rate():
    assert throttling.parse_rate("1200/min") == (1200, 60)
    assert throttling.parse_rate("10/5s") == (10, 5)
    assert throttling.parse_rate("5/hour") == (5, 3600)
    assert throttling.parse_rate("off") is None and throttling.parse_rate("") is None
    with pytest.raises(ValueError):
        throttling.parse_rate("5/fortnight")


def test_hit_counts_per_key_and_window():
    now = 1_000_000.0  # a window boundary for window=10
    assert [throttling.hit("k", 3, 10, now=now + i)[0] for i in range(4)] == [True, True, True, False]
    allowed, retry_after = throttling.hit("k", 3, 10, now=now + 6.5)
    assert (allowed, retry_after) == (False, 4)
    assert throttling.hit("other", 3, 10, now=now + 7) == (True, 0)  # keys do not share
    assert throttling.hit("k", 3, 10, now=now + 10) == (True, 0)  # the next window starts afresh


@pytest.mark.django_db
def test_hit_on_the_database_cache_created_by_migrate():
    """Without Redis the counters live in the database cache, whose table `migrate` creates."""
    db_cache = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "installer_cache"}}
    with override_settings(CACHES=db_cache):
        from installer.apps import create_cache_tables

        create_cache_tables(sender=None, using="default", verbosity=0)  # what post_migrate runs
        assert "installer_cache" in connection.introspection.table_names()
        from django.core.cache import caches

        caches["default"].clear()
        results = [throttling.hit("webform:1.2.3.4", 2, 60, now=60.0) for _ in range(3)]
        assert results == [(True, 0), (True, 0), (False, 60)]


def test_migrate_alone_creates_the_cache_table(tmp_path):
    """With the production default (database cache), `migrate` runs `createcachetable` too."""
    import sqlite3

    from installer.tests.test_production import run_manage

    db = tmp_path / "fresh.sqlite3"
    result = run_manage("migrate", "--noinput", env={"DEBUG": "1", "DATABASE_URL": f"sqlite:///{db}"}, timeout=300)
    assert result.returncode == 0, result.stderr
    tables = {row[0] for row in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "installer_cache" in tables


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_hit_on_redis_is_atomic_across_threads():
    import threading

    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": "installer-test-production",
        }
    }
    with override_settings(CACHES=redis_cache):
        from django.core.cache import caches

        caches["default"].clear()
        allowed = []
        lock = threading.Lock()

        def worker():
            for _ in range(25):
                ok, _ = throttling.hit("race", 60, 3600, now=7200.0)
                with lock:
                    allowed.append(ok)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert allowed.count(True) == 60 and allowed.count(False) == 40
        caches["default"].clear()


@pytest.mark.django_db
def test_api_token_is_throttled_with_429_and_retry_after(operator_a, viewer_a):
    with override_settings(API_RATE_LIMIT="3/min"):
        codes = [operator_a.get("/api/v1/order").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        response = operator_a.get("/api/v1/order")
        assert response.status_code == 429
        body = response.json()
        retry = int(response["Retry-After"])
        assert 1 <= retry <= 60
        assert body == {
            "error": "Too Many Requests",
            "message": f"Too many requests. Try again in {retry} seconds.",
            "statusCode": 429,
            "retryAfter": retry,
        }
        # The counter belongs to the token: another token of the same organization still passes.
        assert viewer_a.get("/api/v1/order").status_code == 200
    with override_settings(API_RATE_LIMIT="off"):
        assert operator_a.get("/api/v1/order").status_code == 200


def test_too_many_requests_error_for_other_callers():
    from installer.api.exceptions import TooManyRequests, api_exception_handler

    response = api_exception_handler(TooManyRequests(retry_after=7))
    assert response.status_code == 429 and response["Retry-After"] == "7"
    assert response.data["retryAfter"] == 7 and response.data["statusCode"] == 429


def test_client_ip_trusts_only_the_configured_proxies():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert throttling.client_ip(request) == "10.0.0.9"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert throttling.client_ip(request) == "203.0.113.5"  # the forged left entry is ignored


# --- read replica router ---------------------------------------------------------------------


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr("installer.db_router.has_replica", lambda: True)
    return PrimaryReplicaRouter()


def test_router_without_replica_always_uses_primary():
    router = PrimaryReplicaRouter()
    with request_scope(may_use_replica=True):
        assert router.db_for_read(Order) == "default"


def test_router_reads_replica_in_safe_requests_until_a_write(with_replica):
    router = with_replica
    assert router.db_for_read(Order) == "default"  # outside a request: workers, commands
    with request_scope(may_use_replica=True):
        assert router.db_for_read(Order) == "replica"
        assert router.db_for_write(Order) == "default"
        assert router.db_for_read(Order) == "default"  # reads its own writes
    with request_scope(may_use_replica=False):  # POST, PATCH, ...
        assert router.db_for_read(Order) == "default"
    assert router.allow_migrate("replica", "orders") is False and router.allow_migrate("default", "orders")


def test_router_keeps_the_database_cache_on_the_primary_without_pinning(with_replica):
    from django.core.cache.backends.db import DatabaseCache

    cache_model = DatabaseCache("installer_cache", {}).cache_model_class
    with request_scope(may_use_replica=True):
        assert with_replica.db_for_read(cache_model) == "default"
        assert with_replica.db_for_write(cache_model) == "default"  # a throttling counter
        assert with_replica.db_for_read(Order) == "replica"  # ... does not pin the request


@pytest.mark.django_db(transaction=True)
def test_router_uses_primary_inside_transactions(with_replica):
    from django.db import transaction

    with request_scope(may_use_replica=True):
        with transaction.atomic():
            assert with_replica.db_for_read(Order) == "default"
        assert with_replica.db_for_read(Order) == "replica"


def test_middleware_opens_the_replica_scope_for_safe_methods_only(with_replica):
    seen = {}

    def view(request):
        seen[request.method] = with_replica.db_for_read(Order)
        return HttpResponse("ok")

    middleware = RequestIdMiddleware(view)
    middleware(RequestFactory().get("/api/v1/order"))
    middleware(RequestFactory().post("/api/v1/order"))
    assert seen == {"GET": "replica", "POST": "default"}
    assert with_replica.db_for_read(Order) == "default"  # the scope ends with the request


# --- a lost database -------------------------------------------------------------------------

DB_DOWN = {
    "error": "Service Unavailable",
    "message": "The database is unavailable. Try again shortly.",
    "statusCode": 503,
}


@pytest.mark.django_db
def test_api_view_answers_503_when_the_database_is_gone(operator_a, monkeypatch):
    from orders import selectors

    def gone(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "orders_visible_to", gone)
    response = operator_a.get("/api/v1/order")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == DB_DOWN


def test_pool_timeout_outside_drf_is_503_on_api_paths():
    from psycopg_pool import PoolTimeout

    def view(request):
        raise PoolTimeout("couldn't get a connection after 2.00 sec")

    middleware = DatabaseUnavailableMiddleware(view)
    response = middleware(RequestFactory().get("/api/v1/anything"))
    assert response.status_code == 503
    import json

    assert json.loads(response.content) == DB_DOWN
    page = middleware(RequestFactory().get("/admin/"))  # pages get the plain HTML page
    assert page.status_code == 503 and page["Content-Type"].startswith("text/html")


def test_handler500_maps_a_lost_database_to_503():
    from installer.api.exceptions import handler500

    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = handler500(RequestFactory().get("/api/v1/order"))
    assert response.status_code == 503
    try:
        raise ValueError("bug")
    except ValueError:
        assert handler500(RequestFactory().get("/api/v1/order")).status_code == 500


def _database_gone(execute, sql, params, many, context):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/f/some-form/", "/t/some-tracking-token/", "/admin/", "/admin/login/"])
def test_html_pages_answer_a_plain_503_page_while_the_database_is_gone(client, admin_user, path):
    """Every query fails as with the server stopped; a logged-in admin's session cannot be read
    either. The page is a plain 503 with Retry-After, not a 500 and not the API's JSON."""
    client.force_login(admin_user)
    with connection.execute_wrapper(_database_gone):
        response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "<h1>Temporarily unavailable</h1>" in body
    assert "Traceback" not in body and "statusCode" not in body


@pytest.mark.django_db
def test_api_keeps_its_json_503_while_the_database_is_gone(operator_a):
    with connection.execute_wrapper(_database_gone):
        response = operator_a.get("/api/v1/order")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == DB_DOWN


def test_handler500_maps_a_lost_database_to_the_html_page_on_pages():
    from installer.api.exceptions import handler500

    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = handler500(RequestFactory().get("/t/abc/"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b"Temporarily unavailable" in response.content


def test_readyz_is_503_in_the_error_shape(client, monkeypatch):
    from installer import views

    class Broken:
        def cursor(self):
            raise OperationalError("gone")

    monkeypatch.setattr(views, "connection", Broken())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["statusCode"] == 503 and response.json()["error"] == "Service Unavailable"
