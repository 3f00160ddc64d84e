"""The job's assignee: the person of the installer organization who does the work."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from accounts.models import Membership, Organization, Role, role_may_assign, role_may_work_jobs
from dispatch.exceptions import Conflict, Forbidden, InvalidInput, NotFound
from orders import transitions
from orders.actors import Actor
from orders.models import Order
from orders.services import PendingEvents, finish_change, lock_order

ASSIGNEE_CHANGED = "order.assignee_changed"
# Memberships whose user may be a job's assignee: the partner roles that work jobs (partner
# admin, dispatcher, technician); a viewer does not work jobs.
ASSIGNABLE_ROLES = tuple(role for role in Role.values if role_may_work_jobs(role))


def assignee_ref(user: Any) -> dict[str, Any] | None:
    """`{id, name}` of a user as the timeline and the API name an assignee, or None."""
    if user is None:
        return None
    return {"id": str(user.pk), "name": user.get_full_name() or user.get_username()}


def record_assignee_change(order: Order, assignee: Any, pending: PendingEvents, actor: Actor) -> bool:
    """Sets the locked order's assignee and records `order.assignee_changed` ({assignee,
    previous}); False, and nothing recorded, when it is unchanged. The caller holds the order
    lock and saves `assignee` with `finish_change`, whose flush queues the webhook."""
    new_id = assignee.pk if assignee is not None else None
    if order.assignee_id == new_id:
        return False
    previous = assignee_ref(order.assignee) if order.assignee_id is not None else None
    order.assignee = assignee
    pending.add(
        ASSIGNEE_CHANGED,
        actor,
        data={"assignee": assignee_ref(assignee), "previous": previous},
        from_status=order.status,
        to_status=order.status,
    )
    return True


def not_a_member() -> InvalidInput:
    message = "The assignee must be an active partner admin, dispatcher or technician of the order's installer."
    return InvalidInput(message, details={"userId": [message]})


def order_assign(
    *,
    order_id: Any,
    organization: Organization,
    actor: Actor,
    role: str,
    assignee: AbstractBaseUser | None,
) -> Order:
    """Sets (or, with None, clears) the job's assignee: `order.assignee_changed` on the timeline
    and to webhooks, in the transaction that saves it under the order's lock. Nothing happens
    when it is unchanged.

    Only the order's assigned installer organization (`organization`) may assign, through a
    membership whose `role` allows it (admin, operator: `role_may_assign`; Forbidden, 403,
    otherwise). NotFound (404) for any other organization, the router included; InvalidInput
    (400) when the assignee is not an active user holding a partner role that works jobs in the
    installer organization; Conflict (409) once the order is completed or cancelled."""
    if not role_may_assign(role):
        raise Forbidden(f"The '{role}' role cannot assign jobs.")
    with transaction.atomic():
        order = lock_order(order_id)
        if order.installer_id is None or order.installer_id != organization.pk:
            raise NotFound("Order not found.")
        if assignee is not None:
            member = Membership.objects.filter(
                user_id=assignee.pk, organization_id=order.installer_id, role__in=ASSIGNABLE_ROLES
            ).exists()
            if not member or not assignee.is_active:
                raise not_a_member()
        if order.status in transitions.TERMINAL:
            raise Conflict(f"The assignee of a {order.status_name} order cannot change.")
        pending = PendingEvents(order)
        if record_assignee_change(order, assignee, pending, actor):
            finish_change(order, pending, ["assignee"])
    return order
