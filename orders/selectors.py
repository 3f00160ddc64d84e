"""Reads: who may see which orders, with what joined, and the order object as the API shows it.

The order object is built by plain functions rather than DRF serializers: this is the hottest
path of the API (every read and every write answers with it), and a dict built from prefetched
rows is several times cheaper. `orders.api.serializers.OrderOutput` documents the same shape.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, NamedTuple

import orjson
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import (
    BigIntegerField,
    CharField,
    DateTimeField,
    F,
    Q,
    QuerySet,
    TextField,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL

from installer.compiled import CompiledQuery
from orders import transitions, workflow_cache
from orders.models import (
    STANDARD_FIELDS,
    STATUS_NAMES,
    File,
    Membership,
    Order,
    OrderEvent,
    OrderStatus,
    OrderTag,
    Organization,
    Role,
    TaggedOrder,
    Workflow,
)


@dataclass(frozen=True)
class Viewer:
    """The caller: an organization acting through a membership (API token, admin user)."""

    organization: Organization
    role: str = Role.OPERATOR

    @classmethod
    def for_membership(cls, membership: Membership) -> Viewer:
        return cls(organization=membership.organization, role=membership.role)

    @property
    def can_write(self) -> bool:
        return self.role in (Role.ADMIN, Role.OPERATOR)


# Extra visibility rules registered by other apps (dispatch: orders an installer has offers for).
# Each is a callable(viewer) -> Q. Keeps `orders` free of imports from dispatch.
VISIBILITY_RULES: list = []

# Related objects other apps add to the order object (dispatch: "booking").
EXTRA_SELECT_RELATED: list[str] = []

# Prefetches that depend on the caller, registered by other apps: callables(viewer) -> a list of
# `Prefetch` (empty when the app has nothing for this viewer). Applied by `with_order_relations`
# when it is given the viewer, so that ALLOWED_ACTION_RULES read prefetched rows, not one query
# per order (dispatch: the installer's own open offers).
VIEWER_PREFETCHES: list = []

# Extra `allowedActions` registered by other apps: callables(order, viewer) -> list[str], run for
# a viewer that may write. They must not query per order: read what a VIEWER_PREFETCHES entry
# prefetched (dispatch: "accept" / "decline" for an installer with an open offer on the order).
ALLOWED_ACTION_RULES: list = []


def order_visibility(viewer: Viewer) -> Q:
    condition = Q(organization=viewer.organization)
    if viewer.organization.is_installer:
        condition |= Q(installer=viewer.organization)
        for rule in VISIBILITY_RULES:
            condition |= rule(viewer)
    return condition


def orders_visible_to(viewer: Viewer) -> QuerySet[Order]:
    """Every order the viewer may read. Another organization's orders are simply absent (404)."""
    qs = Order.objects.filter(order_visibility(viewer))
    if viewer.organization.is_installer and VISIBILITY_RULES:
        qs = qs.distinct()
    return qs


# What the order object reads of the joined workflow and installer rows (the workflow's version
# keys orders.workflow_cache); their other columns are not read, so that a page of 50 orders
# does not parse and instantiate 50 copies of them.
WORKFLOW_FIELDS = ("id", "organization", "custom_id", "version")
INSTALLER_FIELDS = ("id", "name", "is_installer")


def _joined(qs: QuerySet[Order]) -> QuerySet[Order]:
    """The order object's joins: workflow, installer (narrowed) and EXTRA_SELECT_RELATED."""
    narrow = [f"workflow__{f.name}" for f in Workflow._meta.concrete_fields if f.name not in WORKFLOW_FIELDS]
    narrow += [f"installer__{f.name}" for f in Organization._meta.concrete_fields if f.name not in INSTALLER_FIELDS]
    return qs.select_related("workflow", "installer", *EXTRA_SELECT_RELATED).defer(*narrow)


def viewer_prefetches(viewer: Viewer | None) -> list:
    """What VIEWER_PREFETCHES add for this caller (none for a router)."""
    if viewer is None:
        return []
    return [prefetch for hook in VIEWER_PREFETCHES for prefetch in hook(viewer) or ()]


