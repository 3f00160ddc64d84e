"""Workflows: creating them, choosing one for an order, validating custom field values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from accounts.models import Organization
from orders import workflow_cache
from orders.exceptions import OrderValidationError
from orders.models import OrderStatus, Workflow, WorkflowStep
from orders.selectors import parse_uuid
from orders.validation import clean_custom_value, is_empty

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


def resolve_workflow(
    *, organization: Organization, workflow_id: Any = None, workflow_custom_id: str | None = None
) -> Workflow:
    """The active workflow named by id or customId, else the organization's default.
    Raises OrderValidationError naming the field when there is none."""
    workflows = Workflow.objects.filter(organization=organization)
    if workflow_id:
        pk = parse_uuid(workflow_id)
        found = workflows.filter(pk=pk, active=True).first() if pk is not None else None
    elif workflow_custom_id:
        found = workflows.filter(custom_id=str(workflow_custom_id), active=True).first()
    else:
        found = workflows.filter(is_default=True).first()
    if found is not None:
        return found
    if not workflow_id and not workflow_custom_id:
        raise OrderValidationError("The organization has no default workflow.", details={"workflowId": ["Required."]})
    key = "workflowId" if workflow_id else "workflowCustomId"
    raise OrderValidationError("Unknown workflow.", details={key: ["No active workflow with this id."]})


def clean_custom_fields(
    workflow: Workflow, items: Sequence[dict[str, Any]] | None, *, existing: dict | None = None, partial: bool = False
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
