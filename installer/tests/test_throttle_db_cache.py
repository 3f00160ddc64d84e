"""Rate limiting on the database cache (the default without Redis) counts without a failing
statement: PostgreSQL logs every failed INSERT as an error and keeps its dead row."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings

from installer import throttling
from installer.apps import create_cache_tables

pytestmark = pytest.mark.django_db

DB_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "installer_cache"}}


@pytest.fixture
def db_cache():
    with override_settings(CACHES=DB_CACHE):
        create_cache_tables(sender=None, using="default", verbosity=0)
        caches["default"].clear()
        yield caches["default"]
        caches["default"].clear()


@pytest.fixture
def failed_statements():
    """Every statement the database refuses while the test runs, even if the caller catches it."""
    failed: list[tuple[str, Exception]] = []

    def watch(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except Exception as exc:
            failed.append((sql, exc))
            raise

    with connection.execute_wrapper(watch):
        yield failed


def test_a_throttled_series_of_api_requests_runs_no_failing_statement(
    db_cache, failed_statements, operator_a, settings
):
    settings.API_RATE_LIMIT = "3/day"
    statuses = [operator_a.get("/api/v1/me").status_code for _ in range(8)]
    assert statuses == [200, 200, 200, 429, 429, 429, 429, 429]
    assert failed_statements == []


def test_hit_counts_every_hit_of_a_window_on_the_database_cache(db_cache, failed_statements):
    now = 7_200.0  # a window boundary for window=3600
    results = [throttling.hit("login:1.2.3.4", 3, 3600, now=now + i) for i in range(5)]
    assert [allowed for allowed, _ in results] == [True, True, True, False, False]
    assert results[-1][1] == 3600 - 4
    assert throttling.hit("login:1.2.3.4", 3, 3600, now=now + 3600) == (True, 0)  # the next window
    assert failed_statements == []
