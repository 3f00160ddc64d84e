"""Reads: which orders, files and workflows a caller may see, with what loaded.

Selectors return querysets and models. What a JSON object looks like lives in
`orders.api.presenters`; what a caller may do next in `orders.policy`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Prefetch, Q, QuerySet

from accounts.models import ApiToken, Membership, Organization, Role, role_may_write, role_sees_only_assigned
from installer.raw_rows import RowShape, prepared_cursor
from orders import hooks, workflow_cache
from orders.models import ActorType, File, Order, OrderEvent, OrderTag, TaggedOrder, Workflow, WorkflowStep


@dataclass(frozen=True)
class Viewer:
    """The caller: an organization acting through a membership (API token, admin user, partner
    page), with the membership's user (which a technician's reads and writes are limited to)."""

    organization: Organization
    role: str = Role.OPERATOR
    user_id: Any = None

    @classmethod
    def for_membership(cls, membership: Membership) -> Viewer:
        return cls(organization=membership.organization, role=membership.role, user_id=membership.user_id)

    @property
    def can_write(self) -> bool:
        return role_may_write(self.role)

    @property
    def only_assigned(self) -> bool:
        """A technician: it reads and works only the orders assigned to its user."""
        return role_sees_only_assigned(self.role)

    @property
    def technician_id(self) -> Any:
        """The user a technician's writes are limited to (services' `technician_id`), else None.
        A technician without a user gets a value no order is assigned to."""
        if not self.only_assigned:
            return None
        return self.user_id if self.user_id is not None else 0


def parse_uuid(value: Any) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (an id from a URL or a form)."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def order_visibility(viewer: Viewer) -> Q:
    if viewer.only_assigned:
        # A technician: the jobs of its installer organization assigned to its user, nothing else.
        if viewer.user_id is None:
            return Q(pk__in=[])
        return Q(installer=viewer.organization, assignee_id=viewer.user_id)
    condition = Q(organization=viewer.organization)
    if viewer.organization.is_installer:
        condition |= Q(installer=viewer.organization)
        extra = hooks.installer_visibility(viewer)
        if extra is not None:
            condition |= extra
    return condition


def orders_visible_to(viewer: Viewer) -> QuerySet[Order]:
    """Every order the viewer may read. Another organization's orders are simply absent (404)."""
    qs = Order.objects.filter(order_visibility(viewer))
    if viewer.organization.is_installer and hooks.installer_visibility and not viewer.only_assigned:
        qs = qs.distinct()
    return qs


# The columns the order object reads of the joined workflow (its version keys
# orders.workflow_cache) and installer, of the tags and of the files; the others are not loaded.
WORKFLOW_COLUMNS = ("id", "organization", "custom_id", "version")
INSTALLER_COLUMNS = ("id", "name", "is_installer")
ASSIGNEE_COLUMNS = ("id", "username", "first_name", "last_name")


def _unread_columns() -> list[str]:
    user_model = get_user_model()
    return [
        *(f"workflow__{f.name}" for f in Workflow._meta.concrete_fields if f.name not in WORKFLOW_COLUMNS),
        *(f"installer__{f.name}" for f in Organization._meta.concrete_fields if f.name not in INSTALLER_COLUMNS),
        *(f"assignee__{f.name}" for f in user_model._meta.concrete_fields if f.name not in ASSIGNEE_COLUMNS),
    ]


def order_relations() -> list[Prefetch]:
    """The tags (`tag_links`: the links with their tags) and files (`file_list`, by upload
    time) of the orders read: one query each, whatever the number of orders."""
    tag_links = TaggedOrder.objects.select_related("tag").only("id", "content_object", "tag__id", "tag__name")
    files = File.objects.only("id", "order", "name", "content_type", "size", "created_at")
    return [
        Prefetch("tagged_items", queryset=tag_links, to_attr="tag_links"),
        Prefetch("files", queryset=files.order_by("created_at", "id"), to_attr="file_list"),
    ]


