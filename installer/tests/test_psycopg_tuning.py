"""installer.apps.tune_psycopg on PostgreSQL: timestamptz values read through the fast loader are
exactly what Django's own loader gives; what it cannot parse falls back to Django's loader."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamptz loader"),
]

VALUES = [
    "2026-11-27 14:52:12.587257+00",
    "2026-11-27 14:52:12+00",
    "2026-03-29 01:30:00.5+02",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 12:00:00-09:30",
]


def test_fast_loader_matches_djangos():
    from django.db.backends.postgresql import psycopg_any

    loader_class = psycopg_any.BaseTzLoader
    assert getattr(loader_class, "fast_iso", False), "tune_psycopg did not install the loader"
    with connection.cursor() as cursor:
        placeholders = ", ".join("%s::timestamptz" for _ in VALUES)
        cursor.execute(f"SELECT {placeholders}", VALUES)
        fast = cursor.fetchone()
        adapters = cursor.cursor.adapters
        installed = adapters.get_loader(1184, 0)  # timestamptz, text: a class
        assert issubclass(installed, loader_class)
        # Django's own loader (the fast one's base class) on the same text
        django_loader = loader_class.__mro__[1](1184, cursor.cursor)
        django_loader.timezone = installed.timezone
        cursor.execute(f"SELECT {', '.join('(%s::timestamptz)::text' for _ in VALUES)}", VALUES)
        texts = cursor.fetchone()
    expected = tuple(django_loader.load(text.encode()) for text in texts)
    assert fast == expected
    assert all(v.tzinfo is not None and v.utcoffset() == datetime.timedelta(0) for v in fast)


def test_what_it_cannot_parse_goes_to_djangos_loader():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'infinity'::timestamptz")
        with pytest.raises(Exception, match="(?i)infinity|too large"):
            cursor.fetchone()


def test_app_sessions_run_without_parallel_workers(settings):
    """DB_PARALLEL_WORKERS (default 0) reaches every pooled session: a big COUNT stays on one core."""
    assert "-c max_parallel_workers_per_gather=0" in settings.DATABASES["default"]["OPTIONS"]["options"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
