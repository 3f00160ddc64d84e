"""Orders API: thin views that parse, call a service or selector, and answer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.models import Role
from installer.api.exceptions import NotFound
from installer.api.pagination import LIST_PARAMETERS, PAGE_PARAMETERS, Page
from installer.api.renderers import ORJSONRenderer
from installer.api.schema import ErrorOutput
from orders import selectors, services
from orders.api import serializers as s
from orders.api.presenters import file_to_dict, order_to_dict, timeline_to_dicts
from orders.api.viewsets import ApiViewSet
from orders.files import MaxSizeUploadHandler, file_response, file_upload
from orders.filters import OrderFilter
from orders.models import STATUS_NAMES, OrderSource, OrderTag

ERRORS = {400: ErrorOutput, 401: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput, 409: ErrorOutput}
FILE_ERRORS = {**ERRORS, 413: ErrorOutput, 415: ErrorOutput}

LIST_PARAMS = LIST_PARAMETERS
ORDER_FILTER_PARAMS = [
    OpenApiParameter("status", OpenApiTypes.STR, many=True, description="0-6 or a status name; repeatable"),
    OpenApiParameter("tagId", OpenApiTypes.UUID),
    OpenApiParameter("workflowId", OpenApiTypes.UUID),
    OpenApiParameter("installerId", OpenApiTypes.UUID),
    OpenApiParameter("postalCode", OpenApiTypes.STR),
    OpenApiParameter("createdAfter", OpenApiTypes.DATETIME),
    OpenApiParameter("createdBefore", OpenApiTypes.DATETIME),
    OpenApiParameter("updatedSince", OpenApiTypes.DATETIME),
    OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        description="display id, name, customer, email or address; an installer's token: display id, city "
        "or postal code, and the others only on orders assigned to it",
    ),
    OpenApiParameter("test", OpenApiTypes.BOOL, description="true: test orders only; default: real orders only"),
]


class OrderViewSet(ApiViewSet):
    """Orders of the caller's organization (and, for an installer, the orders assigned to it;
    for a technician, only the jobs assigned to its user)."""

    idempotency_exempt_actions = ("create",)
    technician_actions = ("list", "retrieve", "events", "complete_step")

    @property
    def viewer(self) -> selectors.Viewer:
        return selectors.Viewer.for_membership(self.membership)

    def get_order(self, pk, *, with_relations: bool = True):
        order = selectors.order_get(self.viewer, pk, with_relations=with_relations)
        if order is None:
            raise NotFound("Order not found.")
        return order

    def order_response(self, pk, status_code=http.HTTP_200_OK, **extra) -> Response:
        order = self.get_order(pk)
        return Response({**order_to_dict(order, self.viewer), **extra}, status=status_code)

    def answer(self, order, status_code=http.HTTP_200_OK, **extra) -> Response:
        """The answer to a write: built from the order the service returned, read under its lock
        (the service checked that the caller may read it)."""
        return Response({**order_to_dict(order, self.viewer), **extra}, status=status_code)

    @extend_schema(
        request=s.OrderCreateInput,
        responses={201: s.OrderCreatedOutput, **ERRORS},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
    )
    def create(self, request):
        """Create Order. 201 with the order and `value` (its id). `idempotencyKey` (body) or the
        `Idempotency-Key` header is unique per organization: a repeat answers 409 with `orderId`."""
        serializer = s.OrderCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        header_key = request.headers.get("Idempotency-Key")
        if header_key and not data.get("idempotency_key"):
            if len(header_key) > 255:
                raise ValidationError({"Idempotency-Key": ["At most 255 characters."]})
            data["idempotency_key"] = header_key
        order = services.order_create(
            organization=self.organization, actor=self.actor, data=data, source=OrderSource.API, test=request.auth.test
        )
        return self.answer(order, http.HTTP_201_CREATED, value=order.pk)

    @extend_schema(parameters=[*ORDER_FILTER_PARAMS, *LIST_PARAMS], responses={200: s.OrderListOutput, **ERRORS})
    def list(self, request):
        """List Orders, newest first by default. Use `cursor` (empty for the first page) instead of
        `page` for high-volume sync: the answer then has `nextCursor` and no `count`."""
        viewer = self.viewer
        filterset = OrderFilter(request.query_params, queryset=selectors.orders_visible_to(viewer), viewer=viewer)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = Page(request)
        # The list as the count cache knows it: whose orders, which filters (normalized).
        filters = sorted((k, repr(v)) for k, v in filterset.form.cleaned_data.items() if v not in (None, "", []))
        # A technician's list is its own (only the jobs assigned to it): keyed by its user too.
        count_key = ("orders", viewer.organization.pk, viewer.technician_id, tuple(filters))
        if selectors.fast_reads_apply(viewer):
            keys, extra = page.apply(filterset.qs.values_list("id", "created_at"), count_key=count_key)
            rows = selectors.orders_loaded_fast(viewer, [key[0] for key in keys]) or []
        else:
            rows, extra = page.apply(selectors.with_order_relations(filterset.qs, viewer), count_key=count_key)
        return Response({"values": [order_to_dict(o, viewer) for o in rows], **extra})

    @extend_schema(responses={200: s.OrderOutput, **ERRORS})
    def retrieve(self, request, pk=None):
        """Get Order."""
        return self.order_response(pk)

    @extend_schema(request=s.OrderUpdateInput, responses={200: s.OrderOutput, **ERRORS})
    def partial_update(self, request, pk=None):
        """Update Order: customer, address, description, metadata and custom fields (partial).
        409 once the order is completed or cancelled."""
        order = self.get_order(pk, with_relations=False)
        if order.organization_id != self.organization.pk:
            raise NotFound("Order not found.")
        serializer = s.OrderUpdateInput(data=request.data, partial=True, context={"country_code": order.country_code})
        serializer.is_valid(raise_exception=True)
        order = services.order_update(
            order_id=order.pk, organization=self.organization, actor=self.actor, data=dict(serializer.validated_data)
        )
        return self.answer(order)

    @extend_schema(request=None, responses={204: None, **ERRORS})
    def destroy(self, request, pk=None):
        """Delete Order: an admin token only (403 otherwise); only a test order or an order still
        created (409 otherwise). Soft delete: afterwards the order is a 404 everywhere and gone
        from every list; `order.deleted` is sent to webhooks. 204 without a body."""
        if self.membership.role != Role.ADMIN:
            raise PermissionDenied("Deleting an order needs an admin token.")
        # The service reads the order under its lock within the caller's organization: another
        # organization's order (an assigned installer's too) is a 404 there.
        services.order_delete(order_id=pk, organization=self.organization, actor=self.actor)
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.CancelInput, responses={200: s.OrderOutput, **ERRORS})
    def cancel(self, request, pk=None):
        """Cancel Order, from any status but completed and cancelled (409)."""
        serializer = s.CancelInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The service reads the order under its lock within the caller's organization: another
        # organization's order (an assigned installer's too) is a 404 there.
        order = services.order_cancel(
            order_id=pk,
            organization=self.organization,
            actor=self.actor,
            reason=serializer.validated_data.get("reason"),
            comment=serializer.validated_data.get("comment", ""),
        )
        return self.answer(order)

    @extend_schema(request=None, responses={200: s.OrderOutput, **ERRORS})
    def complete_step(self, request, pk=None, step_key=None):
        """Complete a workflow step of the order's current status."""
        order = self.get_order(pk, with_relations=False)
        if self.organization.pk not in (order.organization_id, order.installer_id):
            raise NotFound("Order not found.")
        order = services.workflow_step_complete(
            order_id=order.pk,
            organization=None,
            step_key=step_key,
            actor=self.actor,
            technician_id=self.viewer.technician_id,
        )
        return self.answer(order)

    @extend_schema(responses={200: s.EventListOutput, **ERRORS})
    def events(self, request, pk=None):
        """The order's timeline, oldest first. An installer organization reads its own offers'
        events and the order's, with the router's actors as "router" (API.md)."""
        order = self.get_order(pk, with_relations=False)
        values = timeline_to_dicts(order, list(selectors.order_events(order)), self.viewer)
        return Response({"values": values, "count": len(values)})

    @extend_schema(request=None, responses={200: s.TagsOfOrderOutput, **ERRORS})
    def assign_tag(self, request, pk=None, tag_id=None):
        """Assign Tag to Order. Idempotent; answers the order's tags."""
        services.order_tag_assign(
            order_id=self._own_order_id(pk), organization=self.organization, tag_id=tag_id, actor=self.actor
        )
        return self._tags_response(pk)

    @extend_schema(request=None, responses={200: s.TagsOfOrderOutput, **ERRORS})
    def remove_tag(self, request, pk=None, tag_id=None):
        """Remove Tag from Order. Idempotent; answers the order's tags."""
        services.order_tag_remove(
            order_id=self._own_order_id(pk), organization=self.organization, tag_id=tag_id, actor=self.actor
        )
        return self._tags_response(pk)

    def _own_order_id(self, pk):
        """Writes that only the owning organization may make: others get 404."""
        order = self.get_order(pk, with_relations=False)
        if order.organization_id != self.organization.pk:
            raise NotFound("Order not found.")
        return order.pk

    def _tags_response(self, pk) -> Response:
        tags = list(OrderTag.objects.filter(tagged_orders__content_object_id=pk).order_by("name").values("id", "name"))
        return Response({"values": tags, "count": len(tags)})


