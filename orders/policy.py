"""What a caller may do next with an order: the `allowedActions` of the order object, by
status, role and whose order it is. Other apps add their own (`orders.hooks.extra_actions`)."""

from __future__ import annotations

from accounts.models import Role
from orders import hooks, transitions
from orders.models import Order, OrderStatus
from orders.selectors import Viewer, current_step


def allowed_actions(order: Order, viewer: Viewer | None) -> list[str]:
    """The actions the viewer may take on the order now. Nothing for a viewer that may not write
    (or no viewer). Reads only what the order's read loaded (no query per order)."""
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
        if viewer.role == Role.ADMIN and transitions.deletable(status, order.test):
            actions.append("delete")
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
    actions.extend(action for action in hooks.extra_actions(order, viewer) if action not in actions)
    return actions
