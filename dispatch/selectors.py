"""Reads for dispatch: candidate partnerships with their load, offers, installer partners."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections
from django.db import router as router_db
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organization, RoutingStrategy
from dispatch import strategies
from dispatch.exceptions import NoInstallerCovers, UnknownInstaller
from dispatch.models import Booking, CoverageArea, DispatchRun, Offer, OfferStatus, Partnership
from installer.raw_rows import RowShape, prepared_cursor
from orders.models import Order, OrderEvent, OrderStatus, Workflow
from orders.selectors import Viewer, parse_uuid
from scorecards import selectors as scorecard_selectors

OPEN_ORDER_STATUSES = (OrderStatus.DISPATCHING, OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS)
# Offers that let an installer read the order: an open offer, or the one it accepted.
VISIBLE_OFFER_STATUSES = (OfferStatus.SENT, OfferStatus.ACCEPTED)


def _partnerships_query(router_id) -> QuerySet[Partnership]:
    open_orders = (
        Order.objects.filter(organization=OuterRef("router"), installer=OuterRef("installer"))
        .filter(status__in=OPEN_ORDER_STATUSES)
        .order_by()
        .values("installer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_offer = (
        Offer.objects.filter(installer=OuterRef("installer"), order__organization=OuterRef("router"))
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    return (
        Partnership.objects.filter(router_id=router_id, installer__test_installer_for__isnull=True)
        .select_related("installer")
        .annotate(
            open_orders=Coalesce(Subquery(open_orders, output_field=IntegerField()), Value(0)),
            last_offered_at=Subquery(last_offer),
            **{f"cov_{name}": F(f"coverage__{name}") for name in COVERAGE_COLUMNS},
        )
        .order_by("priority", "id", "coverage__id")
    )


def partnerships_for_dispatch(router: Organization) -> list[Partnership]:
    """Every partnership of the router (inactive too, so the explanation can name them) except
    one with a test installer, which never gets a real order; with the installer, its coverage
    rules (`coverage_list`), its open orders of this router and its last offer time. ONE query
    whatever the number of partners: the coverage rules come joined (a partnership row per
    rule, or one with no rule). On PostgreSQL this is `partnerships_for_dispatch_fast`."""
    if connections[router_db.db_for_read(Partnership)].vendor == "postgresql":
        return partnerships_for_dispatch_fast(router)
    return partnerships_for_dispatch_orm(router)


def partnerships_for_dispatch_orm(router: Organization) -> list[Partnership]:
    """`partnerships_for_dispatch` with the ORM; the fast path is compared with it in tests."""
    rows = _partnerships_query(router.pk)
    partnerships: dict[Any, Partnership] = {}
    for row in rows:
        partnership = partnerships.get(row.pk)
        if partnership is None:
            partnership = partnerships[row.pk] = row
            partnership.coverage_list = []  # type: ignore[attr-defined]
        if row.cov_id is not None:  # type: ignore[attr-defined]
            partnership.coverage_list.append(  # type: ignore[attr-defined]
                CoverageArea(partnership_id=row.pk, **{name: getattr(row, f"cov_{name}") for name in COVERAGE_COLUMNS})
            )
    return list(partnerships.values())


COVERAGE_COLUMNS = ("id", "kind", "country_code", "value", "value_to", "radius_km")


def _candidates_read(connection) -> tuple[str, list[RowShape]]:
    quote = connection.ops.quote_name
    coverage_fields = [f for f in CoverageArea._meta.concrete_fields if f.name in COVERAGE_COLUMNS]
    partnership, installer, coverage = shapes = [
        RowShape(connection, Partnership, "p"),
        RowShape(connection, Organization, "i"),
        RowShape(connection, CoverageArea, "c", coverage_fields),
    ]
    orders, offers = quote(Order._meta.db_table), quote(Offer._meta.db_table)
    statuses = ", ".join(str(int(status)) for status in OPEN_ORDER_STATUSES)
    sql = (
        f"SELECT {partnership.columns}, {installer.columns},"  # noqa: S608 (names from _meta, constants, the id bound)
        f" COALESCE((SELECT COUNT(*) FROM {orders} oo WHERE oo.deleted_at IS NULL AND oo.installer_id = p.installer_id"
        f" AND oo.organization_id = p.router_id AND oo.status IN ({statuses})), 0),"
        f" (SELECT f.sent_at FROM {offers} f INNER JOIN {orders} fo ON fo.id = f.order_id"
        " WHERE f.installer_id = p.installer_id AND fo.organization_id = p.router_id ORDER BY f.sent_at DESC LIMIT 1),"
        f" {coverage.columns}"
        f" FROM {partnership.table} INNER JOIN {installer.table} ON i.id = p.installer_id"
        f" LEFT OUTER JOIN {coverage.table} ON c.partnership_id = p.id"
        " WHERE p.router_id = %s AND i.test_installer_for_id IS NULL ORDER BY p.priority, p.id, c.id"
    )
    return sql, shapes


_candidates_reads: dict[str, tuple[str, list[RowShape]]] = {}


def partnerships_for_dispatch_fast(router: Organization) -> list[Partnership]:
    """Fast path (docs/performance.md): what `partnerships_for_dispatch_orm` reads, from one SQL
    statement written once per database alias instead of an ORM query with two subqueries
    compiled in every dispatch, the instances built as the ORM builds them
    (`installer.raw_rows`). PostgreSQL only."""
    connection = connections[router_db.db_for_read(Partnership)]
    if connection.alias not in _candidates_reads:
        _candidates_reads[connection.alias] = _candidates_read(connection)
    sql, (partnership_shape, installer_shape, coverage_shape) = _candidates_reads[connection.alias]
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [router.pk])
        rows = cursor.fetchall()
    partnerships: dict[Any, Any] = {}
    partnership: Any
    for row in rows:
        partnership, start = partnership_shape.take(row, 0)
        if partnership.pk not in partnerships:
            installer, start = installer_shape.take(row, start)
            partnership.installer = installer
            partnership.open_orders, partnership.last_offered_at = row[start], row[start + 1]
            partnership.coverage_list = []
            partnerships[partnership.pk] = partnership
        coverage: Any
        coverage, _ = coverage_shape.take(row, len(row) - len(COVERAGE_COLUMNS))
        if coverage is not None:  # built unsaved, as the ORM version builds it
            partnerships[partnership.pk].coverage_list.append(
                CoverageArea(
                    partnership_id=partnership.pk, **{name: getattr(coverage, name) for name in COVERAGE_COLUMNS}
                )
            )
    return list(partnerships.values())


def installer_partners(router: Organization) -> QuerySet[Partnership]:
    return (
        Partnership.objects.filter(router=router)
        .select_related("installer")
        .prefetch_related("coverage")
        .order_by("priority", "installer__name", "id")
    )


def offers_visible_to(organization: Organization) -> QuerySet[Offer]:
    """Offers sent to the organization (installer), or about its orders (router); none of a
    deleted order."""
    return (
        Offer.objects.filter(Q(installer=organization) | Q(order__organization=organization))
        .filter(order__deleted_at__isnull=True)
        .select_related("installer", "order")
    )


def offer_for_installer(installer: Organization, offer_id: Any) -> Offer | None:
    pk = parse_uuid(offer_id)
    if pk is None:
        return None
    return Offer.objects.filter(pk=pk, installer=installer, order__deleted_at__isnull=True).first()


def order_offers(order_id: Any) -> list[Offer]:
    return list(Offer.objects.filter(order_id=order_id).select_related("installer").order_by("sent_at", "rank"))


def latest_run(order_id: Any) -> DispatchRun | None:
    return DispatchRun.objects.filter(order_id=order_id).order_by("-created_at").first()


def booking_of(order: Order) -> Booking | None:
    """The order's booking: the one its read joined (`order_reads`), else read now."""
    if Order.booking.related.is_cached(order):
        return cast(Booking | None, Order.booking.related.get_cached_value(order))
    return Booking.objects.filter(order_id=order.pk).first()