def with_order_relations(qs: QuerySet[Order], viewer: Viewer | None = None) -> QuerySet[Order]:
    """Everything the order object needs, in a constant number of queries for any page size:
    the orders with workflow, installer (and EXTRA_SELECT_RELATED) joined, then one query for
    the tags and files of all of them (`load_order_relations`). Workflow steps and custom field
    definitions come from orders.workflow_cache. With `viewer`, also what VIEWER_PREFETCHES add
    for that caller (dispatch: an installer's open offers)."""
    return _joined(qs.prefetch_related(*viewer_prefetches(viewer))).with_relations()


def _relations_query(ids: list) -> QuerySet:
    columns = ("r_kind", "r_order", "r_id", "r_name", "r_type", "r_size", "r_time")
    tags = (
        TaggedOrder.objects.filter(content_object_id__in=ids)
        .order_by()
        .annotate(
            r_kind=Value(0),
            r_order=F("content_object_id"),
            r_id=F("tag_id"),
            r_name=F("tag__name"),
            r_type=Value("", output_field=CharField()),
            r_size=Value(0, output_field=BigIntegerField()),
            r_time=Value(None, output_field=DateTimeField()),  # files only: tags sort by name
        )
    )
    files = (
        File.objects.filter(order_id__in=ids)
        .order_by()
        .annotate(
            r_kind=Value(1),
            r_order=F("order_id"),
            r_id=F("id"),
            r_name=F("name"),
            r_type=F("content_type"),
            r_size=F("size"),
            r_time=F("created_at"),
        )
    )
    return tags.values_list(*columns).union(files.values_list(*columns), all=True)


class TagRef(NamedTuple):
    id: uuid.UUID
    name: str


class FileRef(NamedTuple):
    id: uuid.UUID
    name: str
    content_type: str
    size: int


# Compiled once per thread and number of orders (installer.compiled): a page of 50 orders reuses
# the SQL of the previous page of 50.
_RELATIONS = CompiledQuery(TaggedOrder, _relations_query)


def load_order_relations(orders: Sequence[Order]) -> None:
    """Sets `tag_list` (by name) and `file_list` (by upload time) on each order with ONE query
    (a UNION of the tags and the files of all the orders): TagRef and FileRef tuples, with the
    attributes of the models that the order object reads."""
    if not orders:
        return
    by_id = {}
    for order in orders:
        order.tag_list, order.file_list = [], []
        by_id[order.pk] = order
    ids = list(by_id)
    for kind, order_id, pk, name, content_type, size, created_at in _RELATIONS.fetch(ids, key=len(ids)):
        order = by_id[order_id if isinstance(order_id, uuid.UUID) else uuid.UUID(str(order_id))]
        pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
        if kind == 0:
            order.tag_list.append(TagRef(pk, name))
        else:
            order.file_list.append((created_at, pk, FileRef(pk, name, content_type, size)))
    for order in orders:
        order.tag_list.sort(key=lambda t: t.name.lower())
        order.file_list = [f for _, _, f in sorted(order.file_list, key=lambda item: (item[0], item[1]))]


# On PostgreSQL the tags and files of an order are two more columns of the order's own query
# (Get Order, a list page, the lock of every change) instead of a second query: each is a JSON
# array built by a correlated subquery. Tags come as [id, name] in any order (sorted here as
# `load_order_relations` sorts them); files as [id, name, contentType, size] by upload time.
RELATION_COLUMNS = ("relation_tags", "relation_files")


def _relation_sql() -> dict[str, str]:
    order = connection.ops.quote_name(Order._meta.db_table)
    tagged, tag, file = (connection.ops.quote_name(m._meta.db_table) for m in (TaggedOrder, OrderTag, File))
    tags_column, files_column = RELATION_COLUMNS
    return {
        tags_column: f"(SELECT json_agg(json_build_array(g.id, g.name))::text FROM {tagged} t "
        f"JOIN {tag} g ON g.id = t.tag_id WHERE t.content_object_id = {order}.id)",
        files_column: f"(SELECT json_agg(json_build_array(f.id, f.name, f.content_type, f.size) "
        f"ORDER BY f.created_at, f.id)::text FROM {file} f WHERE f.order_id = {order}.id)",
    }


def relation_annotations() -> dict[str, RawSQL]:
    """The annotations that read an order's tags and files with the order (`set_relations`
    turns them into `tag_list` and `file_list`); none on another database, where
    `load_order_relations` reads them with one more query."""
    if connection.vendor != "postgresql":
        return {}
    # Constant SQL: table names from the models, no input.
    return {name: RawSQL(sql, (), output_field=TextField()) for name, sql in _relation_sql().items()}  # noqa: S611


