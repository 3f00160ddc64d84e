"""Every write of priced work: products and quotes.

Quote changes follow the order's rules (CONVENTIONS.md): one transaction, the order row locked
first (`orders.services.lock_order`, the lock every order change takes), then the quote row
(`select_for_update`), the state table checked (`pricing.transitions`), the timeline event
written and the webhook queued in that transaction (`PendingEvents`, `finish_change`). Two
accepts of one quote, or of two quotes of one order, are serialized by the order's lock, and the
database keeps one accepted quote per order whatever happens (`quote_one_accepted_per_order`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.zones import zone_of
from orders import services as order_services
from orders.actors import Actor
from orders.models import Order, OrderStatus
from orders.selectors import parse_uuid
from pricing import selectors, transitions
from pricing.exceptions import PricingInvalid, ProductNotFound, QuoteConflict, QuoteNotFound, QuotingNotAllowed
from pricing.models import (
    DecisionChannel,
    Payer,
    Product,
    ProductTag,
    Quote,
    QuoteLine,
    QuoteStatus,
    TaggedProduct,
)

# Quote events on the order's timeline. The three the customer's decision is about are sent to
# webhooks too (webhooks.models.WEBHOOK_EVENTS) and may trigger notifications.
QUOTE_CREATED = "quote.created"
QUOTE_UPDATED = "quote.updated"
QUOTE_SENT = "quote.sent"
QUOTE_ACCEPTED = "quote.accepted"
QUOTE_REJECTED = "quote.rejected"
QUOTE_WITHDRAWN = "quote.withdrawn"
ACTION_EVENTS = {"send": QUOTE_SENT, "accept": QUOTE_ACCEPTED, "reject": QUOTE_REJECTED, "withdraw": QUOTE_WITHDRAWN}

FINISHED_ORDER = (OrderStatus.COMPLETED, OrderStatus.CANCELLED)
PRODUCT_FIELDS = (
    "name",
    "description",
    "unit",
    "external_id",
    "currency",
    "vat_rate",
    "prices_include_vat",
    "unit_amount",
    "payout_percent",
    "payout_amount",
    "shared_with_partners",
    "active",
)
LINE_FIELDS = (
    "description",
    "unit",
    "quantity",
    "unit_amount",
    "discount_percent",
    "vat_rate",
    "prices_include_vat",
    "payout_percent",
    "payout_amount",
    "optional",
)
# A line takes these from its product unless it gives them itself.
PRODUCT_DEFAULTS = ("unit", "unit_amount", "vat_rate", "prices_include_vat", "payout_percent", "payout_amount")
QUOTE_FIELDS = ("payer", "currency", "valid_until", "note")


# -- products -------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> PricingInvalid:
    return PricingInvalid(f"{field}: {message}", details={field: [message]})


def _check_payout(values: dict[str, Any], prefix: str = "") -> None:
    if values.get("payout_percent") is not None and values.get("payout_amount") is not None:
        raise _invalid(f"{prefix}payoutPercent", "Give payoutPercent or payoutAmount, not both.")


def product_tags_set(product: Product, names: Sequence[str]) -> None:
    """Sets the product's tags to these names (created in its organization when new; an existing
    name in any case is reused). Precondition: inside the caller's transaction."""
    tags: list[ProductTag] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        tag = ProductTag.objects.filter(organization_id=product.organization_id, name__iexact=name).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = ProductTag(organization_id=product.organization_id, name=name)
                    tag.save()
            except IntegrityError:  # created meanwhile by a concurrent request
                tag = ProductTag.objects.get(organization_id=product.organization_id, name__iexact=name)
        tags.append(tag)
    TaggedProduct.objects.filter(content_object=product).exclude(tag__in=tags).delete()
    have = set(TaggedProduct.objects.filter(content_object=product).values_list("tag_id", flat=True))
    TaggedProduct.objects.bulk_create(
        [TaggedProduct(content_object=product, tag=t) for t in tags if t.pk not in have], ignore_conflicts=True
    )


