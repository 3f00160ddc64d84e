"""Webform API: Get Webform and Create Webform Order. Thin: parse, call, answer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from installer.api.exceptions import NotFound
from orders import selectors as order_selectors
from orders.api import serializers as order_serializers
from orders.api.presenters import order_to_dict
from orders.api.views import ERRORS
from orders.api.viewsets import ApiViewSet
from webforms import selectors, services
from webforms.api import presenters
from webforms.api import serializers as s


class WebformViewSet(ApiViewSet):
    idempotency_exempt_actions = ("create_order",)

    def get_webform(self, pk):
        webform = selectors.webform_get(self.organization, pk)
        if webform is None:
            raise NotFound("Webform not found.")
        return webform

    @extend_schema(responses={200: s.WebformOutput, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(presenters.webform_to_dict(self.get_webform(pk)))

    @extend_schema(
        request=order_serializers.OrderCreateInput,
        responses={201: order_serializers.OrderCreatedOutput, **ERRORS},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        description="Same body and answer as Create Order, validated against the webform's fields; "
        "the workflow is the webform's, `source` is `webform` and the webform is the timeline actor. "
        "409 when the webform is inactive.",
    )
    def create_order(self, request, pk=None):
        webform = self.get_webform(pk)
        header_key = request.headers.get("Idempotency-Key")
        if header_key and len(header_key) > 255:
            raise ValidationError({"Idempotency-Key": ["At most 255 characters."]})
        data = request.data
        body = data.dict() if hasattr(data, "dict") else dict(data) if isinstance(data, dict) else {}
        order = services.webform_order_create(
            webform=webform, body=body, idempotency_key=header_key or None, test=request.auth.test
        )
        viewer = order_selectors.Viewer.for_membership(self.membership)
        created = order_selectors.order_get(viewer, order.pk)
        return Response({**order_to_dict(created, viewer), "value": created.pk}, status=http.HTTP_201_CREATED)
