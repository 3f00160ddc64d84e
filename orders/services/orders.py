"""Creating and updating orders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, router, transaction
from django.db.models import F

from accounts.models import Organization
from installer.raw_rows import prepared_cursor
from orders import hooks, signals, transitions
from orders.actors import Actor
from orders.exceptions import Conflict, DuplicateIdempotencyKey, OrderValidationError
from orders.models import STANDARD_FIELDS, File, Order, OrderSource, OrderStatus, OrderTag, TaggedOrder
from orders.services.files import files_attach, files_check, owned
from orders.services.lifecycle import PendingEvents, activate_first_step, finish_change, lock_order
from orders.services.workflows import clean_custom_fields, resolve_workflow

UPDATABLE_FIELDS = (*STANDARD_FIELDS, "metadata")


def number_order(order: Order) -> None:
    """Gives a new order, inserted in this transaction without one, the organization's next
    number and its display id, and refreshes `organization.has_webhook_endpoints` from the
    locked row (the outbox hook reads it). Precondition: inside the create's transaction, as its
    last write but the webhook outbox: the counter's UPDATE holds the organization row lock until
    commit, which serializes the organization's creates, so the less runs after it the better.
    Fast path on PostgreSQL (docs/performance.md): one statement that bumps the counter and
    numbers the order, where the ORM version (`number_order_orm`, compared with it in
    tests) runs an UPDATE, a SELECT and an UPDATE."""
    connection = transaction.get_connection(router.db_for_write(Order))
    if connection.vendor != "postgresql":
        number_order_orm(order)
        return
    quote = connection.ops.quote_name
    organizations, orders = quote(Organization._meta.db_table), quote(Order._meta.db_table)
    with prepared_cursor(connection) as cursor:
        cursor.execute(
            f"WITH counter AS (UPDATE {organizations} SET order_counter = order_counter + 1 WHERE id = %s"  # noqa: S608 (table names from _meta, values bound)
            " RETURNING order_counter, display_id_prefix, has_webhook_endpoints)"
            f" UPDATE {orders} SET number = counter.order_counter,"
            " display_id = counter.display_id_prefix || '-' || counter.order_counter"
            f" FROM counter WHERE {orders}.id = %s"
            f" RETURNING {orders}.number, {orders}.display_id, counter.has_webhook_endpoints",
            [order.organization_id, order.pk],
        )
        number, display_id, has_endpoints = cursor.fetchone()
    organization = order.organization
    organization.order_counter = number
    organization.has_webhook_endpoints = has_endpoints
    order.number = number
    order.display_id = display_id


def number_order_orm(order: Order) -> None:
    """`number_order` with the ORM: the counter's UPDATE, its read, the order's UPDATE."""
    organization = order.organization
    rows = Organization.objects.filter(pk=organization.pk)
    rows.update(order_counter=F("order_counter") + 1)
    number, has_endpoints = rows.values_list("order_counter", "has_webhook_endpoints").get()
    organization.order_counter = number
    organization.has_webhook_endpoints = has_endpoints
    order.number = number
    order.display_id = f"{organization.display_id_prefix}-{number}"
    Order.all_objects.filter(pk=order.pk).update(number=order.number, display_id=order.display_id)


def _duplicate(organization: Organization, key: str) -> DuplicateIdempotencyKey:
    existing = (
        Order.all_objects.filter(organization=organization, idempotency_key=key).values("id", "display_id").first()
    )
    extra = {"orderId": str(existing["id"]), "displayId": existing["display_id"]} if existing else {}
    return DuplicateIdempotencyKey(extra=extra)


def _assigned_installer(
    organization: Organization, assignments: Sequence[dict[str, Any]], *, test: bool = False
) -> Organization | None:
    """An `actorAssignments` entry with actorSlug `installer` pre-assigns that installer company.

    It must be an installer organization that `orders.hooks.installer_assignable` accepts for
    this router (dispatch: an active partnership), else OrderValidationError naming the entry:
    a router may hand its customers' data only to an installer it works with. A test order may
    be pre-assigned to the router's test installer only, so no real partner ever gets one.
    """
    for index, entry in enumerate(assignments):
        if entry.get("actor_slug", entry.get("actorSlug")) == "installer":
            org_id = entry.get("organization_id", entry.get("organizationId"))
            field_name = f"actorAssignments[{index}].organizationId"
            installer = Organization.objects.filter(pk=org_id, is_installer=True).first() if org_id else None
            if installer is None:
                raise OrderValidationError(
                    "actorAssignments: unknown installer.",
                    details={field_name: ["No installer partner with this id."]},
                )
            if test:
                if installer.test_installer_for_id != organization.pk:
                    raise OrderValidationError(
                        "actorAssignments: a test order goes to the organization's test installer only.",
                        details={field_name: ["A test order goes to the organization's test installer only."]},
                    )
                return installer
            if not hooks.installer_assignable(organization, installer.pk):
                raise OrderValidationError(
                    "actorAssignments: not an active installer partner of this organization.",
                    details={field_name: ["Not an active installer partner of this organization."]},
                )
            return installer
    return None


def order_create(
    *,
    organization: Organization,
    actor: Actor,
    data: dict[str, Any],
    source: str = OrderSource.API,
    webform_id: uuid.UUID | None = None,
    test: bool = False,
) -> Order:
    """Creates an order from validated standard fields (`data`, snake_case) plus references
    (workflow_id / workflow_custom_id, custom_fields, order_tag_ids, file_ids, metadata,
    idempotency_key, actor_assignments) that are checked against the organization here, and
    `language` (en or nb; absent = the organization's `language`).

    An idempotency key is unique per organization forever: a repeat, concurrent or later,
    creates nothing and raises DuplicateIdempotencyKey carrying the existing order's id.
    Sends `orders.signals.order_created` after commit. A `test` order (made with a test-mode
    token) is flagged `test`.
    """
    key = data.get("idempotency_key") or None
    workflow = resolve_workflow(
        organization=organization,
        workflow_id=data.get("workflow_id"),
        workflow_custom_id=data.get("workflow_custom_id"),
    )
    custom_values = clean_custom_fields(workflow, data.get("custom_fields"))
    tags = owned(OrderTag, organization, data.get("order_tag_ids") or [], "orderTagIds")
    file_ids = files_check(organization=organization, file_ids=data.get("file_ids") or [])
    installer = _assigned_installer(organization, data.get("actor_assignments") or [], test=test)
    order = Order(
        organization=organization,
        number=None,
        display_id=None,
        workflow=workflow,
        custom_fields=custom_values,
        metadata=data.get("metadata") or {},
        actor_assignments=data.get("actor_assignments") or [],
        installer=installer,
        source=source,
        webform_id=webform_id,
        idempotency_key=key,
        test=test,
        language=data.get("language") or organization.language,
        **{name: data[name] for name in STANDARD_FIELDS if data.get(name) is not None},
    )
    pending = PendingEvents(order)
    pending.add("order.created", actor, data={"source": source}, to_status=OrderStatus.CREATED)
    activate_first_step(order, pending, actor)
    try:
        # The order is written first, without a number: a repeat of its idempotency key waits
        # on the insert and fails without taking a number. The number comes last, so the
        # organization row lock it takes is held only by that statement, the webhook outbox and
        # the commit.
        with transaction.atomic():
            order.save(force_insert=True)
            links = TaggedOrder.objects.bulk_create([TaggedOrder(content_object=order, tag=tag) for tag in tags])
            files_attach(order=order, file_ids=file_ids)
            written = pending.flush(recorded=False)
            number_order(order)
            pending.recorded(written)  # the outbox keeps the order as it commits, number included
            transaction.on_commit(
                lambda: signals.order_created.send(
                    sender=Order, order_id=order.pk, organization_id=organization.pk, order=order
                )
            )
    except IntegrityError:
        if key and Order.all_objects.filter(organization=organization, idempotency_key=key).exists():
            raise _duplicate(organization, key) from None
        raise
    # What the answer reads is known: the tags given, the files given (read again when there
    # are some), and no row of any reverse one-to-one of other apps (e.g. a booking).
    order.tag_links = links  # type: ignore[attr-defined]
    if not file_ids:
        order.file_list = []  # type: ignore[attr-defined]
    for relation in Order._meta.related_objects:
        if relation.one_to_one:
            relation.set_cached_value(order, None)
    return order


def _wire_name(name: str) -> str:
    """snake_case field name -> its camelCase name on the wire (timeline and webhook data)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def order_update(*, order_id: Any, organization: Organization, actor: Actor, data: dict[str, Any]) -> Order:
    """Updates customer, address, description, metadata and custom fields (partial), and attaches
    `file_ids` (added to the order's files; none is detached). Conflict once completed or
    cancelled."""
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
