"""Every write to organizations, tokens, workflows, orders, tags and the timeline.

Rules (CONVENTIONS.md): services open their own transaction; a state change locks the order row
(`select_for_update`), checks the transition table, saves, and appends its OrderEvent (the
timeline and the webhook outbox) in that same transaction. Signals go out after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from installer.compiled import CompiledQuery
from installer.db import insert_together
from installer.middleware import current_request_id
from orders import signals, transitions, workflow_cache
from orders.actors import Actor
from orders.exceptions import (
    Conflict,
    DuplicateIdempotencyKey,
    InvalidTransition,
    NotFound,
    OrderValidationError,
    StepRequired,
)
from orders.models import (
    STANDARD_FIELDS,
    STATUS_NAMES,
    ApiToken,
    CancelReason,
    File,
    Membership,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
    OrderTag,
    Organization,
    Role,
    TaggedOrder,
    Workflow,
    WorkflowStep,
)
from orders.validation import clean_custom_value, is_empty

# --------------------------------------------------------------------------------------------
# Organizations, workflows, tokens
# --------------------------------------------------------------------------------------------

DEFAULT_STEPS: list[tuple[str, str, int]] = [
    ("received", "Order received", OrderStatus.CREATED),
    ("find-installer", "Find an installer", OrderStatus.DISPATCHING),
    ("appointment", "Appointment booked", OrderStatus.SCHEDULED),
    ("installation", "Installation", OrderStatus.IN_PROGRESS),
    ("done", "Done", OrderStatus.COMPLETED),
    ("no-installer", "No installer found", OrderStatus.DECLINED),
    ("cancelled", "Cancelled", OrderStatus.CANCELLED),
]


def workflow_create(
    *,
    organization: Organization,
    custom_id: str,
    name: str,
    is_default: bool = False,
    steps: Sequence[tuple[str, str, int]] | None = None,
    description: str = "",
) -> Workflow:
    """Creates a workflow with one step per status unless `steps` are given."""
    with transaction.atomic():
        workflow = Workflow.objects.create(
            organization=organization, custom_id=custom_id, name=name, is_default=is_default, description=description
        )
        WorkflowStep.objects.bulk_create(
            WorkflowStep(workflow=workflow, key=key, title=title, status=status, position=index)
            for index, (key, title, status) in enumerate(steps if steps is not None else DEFAULT_STEPS)
        )
    return workflow


def organization_create(*, name: str, slug: str, is_installer: bool = False, **fields: Any) -> Organization:
    """Creates an organization and its default workflow (one step per status, none required)."""
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug, is_installer=is_installer, **fields)
        workflow_create(organization=organization, custom_id="default", name="Default", is_default=True)
    return organization


def api_token_create(*, membership: Membership, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """Creates a token; returns it with its key, which is never stored and cannot be shown again."""
    raw = ApiToken.generate_key()
    token = ApiToken(membership=membership, name=name[:100] or "token", expires_at=expires_at)
    token.set_key(raw)
    token.save()
    return token, raw


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def membership_ensure(*, user, organization: Organization, role: str = Role.OPERATOR) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


# --------------------------------------------------------------------------------------------
# The timeline and the one transition service
# --------------------------------------------------------------------------------------------


def _lock_query(with_organization: bool) -> CompiledQuery:
    def build(pk, organization_id=None):
        from orders.selectors import EXTRA_SELECT_RELATED, relation_annotations

        qs = (
            Order.objects.select_for_update(of=("self",))
            .select_related("workflow", "organization", "installer", *EXTRA_SELECT_RELATED)
            .annotate(**relation_annotations())  # tags and files, for the answer
        )
        if with_organization:
            qs = qs.filter(organization_id=organization_id)
        return qs.filter(pk=pk).order_by()

    return CompiledQuery(Order, build)


# The lock of every change, compiled once per thread (installer.compiled).
_LOCK = {True: _lock_query(True), False: _lock_query(False)}


def lock_order(order_id: uuid.UUID | str, *, organization: Organization | None = None) -> Order:
    """Re-reads the order under a row lock, with its workflow, organization, installer (and
    EXTRA_SELECT_RELATED, e.g. the booking) joined, so that the answer can be built from it
    afterwards (`orders.selectors.order_answer`). Precondition: inside `transaction.atomic()`.
    Only the order row is locked; the organization row is read in the transaction, so its
    `has_webhook_endpoints` is as fresh as a query by the outbox hook would be."""
    from orders.selectors import EXTRA_SELECT_RELATED, parse_uuid, take_relations

    pk = parse_uuid(order_id)
    if pk is None:
        raise NotFound("Order not found.")
    key = tuple(EXTRA_SELECT_RELATED)
    if organization is not None:
        found = _LOCK[True].fetch(pk, organization.pk, key=key, write=True)
    else:
        found = _LOCK[False].fetch(pk, key=key, write=True)
    if not found:
        raise NotFound("Order not found.")
    take_relations(found)  # on PostgreSQL: a change that alters tags or files resets them
    return found[0]


@dataclass
class PendingEvents:
    """Events collected during one locked change, inserted together with one query, with the
    new rows of other models the change writes (`insert_with`: dispatch's run and offers)."""

    order: Order
    events: list[OrderEvent] = field(default_factory=list)
    rows: list[tuple[type[Model], list[Model]]] = field(default_factory=list)
    order_fields: tuple[str, ...] = ()  # the locked order's fields that `flush` UPDATEs first

    def add(
        self,
        type: str,
        actor: Actor,
        *,
        data: dict | None = None,
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

    def insert_with(self, objs: Sequence[Model]) -> None:
        """Queues new rows of one model (primary keys set, e.g. UUID defaults) to be inserted by
        `flush` together with the events: in the same statement on PostgreSQL
        (`installer.db.insert_together`). Nothing can read them before the flush."""
        if objs:
            self.rows.append((type(objs[0]), list(objs)))

    def flush(self, *, number_for: Organization | None = None) -> list[OrderEvent]:
        """Writes the order's `order_fields` (if any), the queued rows and the events: one
        statement on PostgreSQL. Then the EVENT_HOOKS, in the same transaction.

        `number_for` (PostgreSQL, a new order queued with `insert_with`): the same statement
        first takes the organization's next order number (its row lock, held to commit) and
        gives it to the order's `number` and `display_id`, and reads the organization's
        `has_webhook_endpoints` for the hooks, as `_next_number` does in its own statement."""
        update = (self.order, self.order_fields) if self.order_fields else None
        batches = [*self.rows, (OrderEvent, self.events)]
        if number_for is None:
            insert_together(batches, update=update)
        else:
            table = connection.ops.quote_name(Organization._meta.db_table)
            prefix = f"{number_for.display_id_prefix}-"
            number, has_endpoints = insert_together(
                batches,
                update=update,
                head=(
                    f'UPDATE {table} SET "order_counter" = "order_counter" + 1 WHERE "id" = %s '
                    'RETURNING "order_counter", "has_webhook_endpoints"',
                    [number_for.pk],
                ),
                computed=(
                    self.order,
                    {
                        "number": ('(SELECT "order_counter" FROM head)', []),
                        "display_id": ('(%s::text || (SELECT "order_counter" FROM head)::text)', [prefix]),
                    },
                ),
                returning='(SELECT "order_counter" FROM head), (SELECT "has_webhook_endpoints" FROM head)',
            )
            self.order.number, self.order.display_id = number, f"{prefix}{number}"
            number_for.has_webhook_endpoints = bool(has_endpoints)
        if self.events:
            for hook in EVENT_HOOKS:
                hook(self.events)
        written, self.events, self.rows, self.order_fields = self.events, [], [], ()
        return written


# Callables(events) run right after the events of a change are inserted, inside the change's
# transaction (webhooks queues its deliveries here, so a rolled-back change sends nothing).
EVENT_HOOKS: list = []


def _steps_of(order: Order) -> Sequence[WorkflowStep]:
    return workflow_cache.steps(order.workflow)


def _open_required_step(order: Order, status: int) -> WorkflowStep | None:
    done = set(order.completed_steps or [])
    for step in _steps_of(order):
        if step.status == status and step.required and step.key not in done:
            return step
    return None


def _activate_first_step(order: Order, pending: PendingEvents, actor: Actor) -> None:
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
    data: dict | None = None,
    enforce_steps: bool = True,
) -> None:
    """Moves a locked order to `to_status` and records the event.

    Preconditions: the caller holds the order's row lock (`lock_order`) inside the transaction,
    and saves the order and flushes `pending` before committing (`finish_change` does both).
    Raises InvalidTransition (409) when the table forbids the move and StepRequired (409) when a
    required step of the current status is still open (cancel is never gated by steps).
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
    order.status = to_status
    pending.add(event_type, actor, data=data, from_status=from_status, to_status=to_status)
    if to_status != from_status:
        _activate_first_step(order, pending, actor)
        transaction.on_commit(
            lambda: signals.order_transitioned.send(
                sender=Order, order_id=order.pk, from_status=from_status, to_status=to_status, event_type=event_type
            )
        )


def finish_change(order: Order, pending: PendingEvents, fields: Iterable[str] = ()) -> list[OrderEvent]:
    """Saves the locked order (status, step, sequence and `fields`) and inserts its events: in
    one statement on PostgreSQL (`PendingEvents.flush`)."""
    order.updated_at = timezone.now()
    pending.order_fields = tuple(sorted({"status", "current_step", "event_seq", "updated_at", *fields}))
    return pending.flush()


# --------------------------------------------------------------------------------------------
# Creating and updating orders
# --------------------------------------------------------------------------------------------


# The workflow lookups of every create, compiled once per thread (installer.compiled).
_WORKFLOW_BY_ID = CompiledQuery(
    Workflow, lambda org, pk: Workflow.objects.filter(organization_id=org, pk=pk, active=True).order_by()[:1]
)
_WORKFLOW_BY_CUSTOM_ID = CompiledQuery(
    Workflow,
    lambda org, custom_id: Workflow.objects.filter(organization_id=org, custom_id=custom_id, active=True).order_by()[
        :1
    ],
)
_DEFAULT_WORKFLOW = CompiledQuery(
    Workflow, lambda org: Workflow.objects.filter(organization_id=org, is_default=True).order_by()[:1]
)


def resolve_workflow(
    *, organization: Organization, workflow_id: Any = None, workflow_custom_id: str | None = None
) -> Workflow:
    """The workflow named by id or customId, else the organization's default. 400 if unknown."""
    if workflow_id:
        pk = workflow_id if isinstance(workflow_id, uuid.UUID) else _uuid_or_none(workflow_id)
        found = _WORKFLOW_BY_ID.fetch(organization.pk, pk) if pk is not None else []
    elif workflow_custom_id:
        found = _WORKFLOW_BY_CUSTOM_ID.fetch(organization.pk, str(workflow_custom_id))
    else:
        found = _DEFAULT_WORKFLOW.fetch(organization.pk)
    if found:
        return found[0]
    key = "workflowId" if workflow_id else "workflowCustomId"
    if not workflow_id and not workflow_custom_id:
        raise OrderValidationError("The organization has no default workflow.", details={"workflowId": ["Required."]})
    raise OrderValidationError("Unknown workflow.", details={key: ["No active workflow with this id."]})


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def clean_custom_fields(
    workflow: Workflow, items: Sequence[dict] | None, *, existing: dict | None = None, partial: bool = False
) -> dict[str, Any]:
    """Validates `[{customId | id, value}]` against the workflow's definitions.

    Returns {definition id (str): value}. With `partial`, `existing` values are kept and required
    fields need not be repeated. Raises OrderValidationError with details keyed like the wire.
    """
    definitions = workflow_cache.field_definitions(workflow)
    by_custom_id = {d.custom_id: d for d in definitions}
    by_id = {str(d.id): d for d in definitions}
    values: dict[str, Any] = dict(existing or {}) if partial else {}
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, item in enumerate(items or []):
        if not isinstance(item, dict):
            errors[f"customFields[{index}]"] = ["Must be an object {customId, value}."]
            continue
        ref = item.get("customId") or item.get("id")
        definition = by_custom_id.get(ref) if isinstance(ref, str) else None
        if definition is None and isinstance(ref, str):
            definition = by_id.get(ref)
        if definition is None:
            errors[f"customFields[{index}].customId"] = [f"Unknown custom field '{ref}' for this workflow."]
            continue
        if str(definition.id) in seen:
            errors[f"customFields[{index}].customId"] = [f"Custom field '{definition.custom_id}' given twice."]
            continue
        seen.add(str(definition.id))
        if "value" not in item:
            errors[f"customFields[{index}].value"] = ["This field is required."]
            continue
        value = item["value"]
        if is_empty(value):
            values.pop(str(definition.id), None)
            continue
        try:
            values[str(definition.id)] = clean_custom_value(definition, value)
        except ValueError as exc:
            errors[f"customFields.{definition.custom_id}"] = [str(exc)]
    for definition in definitions:
        if (
            definition.required
            and is_empty(values.get(str(definition.id)))
            and f"customFields.{definition.custom_id}" not in errors
        ):
            errors[f"customFields.{definition.custom_id}"] = [f"'{definition.label}' is required."]
    if errors:
        first = next(iter(errors.items()))
        raise OrderValidationError(f"{first[0]}: {first[1][0]}", details=errors)
    return values


def _owned_ids(model, organization: Organization, ids: Sequence[Any], wire_name: str) -> list:
    """Checks that every id belongs to the organization; 400 naming the field otherwise."""
    if not ids:
        return []
    wanted = list(dict.fromkeys(str(i) for i in ids))
    found = {
        str(pk) for pk in model.objects.filter(organization=organization, pk__in=wanted).values_list("pk", flat=True)
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise OrderValidationError(
            f"{wire_name}: unknown id(s) {', '.join(missing)}.",
            details={wire_name: [f"Unknown id {i}." for i in missing]},
        )
    return wanted


def files_check(*, organization: Organization, file_ids: Sequence[Any], order: Order | None = None) -> list[str]:
    """Checks that every file belongs to the organization and is not attached to another order.
    Raises OrderValidationError (400, `fileIds`) otherwise; nothing is attached here."""
    ids = _owned_ids(File, organization, file_ids, "fileIds")
    if ids:
        taken = File.objects.filter(pk__in=ids, order__isnull=False)
        if order is not None:
            taken = taken.exclude(order=order)
        taken_ids = [str(pk) for pk in taken.values_list("pk", flat=True)]
        if taken_ids:
            raise OrderValidationError(
                "fileIds: a file is already attached to another order.",
                details={"fileIds": [f"File {i} is already attached to another order." for i in taken_ids]},
            )
    return ids


def files_attach(*, order: Order, file_ids: Sequence[str]) -> int:
    """Attaches checked files (`files_check`) to the order. Precondition: inside the transaction
    of the change that attaches them; a file attached meanwhile elsewhere is left alone."""
    if not file_ids:
        return 0
    attached = File.objects.filter(pk__in=file_ids, order__isnull=True).update(order=order)
    if attached:
        order.file_list = None  # read again for the answer (orders.selectors.order_answer)
    return attached


def _next_number(organization: Organization) -> int:
    """Bumps the organization's order counter and returns it. Holds the organization row lock
    until commit, which also serializes concurrent creates with the same idempotency key.
    Refreshes `organization.has_webhook_endpoints` from the locked row (the outbox hook reads it)."""
    table = Organization._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "order_counter" = "order_counter" + 1 WHERE "id" = %s '
            'RETURNING "order_counter", "has_webhook_endpoints"',
            [organization.pk.hex if connection.vendor == "sqlite" else organization.pk],
        )
        number, has_endpoints = cursor.fetchone()
    organization.has_webhook_endpoints = bool(has_endpoints)
    return number


def _duplicate(organization: Organization, key: str) -> DuplicateIdempotencyKey:
    existing = Order.objects.filter(organization=organization, idempotency_key=key).values("id", "display_id").first()
    extra = {"orderId": str(existing["id"]), "displayId": existing["display_id"]} if existing else {}
    return DuplicateIdempotencyKey(extra=extra)


def order_create(
    *,
    organization: Organization,
    actor: Actor,
    data: dict[str, Any],
    source: str = OrderSource.API,
    webform_id: uuid.UUID | None = None,
) -> Order:
    """Creates an order from validated standard fields (`data`, snake_case) plus references
    (workflow_id / workflow_custom_id, custom_fields, order_tag_ids, file_ids, metadata,
    idempotency_key, actor_assignments) that are checked against the organization here.

    An idempotency key is unique per organization forever: a repeat, concurrent or later,
    creates nothing and raises DuplicateIdempotencyKey (409) carrying the existing order's id.
    """
    key = data.get("idempotency_key") or None
    # A repeated key is refused by the unique constraint below (the transaction, with the number
    # it took, rolls back); no query beforehand.
    workflow = resolve_workflow(
        organization=organization,
        workflow_id=data.get("workflow_id"),
        workflow_custom_id=data.get("workflow_custom_id"),
    )
    custom_values = clean_custom_fields(workflow, data.get("custom_fields"))
    tag_ids = _owned_ids(OrderTag, organization, data.get("order_tag_ids") or [], "orderTagIds")
    file_ids = files_check(organization=organization, file_ids=data.get("file_ids") or [])
    installer = _assigned_installer(organization, data.get("actor_assignments") or [])

    # Everything but the number is built before the transaction: the organization row lock that
    # the number takes serializes every create of the organization until commit, so what runs
    # under it is kept short: on PostgreSQL one statement takes the number and inserts the order
    # with its tags and events, then the commit; elsewhere `_next_number` is one more.
    order = Order(
        organization=organization,
        number=0,
        workflow=workflow,
        custom_fields=custom_values,
        metadata=data.get("metadata") or {},
        actor_assignments=data.get("actor_assignments") or [],
        installer=installer,
        source=source,
        webform_id=webform_id,
        idempotency_key=key,
        **{name: data[name] for name in STANDARD_FIELDS if data.get(name) is not None},
    )
    # A new order has none of the reverse one-to-ones other apps join (e.g. a booking).
    from orders.selectors import EXTRA_SELECT_RELATED

    for name in EXTRA_SELECT_RELATED:
        Order._meta.get_field(name).set_cached_value(order, None)
    pending = PendingEvents(order)
    pending.add("order.created", actor, data={"source": source}, to_status=OrderStatus.CREATED)
    _activate_first_step(order, pending, actor)
    pending.insert_with([order])
    pending.insert_with([TaggedOrder(content_object=order, tag_id=t) for t in tag_ids])
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # The number, the order, its tags and its events: one statement, so that the
                # organization's row is locked only from that statement to the commit.
                pending.flush(number_for=organization)
            else:
                number = _next_number(organization)
                order.number = number
                order.display_id = f"{organization.display_id_prefix}-{number}"
                pending.flush()
            files_attach(order=order, file_ids=file_ids)
            transaction.on_commit(
                lambda: signals.order_created.send(
                    sender=Order, order_id=order.pk, organization_id=organization.pk, order=order
                )
            )
    except IntegrityError:
        if key and Order.objects.filter(organization=organization, idempotency_key=key).exists():
            raise _duplicate(organization, key) from None
        raise
    if not tag_ids and not file_ids:
        order.tag_list, order.file_list = [], []  # a new order has no others: no query to answer
    return order


def _assigned_installer(organization: Organization, assignments: Sequence[dict]) -> Organization | None:
    """An `actorAssignments` entry with actorSlug `installer` pre-assigns that installer company.

    It must be an installer organization that every `INSTALLER_ASSIGNMENT_CHECKS` entry accepts
    for this router (dispatch: an active partnership), else 400 naming the entry: a router may
    hand its customers' data only to an installer it works with.
    """
    for index, entry in enumerate(assignments):
        if entry.get("actor_slug", entry.get("actorSlug")) == "installer":
            org_id = entry.get("organization_id", entry.get("organizationId"))
            field_name = f"actorAssignments[{index}].organizationId"
            installer = Organization.objects.filter(pk=org_id, is_installer=True).first()
            if installer is None:
                raise OrderValidationError(
                    "actorAssignments: unknown installer.",
                    details={field_name: ["No installer partner with this id."]},
                )
            for check in INSTALLER_ASSIGNMENT_CHECKS:
                if not check(organization, installer.pk):
                    raise OrderValidationError(
                        "actorAssignments: not an active installer partner of this organization.",
                        details={field_name: ["Not an active installer partner of this organization."]},
                    )
            return installer
    return None


# Callables(router, installer_id) -> bool that must all accept an installer before an order is
# pre-assigned to it (dispatch registers: an active partnership). A check may also raise an
# OrderValidationError of its own. Keeps `orders` free of dispatch imports.
INSTALLER_ASSIGNMENT_CHECKS: list = []


UPDATABLE_FIELDS = (*STANDARD_FIELDS, "metadata")


def _wire_name(name: str) -> str:
    """snake_case field name -> its camelCase name on the wire (timeline and webhook data)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def order_update(*, order_id: Any, organization: Organization, actor: Actor, data: dict[str, Any]) -> Order:
    """Updates customer, address, description, metadata and custom fields (partial), and attaches
    `file_ids` (added to the order's files; none is detached). 409 once completed or cancelled."""
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        if order.status in transitions.TERMINAL:
            raise Conflict(f"A {order.status_name} order cannot be changed.")
        changed: list[str] = []
        for name in UPDATABLE_FIELDS:
            if name in data and getattr(order, name) != data[name]:
                setattr(order, name, data[name])
                changed.append(name)
        if "custom_fields" in data:
            values = clean_custom_fields(
                order.workflow, data["custom_fields"], existing=order.custom_fields, partial=True
            )
            if values != order.custom_fields:
                order.custom_fields = values
                changed.append("custom_fields")
        event_data: dict[str, Any] = {}
        if data.get("file_ids"):
            file_ids = files_check(organization=organization, file_ids=data["file_ids"], order=order)
            unattached = File.objects.select_for_update().filter(pk__in=file_ids, order__isnull=True)
            new_ids = [str(pk) for pk in unattached.values_list("pk", flat=True)]
            if files_attach(order=order, file_ids=new_ids):
                event_data["fileIds"] = new_ids
        if changed or event_data:
            pending = PendingEvents(order)
            fields = [*changed, "files"] if event_data else changed
            pending.add(
                "order.updated",
                actor,
                data={"fields": [_wire_name(name) for name in fields], **event_data},
                from_status=order.status,
                to_status=order.status,
            )
            finish_change(order, pending, changed)
    return order


def order_cancel(
    *, order_id: Any, organization: Organization, actor: Actor, reason: str | None = None, comment: str = ""
) -> Order:
    """Cancels from any status but completed and cancelled (409). `CANCEL_HOOKS` run in the same
    transaction with the order locked (dispatch withdraws open offers and removes the booking).
    """
    if reason is not None and reason not in CancelReason.values:
        raise OrderValidationError(
            "Unknown cancel reason.", details={"reason": [f"Must be one of: {', '.join(CancelReason.values)}."]}
        )
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        pending = PendingEvents(order)
        transition(
            order,
            OrderStatus.CANCELLED,
            actor=actor,
            event_type="order.cancelled",
            pending=pending,
            data={"reason": reason, "comment": comment},
        )
        order.cancel_reason = reason or CancelReason.OTHER
        order.cancel_comment = comment or ""
        for hook in CANCEL_HOOKS:
            hook(order=order, actor=actor, pending=pending)
        finish_change(order, pending, ["cancel_reason", "cancel_comment"])
    return order


# Callables run inside order_cancel's transaction with the order locked (dispatch registers one
# that withdraws open offers and removes the booking). Keeps `orders` free of dispatch imports.
CANCEL_HOOKS: list = []


def workflow_step_complete(*, order_id: Any, organization: Organization | None, step_key: str, actor: Actor) -> Order:
    """Completes a step of the order's current status; the next open step becomes current."""
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        step = next((s for s in _steps_of(order) if s.key == step_key), None)
        if step is None:
            raise NotFound(f"The workflow has no step '{step_key}'.")
        if step.status != order.status:
            raise Conflict(
                f"Step '{step.key}' belongs to status '{STATUS_NAMES[step.status]}'; the order is '{order.status_name}'."
            )
        if step.key in (order.completed_steps or []):
            raise Conflict(f"Step '{step.key}' is already completed.")
        order.completed_steps = [*(order.completed_steps or []), step.key]
        pending = PendingEvents(order)
        pending.add(
            "workflow.step.completed",
            actor,
            data={"step": {"key": step.key, "title": step.title}},
            from_status=order.status,
            to_status=order.status,
        )
        _activate_first_step(order, pending, actor)
        finish_change(order, pending, ["completed_steps"])
    return order


# --------------------------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------------------------


def order_tags_create(*, organization: Organization, names: Sequence[str]) -> list[OrderTag]:
    """Returns the tags of the names, in order and each once, creating the missing ones; an
    existing name (any case) is reused, so "VIP" and "vip" in one call give one tag."""
    result: list[OrderTag] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        for _ in range(2):
            existing = OrderTag.objects.filter(organization=organization, name__iexact=name).first()
            if existing:
                result.append(existing)
                break
            try:
                with transaction.atomic():
                    tag = OrderTag(organization=organization, name=name)
                    tag.save()
                result.append(tag)
                break
            except IntegrityError:  # a concurrent request created it: read it again
                continue
    return result


def _tag_change(*, order_id: Any, organization: Organization, tag_id: Any, actor: Actor, add: bool) -> Order:
    from orders.selectors import parse_uuid

    pk = parse_uuid(tag_id)
    tag = OrderTag.objects.filter(organization=organization, pk=pk).first() if pk is not None else None
    if tag is None:
        raise NotFound("Tag not found.")
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        if add:
            _, changed = TaggedOrder.objects.get_or_create(content_object=order, tag=tag)
        else:
            changed = TaggedOrder.objects.filter(content_object=order, tag=tag).delete()[0] > 0
        if changed:
            order.tag_list = None  # read again for the answer (orders.selectors.order_answer)
            pending = PendingEvents(order)
            pending.add(
                "order.tag_added" if add else "order.tag_removed",
                actor,
                data={"tag": {"id": str(tag.pk), "name": tag.name}},
                from_status=order.status,
                to_status=order.status,
            )
            finish_change(order, pending)
    return order


def order_tag_assign(*, order_id: Any, organization: Organization, tag_id: Any, actor: Actor) -> Order:
    """Idempotent: assigning a tag the order already has changes nothing."""
    return _tag_change(order_id=order_id, organization=organization, tag_id=tag_id, actor=actor, add=True)


def order_tag_remove(*, order_id: Any, organization: Organization, tag_id: Any, actor: Actor) -> Order:
    """Idempotent: removing a tag the order does not have changes nothing."""
    return _tag_change(order_id=order_id, organization=organization, tag_id=tag_id, actor=actor, add=False)
