"""What a caller may do next with an order: the `allowedActions` of the order object, by
status, role and whose order it is. Other apps add their own (`orders.hooks.extra_actions`).

What each role may do is one table, `accounts.models.ROLE_RIGHTS`: admins and operators write,
viewers read, and a technician works (book, reschedule, unbook, start, complete, complete
steps) only the jobs assigned to it and never answers offers, assigns or invites.
"""

from __future__ import annotations

from typing import Any

from accounts.models import Role, role_may_assign, role_may_work_jobs, role_may_write
from orders import hooks, transitions
from orders.models import Order, OrderStatus
from orders.selectors import Viewer, current_step


def technician_may_act(order: Order, technician_id: Any) -> bool:
    """Whether a technician (`technician_id`, its user's id; None = not a technician) may read
    or work this order: only when the order is assigned to it. Services call it with the order
    locked, so an assignment changed meanwhile is seen."""
    return technician_id is None or (order.assignee_id is not None and order.assignee_id == technician_id)


def allowed_actions(order: Order, viewer: Viewer | None) -> list[str]:
    """The actions the viewer may take on the order now. Nothing for a viewer that may neither
    write nor work jobs (or no viewer), nor for a technician on a job not assigned to it.
    Reads only what the order's read loaded (no query per order)."""
    if viewer is None:
        return []
    may_write = role_may_write(viewer.role)
    may_work = role_may_work_jobs(viewer.role)
    if not (may_write or may_work):
        return []
    if viewer.only_assigned and not technician_may_act(order, viewer.technician_id):
        return []
    status = order.status
    actions: list[str] = []
    is_router = order.organization_id == viewer.organization.pk
    is_installer = order.installer_id is not None and order.installer_id == viewer.organization.pk
    if is_router and may_write:
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
    if (is_router or is_installer) and may_work:
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
    if is_installer and role_may_assign(viewer.role) and status not in transitions.TERMINAL:
        actions.append("assign")
    if may_write:
        actions.extend(action for action in hooks.extra_actions(order, viewer) if action not in actions)
    return actions
