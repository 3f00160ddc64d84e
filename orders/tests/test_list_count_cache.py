"""The count of a big (or slow) list is kept LIST_COUNT_CACHE_SECONDS in the cache framework
(installer.api.pagination.list_count); smaller lists are always counted. The key is the
caller's organization and the normalized filters, so another organization or another filter
never sees it."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def count(client, query=""):
    response = client.get(f"/api/v1/order?pageSize=1{query}")
    assert response.status_code == 200, response.content
    return response.json()["count"]


def count_queries(client, query="") -> int:
    with CaptureQueriesContext(connection) as ctx:
        count(client, query)
    return sum("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=3)
def test_big_count_is_kept_small_count_is_fresh(operator_a, operator_b):
    for _ in range(3):
        create_order(operator_a.org, postal_code="0150")
    create_order(operator_b.org, postal_code="0150")
    assert count(operator_a) == 3  # >= the minimum: kept
    create_order(operator_a.org, postal_code="0151")
    assert count(operator_a) == 3  # the kept count, not a new COUNT
    assert count(operator_a, "&status=0&postalCode=0150") == 3  # another filter: counted
    assert count(operator_a, "&postalCode=0151") == 1  # a short first page: its length, exact
    assert count(operator_b) == 1  # another organization: its own count (below the minimum)
    cache.clear()
    assert count(operator_a) == 4


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=2)
def test_a_second_request_within_the_timeout_does_not_count_again(operator_a, operator_b):
    for _ in range(2):
        create_order(operator_a.org)
        create_order(operator_b.org)
    assert count_queries(operator_a) == 1
    assert count_queries(operator_a) == 0  # kept in the cache
    assert count_queries(operator_a, "&status=0") == 1  # another filter: its own count
    assert count_queries(operator_b) == 1  # another organization: its own count
    assert count_queries(operator_b) == 0


@override_settings(LIST_COUNT_CACHE_SECONDS=0, LIST_COUNT_CACHE_MIN=1)
def test_turned_off_counts_every_time(operator_a):
    for _ in range(2):
        create_order(operator_a.org)
    assert count(operator_a) == 2
    create_order(operator_a.org)
    assert count(operator_a) == 3


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=100)
def test_below_the_minimum_counts_every_time(operator_a):
    for _ in range(2):
        create_order(operator_a.org)
    assert count(operator_a) == 2
    create_order(operator_a.org)
    assert count(operator_a) == 3


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=2)
def test_a_stale_count_is_counted_again_by_one_request_while_the_others_answer_it(operator_a, later, monkeypatch):
    for _ in range(2):
        create_order(operator_a.org)
    assert count_queries(operator_a) == 1
    create_order(operator_a.org)
    later(61)  # the kept count is stale
    # Another request holds the lock (it is counting): this one answers the kept count.
    with monkeypatch.context() as m:
        m.setattr(cache, "add", lambda *args, **kwargs: False)
        assert count_queries(operator_a) == 0
        assert count(operator_a) == 2
    # The lock is free: this request takes it and counts again; the next finds the count fresh.
    assert count_queries(operator_a) == 1
    assert count_queries(operator_a) == 0
    assert count(operator_a) == 3


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=2)
def test_a_count_that_became_small_is_no_longer_kept(operator_a, later):
    orders = [create_order(operator_a.org) for _ in range(3)]
    assert count(operator_a) == 3
    for order in orders[:2]:
        order.delete()
    later(61)
    assert count(operator_a) == 1  # counted again: below the minimum and quick
    create_order(operator_a.org)
    assert count(operator_a) == 2  # nothing kept: counted again, exact