def _save_product(product: Product, tags: Sequence[str] | None) -> Product:
    _check_payout({"payout_percent": product.payout_percent, "payout_amount": product.payout_amount})
    if product.external_id:
        clash = Product.objects.filter(organization_id=product.organization_id, external_id=product.external_id)
        if clash.exclude(pk=product.pk).exists():
            raise _invalid("externalId", "Another product of this organization has this external id.")
    try:
        with transaction.atomic():
            product.save()
            if tags is not None:
                product_tags_set(product, tags)
    except IntegrityError:  # the same external id, saved concurrently
        raise _invalid("externalId", "Another product of this organization has this external id.") from None
    return product


def product_create(*, organization: Organization, data: dict[str, Any]) -> Product:
    """A product of `organization` from validated fields (PRODUCT_FIELDS, `tags` as names).
    PricingInvalid for both payout kinds or an external id the organization already uses."""
    product = Product(organization=organization, **{k: data[k] for k in PRODUCT_FIELDS if k in data})
    if not product.external_id:
        product.external_id = None
    return _save_product(product, data.get("tags"))


def product_update(*, product_id: Any, organization: Organization, data: dict[str, Any]) -> Product:
    """Changes the given fields of the organization's product (another's is ProductNotFound).
    Quotes already written keep their lines as they were."""
    with transaction.atomic():
        pk = parse_uuid(product_id)
        product = Product.objects.select_for_update().filter(organization=organization, pk=pk).first() if pk else None
        if product is None:
            raise ProductNotFound()
        for name in PRODUCT_FIELDS:
            if name in data:
                setattr(product, name, data[name])
        if "payout_percent" in data and data["payout_percent"] is not None and "payout_amount" not in data:
            product.payout_amount = None  # switching kinds: the new one replaces the old
        if "payout_amount" in data and data["payout_amount"] is not None and "payout_percent" not in data:
            product.payout_percent = None
        if not product.external_id:
            product.external_id = None
        return _save_product(product, data.get("tags"))


