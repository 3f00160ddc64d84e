"""Notifications API: `GET/POST /workflows/{id}/notifications`,
`GET/PATCH/DELETE /workflows/{id}/notifications/{nid}`. Admins and operators manage, viewers
read; another organization's workflow or notification is a 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.response import Response

from installer.api.exceptions import NotFound
from installer.api.pagination import Page
from installer.api.schema import ErrorOutput
from notifications import selectors, services
from notifications.api import presenters
from notifications.api import serializers as s
from notifications.exceptions import InvalidNotification
from orders.api.views import LIST_PARAMS
from orders.api.viewsets import ApiViewSet
from orders.models import Workflow

ERRORS = {400: ErrorOutput, 401: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput}


def _fields(workflow: Workflow, data: dict[str, Any]) -> dict[str, Any]:
    """Service keyword arguments from validated input (stepKey -> the workflow's step)."""
    fields = dict(data)
    if "stepKey" in fields:
        key = fields.pop("stepKey")
        step = services.step_of(workflow, key)
        if key and step is None:
            raise InvalidNotification(
                "stepKey: Not a step of this workflow.", details={"stepKey": ["Not a step of this workflow."]}
            )
        fields["step"] = step
    if "webhook" in fields:
        webhook = fields.pop("webhook") or {}
        fields["webhook_url"] = webhook.get("url", "")
        fields["webhook_method"] = webhook.get("method", "POST")
        fields["webhook_headers"] = webhook.get("headers") or {}
    return fields


class NotificationViewSet(ApiViewSet):
    def get_workflow(self, workflow_id) -> Workflow:
        workflow = selectors.workflow_get(self.organization, workflow_id)
        if workflow is None:
            raise NotFound("Workflow not found.")
        return workflow

    def get_notification(self, workflow_id, pk):
        notification = selectors.notification_get(self.get_workflow(workflow_id), pk)
        if notification is None:
            raise NotFound("Notification not found.")
        return notification

    @extend_schema(parameters=LIST_PARAMS, responses={200: s.NotificationListOutput, **ERRORS})
    def list(self, request, workflow_id=None):
        rows, extra = Page(request).apply(selectors.notifications_of(self.get_workflow(workflow_id)))
        return Response({"values": [presenters.notification_to_dict(n) for n in rows], **extra})

    @extend_schema(request=s.NotificationCreateInput, responses={201: s.NotificationOutput, **ERRORS})
    def create(self, request, workflow_id=None):
        workflow = self.get_workflow(workflow_id)
        serializer = s.NotificationCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        notification = services.notification_create(
            organization=self.organization, workflow=workflow, **_fields(workflow, serializer.validated_data)
        )
        return Response(presenters.notification_to_dict(notification), status=http.HTTP_201_CREATED)

    @extend_schema(responses={200: s.NotificationOutput, **ERRORS})
    def retrieve(self, request, workflow_id=None, pk=None):
        return Response(presenters.notification_to_dict(self.get_notification(workflow_id, pk)))

    @extend_schema(request=s.NotificationUpdateInput, responses={200: s.NotificationOutput, **ERRORS})
    def partial_update(self, request, workflow_id=None, pk=None):
        notification = self.get_notification(workflow_id, pk)
        serializer = s.NotificationUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        notification = services.notification_update(
            notification=notification, **_fields(notification.workflow, serializer.validated_data)
        )
        return Response(presenters.notification_to_dict(notification))

    @extend_schema(responses={204: None, **ERRORS})
    def destroy(self, request, workflow_id=None, pk=None):
        services.notification_delete(notification=self.get_notification(workflow_id, pk))
        return Response(status=http.HTTP_204_NO_CONTENT)