def with_order_relations(qs: QuerySet[Order], viewer: Viewer | None = None) -> QuerySet[Order]:
    """Everything the order object needs, in a constant number of queries for any number of
    orders: workflow, installer and assignee joined, tags and files prefetched (`order_relations`), and
    what other apps add for this caller (`orders.hooks.order_reads`). Workflow steps and custom
    field definitions come from orders.workflow_cache."""
    qs = qs.select_related("workflow", "installer", "assignee").defer(*_unread_columns())
    qs = qs.prefetch_related(*order_relations())
    if hooks.order_reads:
        qs = hooks.order_reads(qs, viewer)
    return qs


def order_get(viewer: Viewer, order_id: Any, *, with_relations: bool = True) -> Order | None:
    """The order if the viewer may read it, else None. `with_relations=False` loads only the
    order row (for a visibility check before a service reads it under its lock)."""
    pk = parse_uuid(order_id)
    if pk is None:
        return None
    if with_relations:
        fast = orders_loaded_fast(viewer, [pk])
        if fast is not None:
            return fast[0] if fast else None
    qs = orders_visible_to(viewer).filter(pk=pk)
    if with_relations:
        qs = with_order_relations(qs, viewer)
    return qs.first()


def order_events(order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).order_by("sequence")


def own_actors(organization: Organization, events: list[OrderEvent]) -> set[tuple[str, str]]:
    """The `(actor_type, actor_id)` of the events' actors that belong to the organization: its
    API tokens and the users who are its members. At most two queries, whatever the number of
    events."""
    token_ids = {e.actor_id for e in events if e.actor_type == ActorType.API_TOKEN and parse_uuid(e.actor_id)}
    user_pk = get_user_model()._meta.pk
    user_ids = set()
    for event in events:
        if event.actor_type == ActorType.USER and event.actor_id:
            try:
                user_ids.add(user_pk.to_python(event.actor_id))
            except ValidationError:
                continue
    own: set[tuple[str, str]] = set()
    if token_ids:
        tokens = ApiToken.objects.filter(pk__in=token_ids, membership__organization=organization)
        own.update((ActorType.API_TOKEN, str(pk)) for pk in tokens.values_list("pk", flat=True))
    if user_ids:
        members = Membership.objects.filter(organization=organization, user_id__in=user_ids)
        own.update((ActorType.USER, str(pk)) for pk in members.values_list("user_id", flat=True))
    return own


def workflows_for(organization: Organization) -> QuerySet[Workflow]:
    return (
        Workflow.objects.filter(organization=organization)
        .prefetch_related("steps", "custom_fields")
        .order_by("name", "id")
    )


def current_step(order: Order) -> WorkflowStep | None:
    """The order's current step, from the workflow cache (no query) unless already loaded."""
    if order.current_step_id is None:
        return None
    if Order.current_step.is_cached(order):
        return order.current_step
    for step in workflow_cache.steps(order.workflow):
        if step.pk == order.current_step_id:
            return step
    return order.current_step


def files_visible_to(viewer: Viewer) -> QuerySet[File]:
    """Files the viewer may read: its own uploads, files on its orders (an installer's completion
    photos included), and files on orders assigned to it as installer, while the order is not
    deleted. Others are absent (404)."""
    org = viewer.organization
    if viewer.only_assigned:
        # A technician: the files of the jobs assigned to it, and its organization's uploads
        # not on any order yet (what it uploads before completing a job with them).
        return File.objects.filter(
            Q(order__installer=org, order__assignee_id=viewer.technician_id, order__deleted_at__isnull=True)
            | Q(organization=org, order__isnull=True)
        )
    return File.objects.filter(
        Q(organization=org) | Q(order__organization=org) | Q(order__installer=org, order__deleted_at__isnull=True)
    )