def is_active_partner(router: Organization, installer_id: Any) -> bool:
    """`orders.hooks.installer_assignable`: only an active partner of the router may be
    pre-assigned at create (`actorAssignments`), so no customer data reaches a stranger."""
    return Partnership.objects.filter(router=router, installer_id=installer_id, active=True).exists()


def installer_offer_visibility(viewer: Viewer) -> Q:
    """`orders.hooks.installer_visibility`: an installer reads the orders it has an open or accepted offer for."""
    return Q(
        pk__in=Offer.objects.filter(installer=viewer.organization, status__in=VISIBLE_OFFER_STATUSES).values("order_id")
    )


# The calling installer's open offers on each order read, prefetched by `order_reads`.
VIEWER_OPEN_OFFERS = "viewer_open_offers"


def order_reads(queryset: QuerySet[Order], viewer: Viewer | None) -> QuerySet[Order]:
    """`orders.hooks.order_reads`: the booking joined, and for an installer its own open offers
    of the orders read (one query for a whole page), which `offer_answer_actions` reads."""
    queryset = queryset.select_related("booking")
    if viewer is None or not viewer.organization.is_installer:
        return queryset
    offers = Offer.objects.filter(installer=viewer.organization, status=OfferStatus.SENT).only(
        "id", "order_id", "installer_id", "status", "expires_at"
    )
    return queryset.prefetch_related(Prefetch("offers", queryset=offers, to_attr=VIEWER_OPEN_OFFERS))


