"""Routing strategies: which partnerships are candidates for an order, and in what order.

`evaluate` keeps or drops every partnership with a reason (coverage, skills, capacity, active);
`rank` orders the kept ones by the strategy and gives each a score (lower is better for every
strategy). Pure functions over rows loaded by `dispatch.selectors.partnerships_for_dispatch`.

| strategy       | score                                   | ties              |
|----------------|-----------------------------------------|-------------------|
| manual         | the named installer only                | -                 |
| priority       | partnership priority                    | partnership id    |
| round_robin    | time of the last offer to the installer | priority, id      |
|                | (never offered = 0, first)              |                   |
| nearest        | km from the order to the installer base | priority, id      |
|                | (unknown distance last)                 |                   |
| least_loaded   | open orders / capacity (unlimited = 0)  | load, priority, id|
| best_performing| performance score (higher first)        | priority, id      |

Every tie-break puts the better performance score (`scorecards.score`, loaded by
`dispatch.selectors.dispatch_candidates` into `Candidate.extra["performance"]`) before the
partnership id. `best_performing` is the one strategy whose score is higher-is-better.

Broadcast is not a strategy of its own: `offers_at_once > 1` sends that many of the ranking at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from accounts.models import Organization, RoutingStrategy
from dispatch import coverage
from dispatch.models import CoverageArea, CoverageKind, Partnership
from orders.models import Order, Workflow
from scorecards.score import NEUTRAL, Score


class Located(Protocol):
    """Where an order is (or would be): what coverage reads. An `Order` or a
    `dispatch.selectors.DispatchSubject`."""

    @property
    def country_code(self) -> str: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


@dataclass(frozen=True)
class Routing:
    strategy: str
    offers_at_once: int
    deadline_hours: int
    skip_weekends: bool
    fallback: bool
    auto_dispatch: bool


def routing_for(order: Order) -> Routing:
    """The order's effective routing settings: its workflow's overrides, else its organization's."""
    return routing_of(order.workflow, order.organization)


def routing_of(workflow: Workflow, organization: Organization) -> Routing:
    """The effective routing settings of a workflow of `organization`: its overrides, else the
    organization's."""
    if workflow.organization_id == organization.pk:
        workflow.organization = organization  # already loaded; saves a query
    return Routing(
        strategy=workflow.routing("routing_strategy"),
        offers_at_once=max(1, int(workflow.routing("offers_at_once") or 1)),
        deadline_hours=int(workflow.routing("offer_deadline_hours") or 0),
        skip_weekends=bool(workflow.routing("deadline_skips_weekends")),
        fallback=bool(workflow.routing("fallback_enabled")),
        auto_dispatch=bool(workflow.routing("auto_dispatch")),
    )


@dataclass
class Candidate:
    partnership: Partnership
    kept: bool
    reason: str
    distance_km: float | None = None
    load: int = 0
    last_offered_at: Any = None
    score: float | None = None
    rank: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def installer(self):
        return self.partnership.installer

    @property
    def performance(self) -> Score:
        """The partner's performance score (neutral when none was loaded)."""
        return self.extra.get("performance") or NEUTRAL

    def as_dict(self) -> dict:
        p = self.partnership
        performance = self.extra.get("performance")
        return {
            "installer": {"id": str(p.installer_id), "name": p.installer.name},
            "partnershipId": p.pk,
            "kept": self.kept,
            "reason": self.reason,
            "rank": self.rank,
            "score": None if self.score is None else round(self.score, 4),
            "priority": p.priority,
            "load": self.load,
            "capacity": p.capacity,
            "distanceKm": None if self.distance_km is None else round(self.distance_km, 2),
            "performance": None if performance is None else performance.as_dict(),
        }


def coverage_of(partnership: Partnership):
    """The coverage rules loaded with the partnership (`coverage_list`), else read."""
    rules = getattr(partnership, "coverage_list", None)
    return rules if rules is not None else partnership.coverage.all()