def set_relations(order, tags_json: str | None, files_json: str | None) -> None:
    """`tag_list` and `file_list` from the columns of `relation_annotations`, as
    `load_order_relations` sets them."""
    UUID = uuid.UUID
    if tags_json:
        tags = [TagRef(UUID(pk), name) for pk, name in orjson.loads(tags_json)]
        tags.sort(key=lambda t: t.name.lower())
        order.tag_list = tags
    else:
        order.tag_list = []
    if files_json:
        order.file_list = [FileRef(UUID(pk), name, kind, size) for pk, name, kind, size in orjson.loads(files_json)]
    else:
        order.file_list = []


def relations_from(holder, order=None) -> bool:
    """Sets `tag_list` and `file_list` on `order` (default: `holder`) from the RELATION_COLUMNS
    that a query with `relation_annotations` read onto `holder` (an order, or e.g. an offer
    whose order is joined); False, and nothing set, when it read none."""
    values = holder.__dict__
    if RELATION_COLUMNS[0] not in values:
        return False
    set_relations(holder if order is None else order, *(values.pop(name) for name in RELATION_COLUMNS))
    return True


def take_relations(orders: Sequence[Order]) -> bool:
    """`relations_from` for each of the orders of one query; False when it read none."""
    if not orders or RELATION_COLUMNS[0] not in orders[0].__dict__:
        return False
    for order in orders:
        relations_from(order)
    return True


def parse_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _order_by_id_query(is_installer: bool, with_relations: bool):
    def build(organization_id, pk) -> QuerySet[Order]:
        viewer = Viewer(organization=Organization(pk=organization_id, is_installer=is_installer))
        qs = orders_visible_to(viewer).filter(pk=pk).order_by()
        return _joined(qs).annotate(**relation_annotations()) if with_relations else qs

    return CompiledQuery(Order, build)


# Get Order's query, compiled once per thread (installer.compiled), by kind of caller.
_ORDER_BY_ID = {(i, r): _order_by_id_query(i, r) for i in (False, True) for r in (False, True)}


def order_get(viewer: Viewer, order_id: Any, *, with_relations: bool = True) -> Order | None:
    """The order if the viewer may read it, else None. `with_relations=False` skips what only
    the order object needs (for a visibility check before reading something else)."""
    pk = parse_uuid(order_id)
    if pk is None:
        return None
    organization = viewer.organization
    query = _ORDER_BY_ID[(bool(organization.is_installer), with_relations)]
    # The registries are set when the apps load; tests may swap them, so they are in the key.
    rows = query.fetch(organization.pk, pk, key=(tuple(map(id, VISIBILITY_RULES)), tuple(EXTRA_SELECT_RELATED)))
    if not rows:
        return None
    if with_relations:
        extra = viewer_prefetches(viewer)
        if extra:
            prefetch_related_objects(rows, *extra)
        if not take_relations(rows):
            load_order_relations(rows)
    return rows[0]


class WorkflowRef:
    """What the order object reads of an order's workflow: the keys of orders.workflow_cache
    (id, version) and its customId. One per workflow and page, shared by its orders."""

    __slots__ = ("custom_id", "id", "pk", "version")

    def __init__(self, pk, version: int, custom_id: str):
        self.pk = self.id = pk
        self.version = version
        self.custom_id = custom_id


class InstallerRef(NamedTuple):
    id: uuid.UUID
    name: str


# Order columns a list row reads: every one the order object shows, and the keys it decides by.
ROW_FIELDS = (
    "id",
    "organization_id",
    "display_id",
    "workflow_id",
    "status",
    "current_step_id",
    *STANDARD_FIELDS,
    "custom_fields",
    "metadata",
    "installer_id",
    "source",
    "webform_id",
    "client_token",
    "cancel_reason",
    "created_at",
    "updated_at",
)


class OrderRow:
    """A read-only order for the order object (`order_to_dict`, `allowed_actions`), built from
    one row of `orders_by_ids` without a model instance: a page of 50 orders no longer builds
    50 Orders, 50 Workflows and their field caches. Has the attributes of an Order that the
    order object reads, plus `workflow`, `installer`, EXTRA_SELECT_RELATED (e.g. `booking`),
    `tag_list` and `file_list`."""

    __slots__ = (*ROW_FIELDS, "pk", "workflow", "installer", "tag_list", "file_list", "__dict__")

    @property
    def client_url(self) -> str:
        return Order.client_url.fget(self)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]