def offer_answer_actions(order: Order, viewer: Viewer) -> list[str]:
    """`orders.hooks.extra_actions`: "accept" and "decline" for an installer holding an open offer
    on the order that has not passed its deadline. Reads the prefetched offers; an order read
    without them (a single order outside the API) costs one query."""
    if not viewer.organization.is_installer or order.status != OrderStatus.DISPATCHING or order.installer_id:
        return []
    offers = getattr(order, VIEWER_OPEN_OFFERS, None)
    if offers is None:
        offers = list(
            Offer.objects.filter(order_id=order.pk, installer=viewer.organization, status=OfferStatus.SENT).only(
                "id", "order_id", "installer_id", "status", "expires_at"
            )
        )
    now = timezone.now()
    answerable = any(
        offer.installer_id == viewer.organization.pk
        and offer.status == OfferStatus.SENT
        and (offer.expires_at is None or offer.expires_at > now)
        for offer in offers
    )
    return ["accept", "decline"] if answerable else []


# Timeline events about one offer: shown to an installer when the offer is its own.
OFFER_EVENTS = frozenset({"offer.sent", "offer.declined", "offer.expired"})


def installer_timeline(order: Order, events: list[OrderEvent], viewer: Viewer) -> list[tuple[OrderEvent, dict]]:
    """`orders.hooks.installer_timeline`: what an installer organization that does not own the
    order reads of its timeline. Its own offers' events; `offer.withdrawn` only where one of its
    offers was withdrawn, counting those only; every other event (the order's) with an
    `installer` and `offerId` that are not its own left out of the data. Other installers'
    names, offers and decline reasons never show. One query (its offers of the order).

    A withdrawal is recorded in the transaction that closes the offers, after their
    `responded_at`: an offer's `offer.withdrawn` is the first one recorded at or after it."""
    own_id = str(viewer.organization.pk)
    own_offers = list(
        Offer.objects.filter(order_id=order.pk, installer=viewer.organization).values_list(
            "pk", "status", "responded_at"
        )
    )
    own_offer_ids = {str(pk) for pk, _, _ in own_offers}
    withdrawals = [e for e in events if e.type == "offer.withdrawn"]
    withdrawn_own: dict[Any, int] = {}
    for _, status, responded_at in own_offers:
        if status != OfferStatus.WITHDRAWN or responded_at is None:
            continue
        event = next((e for e in withdrawals if e.created_at >= responded_at), None)
        if event is not None:
            withdrawn_own[event.pk] = withdrawn_own.get(event.pk, 0) + 1
    shown: list[tuple[OrderEvent, dict]] = []
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if event.type in OFFER_EVENTS:
            if str(data.get("offerId")) in own_offer_ids:
                shown.append((event, data))
        elif event.type == "offer.withdrawn":
            if event.pk in withdrawn_own:
                shown.append((event, {"count": withdrawn_own[event.pk], "reason": data.get("reason")}))
        else:
            installer = data.get("installer")
            if isinstance(installer, dict) and str(installer.get("id")) != own_id:
                data = {key: value for key, value in data.items() if key not in ("installer", "offerId")}
            shown.append((event, data))
    return shown


