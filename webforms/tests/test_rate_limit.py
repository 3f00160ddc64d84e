"""The webform rate limit counts on the project's shared counters (installer.throttling): in the
shared cache every process reads, per client address as `client_ip` sees it behind proxies."""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings

from installer import throttling
from orders.models import Order
from webforms import throttle
from webforms.tests.conftest import GOOD_POST

pytestmark = pytest.mark.django_db

BAD = {**GOOD_POST, "phone_number": "12"}  # refused by the form: counts, creates nothing
PROXY = "10.0.0.1"


def url(webform) -> str:
    return f"/f/{webform.slug}/"


def behind_proxy(forwarded_for: str) -> Client:
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(webform_a, settings):
    settings.WEBFORM_RATE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    first = behind_proxy("203.0.113.5")
    for _ in range(2):
        assert first.post(url(webform_a), BAD).status_code == 400
    assert first.post(url(webform_a), GOOD_POST).status_code == 429
    # A forged left-most address does not help: the proxy's right-most entry is the client.
    assert behind_proxy("198.51.100.9, 203.0.113.5").post(url(webform_a), GOOD_POST).status_code == 429
    # Another client behind the same proxy (same REMOTE_ADDR) is not affected.
    assert behind_proxy("203.0.113.6").post(url(webform_a), GOOD_POST).status_code == 302
    assert Order.objects.count() == 1


def test_without_trusted_proxy_x_forwarded_for_is_ignored(webform_a, settings):
    settings.WEBFORM_RATE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 0
    for index in range(2):
        assert behind_proxy(f"203.0.113.{index}").post(url(webform_a), BAD).status_code == 400
    # A new X-Forwarded-For per request does not reset the count: the address is REMOTE_ADDR.
    refused = behind_proxy("203.0.113.99").post(url(webform_a), GOOD_POST)
    assert refused.status_code == 429 and Order.objects.count() == 0


def test_counter_lives_in_the_shared_database_cache(webform_a, settings):
    """With the production default (database cache) the count is a row every process reads."""
    settings.WEBFORM_RATE_LIMIT = 3
    db_cache = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "installer_cache"}}
    with override_settings(CACHES=db_cache):
        from installer.apps import create_cache_tables

        create_cache_tables(sender=None, using="default", verbosity=0)
        caches["default"].clear()
        client = Client(REMOTE_ADDR="192.0.2.44")
        for _ in range(3):
            assert client.post(url(webform_a), BAD).status_code == 400
        key = throttling._cache_key("webform:192.0.2.44", int(time.time() // throttle.WINDOW_SECONDS))
        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key FROM installer_cache")
            stored = [row[0] for row in cursor.fetchall()]
        assert any(k.endswith(key) for k in stored), stored
        assert caches["default"].get(key) == 3
        refused = client.post(url(webform_a), GOOD_POST)
        assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
        caches["default"].clear()
    assert Order.objects.count() == 0


def test_zero_turns_the_limit_off(webform_a, settings):
    settings.WEBFORM_RATE_LIMIT = 0
    client = Client(REMOTE_ADDR="192.0.2.50")
    assert [client.post(url(webform_a), BAD).status_code for _ in range(8)] == [400] * 8
