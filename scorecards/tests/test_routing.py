"""best_performing ranks covering partners by their score (the floor keeps new partners
neutral); every other strategy breaks its ties with the score; the preview shows it; a
dispatch reads all candidates' scores in one query."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backoffice.tests.conftest import staff_client
from dispatch import services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.tests.factories import create_order
from scorecards.score import NEUTRAL_SCORE
from scorecards.selectors import score_cache_key
from scorecards.tests.timeline import DAY, HOUR, job, now, offer

pytestmark = pytest.mark.django_db


def set_strategy(org, strategy, offers_at_once=1):
    org.routing_strategy = strategy
    org.offers_at_once = offers_at_once
    org.save(update_fields=["routing_strategy", "offers_at_once"])


def history(router, company, outcomes, *, at=None):
    """Past offers of the router to `company`: ("accepted", hours to accept) | ("declined",) | ("expired",)."""
    at = at or now() - 2 * DAY
    for outcome in outcomes:
        hours = outcome[1] if len(outcome) > 1 else 1
        answer = None if outcome[0] == "expired" else hours * HOUR
        offer(job(router), company, outcome[0], at, answer_after=answer)


def ranked_names(order, org, at_once=3):
    set_strategy(org, org.routing_strategy, at_once)
    services.order_dispatch(order_id=order.pk, organization=org, actor=Actor.system("test"))
    return list(
        Offer.objects.filter(order=order, dispatch_run__isnull=False)
        .order_by("rank")
        .values_list("installer__name", flat=True)
    )


@pytest.fixture
def trio(org_a):
    """Good: 5 quick accepts (score 74.2). Poor: 1 slow accept, 2 declines, 2 expiries (26.3).
    New: no offers (below the floor: 50). Priorities favour Poor, then New, then Good."""
    good, poor, new = make_installer("Good Co"), make_installer("Poor Co"), make_installer("New Co")
    make_partner(org_a, poor, priority=1)
    make_partner(org_a, new, priority=2)
    make_partner(org_a, good, priority=3)
    history(org_a, good, [("accepted", 1)] * 5)
    history(org_a, poor, [("accepted", 20), ("declined",), ("declined",), ("expired",), ("expired",)])
    return {"good": good, "poor": poor, "new": new}


def test_best_performing_ranks_by_score_with_new_partners_neutral(org_a, trio, operator_a):
    set_strategy(org_a, "best_performing")
    order = create_order(org_a, name="Charger")
    preview = operator_a.get(f"/api/v1/order/{order.pk}/dispatch/preview").json()
    kept = [(c["installer"]["name"], c["rank"], c["score"]) for c in preview["candidates"] if c["kept"]]
    assert kept == [("Good Co", 1, 74.2), ("New Co", 2, NEUTRAL_SCORE), ("Poor Co", 3, 26.3)]
    parts = {c["installer"]["name"]: c["performance"] for c in preview["candidates"]}
    assert parts["Good Co"]["parts"]["acceptRate"] == 1.0 and parts["Good Co"]["belowFloor"] is False
    assert parts["Poor Co"]["expiryRate"] == 0.4 and parts["Poor Co"]["parts"]["acceptRate"] == 0.2
    assert parts["New Co"] == {
        "score": NEUTRAL_SCORE,
        "belowFloor": True,
        "offers": 0,
        "parts": {"acceptRate": None, "onTimeStartRate": None, "completionRate": None, "speed": None},
        "expiryRate": None,
    }
    assert ranked_names(order, org_a) == ["Good Co", "New Co", "Poor Co"]
    run_offer = Offer.objects.get(order=order, rank=1)
    assert run_offer.score == 74.2 and run_offer.dispatch_run.strategy == "best_performing"


def test_best_performing_ties_go_to_priority_then_id(org_a):
    set_strategy(org_a, "best_performing")
    late = make_partner(org_a, make_installer("Zeta New"), priority=5)
    early = make_partner(org_a, make_installer("Alpha New"), priority=5)
    first = make_partner(org_a, make_installer("Mid New"), priority=1)
    assert late.pk < early.pk
    names = ranked_names(create_order(org_a), org_a)
    assert names == ["Mid New", "Zeta New", "Alpha New"]  # all neutral: priority, then partnership id
    assert first.pk > late.pk


@pytest.mark.parametrize("strategy", ["priority", "nearest", "least_loaded", "round_robin"])
def test_existing_strategies_break_ties_by_score(org_a, strategy):
    """Two partners equal on everything the strategy ranks by: the better score goes first,
    even though the partnership id would put the other one first."""
    set_strategy(org_a, strategy)
    weak, strong = make_installer("Weak Co"), make_installer("Strong Co")
    assert make_partner(org_a, weak).pk < make_partner(org_a, strong).pk
    same_time = now() - 3 * DAY
    history(org_a, weak, [("declined",)] * 4 + [("accepted", 10)], at=same_time)
    history(org_a, strong, [("accepted", 1)] * 5, at=same_time)
    assert ranked_names(create_order(org_a), org_a, at_once=2) == ["Strong Co", "Weak Co"]


def test_existing_strategies_keep_their_own_order_before_the_score(org_a, trio):
    set_strategy(org_a, "priority")
    assert ranked_names(create_order(org_a), org_a) == ["Poor Co", "New Co", "Good Co"]


def _dispatch_queries(org, count: int) -> int:
    for i in range(count):
        company = make_installer(f"Partner {count}-{i}")
        make_partner(org, company)
        history(org, company, [("accepted", 1)] * 2)
    order = create_order(org)
    with CaptureQueriesContext(connection) as queries:
        services.order_dispatch(order_id=order.pk, organization=org, actor=Actor.system("test"))
    assert Offer.objects.filter(order=order).count() == 1
    return len(queries)


def test_dispatch_reads_all_scores_in_one_query(org_a, org_b):
    set_strategy(org_a, "best_performing")
    set_strategy(org_b, "best_performing")
    one, ten = _dispatch_queries(org_a, 1), _dispatch_queries(org_b, 10)
    assert one == ten

    def score_reads(org) -> int:
        with CaptureQueriesContext(connection) as queries:
            services.order_dispatch(order_id=create_order(org).pk, organization=org, actor=Actor.system("test"))
        return sum("UNION ALL" in q["sql"] for q in queries.captured_queries)

    assert score_reads(org_a) == 0  # the scores read by the first dispatch, from the cache
    cache.delete(score_cache_key(org_a.pk))
    assert score_reads(org_a) == 1


def test_dispatch_reads_a_new_partners_score_at_once(org_a):
    """A partnership added after the scores were cached is not left without one."""
    set_strategy(org_a, "best_performing")
    make_partner(org_a, make_installer("Old Co"), priority=1)
    assert ranked_names(create_order(org_a), org_a) == ["Old Co"]
    strong = make_installer("Strong New Co")
    make_partner(org_a, strong, priority=2)
    history(org_a, strong, [("accepted", 1)] * 5)
    assert ranked_names(create_order(org_a), org_a) == ["Strong New Co", "Old Co"]


def test_cached_scores_are_used_until_they_expire(org_a, settings):
    set_strategy(org_a, "best_performing")
    first, second = make_installer("First Co"), make_installer("Second Co")
    make_partner(org_a, first, priority=1)
    make_partner(org_a, second, priority=2)
    assert ranked_names(create_order(org_a), org_a) == ["First Co", "Second Co"]  # both neutral
    history(org_a, second, [("accepted", 1)] * 5)
    assert ranked_names(create_order(org_a), org_a) == ["First Co", "Second Co"]  # cached
    settings.SCORECARD_SCORE_CACHE_SECONDS = 0
    assert ranked_names(create_order(org_a), org_a) == ["Second Co", "First Co"]  # read fresh


def test_admin_preview_shows_score_and_parts(org_a, trio):
    set_strategy(org_a, "best_performing")
    order = create_order(org_a)
    staff = staff_client(org_a)
    response = staff.get(reverse("admin:orders_order_action", args=[order.pk, "dispatch"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>74.2</strong>" in page and "accept 100%" in page and "speed 96%" in page
    assert "below the floor: 0 offers, neutral score" in page


def test_stale_scores_are_read_again_by_one_dispatch_while_the_others_use_them(org_a, settings, monkeypatch, later):
    """Reading the scores takes a noticeable time at a million orders: when the kept ones are
    stale, only the dispatch that takes the key's lock reads them again."""
    set_strategy(org_a, "best_performing")
    make_partner(org_a, make_installer("First Co"), priority=1)
    settings.SCORECARD_SCORE_CACHE_SECONDS = 60
    cache.delete(score_cache_key(org_a.pk))

    def score_reads() -> int:
        with CaptureQueriesContext(connection) as queries:
            services.order_dispatch(order_id=create_order(org_a).pk, organization=org_a, actor=Actor.system("test"))
        return sum("UNION ALL" in q["sql"] for q in queries.captured_queries)

    assert score_reads() == 1
    assert score_reads() == 0
    later(61)  # the kept scores are stale
    with monkeypatch.context() as m:  # another dispatch is reading them
        m.setattr(cache, "add", lambda *args, **kwargs: False)
        assert score_reads() == 0
    assert score_reads() == 1  # this one takes the lock and reads them
    assert score_reads() == 0
