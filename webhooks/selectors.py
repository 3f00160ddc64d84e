"""Reads: endpoints of an organization, the delivery log, the back-office dashboard panel."""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from accounts.models import Organization
from orders.selectors import parse_uuid
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def endpoints_of(organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization)


def endpoint_get(organization: Organization, endpoint_id: Any) -> WebhookEndpoint | None:
    pk = parse_uuid(endpoint_id)
    return endpoints_of(organization).filter(pk=pk).first() if pk is not None else None


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")


# --------------------------------------------------------------------------------------------
# The back-office dashboard panel
# --------------------------------------------------------------------------------------------

DASHBOARD_LIMIT = 20


def failed_deliveries(org_ids: list | None, *, limit: int = DASHBOARD_LIMIT) -> list[WebhookDelivery]:
    """The newest deliveries that gave up (status failed) of the organizations' endpoints
    (`org_ids` None = all), with their endpoint and order: one query, at most `limit` rows."""
    qs = WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED)
    if org_ids is not None:
        qs = qs.filter(endpoint__organization__in=org_ids)
    return list(
        qs.select_related("endpoint", "endpoint__organization", "event__order")
        .only(
            "id",
            "event_type",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "endpoint__id",
            "endpoint__url",
            "endpoint__organization__name",
            "event__id",
            "event__order__id",
            "event__order__display_id",
        )
        .order_by("-created_at", "-id")[:limit]
    )


def troubled_endpoints(org_ids: list | None, *, limit: int = DASHBOARD_LIMIT) -> list[WebhookEndpoint]:
    """Disabled endpoints and active ones whose attempts have been failing, disabled first, each
    with the last error of its deliveries (`last_error`): one query, at most `limit` rows."""
    qs = WebhookEndpoint.objects.filter(Q(active=False) | Q(failing_since__isnull=False))
    if org_ids is not None:
        qs = qs.filter(organization__in=org_ids)
    last_error = (
        WebhookDelivery.objects.filter(endpoint=OuterRef("pk"))
        .exclude(last_error="")
        .order_by("-created_at", "-id")
        .values("last_error")[:1]
    )
    return list(
        qs.select_related("organization")
        .annotate(last_error=Subquery(last_error))
        .order_by("active", F("failing_since").asc(nulls_last=True), "created_at", "id")[:limit]
    )
