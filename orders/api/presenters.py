"""The JSON objects of the orders API (API.md), built from models loaded by orders.selectors
or returned by orders.services. `orders.api.serializers` documents the same shapes for the
schema."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from orders import hooks, workflow_cache
from orders.models import STATUS_NAMES, ActorType, File, Order, OrderEvent
from orders.policy import allowed_actions
from orders.selectors import Viewer, current_step, own_actors, relations_loaded_fast

# Hidden from a viewer that neither owns the order nor is its assigned installer. `clientUrl`
# opens the customer's tracking page without a login, so it is hidden with the rest.
CONTACT_FIELDS = ("contactPersonName", "email", "phoneNumber", "address", "clientUrl")


def custom_field_rows(order: Order) -> list[dict[str, Any]]:
    values = order.custom_fields or {}
    return [
        {"id": key, "customId": custom_id, "label": label, "type": type_, "value": values.get(key)}
        for key, custom_id, label, type_ in workflow_cache.field_keys(order.workflow)
    ]


def _booking(order: Order) -> dict[str, Any] | None:
    try:
        booking = order.booking  # reverse one-to-one of dispatch
    except (AttributeError, ObjectDoesNotExist):
        return None
    if booking is None:
        return None
    return {"startAt": booking.start_at, "endAt": booking.end_at, "allDay": booking.all_day}


def _tags(order: Order) -> list[Any]:
    if not hasattr(order, "tag_links"):
        relations_loaded_fast(order)
    links = getattr(order, "tag_links", None)
    tags = [link.tag for link in links] if links is not None else list(order.tags.all())
    return sorted(tags, key=lambda t: t.name.lower())


def _files(order: Order) -> list[File]:
    if not hasattr(order, "file_list"):
        relations_loaded_fast(order)
    files = getattr(order, "file_list", None)
    if files is None:
        files = list(order.files.order_by("created_at", "id"))
    return files


def user_ref(user: Any) -> dict[str, Any] | None:
    """A person as the API names them: `{id, name}` (the user's id as a string, the full name or
    else the username), or None."""
    if user is None:
        return None
    return {"id": str(user.pk), "name": user.get_full_name() or user.get_username()}


def _quote_status(order: Order, viewer: Viewer | None) -> str | None:
    """The order's quote state; a router's draft is its own: others read none until it is sent."""
    if not order.quote_status:
        return None
    if order.quote_status == "draft" and viewer is not None and viewer.organization.pk != order.organization_id:
        return None
    return order.quote_status


def order_to_dict(order: Order, viewer: Viewer | None = None) -> dict[str, Any]:
    """The order object of API.md. A viewer that neither owns the order nor is its assigned
    installer (an installer with an open offer) gets no customer name, email, phone, street,
    `clientUrl` or `assignee` (null).
    Reads the tags and files that orders.selectors prefetched (`tag_links`, `file_list`), or
    queries them."""
    hide_contact = viewer is not None and viewer.organization.pk not in (order.organization_id, order.installer_id)
    step = current_step(order)
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
        "customFields": custom_field_rows(order),
        "metadata": order.metadata or {},
        "tags": [{"id": t.id, "name": t.name} for t in _tags(order)],
        "files": [{"id": f.id, "name": f.name, "contentType": f.content_type, "size": f.size} for f in _files(order)],
        "installer": {"id": installer.id, "name": installer.name} if installer else None,
        "assignee": None if hide_contact or order.assignee_id is None else user_ref(order.assignee),
        "booking": _booking(order),
        "source": order.source,
        "language": order.language,
        "quoteStatus": _quote_status(order, viewer),
        "invoiceStatus": order.invoice_status,
        "webformId": order.webform_id,
        "allowedActions": allowed_actions(order, viewer),
        "clientUrl": order.client_url,
        "cancelReason": order.cancel_reason,
        "test": order.test,
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
    }
    if hide_contact:
        for key in CONTACT_FIELDS:
            data[key] = None
    return data


def event_to_dict(event: OrderEvent) -> dict[str, Any]:
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


# Who did something, as an installer organization reads another organization's timeline: the
# router's members, tokens and webforms alike.
ROUTER_ACTOR = {"type": "router", "id": None, "label": "router"}


def timeline_to_dicts(order: Order, events: list[OrderEvent], viewer: Viewer) -> list[dict[str, Any]]:
    """The order's timeline as the viewer may read it. The owning organization reads every event
    as recorded. Any other viewer (an installer organization with an offer, or assigned) reads
    what `orders.hooks.installer_timeline` leaves of the events and their data; the actors that
    are not its own members or tokens read as ROUTER_ACTOR (system actors as recorded), and the
    request ids of events it did not cause are null. A constant number of queries."""
    if viewer.organization.pk == order.organization_id:
        return [event_to_dict(e) for e in events]
    shown = hooks.installer_timeline(order, events, viewer)
    if shown is None:
        shown = [(event, event.data) for event in events]
    own = own_actors(viewer.organization, [event for event, _ in shown])
    rows = []
    for event, data in shown:
        row = event_to_dict(event)
        row["data"] = data
        if (event.actor_type, event.actor_id) not in own:
            row["requestId"] = None
            if event.actor_type != ActorType.SYSTEM:
                row["actor"] = dict(ROUTER_ACTOR)
        rows.append(row)
    return rows


def file_to_dict(file: File) -> dict[str, Any]:
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