def evaluate(
    order: Located,
    partnerships: Iterable[Partnership],
    *,
    required_skills: Iterable[str] = (),
    excluded: dict[Any, str] | None = None,
) -> list[Candidate]:
    """Every partnership with kept/dropped and why. `excluded` maps installer ids already offered
    in this dispatch to the outcome of that offer (fall-back never offers twice)."""
    required = [s for s in required_skills if s]
    excluded = excluded or {}
    out: list[Candidate] = []
    for p in partnerships:
        distance = coverage.distance_to_base(p.installer, order.latitude, order.longitude)
        load = getattr(p, "open_orders", 0) or 0
        c = Candidate(
            partnership=p,
            kept=False,
            reason="",
            distance_km=distance,
            load=load,
            last_offered_at=getattr(p, "last_offered_at", None),
        )
        areas = list(coverage_of(p))
        area = coverage.covering_area(
            areas, country=order.country_code, postal_code=order.postal_code, distance_km=distance
        )
        missing = [s for s in required if s not in (p.skills or [])]
        if not p.active:
            c.reason = "Partnership is inactive."
        elif area is None:
            c.reason = _uncovered_reason(order, areas, distance)
        elif missing:
            c.reason = f"Missing required skills: {', '.join(missing)}."
        elif p.capacity is not None and load >= p.capacity:
            c.reason = f"Capacity full: {load} of {p.capacity} open orders."
        elif p.installer_id in excluded:
            c.reason = f"Already offered in this dispatch ({excluded[p.installer_id]})."
        else:
            c.kept = True
            c.reason = f"Covers by {coverage.describe(area, distance)}."
        out.append(c)
    return out


def _uncovered_reason(order: Located, areas: Sequence[CoverageArea], distance: float | None) -> str:
    """Why no rule covers the order. A radius rule needs the order's coordinates and the
    installer's base location: when one is missing, the reason says so."""
    where = f"{order.country_code} {order.postal_code}"
    country = (order.country_code or "").upper()
    radius = [a for a in areas if a.kind == CoverageKind.RADIUS and (not a.country_code or a.country_code == country)]
    if not radius or distance is not None:
        return f"Does not cover {where}" + (f" ({distance:.1f} km from base)." if distance is not None else ".")
    rules = "coverage by " + ", ".join(coverage.describe(a) for a in radius)
    if order.latitude is None or order.longitude is None:
        missing, needs = "The order has no coordinates (latitude, longitude)", "needs them"
    else:
        missing, needs = "The installer has no base location", "needs it"
    if len(radius) == len(areas):
        return f"{missing}; {rules} {needs}."
    return f"Does not cover {where}. {missing}; {rules} {needs}."


def _priority_key(c: Candidate):
    return (c.partnership.priority, -c.performance.value, c.partnership.pk)


def _score_priority(c: Candidate) -> tuple[float, tuple]:
    return float(c.partnership.priority), _priority_key(c)


def _score_round_robin(c: Candidate) -> tuple[float, tuple]:
    last = c.last_offered_at.timestamp() if c.last_offered_at is not None else 0.0
    return last, (last, *_priority_key(c))


def _score_nearest(c: Candidate) -> tuple[float, tuple]:
    if c.distance_km is None:
        return float("inf"), (1, 0.0, *_priority_key(c))
    return c.distance_km, (0, c.distance_km, *_priority_key(c))


def _score_least_loaded(c: Candidate) -> tuple[float, tuple]:
    capacity = c.partnership.capacity
    ratio = c.load / capacity if capacity else 0.0
    return ratio, (ratio, c.load, *_priority_key(c))


def _score_best_performing(c: Candidate) -> tuple[float, tuple]:
    value = c.performance.value
    return value, (-value, *_priority_key(c))


SCORERS: dict[str, Callable[[Candidate], tuple[float, tuple]]] = {
    RoutingStrategy.MANUAL: _score_priority,
    RoutingStrategy.PRIORITY: _score_priority,
    RoutingStrategy.ROUND_ROBIN: _score_round_robin,
    RoutingStrategy.NEAREST: _score_nearest,
    RoutingStrategy.LEAST_LOADED: _score_least_loaded,
    RoutingStrategy.BEST_PERFORMING: _score_best_performing,
}


def rank(strategy: str, candidates: list[Candidate]) -> list[Candidate]:
    """Scores and ranks the kept candidates (1 = first); returns them best first."""
    scorer = SCORERS.get(strategy, _score_priority)
    keyed = []
    for c in candidates:
        if c.kept:
            score, key = scorer(c)
            c.score = score if score != float("inf") else None
            keyed.append((key, c))
    keyed.sort(key=lambda item: item[0])
    ranked = [c for _, c in keyed]
    for index, c in enumerate(ranked, start=1):
        c.rank = index
    return ranked


def explanation(candidates: list[Candidate]) -> list[dict]:
    """Kept candidates by rank, then dropped ones by priority: what the preview and DispatchRun show."""
    kept = sorted((c for c in candidates if c.kept), key=lambda c: c.rank or 0)
    dropped = sorted((c for c in candidates if not c.kept), key=_priority_key)
    return [c.as_dict() for c in (*kept, *dropped)]