def _manual_pick(
    candidates: list[strategies.Candidate], installer_id: Any, *, test: bool
) -> list[strategies.Candidate]:
    pk = parse_uuid(installer_id)
    chosen = next((c for c in candidates if pk is not None and c.partnership.installer_id == pk), None)
    if chosen is None and test:
        raise UnknownInstaller(
            "installerId: a test order goes to the organization's test installer only.",
            details={"installerId": ["A test order goes to the organization's test installer only."]},
        )
    if chosen is None:
        raise UnknownInstaller(
            "installerId: not an installer partner of this organization.",
            details={"installerId": ["Not an installer partner of this organization."]},
        )
    if not chosen.kept:
        raise NoInstallerCovers(
            f"{chosen.installer.name} cannot take this order: {chosen.reason}",
            extra={"candidates": strategies.explanation(candidates)},
        )
    for c in candidates:
        if c is not chosen and c.kept:
            c.kept = False
            c.reason = f"Not named by the manual dispatch ({c.reason})"
    chosen.rank, chosen.score = 1, None
    chosen.reason = f"Named by the caller. {chosen.reason}"
    return [chosen]


TEST_INSTALLER_REASON = "The organization's test installer takes every test order."


@dataclass(frozen=True)
class DispatchSubject:
    """What candidate selection reads of an order: whose it is, its workflow, where it is. An
    existing order gives one (`of_order`); the coverage checker builds one from a postal code
    and coordinates, so both go through the same rules (`subject_candidates`, `subject_plan`,
    `subject_preview`)."""

    organization: Organization
    workflow: Workflow
    country_code: str
    postal_code: str
    latitude: float | None = None
    longitude: float | None = None
    test: bool = False

    @classmethod
    def of_order(cls, order: Order) -> DispatchSubject:
        return cls(
            organization=order.organization,
            workflow=order.workflow,
            country_code=order.country_code,
            postal_code=order.postal_code,
            latitude=order.latitude,
            longitude=order.longitude,
            test=order.test,
        )


def dispatch_candidates(order: Order, *, excluded: dict[Any, str] | None = None) -> list[strategies.Candidate]:
    """Every candidate for the order, kept or dropped with why (`subject_candidates`)."""
    return subject_candidates(DispatchSubject.of_order(order), excluded=excluded)


def subject_candidates(
    subject: DispatchSubject, *, excluded: dict[Any, str] | None = None
) -> list[strategies.Candidate]:
    """Every candidate for the subject, kept or dropped with why. A test order has one: the
    router's test installer (when it exists; `order_dispatch` makes it), covering everything;
    no real partner is ever a candidate for it. A real order has the router's partnerships."""
    if subject.test:
        test_installer = Organization.objects.filter(test_installer_for=subject.organization.pk).first()
        if test_installer is None:
            return []
        partnership = Partnership(router=subject.organization, installer=test_installer, priority=0)
        candidate = strategies.Candidate(partnership=partnership, kept=True, reason=TEST_INSTALLER_REASON)
        if excluded and test_installer.pk in excluded:
            candidate.kept = False
            candidate.reason = f"Already offered in this dispatch ({excluded[test_installer.pk]})."
        return [candidate]
    candidates = strategies.evaluate(
        subject,
        partnerships_for_dispatch(subject.organization),
        required_skills=subject.workflow.required_skills or [],
        excluded=excluded,
    )
    scorecard_selectors.attach_scores(candidates)  # one query, kept candidates only
    return candidates