def file_get(viewer: Viewer, file_id: Any) -> File | None:
    pk = parse_uuid(file_id)
    if pk is None:
        return None
    return files_visible_to(viewer).filter(pk=pk).first()


# -- Fast path (docs/performance.md) ---------------------------------------------------------------


def relations_columns(quote) -> str:
    """The tags and the files of the order `o` as two JSON columns (`attach_relations`)."""
    return (
        f"(SELECT json_agg(json_build_array(l.id, t.id, t.name)) FROM {quote(TaggedOrder._meta.db_table)} l"  # noqa: S608 (names from _meta)
        f" INNER JOIN {quote(OrderTag._meta.db_table)} t ON t.id = l.tag_id WHERE l.content_object_id = o.id),"
        f" (SELECT json_agg(json_build_array(f.id, f.name, f.content_type, f.size, f.created_at)"
        f" ORDER BY f.created_at, f.id) FROM {quote(File._meta.db_table)} f WHERE f.order_id = o.id)"
    )


def attach_relations(order: Order, tags: Any, files: Any, alias: str, shared: dict[tuple[Any, Any], Any]) -> None:
    """Sets the order's `tag_links` and `file_list` (as `order_relations` prefetches them) from
    the two JSON columns of `relations_columns`. `shared`: one tag object per tag for a whole page."""
    tags, files = (json.loads(v) if isinstance(v, str) else v for v in (tags, files))
    order.tag_links = []  # type: ignore[attr-defined]
    for link_id, tag_id, tag_name in tags or ():
        tag_pk = uuid.UUID(tag_id)
        link = TaggedOrder.from_db(alias, ["id", "content_object_id", "tag_id"], [link_id, order.pk, tag_pk])
        if (OrderTag, tag_pk) not in shared:
            shared[OrderTag, tag_pk] = OrderTag.from_db(alias, ["id", "name"], [tag_pk, tag_name])
        link.tag = shared[OrderTag, tag_pk]
        order.tag_links.append(link)  # type: ignore[attr-defined]
    order.file_list = [  # type: ignore[attr-defined]
        File.from_db(
            alias,
            ["id", "order_id", "name", "content_type", "size", "created_at"],
            [uuid.UUID(file_id), order.pk, name, content_type, size, datetime.fromisoformat(created_at)],
        )
        for file_id, name, content_type, size, created_at in files or ()
    ]


def forget_relations(order: Order, name: str) -> None:
    """Drops the order's loaded `tag_links` or `file_list` (`attach_relations`, read with the
    order lock) after a change to them, so that the answer reads them again."""
    order.__dict__.pop(name, None)


def relations_loaded_fast(order: Order) -> bool:
    """Fast path: loads the order's tags and files (`tag_links`, `file_list`) in one SQL
    statement, where the presenter's ORM reads compile and run two; for the answer of a write,
    whose order was read under its lock without them. False where it does not apply (a
    database other than PostgreSQL): the presenter then reads them with the ORM."""
    connection = connections[router.db_for_read(Order)]
    if connection.vendor != "postgresql":
        return False
    with prepared_cursor(connection) as cursor:
        sql = f"SELECT {relations_columns(connection.ops.quote_name)} FROM (SELECT %s::uuid AS id) o"  # noqa: S608 (names from _meta, the id bound)
        cursor.execute(sql, [order.pk])
        tags, files = cursor.fetchone()
    attach_relations(order, tags, files, connection.alias, {})
    return True


