"""Webhook endpoints API: `GET/POST /webhooks`, `GET/PATCH/DELETE /webhooks/{id}`,
`POST /webhooks/{id}/rotate-secret`, `POST /webhooks/{id}/test`, `GET /webhooks/{id}/deliveries`.
Admins and operators manage, viewers read; another organization's endpoint is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.response import Response

from installer.api.exceptions import NotFound
from installer.api.pagination import Page
from installer.api.schema import ErrorOutput
from orders.api.views import LIST_PARAMS
from orders.api.viewsets import ApiViewSet
from webhooks import selectors, services
from webhooks.api import presenters
from webhooks.api import serializers as s

ERRORS = {400: ErrorOutput, 401: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput}


class WebhookEndpointViewSet(ApiViewSet):
    def get_endpoint(self, pk):
        endpoint = selectors.endpoint_get(self.organization, pk)
        if endpoint is None:
            raise NotFound("Webhook endpoint not found.")
        return endpoint

    @extend_schema(parameters=LIST_PARAMS, responses={200: s.WebhookListOutput, **ERRORS})
    def list(self, request):
        rows, extra = Page(request).apply(selectors.endpoints_of(self.organization))
        return Response({"values": [presenters.endpoint_to_dict(e) for e in rows], **extra})

    @extend_schema(request=s.WebhookCreateInput, responses={201: s.WebhookWithSecretOutput, **ERRORS})
    def create(self, request):
        serializer = s.WebhookCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(organization=self.organization, **serializer.validated_data)
        return Response(presenters.endpoint_to_dict(endpoint, secret=secret), status=http.HTTP_201_CREATED)

    @extend_schema(responses={200: s.WebhookOutput, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(presenters.endpoint_to_dict(self.get_endpoint(pk)))

    @extend_schema(request=s.WebhookUpdateInput, responses={200: s.WebhookOutput, **ERRORS})
    def partial_update(self, request, pk=None):
        endpoint = self.get_endpoint(pk)
        serializer = s.WebhookUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(presenters.endpoint_to_dict(endpoint))

    @extend_schema(responses={204: None, **ERRORS})
    def destroy(self, request, pk=None):
        services.endpoint_delete(endpoint=self.get_endpoint(pk))
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: s.WebhookWithSecretOutput, **ERRORS})
    def rotate_secret(self, request, pk=None):
        endpoint, secret = services.endpoint_rotate_secret(endpoint=self.get_endpoint(pk))
        return Response(presenters.endpoint_to_dict(endpoint, secret=secret))

    @extend_schema(request=None, responses={202: s.DeliveryOutput, **ERRORS})
    def send_test(self, request, pk=None):
        delivery = services.delivery_send_test(endpoint=self.get_endpoint(pk))
        return Response(presenters.delivery_to_dict(delivery), status=http.HTTP_202_ACCEPTED)

    @extend_schema(parameters=LIST_PARAMS, responses={200: s.DeliveryListOutput, **ERRORS})
    def deliveries(self, request, pk=None):
        rows, extra = Page(request).apply(selectors.deliveries_of(self.get_endpoint(pk)))
        return Response({"values": [presenters.delivery_to_dict(d) for d in rows], **extra})
