"""Partner scorecards: how each installer partner performs for one router, over 30 and 90 days,
read from the router's offers and its orders' timeline (docs/back-office.md#partner-scorecards).

One query per card, and one query for any number of cards (`scorecards_for`): the router's
offers grouped per (router, partner) and the timeline of the partners' jobs grouped the same
way, each group aggregating every figure of every window into one JSON object (medians by
`scorecards.aggregates.Median`), the two joined by UNION ALL. One pass over the window's rows,
whatever the number of partners. Every figure is keyed by the router (offers of the router's
orders, events of the router's orders), so one router never reads another's figures for the
same partner. Test orders and deleted orders do not count.

Offer figures count the offers *sent* in the window; job figures count the `order.started`,
`order.completed` and `order.cancelled` events recorded in the window for orders whose installer
is the partner.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import JSONObject
from django.utils import timezone

from accounts.models import Organization
from dispatch.models import Offer, OfferStatus, Partnership
from installer.caching import kept
from orders.models import CancelReason, OrderEvent
from scorecards.aggregates import JSONArrayAgg, Median, Seconds
from scorecards.score import SCORE_WINDOW_DAYS, Score, score_of

WINDOWS = (30, 90)
DEFAULT_WINDOW = 90
STARTED, COMPLETED, CANCELLED = "order.started", "order.completed", "order.cancelled"
CUSTOMER_CANCEL_REQUEST = "customer.cancel_requested"  # portal.services.CANCEL_REQUESTED
NO_REASON = "(no reason given)"
OFFERS, JOBS = "offers", "jobs"


@dataclass(frozen=True)
class WindowFigures:
    """One partner's figures for one router over the last `days` days."""

    days: int
    offers_received: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    withdrawn: int = 0
    median_seconds_to_accept: float | None = None
    declines_by_reason: tuple[tuple[str, int], ...] = ()
    starts: int = 0
    on_time_starts: int = 0
    completed: int = 0
    cancelled: int = 0
    customer_cancellations: int = 0
    median_seconds_booked_to_completed: float | None = None

    @property
    def answered(self) -> int:
        """Offers the partner accepted, declined or let expire (withdrawn and open ones aside)."""
        return self.accepted + self.declined + self.expired

    @property
    def accept_rate(self) -> float | None:
        return _ratio(self.accepted, self.answered)

    @property
    def expiry_rate(self) -> float | None:
        return _ratio(self.expired, self.answered)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time_starts, self.starts)

    @property
    def completion_rate(self) -> float | None:
        return _ratio(self.completed, self.completed + self.cancelled)

    def as_dict(self) -> dict[str, Any]:
        """The wire shape (docs/api.md#partner-scorecards)."""
        return {
            "windowDays": self.days,
            "offersReceived": self.offers_received,
            "accepted": self.accepted,
            "declined": self.declined,
            "expired": self.expired,
            "withdrawn": self.withdrawn,
            "acceptRate": _round(self.accept_rate),
            "medianSecondsToAccept": _round(self.median_seconds_to_accept, 0),
            "declinesByReason": [{"reason": reason, "count": n} for reason, n in self.declines_by_reason],
            "starts": self.starts,
            "onTimeStarts": self.on_time_starts,
            "onTimeStartRate": _round(self.on_time_rate),
            "completed": self.completed,
            "cancelled": self.cancelled,
            "completionRate": _round(self.completion_rate),
            "medianSecondsBookedToCompleted": _round(self.median_seconds_booked_to_completed, 0),
            "customerCancellations": self.customer_cancellations,
        }