# -- quotes: who may write ------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """Who writes or acts on a quote: the router (the order's organization) or the assigned
    installer partner, acting through `actor`."""

    organization: Organization
    actor: Actor


def _side(order: Order, organization: Organization) -> str:
    """'router' or 'partner' for a caller that may write the order's quotes. NotFound for an
    organization that is neither the order's nor its assigned installer; QuotingNotAllowed for
    the assigned installer when the workflow does not let partners quote."""
    if order.organization_id == organization.pk:
        return "router"
    if order.installer_id is not None and order.installer_id == organization.pk:
        if not order.workflow.partners_may_quote:
            raise QuotingNotAllowed("The router does not let installer partners write quotes on this workflow.")
        return "partner"
    raise QuoteNotFound("Order not found.")


def _lock_quote(quote_id: Any) -> tuple[Order, Quote]:
    """The quote's order and the quote, both under row locks (order first, as every order
    change locks). Precondition: inside `transaction.atomic()`. QuoteNotFound for an unknown id."""
    pk = parse_uuid(quote_id)
    if pk is None:
        raise QuoteNotFound()
    order_id = Quote.objects.filter(pk=pk).values_list("order_id", flat=True).first()
    if order_id is None:
        raise QuoteNotFound()
    order = order_services.lock_order(order_id)
    quote = Quote.objects.select_for_update().filter(pk=pk, order_id=order.pk).first()
    if quote is None:  # pragma: no cover - deleted with its order meanwhile
        raise QuoteNotFound()
    return order, quote


def _quote_data(quote: Quote, lines: Sequence[QuoteLine]) -> dict[str, Any]:
    """What the timeline event (and webhook) says about the quote: the payer's amounts, never
    the installer's payout (installers and the customer's page read timelines)."""
    totals = selectors.lines_totals([line for line in lines if line.chosen])
    return {
        "quote": {
            "id": str(quote.pk),
            "status": quote.status,
            "payer": quote.payer,
            "currency": quote.currency,
            "net": totals.net,
            "vat": totals.vat,
            "gross": totals.gross,
        }
    }


def _record(order: Order, quote: Quote, lines: Sequence[QuoteLine], event: str, actor: Actor, **data: Any) -> None:
    pending = order_services.PendingEvents(order)
    pending.add(
        event, actor, data={**_quote_data(quote, lines), **data}, from_status=order.status, to_status=order.status
    )
    order.quote_status = selectors.quote_state(order)
    order_services.finish_change(order, pending, fields=["quote_status"])


# -- quotes: lines --------------------------------------------------------------------------


def _build_lines(order: Order, quote: Quote, side: str, raw_lines: Sequence[dict[str, Any]]) -> list[QuoteLine]:
    """QuoteLines from validated line inputs: a product's values fill what the line leaves out.
    PricingInvalid (with `lines[i].field`) for an unknown product, another organization's, an
    inactive one, one not shared with partners (a partner writing), another currency, or both
    payout kinds."""
    ids = {pk for pk in (parse_uuid(line.get("product_id")) for line in raw_lines) if pk is not None}
    products = {p.pk: p for p in Product.objects.filter(organization_id=order.organization_id, pk__in=ids)}
    built = []
    for index, raw in enumerate(raw_lines):
        prefix = f"lines[{index}]."
        values: dict[str, Any] = {}
        product = None
        if raw.get("product_id"):
            product_pk = parse_uuid(raw["product_id"])
            product = products.get(product_pk) if product_pk is not None else None
            if product is None or (side == "partner" and not product.shared_with_partners):
                raise _invalid(f"{prefix}productId", "No such product in the catalogue.")
            if not product.active:
                raise _invalid(f"{prefix}productId", "The product is not active.")
            if product.currency != quote.currency:
                raise _invalid(
                    f"{prefix}productId", f"The product is priced in {product.currency}; the quote in {quote.currency}."
                )
            values = {name: getattr(product, name) for name in PRODUCT_DEFAULTS}
            values["description"] = product.name
        for name in LINE_FIELDS:
            if name in raw:
                values[name] = raw[name]
        if "payout_percent" in raw and raw["payout_percent"] is not None and "payout_amount" not in raw:
            values["payout_amount"] = None
        if "payout_amount" in raw and raw["payout_amount"] is not None and "payout_percent" not in raw:
            values["payout_percent"] = None
        if not values.get("description"):
            raise _invalid(f"{prefix}description", "A line without a product needs a description.")
        if values.get("unit_amount") is None:
            raise _invalid(f"{prefix}unitAmount", "A line without a product needs a unitAmount.")
        _check_payout(values, prefix)
        values.setdefault("quantity", Decimal(1))
        # An optional line is offered unchosen: the customer ticks it when accepting.
        values["chosen"] = not values.get("optional", False)
        built.append(QuoteLine(quote=quote, position=index, product=product, **values))
    return built


def _replace_lines(quote: Quote, lines: list[QuoteLine]) -> list[QuoteLine]:
    QuoteLine.objects.filter(quote=quote).delete()
    return QuoteLine.objects.bulk_create(lines)


# -- quotes: writes -------------------------------------------------------------------------


def _check_step(order: Order, step_key: str | None):
    if not step_key:
        return None
    step = order.workflow.steps.filter(key=step_key).first()
    if step is None:
        raise _invalid("stepKey", "Not a step of the order's workflow.")
    return step


def quote_create(*, order_id: Any, author: Author, data: dict[str, Any]) -> Quote:
    """A draft quote on the order, written by its router or by the assigned installer partner
    where the workflow lets partners quote (`Workflow.partners_may_quote`). `data`: QUOTE_FIELDS,
    `step_key` and `lines` (each LINE_FIELDS and `product_id`). QuoteConflict when the order is
    completed or cancelled, or already has an accepted quote (work beyond it is recorded when the
    job is completed); PricingInvalid for bad lines or step."""
    with transaction.atomic():
        order = order_services.lock_order(order_id)
        side = _side(order, author.organization)
        if order.status in FINISHED_ORDER:
            raise QuoteConflict(f"A {order.status_name} order takes no new quotes.")
        if Quote.objects.filter(order=order, status=QuoteStatus.ACCEPTED).exists():
            raise QuoteConflict("The order already has an accepted quote; it takes no other.")
        quote = Quote(
            organization_id=order.organization_id,
            order=order,
            payer=data.get("payer") or Payer.CUSTOMER,
            currency=data.get("currency") or "NOK",
            valid_until=data.get("valid_until"),
            note=data.get("note") or "",
            step=_check_step(order, data.get("step_key")),
            created_by_organization=author.organization,
            created_by_type=author.actor.type,
            created_by_label=author.actor.label,
        )
        lines = _build_lines(order, quote, side, data.get("lines") or [])
        quote.save()
        lines = _replace_lines(quote, lines)
        _record(order, quote, lines, QUOTE_CREATED, author.actor)
    return quote


def _may_manage(quote: Quote, side: str, author: Author) -> None:
    """A partner manages only the quotes its organization wrote."""
    if side == "partner" and quote.created_by_organization_id != author.organization.pk:
        raise QuotingNotAllowed("Only the router and the quote's author may change it.")


def quote_update(*, quote_id: Any, author: Author, data: dict[str, Any], version: int | None = None) -> Quote:
    """Changes a draft: QUOTE_FIELDS, `step_key`, and `lines` (all lines replaced when given).
    QuoteConflict when the quote is no longer a draft or `version` is not the quote's."""
    with transaction.atomic():
        order, quote = _lock_quote(quote_id)
        side = _side(order, author.organization)
        _may_manage(quote, side, author)
        if quote.status != QuoteStatus.DRAFT:
            raise QuoteConflict(f"A {quote.status} quote cannot be changed; only a draft can.")
        if version is not None and version != quote.version:
            raise QuoteConflict(
                f"The quote changed meanwhile (version {quote.version}, not {version}); read it again.",
                extra={"version": quote.version},
            )
        for name in QUOTE_FIELDS:
            if name in data:
                setattr(quote, name, data[name] if data[name] is not None or name == "valid_until" else "")
        if "step_key" in data:
            quote.step = _check_step(order, data["step_key"])
        if (
            "currency" in data
            and "lines" not in data
            and quote.lines.exclude(product=None).exclude(product__currency=quote.currency).exists()
        ):
            raise _invalid("currency", "The quote's product lines are priced in another currency.")
        lines = _build_lines(order, quote, side, data["lines"]) if "lines" in data else list(quote.lines.all())
        quote.version += 1
        quote.save()
        if "lines" in data:
            lines = _replace_lines(quote, lines)
        _record(order, quote, lines, QUOTE_UPDATED, author.actor)
    return quote


