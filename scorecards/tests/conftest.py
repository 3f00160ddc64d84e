"""The hand-built field the scorecard tests read (figures worked out by hand in test_figures)."""

from __future__ import annotations

import pytest

from scorecards.tests.timeline import DAY, HOUR, book, event, installer, job, now, offer, partner


@pytest.fixture
def moment():
    return now()


@pytest.fixture
def field(org_a, org_b, moment):
    """Pia works for routers A and B, Quinn for A. Pia's rows at A (offers by sent time, jobs by
    event time), each inside 30 days, inside 90 only, or outside both:

    offers  accepted 2d (1h to accept), 10d (3h), 40d (5h), 100d (outside), test order 1d (ignored)
            declined 5d "too far", 50d "too far", 60d (no reason); expired 20d; withdrawn 3d
    jobs    J1 booked 5d ago, started 30 min in (on time), completed 3 h after the booked start
            J2 booked 45d ago, started 5 h in (after the 4 h window: late), completed 6 h after
            J3 booked 20d ago, started a day early (startedBeforeBooking), still in progress
            J4 cancelled 8d ago, reason customer_rejected_offer (a customer cancellation)
            J5 cancelled 70d ago, reason no_capacity
            J6 cancelled 3d ago after the customer asked (customer.cancel_requested)
            J7 completed 120d ago (outside); a test order completed 1d ago (ignored)
    Pia at B: one offer declined "busy" 1d ago, one job completed 2d ago.
    Quinn at A: two accepted offers (below the floor)."""
    m = moment
    pia, quinn = installer("Pia Elektro"), installer("Quinn Varme")
    partners = {"pia": partner(org_a, pia, 10), "quinn": partner(org_a, quinn, 20), "pia_b": partner(org_b, pia)}

    for days, hours in ((2, 1), (10, 3), (40, 5), (100, 2)):
        offer(job(org_a), pia, "accepted", m - days * DAY, answer_after=hours * HOUR)
    offer(job(org_a, test=True), pia, "accepted", m - DAY, answer_after=HOUR)
    offer(job(org_a), pia, "declined", m - 5 * DAY, answer_after=HOUR, reason="too far")
    offer(job(org_a), pia, "declined", m - 50 * DAY, answer_after=HOUR, reason="too far ")
    offer(job(org_a), pia, "declined", m - 60 * DAY, answer_after=HOUR)
    offer(job(org_a), pia, "expired", m - 20 * DAY)
    offer(job(org_a), pia, "withdrawn", m - 3 * DAY)

    j1 = job(org_a, pia)
    start = m - 5 * DAY
    book(j1, start)
    event(j1, "order.started", start + HOUR / 2)
    event(j1, "order.completed", start + 3 * HOUR)
    j2 = job(org_a, pia)
    start = m - 45 * DAY
    book(j2, start)
    event(j2, "order.started", start + 5 * HOUR)
    event(j2, "order.completed", start + 6 * HOUR)
    j3 = job(org_a, pia)
    start = m - 20 * DAY
    book(j3, start)
    event(j3, "order.started", start - DAY, {"startedBeforeBooking": True, "bookedStartAt": start.isoformat()})
    event(job(org_a, pia), "order.cancelled", m - 8 * DAY, {"reason": "customer_rejected_offer"})
    event(job(org_a, pia), "order.cancelled", m - 70 * DAY, {"reason": "no_capacity"})
    j6 = job(org_a, pia)
    event(j6, "customer.cancel_requested", m - 4 * DAY, {"message": "No longer needed"}, actor_type="customer")
    event(j6, "order.cancelled", m - 3 * DAY, {"reason": "other"})
    event(job(org_a, pia), "order.completed", m - 120 * DAY)
    event(job(org_a, pia, test=True), "order.completed", m - DAY)

    offer(job(org_b), pia, "declined", m - DAY, answer_after=HOUR, reason="busy")
    event(job(org_b, pia), "order.completed", m - 2 * DAY)

    for days in (1, 2):
        offer(job(org_a), quinn, "accepted", m - days * DAY, answer_after=HOUR)
    return partners