@dataclass(frozen=True)
class Scorecard:
    partnership_id: int
    installer_id: Any
    installer_name: str
    windows: dict[int, WindowFigures]
    score: Score

    def window(self, days: int) -> WindowFigures:
        return self.windows[days]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def parse_window(value: Any) -> int | None:
    """30 or 90 from a request parameter; None for anything else."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return days if days in WINDOWS else None


# --------------------------------------------------------------------------------------------
# The query
# --------------------------------------------------------------------------------------------


def _offer_figures(routers: Any, installers: Any, windows: Sequence[int], now: datetime.datetime) -> QuerySet:
    longest = now - datetime.timedelta(days=max(windows))
    fields: dict[str, Any] = {}
    for days in windows:
        w = Q(sent_at__gt=now - datetime.timedelta(days=days))
        fields.update(
            {
                f"received{days}": Count("pk", filter=w),
                f"accepted{days}": Count("pk", filter=w & Q(status=OfferStatus.ACCEPTED)),
                f"declined{days}": Count("pk", filter=w & Q(status=OfferStatus.DECLINED)),
                f"expired{days}": Count("pk", filter=w & Q(status=OfferStatus.EXPIRED)),
                f"withdrawn{days}": Count("pk", filter=w & Q(status=OfferStatus.WITHDRAWN)),
                f"toAccept{days}": Median(
                    Seconds("responded_at", "sent_at"), filter=w & Q(status=OfferStatus.ACCEPTED)
                ),
                f"reasons{days}": JSONArrayAgg("decline_reason", filter=w & Q(status=OfferStatus.DECLINED)),
            }
        )
    return (
        Offer.objects.filter(
            order__organization__in=routers,
            installer__in=installers,
            order__test=False,
            order__deleted_at__isnull=True,
            sent_at__gt=longest,
            sent_at__lte=now,
        )
        .order_by()
        .values("order__organization", "installer")
        .annotate(kind=Value(OFFERS), figures=JSONObject(**fields))
        .values_list("order__organization", "installer", "kind", "figures")
    )


def _job_figures(routers: Any, installers: Any, windows: Sequence[int], now: datetime.datetime) -> QuerySet:
    longest = now - datetime.timedelta(days=max(windows))
    started, completed, cancelled = Q(type=STARTED), Q(type=COMPLETED), Q(type=CANCELLED)
    booked = Q(order__booking__isnull=False)
    asked = Q(type=CUSTOMER_CANCEL_REQUEST)
    by_reason = cancelled & Q(data__reason=CancelReason.CUSTOMER_REJECTED_OFFER.value)
    fields: dict[str, Any] = {}
    for days in windows:
        w = Q(created_at__gt=now - datetime.timedelta(days=days))

        def orders(condition: Q, w: Q = w) -> Count:
            return Count("order", distinct=True, filter=w & condition)

        fields.update(
            {
                f"starts{days}": Count("pk", filter=w & started & booked),
                # Started no later than the booked end; early starts (an earlier day) are taken off below.
                f"byEnd{days}": Count("pk", filter=w & started & Q(order__booking__end_at__gte=F("created_at"))),
                f"early{days}": Count("pk", filter=w & started & booked & Q(data__startedBeforeBooking=True)),
                f"completed{days}": Count("pk", filter=w & completed),
                f"cancelled{days}": Count("pk", filter=w & cancelled),
                # Customer cancellations = |by reason ∪ (cancelled ∩ asked)|, counted over distinct
                # orders by inclusion-exclusion (no per-row subquery): see _customer_cancellations.
                f"cC{days}": orders(cancelled),
                f"cR{days}": orders(by_reason),
                f"cA{days}": orders(asked),
                f"cCuA{days}": orders(cancelled | asked),
                f"cRuA{days}": orders(by_reason | asked),
                f"bookedToCompleted{days}": Median(
                    Seconds("created_at", "order__booking__start_at"), filter=w & completed
                ),
            }
        )
    return (
        OrderEvent.objects.filter(
            organization__in=routers,
            order__installer__in=installers,
            order__test=False,
            order__deleted_at__isnull=True,
            type__in=(STARTED, COMPLETED, CANCELLED, CUSTOMER_CANCEL_REQUEST),
            created_at__gt=longest,
            created_at__lte=now,
        )
        .order_by()
        .values("organization", "order__installer")
        .annotate(kind=Value(JOBS), figures=JSONObject(**fields))
        .values_list("organization", "order__installer", "kind", "figures")
    )


def _customer_cancellations(jobs: dict, days: int) -> int:
    """Orders cancelled in the window with the reason `customer_rejected_offer` (R) or after the
    customer asked to cancel in the window (C ∩ A): |R ∪ (C ∩ A)| = |R| + |C ∩ A| − |R ∩ A|
    (R ⊆ C), each intersection |X ∩ Y| = |X| + |Y| − |X ∪ Y| over distinct orders."""

    def n(key: str) -> int:
        return int(jobs.get(f"{key}{days}") or 0)

    cancelled_and_asked = n("cC") + n("cA") - n("cCuA")
    reason_and_asked = n("cR") + n("cA") - n("cRuA")
    return max(0, n("cR") + cancelled_and_asked - reason_and_asked)


def _figures(offers: dict, jobs: dict, days: int) -> WindowFigures:
    def n(source: dict, key: str) -> int:
        return int(source.get(f"{key}{days}") or 0)

    reasons = Counter((r or "").strip() or NO_REASON for r in (offers.get(f"reasons{days}") or []))
    by_end, early = n(jobs, "byEnd"), n(jobs, "early")
    to_accept, to_complete = offers.get(f"toAccept{days}"), jobs.get(f"bookedToCompleted{days}")
    return WindowFigures(
        days=days,
        offers_received=n(offers, "received"),
        accepted=n(offers, "accepted"),
        declined=n(offers, "declined"),
        expired=n(offers, "expired"),
        withdrawn=n(offers, "withdrawn"),
        median_seconds_to_accept=None if to_accept is None else float(to_accept),
        declines_by_reason=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        starts=n(jobs, "starts"),
        on_time_starts=max(0, by_end - early),
        completed=n(jobs, "completed"),
        cancelled=n(jobs, "cancelled"),
        customer_cancellations=_customer_cancellations(jobs, days),
        median_seconds_booked_to_completed=None if to_complete is None else float(to_complete),
    )


def _as_dict(value: Any) -> dict:
    if isinstance(value, str):  # SQLite hands a UNION's JSON column back as text
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def scorecards_for(
    partnerships: Iterable[Partnership],
    *,
    now: datetime.datetime | None = None,
    windows: Sequence[int] = WINDOWS,
) -> dict[Any, Scorecard]:
    """{partnership id: Scorecard} of the `partnerships` (loaded with their installer): ONE
    query whatever their number and routers (none for none)."""
    partnerships = list(partnerships)
    if not partnerships:
        return {}
    now = now or timezone.now()
    routers = sorted({p.router_id for p in partnerships}, key=str)
    ids = sorted({p.installer_id for p in partnerships}, key=str)
    rows = _offer_figures(routers, ids, windows, now).union(_job_figures(routers, ids, windows, now), all=True)
    found: dict[tuple[Any, Any, str], dict] = {}
    for router_id, installer_id, kind, figures in rows:
        found[(router_id, installer_id, kind)] = _as_dict(figures)
    cards = {}
    for p in partnerships:
        offers = found.get((p.router_id, p.installer_id, OFFERS), {})
        jobs = found.get((p.router_id, p.installer_id, JOBS), {})
        figures = {days: _figures(offers, jobs, days) for days in windows}
        score_window = figures.get(SCORE_WINDOW_DAYS) or _figures(offers, jobs, max(windows))
        cards[p.pk] = Scorecard(
            partnership_id=p.pk,
            installer_id=p.installer_id,
            installer_name=p.installer.name,
            windows=figures,
            score=score_of(score_window),
        )
    return cards


def partner_scorecards(
    router: Organization, *, now: datetime.datetime | None = None, windows: Sequence[int] = WINDOWS
) -> list[Scorecard]:
    """Every partner's scorecard for the router, by priority then name: the partnerships, then
    ONE query for all their cards."""
    qs = Partnership.objects.filter(router=router).select_related("installer").order_by("priority", "installer__name")
    return list(scorecards_for(qs, now=now, windows=windows).values())


def partner_scorecard(partnership: Partnership, *, now: datetime.datetime | None = None) -> Scorecard:
    """One partnership's scorecard (its installer loaded): ONE query."""
    return scorecards_for([partnership], now=now)[partnership.pk]


