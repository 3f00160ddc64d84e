"""The count of a big list is kept LIST_COUNT_CACHE_SECONDS per process (installer.api.pagination
.CountCache); smaller lists are always counted. The key is the caller's organization and the
normalized filters, so another organization or another filter never sees it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from installer.api.pagination import counts
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    counts.clear()
    yield
    counts.clear()


def count(client, query=""):
    response = client.get(f"/api/v1/order?pageSize=1{query}")
    assert response.status_code == 200, response.content
    return response.json()["count"]


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
    counts.clear()
    assert count(operator_a) == 4


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
