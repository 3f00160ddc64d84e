"""The order's lock, its timeline and the one transition service; cancel and workflow steps.

Rules (CONVENTIONS.md): a change opens its own transaction, locks the order row
(`lock_order`), checks the transition table, saves the order with `save(update_fields=...)`
and inserts its OrderEvents in that same transaction (`finish_change`); the webhook outbox rows
are written there too (`orders.hooks.events_recorded`). Signals go out after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.utils import timezone

from accounts.models import Organization
from installer.middleware import current_request_id
from installer.raw_rows import RowShape, prepared_cursor
from orders import hooks, policy, transitions, workflow_cache
from orders.actors import Actor
from orders.exceptions import (
    Conflict,
    InvalidTransition,
    NotFound,
    OrderValidationError,
    QuoteRequired,
    StepRequired,
)
from orders.models import STATUS_NAMES, CancelReason, Order, OrderEvent, OrderStatus, Workflow, WorkflowStep
from orders.selectors import attach_relations, parse_uuid, relations_columns
from orders.validation import cancel_reason_code


def lock_order(order_id: Any, *, organization: Organization | None = None) -> Order:
    """Re-reads the order under a row lock, with its workflow, organization, installer and assignee joined,
    on PostgreSQL its tags and files too (`tag_links`, `file_list`; a change that adds or removes
    one drops them, and the answer reads them again; elsewhere the answer reads them), and what
    other apps join (`orders.hooks.order_reads`), so that the answer can be built from it
    afterwards. Precondition: inside `transaction.atomic()`. Only the order row is locked; the
    organization row is read in the transaction, so its `has_webhook_endpoints` is fresh.
    Raises NotFound for an unknown order or, with `organization`, another organization's.
    On PostgreSQL this is `lock_order_fast`."""
    pk = parse_uuid(order_id)
    if pk is None:
        raise NotFound("Order not found.")
    connection = transaction.get_connection(router.db_for_write(Order))
    order = lock_order_fast(pk, organization) if connection.vendor == "postgresql" else lock_order_orm(pk, organization)
    if order is None:
        raise NotFound("Order not found.")
    return order


def lock_order_orm(pk: Any, organization: Organization | None) -> Order | None:
    """`lock_order`'s read with the ORM; `lock_order_fast` is compared with it in tests (with
    the tags and files, which the fast path reads in the same statement, prefetched)."""
    qs = Order.objects.select_for_update(of=("self",)).select_related(
        "workflow", "organization", "installer", "assignee"
    )
    if organization is not None:
        qs = qs.filter(organization=organization)
    if hooks.order_reads:
        qs = hooks.order_reads(qs, None)
    return qs.filter(pk=pk).first()


def _lock_read(connection) -> tuple[str, list[RowShape]]:
    booking_model = Order._meta.get_field("booking").related_model  # dispatch's, found through the relation
    user_model = get_user_model()
    order, workflow, organization, installer, booking, assignee = shapes = [
        RowShape(connection, Order, "o"),
        RowShape(connection, Workflow, "w"),
        RowShape(connection, Organization, "r"),
        RowShape(connection, Organization, "i"),
        RowShape(connection, booking_model, "b"),
        RowShape(connection, user_model, "a"),
    ]
    sql = (
        f"SELECT {order.columns}, {workflow.columns}, {organization.columns}, {installer.columns}, {booking.columns},"  # noqa: S608 (names from _meta, values bound)
        f" {assignee.columns}, {relations_columns(connection.ops.quote_name)}"
        f" FROM {order.table} INNER JOIN {workflow.table} ON w.id = o.workflow_id"
        f" INNER JOIN {organization.table} ON r.id = o.organization_id"
        f" LEFT OUTER JOIN {installer.table} ON i.id = o.installer_id"
        f" LEFT OUTER JOIN {booking.table} ON b.order_id = o.id"
        f" LEFT OUTER JOIN {assignee.table} ON a.{connection.ops.quote_name(user_model._meta.pk.column)} = o.assignee_id"
        " WHERE o.id = %s AND o.deleted_at IS NULL AND (%s::uuid IS NULL OR o.organization_id = %s::uuid)"
        " FOR UPDATE OF o"
    )
    return sql, shapes


_lock_reads: dict[str, tuple[str, list[RowShape]]] = {}


def lock_order_fast(pk: Any, organization: Organization | None) -> Order | None:
    """Fast path (docs/performance.md): what `lock_order_orm` reads and locks, from one SQL
    statement written once per database alias instead of compiled by the ORM in every write,
    the instances built as the ORM builds them (`installer.raw_rows`). PostgreSQL only."""
    connection = transaction.get_connection(router.db_for_write(Order))
    if connection.alias not in _lock_reads:
        _lock_reads[connection.alias] = _lock_read(connection)
    sql, shapes = _lock_reads[connection.alias]
    organization_id = organization.pk if organization is not None else None
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [pk, organization_id, organization_id])
        row = cursor.fetchone()
    if row is None:
        return None
    built: list[Any] = []
    start = 0
    for shape in shapes:
        instance, start = shape.take(row, start)
        built.append(instance)
    order, workflow, owner, installer, booking, assignee = built
    order.workflow = workflow
    order.organization = owner
    Order.installer.field.set_cached_value(order, installer)
    Order.assignee.field.set_cached_value(order, assignee)
    Order.booking.related.set_cached_value(order, booking)
    if booking is not None:
        Order.booking.related.field.set_cached_value(booking, order)
    attach_relations(order, row[start], row[start + 1], connection.alias, {})
    return order


@dataclass
class PendingEvents:
    """The timeline events of one locked change, inserted together by `flush`."""

    order: Order
    events: list[OrderEvent] = field(default_factory=list)

    def add(
        self,
        type: str,
        actor: Actor,
        *,
        data: dict[str, Any] | None = None,
        from_status: int | None = None,
        to_status: int | None = None,
    ) -> OrderEvent:
        self.order.event_seq += 1
        event = OrderEvent(
            order=self.order,
            organization_id=self.order.organization_id,
            sequence=self.order.event_seq,
            type=type,
            from_status=from_status,
            to_status=to_status,
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label,
            data=data or {},
            request_id=current_request_id() or "",
            created_at=timezone.now(),
        )
        self.events.append(event)
        return event

    def flush(self, *, recorded: bool = True) -> list[OrderEvent]:
        """Inserts the events (one `bulk_create`), then runs `orders.hooks.events_notify` and
        `orders.hooks.events_recorded` in the same transaction. Precondition: the order row is
        saved and every other row of the change (tags, files, offers, booking) is written: the
        hooks may read the order as the change leaves it (webhooks keeps a copy of it).
        With `recorded=False` the caller runs `recorded(events)` itself, after a last write to
        the order (a create's number)."""
        written, self.events = self.events, []
        if written:
            OrderEvent.objects.bulk_create(written)
            hooks.events_notify(written)
            if recorded:
                self.recorded(written)
        return written

    @staticmethod
    def recorded(events: list[OrderEvent]) -> None:
        """Runs `orders.hooks.events_recorded` for events `flush` inserted."""
        if events:
            hooks.events_recorded(events)


def _steps_of(order: Order) -> Sequence[WorkflowStep]:
    return workflow_cache.steps(order.workflow)


def _open_required_step(order: Order, status: int) -> WorkflowStep | None:
    done = set(order.completed_steps or [])
    for step in _steps_of(order):
        if step.status == status and step.required and step.key not in done:
            return step
    return None


def has_accepted_quote(order: Order) -> bool:
    """Whether the order has an accepted quote (pricing's `Quote`, read through its reverse
    relation `Order.quotes`, so that orders imports nothing of pricing). One query."""
    return order.quotes.filter(status="accepted").exists()


def _step_needing_quote(order: Order, status: int) -> WorkflowStep | None:
    """A step of `status` that requires an accepted quote the order does not have yet. No query
    unless the workflow has such a step."""
    needing = [s for s in _steps_of(order) if s.status == status and s.requires_accepted_quote]
    if needing and not has_accepted_quote(order):
        return needing[0]
    return None


def _quote_required(step: WorkflowStep) -> QuoteRequired:
    return QuoteRequired(
        f"The step '{step.title}' ({step.key}) needs an accepted quote before the order moves on.",
        extra={"stepKey": step.key},
    )


def activate_first_step(order: Order, pending: PendingEvents, actor: Actor) -> None:
    """Makes the first open step of the order's status current (and records it)."""
    done = set(order.completed_steps or [])
    step = next((s for s in _steps_of(order) if s.status == order.status and s.key not in done), None)
    order.current_step = step
    if step is not None:
        pending.add(
            "workflow.step.activated",
            actor,
            data={"step": {"key": step.key, "title": step.title}},
            from_status=order.status,
            to_status=order.status,
        )


def transition(
    order: Order,
    to_status: int,
    *,
    actor: Actor,
    event_type: str,
    pending: PendingEvents,
    data: dict[str, Any] | None = None,
    enforce_steps: bool = True,
) -> None:
    """Moves a locked order to `to_status` and records the event.

    Preconditions: the caller holds the order's row lock (`lock_order`) inside the transaction,
    and saves the order and flushes `pending` before committing (`finish_change` does both).
    Raises InvalidTransition when the table forbids the move, StepRequired when a required
    step of the current status is still open and QuoteRequired when a step of the current status
    requires an accepted quote the order lacks (cancel is never gated by steps).
    """
    from_status = order.status
    if not transitions.can_transition(from_status, to_status):
        raise InvalidTransition(
            f"An order in status '{STATUS_NAMES[from_status]}' cannot move to '{STATUS_NAMES[to_status]}'."
        )
    if enforce_steps and to_status != from_status and to_status != OrderStatus.CANCELLED:
        open_step = _open_required_step(order, from_status)
        if open_step is not None:
            raise StepRequired(
                f"The required step '{open_step.title}' ({open_step.key}) must be completed first.",
                extra={"stepKey": open_step.key},
            )
        quote_step = _step_needing_quote(order, from_status)
        if quote_step is not None:
            raise _quote_required(quote_step)
    order.status = to_status
    pending.add(event_type, actor, data=data, from_status=from_status, to_status=to_status)
    if to_status != from_status:
        activate_first_step(order, pending, actor)


def finish_change(order: Order, pending: PendingEvents, fields: Iterable[str] = ()) -> list[OrderEvent]:
    """Saves the locked order (status, step, sequence, updated_at and `fields`) and inserts its
    events. Precondition: the caller holds the order's lock inside the transaction."""
    order.save(update_fields=sorted({"status", "current_step", "event_seq", "updated_at", *fields}))
    return pending.flush()


def order_cancel(
    *, order_id: Any, organization: Organization, actor: Actor, reason: str | None = None, comment: str = ""
) -> Order:
    """Cancels from any status but completed and cancelled (InvalidTransition).

    `reason` is a CancelReason code or any non-empty text (Installer.com sends sentences such as
    "Customer is not responding"): text that is not a code is kept at the start of the comment
    and stored as the code it names (`orders.validation.cancel_reason_code`), else `other`. A
    blank reason is an OrderValidationError. `orders.hooks.order_cancelling` runs in the same
    transaction with the order locked (dispatch withdraws open offers and removes the booking)."""
    code = None
    if reason is not None:
        reason = reason.strip()
        if not reason:
            raise OrderValidationError(
                "reason: Give a reason code or a sentence, or leave it out.",
                details={"reason": [f"Must be one of {', '.join(CancelReason.values)} or a sentence."]},
            )
        code = cancel_reason_code(reason) or CancelReason.OTHER.value
        if reason not in CancelReason.values:
            comment = f"{reason}\n{comment}" if comment else reason
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        pending = PendingEvents(order)
        transition(
            order,
            OrderStatus.CANCELLED,
            actor=actor,
            event_type="order.cancelled",
            pending=pending,
            data={"reason": code, "comment": comment},
        )
        order.cancel_reason = code or CancelReason.OTHER
        order.cancel_comment = comment or ""
        hooks.order_cancelling(order=order, actor=actor, pending=pending)
        finish_change(order, pending, ["cancel_reason", "cancel_comment"])
    return order


def order_delete(*, order_id: Any, organization: Organization, actor: Actor) -> Order:
    """Soft-deletes an order still created, or a test order in any status: sets `deleted_at`,
    after which `Order.objects` (every read) no longer has it, and records `order.deleted`
    (sent to webhooks). `orders.hooks.order_deleting` runs with the order locked, before it is
    saved (dispatch withdraws open offers and removes the booking). NotFound for an unknown,
    already deleted or another organization's order; Conflict for any other status."""
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        if not transitions.deletable(order.status, order.test):
            raise Conflict(
                f"A {order.status_name} order cannot be deleted: only test orders and orders still "
                "created can be deleted. Cancel it instead."
            )
        pending = PendingEvents(order)
        hooks.order_deleting(order=order, actor=actor, pending=pending)
        pending.add("order.deleted", actor, data={"test": order.test}, from_status=order.status, to_status=order.status)
        order.deleted_at = timezone.now()
        finish_change(order, pending, ["deleted_at"])
    return order


def workflow_step_complete(
    *, order_id: Any, organization: Organization | None, step_key: str, actor: Actor, technician_id: Any = None
) -> Order:
    """Completes a step of the order's current status; the next open step becomes current.
    With `technician_id` (a technician acting) the order must be assigned to that user, else
    NotFound (`orders.policy.technician_may_act`)."""
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        if not policy.technician_may_act(order, technician_id):
            raise NotFound("Order not found.")
        step = next((s for s in _steps_of(order) if s.key == step_key), None)
        if step is None:
            raise NotFound(f"The workflow has no step '{step_key}'.")
        if step.status != order.status:
            raise Conflict(
                f"Step '{step.key}' belongs to status '{STATUS_NAMES[step.status]}'; the order is '{order.status_name}'."
            )
        if step.key in (order.completed_steps or []):
            raise Conflict(f"Step '{step.key}' is already completed.")
        if step.requires_accepted_quote and not has_accepted_quote(order):
            raise _quote_required(step)
        order.completed_steps = [*(order.completed_steps or []), step.key]
        pending = PendingEvents(order)
        pending.add(
            "workflow.step.completed",
            actor,
            data={"step": {"key": step.key, "title": step.title}},
            from_status=order.status,
            to_status=order.status,
        )
        activate_first_step(order, pending, actor)
        finish_change(order, pending, ["completed_steps"])
    return order