def _move(quote: Quote, action: str) -> None:
    target = transitions.next_status(quote.status, action)
    if target is None:
        raise QuoteConflict(f"A {quote.status} quote cannot be {'sent' if action == 'send' else action + 'ed'}.")
    quote.status = target
    quote.version += 1


def _withdraw_others(order: Order, quote: Quote, actor: Actor) -> None:
    """Accepting one quote withdraws the order's other open quotes (alternatives not taken)."""
    others = list(
        Quote.objects.select_for_update().filter(order=order, status__in=transitions.OPEN).exclude(pk=quote.pk)
    )
    for other in others:
        _move(other, "withdraw")
        other.save(update_fields=["status", "version", "updated_at"])
        _record(order, other, list(other.lines.all()), QUOTE_WITHDRAWN, actor, reason="another quote was accepted")


def _decide(
    order: Order,
    quote: Quote,
    action: str,
    *,
    actor: Actor,
    via: str,
    decided_by: str,
    line_ids: Sequence[Any] | None,
    now,
) -> Quote:
    """Accepts or rejects a locked quote. The order and quote are locked by the caller."""
    _move(quote, action)  # QuoteConflict unless the quote is sent
    if order.status in FINISHED_ORDER:
        raise QuoteConflict(f"The order is {order.status_name}: its quotes can no longer be decided.")
    lines = list(quote.lines.all())
    if action == "accept":
        if quote.valid_until is not None and now.astimezone(zone_of(order.organization)).date() > quote.valid_until:
            raise QuoteConflict(
                f"The quote was valid until {quote.valid_until.isoformat()}; it can no longer be accepted."
            )
        optional = {line.pk: line for line in lines if line.optional}
        chosen: set[Any] = set()
        for index, raw in enumerate(line_ids or []):
            pk = parse_uuid(raw)
            if pk not in optional:
                raise _invalid(f"lineIds[{index}]", "Not an optional line of this quote.")
            chosen.add(pk)
        changed = []
        for line in lines:
            take = (line.pk in chosen) if line.optional else True
            if line.chosen != take:
                line.chosen = take
                changed.append(line)
        if changed:
            QuoteLine.objects.bulk_update(changed, ["chosen"])
        totals = selectors.lines_totals([line for line in lines if line.chosen])
        quote.total_net, quote.total_vat, quote.total_gross, quote.total_payout = (
            totals.net,
            totals.vat,
            totals.gross,
            totals.payout,
        )
        _withdraw_others(order, quote, actor)
    elif line_ids:
        raise _invalid("lineIds", "A rejection takes no lines.")
    quote.decided_at = now
    quote.decided_via = via
    quote.decided_by_label = decided_by
    quote.save()
    _record(order, quote, lines, ACTION_EVENTS[action], actor, decidedVia=via)
    return quote