def _related_columns(name: str) -> tuple[str, ...]:
    """The columns of an EXTRA_SELECT_RELATED relation (a reverse one-to-one, e.g. booking)."""
    model = Order._meta.get_field(name).related_model
    return tuple(f.attname for f in model._meta.concrete_fields)


def _orders_by_ids_query(ids: list) -> QuerySet[Order]:
    extra = [f"{name}__{column}" for name in EXTRA_SELECT_RELATED for column in _related_columns(name)]
    relations = relation_annotations()
    return (
        Order.objects.filter(pk__in=ids)
        .order_by()
        .annotate(**relations)
        .values_list(*ROW_FIELDS, "workflow__version", "workflow__custom_id", "installer__name", *extra, *relations)
    )


# A page's orders by id, compiled once per thread and page length (installer.compiled).
_ORDERS_BY_IDS = CompiledQuery(Order, _orders_by_ids_query)


def orders_by_ids(viewer: Viewer, ids: Sequence[uuid.UUID]) -> list:
    """The orders with these ids, in this order, as `OrderRow`s with everything the order object
    needs (tags and files with one more query). The ids come from a query that applied the
    viewer's visibility (`orders_visible_to`); an id that is gone is skipped. Used for a viewer
    without VIEWER_PREFETCHES (a router); an installer's list reads models, with its offers
    (`with_order_relations`)."""
    ids = list(ids)
    if not ids:
        return []
    related = [(name, _related_columns(name)) for name in EXTRA_SELECT_RELATED]
    with_relations = connection.vendor == "postgresql"  # relation_annotations: the last two columns
    rows = _ORDERS_BY_IDS.fetch(ids, key=(len(ids), tuple(EXTRA_SELECT_RELATED)))
    width = len(ROW_FIELDS)
    workflows: dict = {}
    by_id = {}
    new = object.__new__
    for row in rows:
        order = new(OrderRow)
        for attname, value in zip(ROW_FIELDS, row, strict=False):  # then the joined columns
            setattr(order, attname, value)
        order.pk = order.id
        version, custom_id, installer_name = row[width : width + 3]
        workflow_key = (order.workflow_id, version)
        workflow = workflows.get(workflow_key)
        if workflow is None:
            workflow = workflows[workflow_key] = WorkflowRef(order.workflow_id, version, custom_id)
        order.workflow = workflow
        order.installer = InstallerRef(order.installer_id, installer_name) if order.installer_id else None
        position = width + 3
        for name, columns in related:
            values = row[position : position + len(columns)]
            position += len(columns)
            # A reverse one-to-one: its primary key is None when the order has none.
            order.__dict__[name] = (
                SimpleNamespace(**dict(zip(columns, values, strict=True))) if values[0] is not None else None
            )
        if with_relations:
            set_relations(order, row[-2], row[-1])
        by_id[order.pk] = order
    orders = [by_id[pk] for pk in ids if pk in by_id]
    if not with_relations:
        load_order_relations(orders)
    return orders


# ---- A router's list page: its ids with a compiled query ----------------------------------------
#
# The filtered query that finds a page's ids is built by django-filter and the ORM on every
# request (about a millisecond of CPU at 1M orders, a tenth of a List request). For a router it
# depends only on which filters are given (and how many statuses), the direction, whether there
# is a cursor, and the slice: per such shape it is compiled once per thread
# (installer.compiled) and then only re-bound. A shape whose values the ORM transforms (`q`, a
# LIKE pattern) cannot be re-bound: CompiledQuery then runs the ORM every time, as before.

PAGE_ID_SHAPES_MAX = 128
# Filters whose values are part of the shape, not arguments: a status is one of 7 small
# integers, and the ORM turns an integer out of the column's range (a sentinel's) into an empty
# result instead of a parameter.
BAKED_FILTERS = frozenset({"status"})
_page_id_queries: OrderedDict[tuple, CompiledQuery] = OrderedDict()
_page_id_lock = threading.Lock()


