"""Every scorecard figure against the hand-built timeline of conftest.field, both windows."""

from __future__ import annotations

import pytest

from scorecards import selectors
from scorecards.score import MIN_OFFERS, NEUTRAL_SCORE

pytestmark = pytest.mark.django_db


def cards(router, moment):
    return {c.installer_name: c for c in selectors.partner_scorecards(router, now=moment)}


def test_offer_figures_in_both_windows(field, org_a, moment):
    pia = cards(org_a, moment)["Pia Elektro"]
    w30, w90 = pia.window(30), pia.window(90)
    assert (w30.offers_received, w30.accepted, w30.declined, w30.expired, w30.withdrawn) == (5, 2, 1, 1, 1)
    assert w30.accept_rate == pytest.approx(2 / 4)
    assert w30.median_seconds_to_accept == pytest.approx(2 * 3600, abs=1)  # median of 1 h and 3 h
    assert w30.declines_by_reason == (("too far", 1),)
    assert (w90.offers_received, w90.accepted, w90.declined, w90.expired, w90.withdrawn) == (8, 3, 3, 1, 1)
    assert w90.accept_rate == pytest.approx(3 / 7)
    assert w90.expiry_rate == pytest.approx(1 / 7)
    assert w90.median_seconds_to_accept == pytest.approx(3 * 3600, abs=1)  # 1 h, 3 h, 5 h
    assert w90.declines_by_reason == (("too far", 2), (selectors.NO_REASON, 1))


def test_job_figures_in_both_windows(field, org_a, moment):
    pia = cards(org_a, moment)["Pia Elektro"]
    w30, w90 = pia.window(30), pia.window(90)
    # 30 days: J1 on time, J3 early; J1 completed; J4 and J6 cancelled, both by the customer.
    assert (w30.starts, w30.on_time_starts, w30.completed, w30.cancelled, w30.customer_cancellations) == (
        2,
        1,
        1,
        2,
        2,
    )
    assert w30.on_time_rate == pytest.approx(1 / 2)
    assert w30.completion_rate == pytest.approx(1 / 3)
    assert w30.median_seconds_booked_to_completed == pytest.approx(3 * 3600, abs=1)
    # 90 days: J2 started late and completed too; J5 cancelled for no capacity (not the customer).
    assert (w90.starts, w90.on_time_starts, w90.completed, w90.cancelled, w90.customer_cancellations) == (
        3,
        1,
        2,
        3,
        2,
    )
    assert w90.on_time_rate == pytest.approx(1 / 3)
    assert w90.completion_rate == pytest.approx(2 / 5)
    assert w90.median_seconds_booked_to_completed == pytest.approx(4.5 * 3600, abs=1)  # 3 h and 6 h


def test_score_from_the_90_day_figures(field, org_a, moment):
    score = cards(org_a, moment)["Pia Elektro"].score
    assert not score.below_floor and score.offers == 8
    assert score.parts["acceptRate"] == pytest.approx(3 / 7)
    assert score.parts["onTimeStartRate"] == pytest.approx(1 / 3)
    assert score.parts["completionRate"] == pytest.approx(2 / 5)
    assert score.parts["speed"] == pytest.approx(1 - 3 / 24, abs=1e-4)
    expected = 30 * 3 / 7 + 25 / 3 + 25 * 2 / 5 + 20 * (1 - 3 / 24) - 20 / 7
    assert score.value == round(expected, 1) == 45.8


def test_partner_below_the_floor_is_neutral(field, org_a, moment):
    quinn = cards(org_a, moment)["Quinn Varme"]
    assert quinn.window(90).offers_received == 2 < MIN_OFFERS
    assert quinn.window(90).accept_rate == 1.0  # a perfect record, but too few offers to count
    assert quinn.score.below_floor and quinn.score.value == NEUTRAL_SCORE


def test_a_partner_without_any_row_has_an_empty_card(org_a, moment):
    from scorecards.tests.timeline import installer, partner

    partner(org_a, installer("New Partner"))
    card = cards(org_a, moment)["New Partner"]
    w = card.window(30)
    assert (w.offers_received, w.starts, w.completed, w.accept_rate, w.median_seconds_to_accept) == (
        0,
        0,
        0,
        None,
        None,
    )
    assert card.score.below_floor and card.score.value == NEUTRAL_SCORE


def test_each_router_reads_only_its_own_figures(field, org_a, org_b, moment):
    """The same partner has one card per router, and B's card holds nothing of A's."""
    at_b = cards(org_b, moment)
    assert list(at_b) == ["Pia Elektro"]
    w = at_b["Pia Elektro"].window(90)
    assert (w.offers_received, w.declined, w.accepted, w.completed, w.cancelled) == (1, 1, 0, 1, 0)
    assert w.declines_by_reason == (("busy", 1),)
    assert "busy" not in dict(cards(org_a, moment)["Pia Elektro"].window(90).declines_by_reason)


def test_one_query_per_card_and_for_any_number_of_cards(field, org_a, moment, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert selectors.partner_scorecard(field["pia"], now=moment).window(90).offers_received == 8
    partnerships = [field["pia"], field["quinn"], field["pia_b"]]  # two routers
    with django_assert_num_queries(1):
        cards = selectors.scorecards_for(partnerships, now=moment)
    assert [cards[p.pk].window(90).offers_received for p in partnerships] == [8, 2, 1]
    with django_assert_num_queries(2):  # the partnerships, then every card
        assert len(selectors.partner_scorecards(org_a, now=moment)) == 2


def test_parse_window():
    assert [selectors.parse_window(v) for v in ("30", "90", " 90", 30)] == [30, 90, 90, 30]
    assert [selectors.parse_window(v) for v in ("abc", "", None, "60", "-30", "9e1")] == [None] * 6


def test_customer_cancellations_count_each_order_once(org_a, moment):
    """Asked and cancelled with the customer's reason: one cancellation, not two; asked but not
    cancelled, or cancelled for another reason without asking: none."""
    from scorecards.tests.timeline import DAY, event, installer, job, partner

    company = installer("Counted Once")
    p = partner(org_a, company)
    both = job(org_a, company)
    event(both, "customer.cancel_requested", moment - 2 * DAY, actor_type="customer")
    event(both, "order.cancelled", moment - DAY, {"reason": "customer_rejected_offer"})
    event(job(org_a, company), "customer.cancel_requested", moment - 2 * DAY, actor_type="customer")
    event(job(org_a, company), "order.cancelled", moment - DAY, {"reason": "no_capacity"})
    asked_twice = job(org_a, company)
    event(asked_twice, "customer.cancel_requested", moment - 3 * DAY, actor_type="customer")
    event(asked_twice, "customer.cancel_requested", moment - 2 * DAY, actor_type="customer")
    event(asked_twice, "order.cancelled", moment - DAY, {"reason": "other"})
    w = selectors.partner_scorecard(p, now=moment).window(30)
    assert (w.cancelled, w.customer_cancellations) == (3, 2)