def dispatch_plan(order: Order, *, installer_id: Any = None) -> tuple[str, strategies.Routing, list, list]:
    """(strategy, routing, ranked candidates, every candidate) for the order; reads only.
    Used by `order_dispatch` under the lock and by the preview without one."""
    return subject_plan(DispatchSubject.of_order(order), installer_id=installer_id)


def subject_plan(subject: DispatchSubject, *, installer_id: Any = None) -> tuple[str, strategies.Routing, list, list]:
    """`dispatch_plan` of an order or of the facts an order would have; reads only."""
    routing = strategies.routing_of(subject.workflow, subject.organization)
    candidates = subject_candidates(subject)
    if installer_id not in (None, ""):
        return RoutingStrategy.MANUAL, routing, _manual_pick(candidates, installer_id, test=subject.test), candidates
    strategy = routing.strategy
    if strategy == RoutingStrategy.MANUAL:
        strategies.rank(RoutingStrategy.PRIORITY, candidates)  # for the explanation only
        return strategy, routing, [], candidates
    return strategy, routing, strategies.rank(strategy, candidates), candidates


def subject_preview(subject: DispatchSubject) -> dict:
    """Who a dispatch by the routing strategy would offer the subject to now, and why every
    partner is kept or dropped; sends nothing. The order preview and the coverage checker
    (admin and `GET /api/v1/dispatch/preview`) both answer with it."""
    strategy, routing, ranked, candidates = subject_plan(subject)
    at_once = 1 if strategy == RoutingStrategy.MANUAL else routing.offers_at_once
    return {
        "strategy": strategy,
        "offersAtOnce": at_once,
        "wouldOffer": [{"id": c.partnership.installer_id, "name": c.installer.name} for c in ranked[:at_once]],
        "candidates": strategies.explanation(candidates),
    }


def dispatch_preview(order: Order) -> dict:
    """Who would get this order now and why, without sending anything."""
    dispatchable = order.status in (OrderStatus.CREATED, OrderStatus.DECLINED) or (
        order.status == OrderStatus.DISPATCHING and order.installer_id is None
    )
    return {"orderId": order.pk, "dispatchable": dispatchable, **subject_preview(DispatchSubject.of_order(order))}


EXPIRING_WITHIN = datetime.timedelta(hours=24)
EXPIRING_LIMIT = 20


def expiring_offers(org_ids: list | None, *, now: datetime.datetime | None = None) -> list[Offer]:
    """Open offers of the organizations' real orders (None: every organization) that expire in the
    next 24 hours, soonest first, at most EXPIRING_LIMIT (one query on the (status, expires_at)
    index)."""
    now = now or timezone.now()
    qs = Offer.objects.filter(
        status=OfferStatus.SENT, expires_at__gt=now, expires_at__lte=now + EXPIRING_WITHIN, order__test=False
    )
    if org_ids is not None:
        qs = qs.filter(order__organization__in=org_ids)
    return list(
        qs.select_related("order", "installer")
        .only(
            "id",
            "expires_at",
            "sent_at",
            "rank",
            "order__id",
            "order__display_id",
            "order__postal_code",
            "order__city",
            "installer__id",
            "installer__name",
        )
        .order_by("expires_at", "id")[:EXPIRING_LIMIT]
    )


def coverage_countries(router_ids: list | None) -> list[str]:
    """The countries named by the postal-code coverage rules of these routers' partnerships
    (None: every router), most rules first (one query): the coverage checker's default country."""
    qs = CoverageArea.objects.exclude(country_code="")
    if router_ids is not None:
        qs = qs.filter(partnership__router__in=router_ids)
    rows = qs.order_by().values("country_code").annotate(n=Count("pk")).order_by("-n", "country_code")
    return [row["country_code"] for row in rows[:50]]
