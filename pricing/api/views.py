"""Products and quotes API: thin views that parse, call a service or selector, and answer.

Tenancy: another organization's product, quote or order is a 404 on every route. An installer
partner's token reads the products its routers share with partners (read-only: a PATCH is a
404) and the quotes of the orders assigned to it; it writes quotes only where the workflow lets
partners quote (`Workflow.partners_may_quote`, else 403)."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from installer.api.exceptions import NotFound
from installer.api.pagination import LIST_PARAMETERS, Page
from installer.api.parsers import StrictJSONParser
from installer.api.schema import ErrorOutput
from orders import selectors as order_selectors
from orders.api.viewsets import ApiViewSet
from pricing import selectors, services
from pricing.api import presenters
from pricing.api import serializers as s
from pricing.models import Quote

ERRORS = {400: ErrorOutput, 401: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput, 409: ErrorOutput}
PRODUCT_FILTERS = [
    OpenApiParameter("active", OpenApiTypes.BOOL),
    OpenApiParameter("tag", OpenApiTypes.STR, description="a tag name (any case)"),
    OpenApiParameter("search", OpenApiTypes.STR, description="name, description or external id contains"),
]
BOOLEAN = {"true": True, "1": True, "false": False, "0": False}


class ProductViewSet(ApiViewSet):
    """The product catalogue. JSON bodies only (a form-encoded body is a 415): an empty form
    field would otherwise read as a field left out."""

    parser_classes = [StrictJSONParser]

    def get_product(self, pk):
        product = selectors.product_get(self.organization, pk)
        if product is None:
            raise NotFound("Product not found.")
        return product

    @extend_schema(parameters=[*PRODUCT_FILTERS, *LIST_PARAMETERS], responses={200: s.ProductListOutput, **ERRORS})
    def list(self, request):
        """List Products, newest first by default; `direction`, `page`/`pageSize` or `cursor`."""
        params = request.query_params
        qs = selectors.products_visible_to(self.organization)
        if "active" in params:
            if params["active"].lower() not in BOOLEAN:
                raise ValidationError({"active": ["Must be true or false."]})
            qs = qs.filter(active=BOOLEAN[params["active"].lower()])
        if params.get("tag"):
            qs = qs.filter(tagged_items__tag__name__iexact=params["tag"].strip())
        search = (params.get("search") or "").strip()
        if search:
            qs = qs.filter(
                Q(name__icontains=search) | Q(description__icontains=search) | Q(external_id__icontains=search)
            )
        rows, extra = Page(request).apply(qs)
        return Response({"values": [presenters.product_to_dict(p) for p in rows], **extra})

    @extend_schema(request=s.ProductInput, responses={201: s.ProductOutput, **ERRORS})
    def create(self, request):
        """Create Product. 201 with the product."""
        body = s.ProductInput(data=request.data)
        body.is_valid(raise_exception=True)
        product = services.product_create(organization=self.organization, data=dict(body.validated_data))
        return Response(presenters.product_to_dict(self.get_product(product.pk)), status=http.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ProductOutput, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(presenters.product_to_dict(self.get_product(pk)))

    @extend_schema(request=s.ProductUpdateInput, responses={200: s.ProductOutput, **ERRORS})
    def partial_update(self, request, pk=None):
        """Update Product (the fields given). Only the owning organization: a shared product
        read by a partner is a 404 here."""
        body = s.ProductUpdateInput(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        product = services.product_update(product_id=pk, organization=self.organization, data=dict(body.validated_data))
        return Response(presenters.product_to_dict(self.get_product(product.pk)))


def _quote_fields(data: dict) -> dict:
    fields = dict(data)
    fields.pop("version", None)
    if "lines" in fields:
        fields["lines"] = [dict(line) for line in fields["lines"]]
    return fields


class QuoteViewSet(ApiViewSet):
    """Quotes on orders: the router's, and the assigned installer partner's to read (and to
    write where the workflow lets partners quote). JSON bodies only."""

    parser_classes = [StrictJSONParser]

    @property
    def author(self) -> services.Author:
        return services.Author(organization=self.organization, actor=self.actor)

    def audience(self, quote: Quote) -> str:
        return presenters.ROUTER if quote.organization_id == self.organization.pk else presenters.PARTNER

    def answer(self, quote_id, status_code=http.HTTP_200_OK) -> Response:
        quote = selectors.quote_get(self.organization, quote_id)
        if quote is None:
            raise NotFound("Quote not found.")
        return Response(presenters.quote_to_dict(quote, self.audience(quote)), status=status_code)

    def get_order(self, pk):
        viewer = order_selectors.Viewer.for_membership(self.membership)
        order = order_selectors.order_get(viewer, pk, with_relations=False)
        if order is None:
            raise NotFound("Order not found.")
        return order

    @extend_schema(responses={200: s.QuoteListOutput, **ERRORS})
    def list(self, request, pk=None):
        """The order's quotes, oldest first (an installer partner: not the router's drafts)."""
        order = self.get_order(pk)
        quotes = selectors.quotes_of_order(self.organization, order)
        values = [presenters.quote_to_dict(q, self.audience(q)) for q in quotes]
        return Response({"values": values, "count": len(values)})

    @extend_schema(request=s.QuoteInput, responses={201: s.QuoteOutput, **ERRORS})
    def create(self, request, pk=None):
        """Create Quote (a draft) on the order. 409 when the order is completed or cancelled or
        already has an accepted quote."""
        order = self.get_order(pk)
        body = s.QuoteInput(data=request.data)
        body.is_valid(raise_exception=True)
        quote = services.quote_create(order_id=order.pk, author=self.author, data=_quote_fields(body.validated_data))
        return self.answer(quote.pk, http.HTTP_201_CREATED)

    @extend_schema(responses={200: s.QuoteOutput, **ERRORS})
    def retrieve(self, request, quote_id=None):
        return self.answer(quote_id)

    @extend_schema(request=s.QuoteUpdateInput, responses={200: s.QuoteOutput, **ERRORS})
    def partial_update(self, request, quote_id=None):
        """Update a draft quote; `lines`, when given, replace all lines; `version` (optional)
        must be the quote's current one (409 otherwise)."""
        if selectors.quote_get(self.organization, quote_id) is None:
            raise NotFound("Quote not found.")
        body = s.QuoteUpdateInput(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        quote = services.quote_update(
            quote_id=quote_id,
            author=self.author,
            data=_quote_fields(body.validated_data),
            version=body.validated_data.get("version"),
        )
        return self.answer(quote.pk)

    def _act(self, request, quote_id, action: str) -> Response:
        if selectors.quote_get(self.organization, quote_id) is None:
            raise NotFound("Quote not found.")
        if not isinstance(request.data, dict):
            raise ValidationError({"nonFieldErrors": ["The body must be a JSON object."]})
        body = s.DecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        line_ids = body.validated_data.get("lineIds")
        if line_ids and action != "accept":
            raise ValidationError({"lineIds": ["Only an acceptance takes lineIds."]})
        quote = services.quote_act(quote_id=quote_id, action=action, author=self.author, line_ids=line_ids)
        return self.answer(quote.pk)

    @extend_schema(request=None, responses={200: s.QuoteOutput, **ERRORS})
    def send(self, request, quote_id=None):
        """draft → sent: the customer can see and decide it (`quote.sent`)."""
        return self._act(request, quote_id, "send")

    @extend_schema(request=None, responses={200: s.QuoteOutput, **ERRORS})
    def withdraw(self, request, quote_id=None):
        """draft or sent → withdrawn."""
        return self._act(request, quote_id, "withdraw")

    @extend_schema(request=s.DecisionInput, responses={200: s.QuoteOutput, **ERRORS})
    def accept(self, request, quote_id=None):
        """sent → accepted, by an operator on the customer's word (recorded as such);
        `lineIds`: the optional lines the customer takes."""
        return self._act(request, quote_id, "accept")

    @extend_schema(request=None, responses={200: s.QuoteOutput, **ERRORS})
    def reject(self, request, quote_id=None):
        """sent → rejected, by an operator on the customer's word (recorded as such)."""
        return self._act(request, quote_id, "reject")
