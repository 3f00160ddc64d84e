"""The ceiling experiment's views (`bench/ceiling.py`; never part of the app: only
`bench/ceiling_settings.py` routes to them). Every view is a DRF view with the base class,
authentication and permissions of the framework floor (`GET /api/v1/me`). The first three
answer the List row's request, `?pageSize=50&status=1&tagId=<tag>`, with less and less of
List's work, to find the least CPU any List of 50 orders can cost on this stack:

- `ids`: the page's ids (the real compiled query, planned for its values), answered as a count.
- `rows`: the ids, then the real rows query (every column the order object shows, the tags and
  files as JSON text, parsed by psycopg and Django's converters), answered as a count: what
  any order object built in Python has to read first.
- `pgjson`: the ids, then ONE query in which PostgreSQL writes the whole page as JSON text
  (json_build_object per order: every column, tags, files, installer, booking, step), passed
  through as the body without parsing: no Python per order at all. It leaves out what needs
  the workflow cache (custom field labels) and the viewer (allowedActions, hidden contact
  fields): a lower bound of that design, not an implementation of it.

And the least state change, against Dispatch and Cancel: `POST /api/v1/order/<id>/ceilingwrite`
locks the order as every transition does (`lock_order`), adds one timeline event and writes
the order with it through the real path (`finish_change`: one statement, the webhook hooks in
the same transaction), and answers `{"ok": true}` instead of the order object: no status
rule, no routing, no other row.

And the least create, against Create Order: `POST /api/v1/_ceiling/create` parses the bench's
Create body (DRF's JSON parser) and takes its fields unvalidated (no serializer, no custom field
or tag checks, no idempotency key), reads the workflow it names (the real compiled query), and
writes the order with its `order.created` event through the real path (`PendingEvents.flush`
with the organization's number: one statement); answers the new id, not the order object.
"""

from __future__ import annotations

import functools
import uuid

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import include, path
from rest_framework.response import Response

from dispatch.models import Booking
from installer.api.viewsets import ApiViewSet
from installer.db import custom_plans
from orders import selectors
from orders.models import STANDARD_FIELDS, File, Order, OrderStatus, OrderTag, Organization, TaggedOrder, WorkflowStep
from orders.services import PendingEvents, _wire_name, finish_change, lock_order, resolve_workflow


def _page_ids(request) -> list:
    cleaned = {"status": [int(request.GET.get("status", "1"))], "tagId": uuid.UUID(request.GET["tagId"])}
    viewer = selectors.Viewer(organization=request.organization)
    fetch = selectors.page_ids_fetch(viewer, cleaned)
    with custom_plans(True):
        rows = fetch(None, 0, 50)
    return [pk for pk, _ in rows]


