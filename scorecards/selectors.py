"""Partner scorecards: how each installer partner performs for one router, over 30 and 90 days,
read from the router's offers and its orders' timeline (docs/back-office.md#partner-scorecards).

One query per card, and one query for any number of cards: `with_scorecards` annotates a
Partnership queryset with two correlated subqueries, one over the partner's offers and one over
the timeline of the partner's jobs, each aggregating every figure of both windows into one
JSON object (medians by `scorecards.aggregates.Median`). Everything is scoped to the router
(offers of the router's orders, events of the router's orders), so one router never reads
another's figures for the same partner. Test orders and deleted orders do not count.

Offer figures count the offers *sent* in the window; job figures count the `order.started`,
`order.completed` and `order.cancelled` events recorded in the window for orders whose installer
is the partner.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone

from accounts.models import Organization
from dispatch.models import Offer, OfferStatus, Partnership
from orders.models import CancelReason, OrderEvent
from scorecards.aggregates import JSONArrayAgg, Median, Seconds
from scorecards.score import SCORE_WINDOW_DAYS, Score, score_of

WINDOWS = (30, 90)
DEFAULT_WINDOW = 90
STARTED, COMPLETED, CANCELLED = "order.started", "order.completed", "order.cancelled"
CUSTOMER_CANCEL_REQUEST = "customer.cancel_requested"  # portal.services.CANCEL_REQUESTED
NO_REASON = "(no reason given)"


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


def _offer_figures(windows: Sequence[int], now: datetime.datetime) -> Subquery:
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
    offers = (
        Offer.objects.filter(
            installer=OuterRef("installer_id"),
            order__organization=OuterRef("router_id"),
            order__test=False,
            order__deleted_at__isnull=True,
            sent_at__gt=longest,
            sent_at__lte=now,
        )
        .order_by()
        .values("installer")
        .annotate(figures=JSONObject(**fields))
        .values("figures")
    )
    return Subquery(offers, output_field=JSONField())


def _job_figures(windows: Sequence[int], now: datetime.datetime) -> Subquery:
    longest = now - datetime.timedelta(days=max(windows))
    started, completed, cancelled = Q(type=STARTED), Q(type=COMPLETED), Q(type=CANCELLED)
    booked = Q(order__booking__isnull=False)
    customer_asked = Q(data__reason=CancelReason.CUSTOMER_REJECTED_OFFER.value) | Q(
        Exists(OrderEvent.objects.filter(order=OuterRef("order_id"), type=CUSTOMER_CANCEL_REQUEST))
    )
    fields: dict[str, Any] = {}
    for days in windows:
        w = Q(created_at__gt=now - datetime.timedelta(days=days))
        fields.update(
            {
                f"starts{days}": Count("pk", filter=w & started & booked),
                # Started no later than the booked end; early starts (an earlier day) are taken off below.
                f"byEnd{days}": Count("pk", filter=w & started & Q(order__booking__end_at__gte=F("created_at"))),
                f"early{days}": Count("pk", filter=w & started & booked & Q(data__startedBeforeBooking=True)),
                f"completed{days}": Count("pk", filter=w & completed),
                f"cancelled{days}": Count("pk", filter=w & cancelled),
                f"customerCancelled{days}": Count("pk", filter=w & cancelled & customer_asked),
                f"bookedToCompleted{days}": Median(
                    Seconds("created_at", "order__booking__start_at"), filter=w & completed
                ),
            }
        )
    events = (
        OrderEvent.objects.filter(
            organization=OuterRef("router_id"),
            order__installer=OuterRef("installer_id"),
            order__test=False,
            order__deleted_at__isnull=True,
            type__in=(STARTED, COMPLETED, CANCELLED),
            created_at__gt=longest,
            created_at__lte=now,
        )
        .order_by()
        .values("order__installer")
        .annotate(figures=JSONObject(**fields))
        .values("figures")
    )
    return Subquery(events, output_field=JSONField())


def with_scorecards(
    queryset: QuerySet[Partnership], *, now: datetime.datetime | None = None, windows: Sequence[int] = WINDOWS
) -> QuerySet[Partnership]:
    """The partnerships with their scorecard figures annotated (no extra query: the figures come
    in the same SELECT); read them with `scorecard_of`."""
    now = now or timezone.now()
    return queryset.annotate(
        scorecard_offers=_offer_figures(windows, now),
        scorecard_jobs=_job_figures(windows, now),
    )


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
        customer_cancellations=n(jobs, "customerCancelled"),
        median_seconds_booked_to_completed=None if to_complete is None else float(to_complete),
    )


def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def scorecard_of(partnership: Partnership, windows: Sequence[int] = WINDOWS) -> Scorecard:
    """The scorecard of a partnership read through `with_scorecards` (the same `windows`)."""
    offers = _as_dict(getattr(partnership, "scorecard_offers", None))
    jobs = _as_dict(getattr(partnership, "scorecard_jobs", None))
    figures = {days: _figures(offers, jobs, days) for days in windows}
    score_window = figures.get(SCORE_WINDOW_DAYS) or _figures(offers, jobs, max(windows))
    return Scorecard(
        partnership_id=partnership.pk,
        installer_id=partnership.installer_id,
        installer_name=partnership.installer.name,
        windows=figures,
        score=score_of(score_window),
    )


def partner_scorecards(
    router: Organization, *, now: datetime.datetime | None = None, windows: Sequence[int] = WINDOWS
) -> list[Scorecard]:
    """Every partner's scorecard for the router, by priority then name: ONE query."""
    qs = Partnership.objects.filter(router=router).select_related("installer").order_by("priority", "installer__name")
    return [scorecard_of(p, windows) for p in with_scorecards(qs, now=now, windows=windows)]


def partner_scorecard(partnership: Partnership, *, now: datetime.datetime | None = None) -> Scorecard:
    """One partnership's scorecard: ONE query."""
    qs = Partnership.objects.filter(pk=partnership.pk).select_related("installer")
    return scorecard_of(with_scorecards(qs, now=now).get())


def scores_for(
    router: Organization, installer_ids: Iterable[Any], *, now: datetime.datetime | None = None
) -> dict[Any, Score]:
    """{installer id: Score} of the router's partners among `installer_ids`: ONE query over the
    90-day window only (what dispatch reads)."""
    ids = list(installer_ids)
    if not ids:
        return {}
    qs = Partnership.objects.filter(router=router, installer_id__in=ids).select_related("installer")
    windows = (SCORE_WINDOW_DAYS,)
    return {p.installer_id: scorecard_of(p, windows).score for p in with_scorecards(qs, now=now, windows=windows)}


def attach_scores(router: Organization, candidates: Sequence[Any]) -> None:
    """Puts each kept dispatch candidate's `Score` into `candidate.extra["performance"]`: ONE
    query for all of them, none when nobody is kept. A partner without figures is neutral."""
    kept = [c for c in candidates if c.kept]
    scores = scores_for(router, [c.partnership.installer_id for c in kept])
    for c in kept:
        c.extra["performance"] = scores.get(c.partnership.installer_id)