class MeViewSet(ApiViewSet):
    """The caller: the token's organization, role and name."""

    technician_actions = ("retrieve",)

    @extend_schema(responses={200: s.MeOutput, **ERRORS})
    def retrieve(self, request):
        """Who am I: the organization the token acts for, its role and the token's name. One
        query (the token's); also the benchmark's framework floor."""
        org = self.organization
        return Response(
            {
                "organization": {"id": org.id, "name": org.name, "slug": org.slug},
                "role": self.membership.role,
                "tokenName": request.auth.name,
            }
        )


class FileViewSet(ApiViewSet):
    """Upload File, File metadata and File content (API.md). Reads are open to the owning
    organization and the order's assigned installer (a technician: the files of its jobs and
    its organization's uploads not yet on an order); everyone else gets 404."""

    technician_actions = ("create", "retrieve", "content")

    @property
    def viewer(self) -> selectors.Viewer:
        return selectors.Viewer.for_membership(self.membership)

    def perform_content_negotiation(self, request, force=False):
        # The bytes carry their own type; errors are JSON whatever the client's Accept says.
        if self.action == "content":
            return (ORJSONRenderer(), "application/json")
        return super().perform_content_negotiation(request, force)

    def get_file(self, pk):
        file = selectors.file_get(self.viewer, pk)
        if file is None:
            raise NotFound("File not found.")
        return file

    @extend_schema(request={"multipart/form-data": s.FileUploadInput}, responses={201: s.FileOutput, **FILE_ERRORS})
    def create(self, request):
        # Before the body is parsed: refuse by Content-Length, stop reading past the limit.
        request._request.upload_handlers.insert(0, MaxSizeUploadHandler(request._request))
        serializer = s.FileUploadInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        file = file_upload(
            organization=self.organization,
            content=upload,
            actor=self.actor,
            name=upload.name,
            order_id=serializer.validated_data.get("order_id"),
        )
        return Response(file_to_dict(file), status=http.HTTP_201_CREATED)

    @extend_schema(responses={200: s.FileOutput, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(file_to_dict(self.get_file(pk)))

    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY, 302: None, **ERRORS})
    def content(self, request, pk=None):
        return file_response(self.get_file(pk))