@functools.cache
def _pgjson_sql() -> str:
    """Built once per process (table names from the models): not part of what a request costs."""
    q = connection.ops.quote_name
    order, tagged, tag, file, installer, booking, step = (
        q(m._meta.db_table) for m in (Order, TaggedOrder, OrderTag, File, Organization, Booking, WorkflowStep)
    )
    workflow = q(Order._meta.get_field("workflow").related_model._meta.db_table)
    statuses = " ".join(f"WHEN {value} THEN '{name}'" for value, name in selectors.STATUS_NAMES.items())
    return f"""
SELECT '{{"values":' || coalesce(json_agg(page.doc ORDER BY page.position), '[]')::text || '}}'
FROM (
  SELECT p.position, json_build_object(
    'id', o.id, 'displayId', o.display_id, 'name', o.name, 'description', o.description,
    'workplace', o.workplace, 'address', o.address, 'city', o.city, 'postalCode', o.postal_code,
    'countryCode', o.country_code, 'latitude', o.latitude, 'longitude', o.longitude,
    'email', o.email, 'phoneNumber', o.phone_number, 'contactPersonName', o.contact_person_name,
    'status', o.status, 'statusName', CASE o.status {statuses} END,
    'workflowId', o.workflow_id, 'workflowCustomId', w.custom_id,
    'currentStep', CASE WHEN s.id IS NULL THEN NULL
                   ELSE json_build_object('key', s.key, 'title', s.title, 'required', s.required) END,
    'customFields', o.custom_fields, 'metadata', o.metadata,
    'tags', coalesce((SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY lower(g.name))
                      FROM {tagged} t JOIN {tag} g ON g.id = t.tag_id WHERE t.content_object_id = o.id), '[]'),
    'files', coalesce((SELECT json_agg(json_build_object('id', f.id, 'name', f.name, 'contentType',
                       f.content_type, 'size', f.size) ORDER BY f.created_at, f.id)
                       FROM {file} f WHERE f.order_id = o.id), '[]'),
    'installer', CASE WHEN i.id IS NULL THEN NULL ELSE json_build_object('id', i.id, 'name', i.name) END,
    'booking', CASE WHEN b.id IS NULL THEN NULL
               ELSE json_build_object('startAt', b.start_at, 'endAt', b.end_at, 'allDay', b.all_day) END,
    'source', o.source, 'webformId', o.webform_id, 'allowedActions', '[]'::json,
    'clientUrl', %s || '/t/' || o.client_token || '/', 'cancelReason', o.cancel_reason,
    'createdAt', o.created_at, 'updatedAt', o.updated_at) AS doc
  FROM unnest(%s::uuid[]) WITH ORDINALITY AS p(id, position)
  JOIN {order} o ON o.id = p.id
  JOIN {workflow} w ON w.id = o.workflow_id
  LEFT JOIN {step} s ON s.id = o.current_step_id
  LEFT JOIN {installer} i ON i.id = o.installer_id
  LEFT JOIN {booking} b ON b.order_id = o.id
) page
"""


# The least create's standard fields by their names on the wire.
_WIRE_NAMES = {name: _wire_name(name) for name in STANDARD_FIELDS}


class CeilingViewSet(ApiViewSet):
    def ids(self, request):
        return Response({"count": len(_page_ids(request))})

    def rows(self, request):
        ids = _page_ids(request)
        rows = selectors._ORDERS_BY_IDS.fetch(ids, key=(len(ids), tuple(selectors.EXTRA_SELECT_RELATED)))
        return Response({"count": len(rows)})

    def pgjson(self, request):
        from django.conf import settings

        ids = _page_ids(request)
        with connection.cursor() as cursor:
            cursor.execute(_pgjson_sql(), [settings.PUBLIC_BASE_URL, ids])
            body = cursor.fetchone()[0]
        return HttpResponse(body, content_type="application/json")

    def write(self, request, pk=None):
        with transaction.atomic():
            order = lock_order(pk, organization=request.organization)
            pending = PendingEvents(order)
            pending.add("order.updated", self.actor, data={}, from_status=order.status, to_status=order.status)
            finish_change(order, pending)
        return Response({"ok": True})

    def create(self, request):
        body = request.data
        organization = request.organization
        workflow = resolve_workflow(organization=organization, workflow_custom_id=body.get("workflowCustomId"))
        order = Order(
            organization=organization,
            number=0,
            workflow=workflow,
            metadata=body.get("metadata") or {},
            **{name: body[key] for name, key in _WIRE_NAMES.items() if body.get(key) is not None},
        )
        pending = PendingEvents(order)
        pending.add("order.created", self.actor, data={"source": "api"}, to_status=OrderStatus.CREATED)
        pending.insert_with([order])
        with transaction.atomic():
            pending.flush(number_for=organization)
        return Response({"id": order.pk}, status=201)


urlpatterns = [
    path("api/v1/_ceiling/create", CeilingViewSet.as_view({"post": "create"})),
    path("api/v1/order/<str:pk>/ceilingwrite", CeilingViewSet.as_view({"post": "write"})),
    path("api/v1/_ceiling/ids", CeilingViewSet.as_view({"get": "ids"})),
    path("api/v1/_ceiling/rows", CeilingViewSet.as_view({"get": "rows"})),
    path("api/v1/_ceiling/pgjson", CeilingViewSet.as_view({"get": "pgjson"})),
    path("", include("installer.urls")),
]