def scores_for(partnerships: Iterable[Partnership], *, now: datetime.datetime | None = None) -> dict[Any, Score]:
    """{partnership id: Score}: ONE query over the 90-day window only (what dispatch reads)."""
    cards = scorecards_for(partnerships, now=now, windows=(SCORE_WINDOW_DAYS,))
    return {pk: card.score for pk, card in cards.items()}


# Dispatch reads its candidates' scores through the cache, keyed by router, for this many seconds
# (settings.SCORECARD_SCORE_CACHE_SECONDS; 0 reads them fresh every time).
SCORE_CACHE_SECONDS = 300


def score_cache_key(router_id: Any) -> str:
    return f"scorecards:scores:{router_id}"


def attach_scores(candidates: Sequence[Any]) -> None:
    """Puts each kept dispatch candidate's `Score` into `candidate.extra["performance"]`. The
    scores of every candidate (all the router's partnerships) are read in ONE query and kept in
    the cache for SCORE_CACHE_SECONDS (`installer.caching.kept`: once stale, one dispatch reads
    them again while the others use the kept ones), so the dispatches and previews that follow
    read none; kept scores that miss a kept candidate (a new partnership) are read again at
    once. None when nobody is kept."""
    kept_candidates = [c for c in candidates if c.kept]
    if not kept_candidates:
        return

    def read() -> dict[Any, Score]:
        return scores_for([c.partnership for c in candidates if c.partnership.pk is not None])

    def covers_every_kept(scores: Any) -> bool:
        return isinstance(scores, dict) and all(c.partnership.pk in scores for c in kept_candidates)

    timeout = int(getattr(settings, "SCORECARD_SCORE_CACHE_SECONDS", SCORE_CACHE_SECONDS))
    if timeout:
        key = score_cache_key(kept_candidates[0].partnership.router_id)
        scores = kept(key, timeout, read, usable=covers_every_kept)
    else:
        scores = read()
    for c in kept_candidates:
        c.extra["performance"] = scores.get(c.partnership.pk)