class OrderTagViewSet(ApiViewSet):
    """The organization's order tags."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: s.TagListOutput, **ERRORS})
    def list(self, request):
        """List Order Tags, by name."""
        page = Page(request)
        qs = OrderTag.objects.filter(organization=self.organization).order_by("name", "id")
        start = page.page * page.page_size
        rows = list(qs.values("id", "name", "color")[start : start + page.page_size])
        return Response({"values": rows, "count": qs.count()})

    @extend_schema(request={"application/json": s.TAG_CREATE_BODY}, responses={201: s.TagListOutput, **ERRORS})
    def create(self, request):
        """Create Order Tags: `{"name": ...}` or `{"names": [...]}`. An existing name (any case)
        returns the existing tag."""
        serializer = s.TagCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        tags = services.order_tags_create(organization=self.organization, names=serializer.validated_data["all_names"])
        values = [{"id": t.id, "name": t.name, "color": t.color} for t in tags]
        return Response({"values": values, "count": len(values)}, status=http.HTTP_201_CREATED)


class WorkflowViewSet(ApiViewSet):
    """The organization's workflows (order templates)."""

    @extend_schema(responses={200: s.WorkflowListOutput, **ERRORS})
    def list(self, request):
        """List Workflows with their steps and custom field definitions."""
        workflows = list(selectors.workflows_for(self.organization))
        values = [workflow_to_dict(w) for w in workflows]
        return Response({"values": values, "count": len(values)})


def workflow_to_dict(workflow) -> dict:
    return {
        "id": workflow.id,
        "customId": workflow.custom_id,
        "name": workflow.name,
        "description": workflow.description,
        "active": workflow.active,
        "isDefault": workflow.is_default,
        "steps": [
            {
                "key": st.key,
                "title": st.title,
                "status": st.status,
                "statusName": STATUS_NAMES[st.status],
                "actor": st.actor,
                "required": st.required,
                "descriptions": st.descriptions or {},
            }
            for st in sorted(workflow.steps.all(), key=lambda x: (x.status, x.position, x.id))
        ],
        "customFields": [
            {
                "id": f.id,
                "customId": f.custom_id,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "options": f.options or [],
                "helpText": f.help_text,
            }
            for f in sorted(workflow.custom_fields.all(), key=lambda x: (x.position, x.custom_id))
        ],
    }