def _page_ids_build(shape: tuple):
    filters, time_field, descending, with_cursor, start, stop = shape

    def build(organization_id, *args) -> QuerySet:
        from installer.api.pagination import keyset_after
        from orders.filters import OrderFilter

        viewer = Viewer(organization=Organization(pk=organization_id, is_installer=False))
        queryset = orders_visible_to(viewer)
        filterset = OrderFilter(queryset=queryset)  # unbound: its filters, bound to it
        values = iter(args)
        for name, spec in filters:
            if name in BAKED_FILTERS:
                value = list(spec)
            else:
                value = [next(values) for _ in range(spec)] if spec is not None else next(values)
            queryset = filterset.filters[name].filter(queryset, value)
        sign = "-" if descending else ""
        queryset = queryset.order_by(f"{sign}{time_field}", f"{sign}id")
        if with_cursor:
            queryset = keyset_after(queryset, time_field, descending, next(values), next(values))
        return queryset.values_list("pk", time_field)[start:stop]

    return CompiledQuery(Order, build)


def page_ids_fetch(viewer: Viewer, cleaned: dict, *, time_field: str = "created_at", descending: bool = True):
    """A `PageFetch` (installer.api.pagination) of a router's list with these filters (the
    cleaned data of a valid `OrderFilter`): the page's (pk, time) rows by a compiled query. None
    for an installer (its list has more visibility rules and its offers)."""
    if viewer.organization.is_installer:
        return None
    given = [(name, value) for name, value in cleaned.items() if value not in (None, "", [])]
    filters = tuple(
        (name, tuple(value) if name in BAKED_FILTERS else len(value) if isinstance(value, list) else None)
        for name, value in given
    )
    flat = [
        item
        for name, value in given
        if name not in BAKED_FILTERS
        for item in (value if isinstance(value, list) else [value])
    ]
    organization_id = viewer.organization.pk

    def fetch(cursor, start: int, stop: int) -> list:
        shape = (filters, time_field, descending, cursor is not None, start, stop)
        with _page_id_lock:
            query = _page_id_queries.get(shape)
            if query is None:
                query = _page_id_queries[shape] = _page_ids_build(shape)
                while len(_page_id_queries) > PAGE_ID_SHAPES_MAX:  # shapes come from clients
                    _page_id_queries.popitem(last=False)
            else:
                _page_id_queries.move_to_end(shape)
        return query.fetch(organization_id, *flat, *(cursor or ()))

    return fetch


def order_answer(order: Order, viewer: Viewer | None) -> dict:
    """The order object for an order a service has just written and returned (read under its
    lock by `orders.services.lock_order`, or just created): its tags and files are read with one
    query; everything else is already loaded. Precondition: the viewer may read the order (it
    is its organization or its assigned installer: the service checked that). A service that
    knows them already (a create without tags and files) sets `tag_list` and `file_list`."""
    if getattr(order, "tag_list", None) is None or getattr(order, "file_list", None) is None:
        load_order_relations([order])
    return order_to_dict(order, viewer)


def order_events(order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).order_by("sequence")


def workflows_for(organization: Organization) -> QuerySet[Workflow]:
    return (
        Workflow.objects.filter(organization=organization)
        .prefetch_related("steps", "custom_fields")
        .order_by("name", "id")
    )


# --------------------------------------------------------------------------------------------
# The order object
# --------------------------------------------------------------------------------------------

CONTACT_FIELDS = ("contactPersonName", "email", "phoneNumber", "address")


def current_step(order: Order):
    """The order's current step, from the workflow cache (no query) unless already loaded."""
    if order.current_step_id is None:
        return None
    is_model = isinstance(order, Order)
    if is_model and Order.current_step.is_cached(order):
        return order.current_step
    for step in workflow_cache.steps(order.workflow):
        if step.pk == order.current_step_id:
            return step
    return order.current_step if is_model else None


def allowed_actions(order: Order, viewer: Viewer | None) -> list[str]:
    """What the caller may do next, by status, role and whose order it is."""
    if viewer is None or not viewer.can_write:
        return []
    status = order.status
    actions: list[str] = []
    is_router = order.organization_id == viewer.organization.pk
    is_installer = order.installer_id is not None and order.installer_id == viewer.organization.pk
    if is_router:
        if status not in transitions.TERMINAL:
            actions.append("update")
        if status in (OrderStatus.CREATED, OrderStatus.DECLINED) or (
            status == OrderStatus.DISPATCHING and order.installer_id is None
        ):
            actions.append("dispatch")
        if status in transitions.CANCELLABLE:
            actions.append("cancel")
    if is_router or is_installer:
        if (status == OrderStatus.DISPATCHING and order.installer_id) or status == OrderStatus.SCHEDULED:
            actions.append("book")
        if status == OrderStatus.SCHEDULED:
            actions.extend(["unbook", "start"])
        if status == OrderStatus.IN_PROGRESS:
            step = current_step(order)
            if step is None or not step.required:
                actions.append("complete")
        if order.current_step_id is not None and status not in transitions.TERMINAL:
            actions.append("completeStep")
    for rule in ALLOWED_ACTION_RULES:
        actions.extend(action for action in rule(order, viewer) if action not in actions)
    return actions


