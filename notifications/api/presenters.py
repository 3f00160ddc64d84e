"""The notification object of the API (docs/api.md "Notifications")."""

from __future__ import annotations

from typing import Any

from notifications.models import Channel, Notification


def notification_to_dict(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "workflowId": n.workflow_id,
        "name": n.name,
        "active": n.active,
        "trigger": n.trigger_event,
        "stepKey": n.step.key if n.step is not None else None,
        "timing": n.timing,
        "offset": n.offset_value,
        "offsetUnit": n.offset_unit,
        "channel": n.channel,
        "webhook": (
            {"url": n.webhook_url, "method": n.webhook_method, "headers": n.webhook_headers}
            if n.channel == Channel.WEBHOOK
            else None
        ),
        "templates": n.templates,
        "attachIcs": n.attach_ics,
        "createdAt": n.created_at,
        "updatedAt": n.updated_at,
    }
