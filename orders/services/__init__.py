"""Every write to organizations, tokens, workflows, orders, tags and the timeline, by subject:
`lifecycle` (the lock, transitions, events, cancel, steps), `orders` (create, update), `tags`,
`files`, `workflows`, `organizations`. Callers use `from orders import services`."""

from orders.services.files import files_attach, files_check
from orders.services.lifecycle import (
    PendingEvents,
    activate_first_step,
    finish_change,
    lock_order,
    order_cancel,
    order_delete,
    transition,
    workflow_step_complete,
)
from orders.services.orders import UPDATABLE_FIELDS, order_create, order_update
from orders.services.organizations import organization_create
from orders.services.tags import order_tag_assign, order_tag_remove, order_tags_create
from orders.services.workflows import DEFAULT_STEPS, clean_custom_fields, resolve_workflow, workflow_create

__all__ = [
    "DEFAULT_STEPS",
    "UPDATABLE_FIELDS",
    "PendingEvents",
    "activate_first_step",
    "clean_custom_fields",
    "files_attach",
    "files_check",
    "finish_change",
    "lock_order",
    "order_cancel",
    "order_create",
    "order_delete",
    "order_tag_assign",
    "order_tag_remove",
    "order_tags_create",
    "order_update",
    "organization_create",
    "resolve_workflow",
    "transition",
    "workflow_create",
    "workflow_step_complete",
]