def _custom_fields(order: Order) -> list[dict]:
    values = order.custom_fields or {}
    return [
        {"id": key, "customId": custom_id, "label": label, "type": type_, "value": values.get(key)}
        for key, custom_id, label, type_ in workflow_cache.field_keys(order.workflow)
    ]


def _booking(order: Order) -> dict | None:
    try:
        booking = order.booking  # reverse one-to-one added by dispatch
    except (AttributeError, ObjectDoesNotExist):
        return None
    if booking is None:
        return None
    return {"startAt": booking.start_at, "endAt": booking.end_at, "allDay": booking.all_day}


def order_to_dict(order: Order, viewer: Viewer | None = None) -> dict:
    """The order object of API.md. A viewer that neither owns the order nor is its assigned
    installer (an installer with an open offer) gets no customer name, email, phone or street."""
    hide_contact = viewer is not None and viewer.organization.pk not in (order.organization_id, order.installer_id)
    step = current_step(order)
    tags = getattr(order, "tag_list", None)
    if tags is None:
        tags = sorted(order.tags.all(), key=lambda t: t.name.lower())
    files = getattr(order, "file_list", None)
    if files is None:
        files = list(order.files.order_by("created_at", "id"))
    installer = order.installer
    data = {
        "id": order.id,
        "displayId": order.display_id,
        "name": order.name,
        "description": order.description,
        "workplace": order.workplace,
        "address": order.address,
        "city": order.city,
        "postalCode": order.postal_code,
        "countryCode": order.country_code,
        "latitude": order.latitude,
        "longitude": order.longitude,
        "email": order.email,
        "phoneNumber": order.phone_number,
        "contactPersonName": order.contact_person_name,
        "status": order.status,
        "statusName": STATUS_NAMES[order.status],
        "workflowId": order.workflow_id,
        "workflowCustomId": order.workflow.custom_id,
        "currentStep": {"key": step.key, "title": step.title, "required": step.required} if step else None,
        "customFields": _custom_fields(order),
        "metadata": order.metadata or {},
        "tags": [{"id": t.id, "name": t.name} for t in tags],
        "files": [{"id": f.id, "name": f.name, "contentType": f.content_type, "size": f.size} for f in files],
        "installer": {"id": installer.id, "name": installer.name} if installer else None,
        "booking": _booking(order),
        "source": order.source,
        "webformId": order.webform_id,
        "allowedActions": allowed_actions(order, viewer),
        "clientUrl": order.client_url,
        "cancelReason": order.cancel_reason,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
    }
    if hide_contact:
        for key in CONTACT_FIELDS:
            data[key] = None
    return data


def event_to_dict(event: OrderEvent) -> dict:
    return {
        "id": event.id,
        "sequence": event.sequence,
        "type": event.type,
        "fromStatus": event.from_status,
        "toStatus": event.to_status,
        "actor": {"type": event.actor_type, "id": event.actor_id or None, "label": event.actor_label},
        "data": event.data,
        "requestId": event.request_id or None,
        "createdAt": event.created_at,
    }


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def files_visible_to(viewer: Viewer) -> QuerySet[File]:
    """Files the viewer may read: its own uploads, files on its orders (an installer's completion
    photos included), and files on orders assigned to it as installer. Others are absent (404)."""
    org = viewer.organization
    return File.objects.filter(Q(organization=org) | Q(order__organization=org) | Q(order__installer=org))


def file_get(viewer: Viewer, file_id: Any) -> File | None:
    pk = parse_uuid(file_id)
    if pk is None:
        return None
    return files_visible_to(viewer).filter(pk=pk).first()


def file_to_dict(file: File) -> dict:
    return {
        "id": file.id,
        "fileId": file.id,
        "name": file.name,
        "contentType": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "orderId": file.order_id,
        "createdAt": file.created_at,
    }
