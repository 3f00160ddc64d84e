"""Per-process cache of a workflow's steps and custom field definitions.

Every order read and write needs them, and they change rarely. Entries are keyed by
(workflow id, `Workflow.version`); the version is bumped in the transaction of every change to
a step or a definition (orders.models.WorkflowPart), and the caller passes the version of the
workflow row it has just read with the order. A reader therefore never uses definitions older
than the workflow row it read: the cache is exact, not time-based. Rows are read-only
model instances shared between threads; never modify them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from orders.models import CustomFieldDefinition, Workflow, WorkflowStep

MAX_ENTRIES = 2048

_lock = threading.Lock()
_entries: OrderedDict[tuple[Any, int, str], tuple] = OrderedDict()


def _get(kind: str, workflow: Workflow, load) -> tuple:
    key = (workflow.pk, workflow.version, kind)
    with _lock:
        rows = _entries.get(key)
        if rows is not None:
            _entries.move_to_end(key)
            return rows
    rows = tuple(load())
    with _lock:
        _entries[key] = rows
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return rows


def field_definitions(workflow: Workflow) -> tuple[CustomFieldDefinition, ...]:
    """The workflow's custom field definitions by position, then customId."""
    return _get(
        "fields",
        workflow,
        lambda: CustomFieldDefinition.objects.filter(workflow_id=workflow.pk).order_by("position", "custom_id"),
    )


def field_keys(workflow: Workflow) -> tuple[tuple[str, str, str, str], ...]:
    """(id as a string, customId, label, type) of each field definition, in order: what the order
    object lists, without formatting the same UUIDs for every order of a page."""
    return _get(
        "field_keys", workflow, lambda: [(str(d.id), d.custom_id, d.label, d.type) for d in field_definitions(workflow)]
    )


def steps(workflow: Workflow) -> tuple[WorkflowStep, ...]:
    """The workflow's steps by status, position, id."""
    return _get(
        "steps",
        workflow,
        lambda: WorkflowStep.objects.filter(workflow_id=workflow.pk).order_by("status", "position", "id"),
    )


def clear() -> None:
    with _lock:
        _entries.clear()
