"""The client API, `/api/clients/{token}/...`: the customer's portal as JSON, with
Installer.com's client paths. No Bearer token: the client token in the path is the credential;
an unknown or rotated token is a 404 in the error shape. Reads and writes are rate-limited per
client address (PORTAL_READ_RATE_LIMIT, PORTAL_RATE_LIMIT per minute). A completed or
cancelled order stays readable; its actions answer 409."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from installer import throttling
from installer.api.exceptions import TooManyRequests
from installer.api.parsers import StrictJSONParser
from installer.api.schema import ErrorOutput
from orders.files import MaxSizeUploadHandler
from orders.models import Order
from portal import presenters, selectors, services
from portal.api import serializers as s
from portal.exceptions import PortalInvalid, PortalNotFound
from pricing import customer as customer_quotes
from pricing import selectors as pricing_selectors
from pricing import services as pricing_services
from pricing.api import serializers as pricing_serializers
from pricing.models import DecisionChannel

READ_ERRORS = dict.fromkeys((404, 429), ErrorOutput)
WRITE_ERRORS = dict.fromkeys((400, 404, 409, 429), ErrorOutput)
FILE_ERRORS = dict.fromkeys((400, 404, 409, 413, 415, 429), ErrorOutput)


def _limit(request: Request, *, write: bool) -> None:
    name, default = ("PORTAL_RATE_LIMIT", 10) if write else ("PORTAL_READ_RATE_LIMIT", 120)
    limit = int(getattr(settings, name, default))
    if limit <= 0:
        return
    kind = "write" if write else "read"
    allowed, wait = throttling.hit(f"client-api-{kind}:{throttling.client_ip(request)}", limit, 60)
    if not allowed:
        raise TooManyRequests(retry_after=wait)


class ClientView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    write = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _limit(request, write=self.write)

    def order(self, token: str) -> Order:
        order = selectors.order_for_portal(token)
        if order is None:
            raise PortalNotFound("Not found.")
        return order


class ClientOrderView(ClientView):
    @extend_schema(operation_id="client_order", responses={200: s.ClientOrderOutput, **READ_ERRORS})
    def get(self, request, token: str):
        return Response(presenters.customer_order_to_dict(self.order(token)))


class ClientWorkflowsView(ClientView):
    @extend_schema(operation_id="client_workflows", responses={200: s.ClientWorkflowListOutput, **READ_ERRORS})
    def get(self, request, token: str):
        return Response(presenters.workflows_to_dict(self.order(token)))


class ClientSlotsView(ClientView):
    @extend_schema(operation_id="client_slots", responses={200: s.ClientSlotListOutput, **READ_ERRORS})
    def get(self, request, token: str):
        return Response(presenters.slots_to_dict(self.order(token)))


class ClientBookingView(ClientView):
    write = True

    @extend_schema(
        operation_id="client_book", request=s.ClientBookingInput, responses={200: s.ClientOrderOutput, **WRITE_ERRORS}
    )
    def put(self, request, token: str, step_id: str):
        order = self.order(token)
        body = s.ClientBookingInput(data=request.data)
        body.is_valid(raise_exception=True)
        services.client_book(order_id=order.pk, step_id=step_id, **body.validated_data)
        return Response(presenters.customer_order_to_dict(self.order(token)))


class ClientRequestView(ClientView):
    write = True

    @extend_schema(
        operation_id="client_request",
        request=s.ClientRequestInput,
        responses={201: s.ClientOrderOutput, **WRITE_ERRORS},
    )
    def post(self, request, token: str):
        order = self.order(token)
        body = s.ClientRequestInput(data=request.data)
        body.is_valid(raise_exception=True)
        services.customer_request(
            order_id=order.pk, kind=body.validated_data["kind"], message=body.validated_data.get("message", "")
        )
        return Response(presenters.customer_order_to_dict(self.order(token)), status=201)


class ClientNoteView(ClientView):
    write = True

    @extend_schema(
        operation_id="client_note", request=s.ClientNoteInput, responses={201: s.ClientOrderOutput, **WRITE_ERRORS}
    )
    def post(self, request, token: str):
        order = self.order(token)
        body = s.ClientNoteInput(data=request.data)
        body.is_valid(raise_exception=True)
        services.customer_note(order_id=order.pk, text=body.validated_data["note"])
        return Response(presenters.customer_order_to_dict(self.order(token)), status=201)


class ClientFilesView(ClientView):
    write = True

    def initialize_request(self, request, *args, **kwargs):
        # Refuse an upload past FILE_MAX_SIZE by its Content-Length, before reading it.
        request.upload_handlers.insert(0, MaxSizeUploadHandler(request))
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        operation_id="client_file",
        request={"multipart/form-data": s.ClientFileInput},
        responses={201: s.ClientFileOutput, **FILE_ERRORS},
    )
    def post(self, request, token: str):
        order = self.order(token)
        upload = request.FILES.get("file")
        if upload is None:
            raise PortalInvalid(
                "file: send a photo as multipart field 'file'.", details={"file": ["No file was sent."]}
            )
        file = services.customer_photo(order=order, content=upload)
        return Response(
            {"id": str(file.pk), "name": file.name, "contentType": file.content_type, "size": file.size}, status=201
        )


class ClientQuotesView(ClientView):
    @extend_schema(operation_id="client_quotes", responses={200: pricing_serializers.QuoteListOutput, **READ_ERRORS})
    def get(self, request, token: str):
        """The order's sent, accepted and rejected quotes (never drafts), with the payer's amounts
        only (never the installer's payout)."""
        quotes = pricing_selectors.quotes_for_customer(self.order(token))
        values = [customer_quotes.quote_to_client_dict(q) for q in quotes]
        return Response({"values": values, "count": len(values)})


class ClientQuoteDecisionView(ClientView):
    """Accepts (`lineIds`: the optional lines the customer takes) or rejects a sent quote."""

    write = True
    parser_classes = [StrictJSONParser]
    decision = "accept"

    def decide(self, request, token: str, quote_id: str) -> Response:
        order = self.order(token)
        if not isinstance(request.data, dict):
            raise PortalInvalid("The body must be a JSON object.")
        body = pricing_serializers.DecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        line_ids = body.validated_data.get("lineIds")
        if line_ids and self.decision != "accept":
            raise PortalInvalid("lineIds: only an acceptance takes lines.", details={"lineIds": ["Only for accept."]})
        quote = pricing_services.quote_customer_decide(
            order_id=order.pk,
            quote_id=quote_id,
            action=self.decision,
            actor=services.CUSTOMER,
            via=DecisionChannel.CLIENT_API,
            line_ids=line_ids,
        )
        quote = next(q for q in pricing_selectors.quotes_for_customer(order) if q.pk == quote.pk)
        return Response(customer_quotes.quote_to_client_dict(quote))


class ClientQuoteAcceptView(ClientQuoteDecisionView):
    decision = "accept"

    @extend_schema(
        operation_id="client_quote_accept",
        request=pricing_serializers.DecisionInput,
        responses={200: pricing_serializers.QuoteOutput, **WRITE_ERRORS},
    )
    def post(self, request, token: str, quote_id: str):
        """Accepts a sent quote; `lineIds`: the optional lines the customer takes."""
        return self.decide(request, token, quote_id)


class ClientQuoteRejectView(ClientQuoteDecisionView):
    decision = "reject"

    @extend_schema(
        operation_id="client_quote_reject",
        request=pricing_serializers.DecisionInput,
        responses={200: pricing_serializers.QuoteOutput, **WRITE_ERRORS},
    )
    def post(self, request, token: str, quote_id: str):
        """Rejects a sent quote."""
        return self.decide(request, token, quote_id)
