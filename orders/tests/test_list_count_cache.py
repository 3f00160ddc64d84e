"""The count of a big list is kept LIST_COUNT_CACHE_SECONDS per process (installer.api.pagination
.CountCache); smaller lists are always counted. The key is the caller's organization and the
normalized filters, so another organization or another filter never sees it."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

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


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=10)
def test_one_count_at_a_time_per_key():
    import threading
    import time

    calls = []

    def slow_count():
        calls.append(1)
        time.sleep(0.2)
        return 50_000

    results = []
    threads = [threading.Thread(target=lambda: results.append(counts.count(("k",), slow_count))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [50_000] * 8
    assert len(calls) == 1  # the others waited for it instead of counting side by side


@override_settings(LIST_COUNT_CACHE_SECONDS=0.2, LIST_COUNT_CACHE_MIN=10)
def test_expired_count_answers_while_one_request_recounts():
    import threading
    import time

    assert counts.count(("k",), lambda: 50_000) == 50_000
    time.sleep(0.25)  # expired
    release = threading.Event()

    def slow_recount():
        release.wait(5)
        return 60_000

    leader = []
    thread = threading.Thread(target=lambda: leader.append(counts.count(("k",), slow_recount)))
    thread.start()
    time.sleep(0.05)  # the leader is counting

    def must_not_count():
        raise AssertionError("a second COUNT while one runs")

    assert counts.count(("k",), must_not_count) == 50_000  # the expired count, at once
    release.set()
    thread.join()
    assert leader == [60_000]
    assert counts.count(("k",), must_not_count) == 60_000


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=10)
def test_small_counts_are_never_kept():
    values = iter([3, 4])
    assert counts.count(("k",), lambda: next(values)) == 3
    assert counts.count(("k",), lambda: next(values)) == 4


@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=10_000, LIST_COUNT_CACHE_SLOW_MS=50)
def test_a_small_count_that_was_slow_to_take_is_kept_like_a_big_one():
    """A few matches among many index entries (a narrow tag within a large status) cost a COUNT
    as long as a big list's: such a count is kept, and a quick one stays exact."""
    import time

    def slow(value):
        def compute():
            time.sleep(0.06)
            return value

        return compute

    def must_not_count():
        raise AssertionError("counted again")

    assert counts.count(("slow",), slow(747)) == 747
    assert counts.count(("slow",), must_not_count) == 747  # kept
    values = iter([3, 4])
    assert counts.count(("quick",), lambda: next(values)) == 3
    assert counts.count(("quick",), lambda: next(values)) == 4  # counted again: exact


@pytest.mark.postgres
@override_settings(LIST_COUNT_CACHE_SECONDS=60, LIST_COUNT_CACHE_MIN=10_000, LIST_COUNT_CACHE_SLOW_MS=50)
def test_a_slow_small_count_is_shared_by_the_processes(org_a):
    """PostgreSQL: the process that takes a slow count stores it for the others, as it does a
    big one; another process takes it from there instead of counting."""
    import time

    from django.db import connection

    from installer.api.pagination import CountCache, SharedCounts
    from orders.models import ListCount, Order

    if connection.vendor != "postgresql":
        pytest.skip("shared counts are PostgreSQL only")
    create_order(org_a)
    qs = Order.objects.filter(organization=org_a)
    key = ("orders", org_a.pk, ("slow",))

    def slow():
        time.sleep(0.06)
        return 747

    def must_not_count():
        raise AssertionError("counted in the process instead of through the shared count")

    first, second = CountCache(), CountCache()  # two processes
    assert first.count(key, slow, queryset=qs) == 747
    assert ListCount.objects.get(key=SharedCounts.key_of(key)).count == 747
    second.put(key, 747, seconds=0, slow=True)  # it has kept it before (now due)...
    assert second.count(key, must_not_count, queryset=qs) == 747  # ...and takes the shared one


@pytest.mark.postgres
@override_settings(LIST_COUNT_CACHE_SECONDS=0.5, LIST_COUNT_CACHE_MIN=2)
def test_processes_share_one_count_and_one_of_them_recounts(operator_a, org_a):
    """PostgreSQL: a count that processes have kept is refreshed through the shared table
    (orders.models.ListCount): the process that claims it recounts it, the others take it."""
    import time

    from django.db import connection

    from installer.api.pagination import CountCache, SharedCounts
    from orders.models import ListCount, Order

    if connection.vendor != "postgresql":
        pytest.skip("shared counts are PostgreSQL only")

    def must_not_count():
        raise AssertionError("counted in the process instead of through the shared count")

    for _ in range(3):
        create_order(org_a)
    qs = Order.objects.filter(organization=org_a)
    first, second = CountCache(), CountCache()  # two processes
    key = ("orders", org_a.pk, ())
    assert first.count(key, qs.count, queryset=qs) == 3  # new to the process: counted here...
    assert ListCount.objects.get(key=SharedCounts.key_of(key)).count == 3  # ...and shared
    assert second.count(key, qs.count, queryset=qs) == 3
    create_order(org_a)
    time.sleep(0.55)  # both kept counts are due
    assert first.count(key, must_not_count, queryset=qs) == 4  # claimed, recounted in SQL
    assert second.count(key, must_not_count, queryset=qs) == 4  # fresh in the table: taken
    row = ListCount.objects.get(key=SharedCounts.key_of(key))
    assert row.count == 4 and row.claimed_until is None

    # A claim held elsewhere (being recounted): the others answer with the shared count.
    create_order(org_a)
    time.sleep(0.55)
    ListCount.objects.filter(pk=row.pk).update(claimed_until=timezone.now() + datetime.timedelta(seconds=30))
    assert second.count(key, must_not_count, queryset=qs) == 4
    # Its claimer died and the count is too old to serve: counted in the process.
    ListCount.objects.filter(pk=row.pk).update(counted_at=timezone.now() - datetime.timedelta(seconds=5))
    time.sleep(0.55)
    assert second.count(key, qs.count, queryset=qs) == 5


@pytest.mark.postgres
@override_settings(LIST_COUNT_CACHE_SECONDS=0.5, LIST_COUNT_CACHE_MIN=2)
def test_a_shared_recount_stays_within_the_list_query_budget(operator_a, org_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("shared counts are PostgreSQL only")
    import time

    for _ in range(3):
        create_order(org_a)
    operator_a.get("/api/v1/workflows")  # the token's first use writes last_used_at

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert count(operator_a) == 3
        return len(ctx.captured_queries)

    # token, ids, rows; then COUNT and its store (new to the process), the claim and the recount
    # (due), or nothing (kept).
    assert queries() == 5
    assert queries() == 3
    time.sleep(0.55)
    assert queries() == 5
    assert queries() == 3
