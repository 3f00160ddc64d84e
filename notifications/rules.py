"""The active rules of a workflow, cached per process by (workflow id, `Workflow.version`).

Planning runs in every order change, so it must cost nothing where a workflow has no rules:
the order's workflow row (read with the order's lock) carries its version, and every write of
a rule bumps it in the rule's transaction (`notifications.services`), so a cached tuple is
never used after a change of its rules, in this process or another."""

from __future__ import annotations

import threading
from typing import Any

from notifications.models import Notification
from orders.models import Workflow

_lock = threading.Lock()
_rules: dict[Any, tuple[int, tuple[Notification, ...]]] = {}


def active_rules(workflow: Workflow) -> tuple[Notification, ...]:
    """The workflow's active rules with their steps: one query when the version is new."""
    hit = _rules.get(workflow.pk)
    if hit is not None and hit[0] == workflow.version:
        return hit[1]
    rules = tuple(Notification.objects.filter(workflow_id=workflow.pk, active=True).select_related("step"))
    with _lock:
        _rules[workflow.pk] = (workflow.version, rules)
    return rules


def clear() -> None:
    with _lock:
        _rules.clear()