def quote_act(*, quote_id: Any, action: str, author: Author, line_ids: Sequence[Any] | None = None, now=None) -> Quote:
    """send | withdraw | accept | reject, by the router or the quote's partner author (send and
    withdraw only). Accept and reject by the router are an operator acting on the customer's
    word (`decided_via` operator_on_behalf). Every (status, action) pair the table forbids is a
    QuoteConflict; a partner deciding is QuotingNotAllowed; another organization's quote is
    QuoteNotFound. Sending a quote without lines, or on a finished order, is a QuoteConflict."""
    if action not in transitions.ACTIONS:
        raise QuoteNotFound()
    now = now or timezone.now()
    with transaction.atomic():
        order, quote = _lock_quote(quote_id)
        side = _side(order, author.organization)
        _may_manage(quote, side, author)
        if action in ("accept", "reject"):
            if side != "router":
                raise QuotingNotAllowed("Only the customer, or the router on the customer's word, decides a quote.")
            return _decide(
                order,
                quote,
                action,
                actor=author.actor,
                via=DecisionChannel.OPERATOR_ON_BEHALF,
                decided_by=author.actor.label,
                line_ids=line_ids,
                now=now,
            )
        _move(quote, action)
        lines = list(quote.lines.all())
        if action == "send":
            if order.status in FINISHED_ORDER:
                raise QuoteConflict(f"The order is {order.status_name}: a quote can no longer be sent.")
            if not lines:
                raise QuoteConflict("A quote without lines cannot be sent.")
            if Quote.objects.filter(order=order, status=QuoteStatus.ACCEPTED).exists():
                raise QuoteConflict("The order already has an accepted quote.")
            quote.sent_at = now
        quote.save()
        _record(order, quote, lines, ACTION_EVENTS[action], author.actor)
    return quote


def quote_customer_decide(
    *,
    order_id: Any,
    quote_id: Any,
    action: str,
    actor: Actor,
    via: str,
    line_ids: Sequence[Any] | None = None,
    now=None,
) -> Quote:
    """The customer accepts or rejects a sent quote of their order (the portal's page, `via`
    customer, or the client API, `via` client_api). QuoteNotFound for a quote of another order
    or a draft (the customer never sees drafts); QuoteConflict for any other status."""
    if action not in ("accept", "reject"):
        raise QuoteNotFound()
    now = now or timezone.now()
    with transaction.atomic():
        order, quote = _lock_quote(quote_id)
        if order.pk != parse_uuid(order_id) or quote.status == QuoteStatus.DRAFT:
            raise QuoteNotFound()
        return _decide(order, quote, action, actor=actor, via=via, decided_by="customer", line_ids=line_ids, now=now)
