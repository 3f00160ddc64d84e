"""installer.caching.kept: a slow value kept in the cache and recomputed by one caller at a
time once stale."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from installer import caching


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


class Source:
    """Counts how often the value is computed; each computation answers the next number."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_fresh_value_is_computed_once():
    source = Source()
    assert caching.kept("k", 60, source) == 1
    assert caching.kept("k", 60, source) == 1
    assert source.calls == 1


def test_a_stale_value_is_computed_again_by_the_caller_that_takes_the_lock(later, monkeypatch):
    source = Source()
    caching.kept("k", 60, source)
    later(61)
    with monkeypatch.context() as m:  # another caller holds the lock: the stale value is answered
        m.setattr(cache, "add", lambda *args, **kwargs: False)
        assert caching.kept("k", 60, source) == 1
    assert source.calls == 1
    assert caching.kept("k", 60, source) == 2  # the lock is free: computed again, and kept
    assert caching.kept("k", 60, source) == 2
    assert source.calls == 2
    assert cache.get("k:computing") is None  # the lock is let go


def test_a_value_is_kept_in_the_cache_for_ten_times_its_freshness(monkeypatch):
    timeouts = []
    real_set = cache.set
    monkeypatch.setattr(
        cache, "set", lambda key, value, timeout: timeouts.append(timeout) or real_set(key, value, timeout)
    )
    caching.kept("k", 30, Source())
    assert timeouts == [300]


def test_a_value_keep_refuses_is_dropped_and_computed_every_time(later):
    source = Source()
    assert caching.kept("k", 60, source, keep=lambda value: value < 2) == 1  # kept
    later(61)
    assert caching.kept("k", 60, source, keep=lambda value: value < 2) == 2  # computed, dropped
    assert cache.get("k") is None
    assert caching.kept("k", 60, source, keep=lambda value: value < 2) == 3


def test_a_kept_value_that_is_not_usable_is_computed_at_once_even_when_the_lock_is_taken(monkeypatch):
    source = Source()
    caching.kept("k", 60, source)
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)
    assert caching.kept("k", 60, source, usable=lambda value: value >= 2) == 2