def _fast_read(connection, many: bool) -> tuple[str, list[RowShape]]:
    """The statement of `orders_loaded_fast` (`many`: for a list of ids, else for one id), and
    the shapes of the order, its workflow, its installer, its booking and its assignee in its
    rows (the tags and files follow, as JSON)."""
    quote = connection.ops.quote_name
    booking_model = Order._meta.get_field("booking").related_model  # dispatch's, found through the relation
    user_model = get_user_model()
    order, workflow, installer, booking, assignee = shapes = [
        RowShape(connection, Order, "o"),
        RowShape(connection, Workflow, "w", [f for f in Workflow._meta.concrete_fields if f.name in WORKFLOW_COLUMNS]),
        RowShape(
            connection,
            Organization,
            "i",
            [f for f in Organization._meta.concrete_fields if f.name in INSTALLER_COLUMNS],
        ),
        RowShape(connection, booking_model, "b"),
        RowShape(
            connection, user_model, "a", [f for f in user_model._meta.concrete_fields if f.name in ASSIGNEE_COLUMNS]
        ),
    ]
    sql = (
        f"SELECT {order.columns}, {workflow.columns}, {installer.columns}, {booking.columns}, {assignee.columns},"  # noqa: S608 (names from _meta, values bound)
        f" {relations_columns(quote)}"
        f" FROM {order.table} INNER JOIN {workflow.table} ON w.id = o.workflow_id"
        f" LEFT OUTER JOIN {installer.table} ON i.id = o.installer_id"
        f" LEFT OUTER JOIN {booking.table} ON b.order_id = o.id"
        f" LEFT OUTER JOIN {assignee.table} ON a.{quote(user_model._meta.pk.column)} = o.assignee_id"
        # One id is `o.id = %s`, not `= ANY`: PostgreSQL then keeps a generic plan of the
        # prepared statement, which it does not for an array of ids, planned for each list.
        f" WHERE o.id {'= ANY(%s)' if many else '= %s'} AND o.organization_id = %s AND o.deleted_at IS NULL"
    )
    return sql, shapes


_fast_reads: dict[tuple[str, bool], tuple[str, list[RowShape]]] = {}


def fast_reads_apply(viewer: Viewer) -> bool:
    """Whether `orders_loaded_fast` serves this viewer's reads (see there)."""
    return connections[router.db_for_read(Order)].vendor == "postgresql" and not viewer.organization.is_installer


def orders_loaded_fast(viewer: Viewer, pks: list[uuid.UUID]) -> list[Order] | None:
    """Fast path: the viewer's orders of `pks`, in that order, loaded as `with_order_relations`
    loads them (workflow, installer, booking, assignee, `tag_links`, `file_list`) from one SQL statement
    written once per database alias, where the ORM compiles three on every request. The order
    object built from either is the same (orders/tests/test_list_page_objects.py). None where it does
    not apply, and the caller takes the ORM path: a database other than PostgreSQL, or an
    installer viewer (whose reads other apps extend through `orders.hooks`)."""
    if not fast_reads_apply(viewer):
        return None
    alias = router.db_for_read(Order)
    connection = connections[alias]
    if not pks:
        return []
    many = len(pks) > 1
    if (alias, many) not in _fast_reads:
        _fast_reads[alias, many] = _fast_read(connection, many)
    sql, shapes = _fast_reads[alias, many]
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [list(pks) if many else pks[0], viewer.organization.pk])
        rows = cursor.fetchall()
    by_pk = {}
    shared: dict[tuple[Any, Any], Any] = {}  # one workflow, installer, assignee and tag object per page
    for row in rows:
        built: list[Any] = []
        start = 0
        for index, shape in enumerate(shapes):
            key = (index, row[start])  # the primary key as read
            if index in (1, 2, 4) and key in shared:  # the workflow, installer or assignee seen before
                built.append(shared[key])
                start += shape.width
                continue
            instance, start = shape.take(row, start)
            if index in (1, 2, 4):
                shared[key] = instance
            built.append(instance)
        order, workflow, installer, booking, assignee = built
        order.workflow = workflow
        Order.installer.field.set_cached_value(order, installer)
        Order.assignee.field.set_cached_value(order, assignee)
        Order.booking.related.set_cached_value(order, booking)
        attach_relations(order, row[start], row[start + 1], alias, shared)
        by_pk[order.pk] = order
    return [by_pk[pk] for pk in pks if pk in by_pk]
