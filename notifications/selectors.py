"""Reads of the notifications app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Organization
from notifications.models import Message, Notification
from orders.models import Order, Workflow
from orders.selectors import parse_uuid


def workflow_get(organization: Organization, workflow_id: Any) -> Workflow | None:
    """The organization's workflow, or None (another organization's is None too)."""
    pk = parse_uuid(workflow_id)
    if pk is None:
        return None
    return Workflow.objects.filter(organization=organization, pk=pk).first()


def notifications_of(workflow: Workflow) -> QuerySet[Notification]:
    """The workflow's rules, by creation, with their step (one query for any number)."""
    return (
        Notification.objects.filter(organization_id=workflow.organization_id, workflow=workflow)
        .select_related("step")
        .order_by("created_at", "id")
    )


def notification_get(workflow: Workflow, notification_id: Any) -> Notification | None:
    pk = parse_uuid(notification_id)
    if pk is None:
        return None
    return notifications_of(workflow).filter(pk=pk).first()


def messages_of(order: Order) -> QuerySet[Message]:
    """The order's messages, oldest first, with their rule's name (for the admin and the
    customer's page)."""
    return Message.objects.filter(order=order).select_related("notification").order_by("created_at", "id")


def orders_for_preview(organization: Organization, limit: int = 50) -> QuerySet[Order]:
    """The organization's latest orders, to preview a template against."""
    return Order.objects.for_organization(organization).order_by("-created_at", "-id")[:limit]
