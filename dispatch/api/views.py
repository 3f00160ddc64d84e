"""Dispatch API: thin views that parse, call a service or selector, and answer."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.zones import day_text, zone_of
from dispatch import selectors, services
from dispatch.api import serializers as s
from dispatch.api.presenters import offer_to_dict, partnership_to_dict
from dispatch.services import assignment
from installer.api.exceptions import NotFound
from installer.api.pagination import DIRECTION_PARAMETER, PAGE_PARAMETERS, Page
from installer.api.schema import ErrorOutput
from orders import selectors as order_selectors
from orders.api.presenters import order_to_dict
from orders.api.viewsets import ApiViewSet
from scorecards.api.serializers import WINDOW_PARAMETER, scorecard_to_dict, window_param
from scorecards.score import SCORE_WINDOW_DAYS
from scorecards.selectors import scorecards_for

ERRORS = dict.fromkeys((400, 401, 403, 404, 409), ErrorOutput)
TRANSITION_ERRORS = {**ERRORS, 422: ErrorOutput}

# A response header for what succeeded but deserves a look; the body keeps its contract.
WARNING_HEADER = "Installer-Warning"
START_WARNING = OpenApiParameter(
    WARNING_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200],
    description="Present when the order was started before its booked day (in the organization's "
    "time zone): one English sentence naming the booked start, e.g. `This order is booked for "
    "Thu 10 Dec 08:00 (Europe/Oslo) and was started before that day.`",
)


class OrderLifecycleViewSet(ApiViewSet):
    """Dispatch, booking, start, complete and the assignee of one order. A technician's token
    books, unbooks, starts and completes the jobs assigned to it (others are 404)."""

    technician_actions = ("book", "unbook", "start", "complete")

    @property
    def viewer(self) -> order_selectors.Viewer:
        return order_selectors.Viewer.for_membership(self.membership)

    def answer(self, order, **extra) -> Response:
        """Built from the order the service returned, read under its lock (the service checked
        that the caller is its router or its assigned installer): no re-read."""
        return Response({**order_to_dict(order, self.viewer), **extra})

    @extend_schema(responses={200: s.PreviewOutput, **ERRORS})
    def preview(self, request, pk=None):
        order = order_selectors.order_get(self.viewer, pk)
        if order is None or order.organization_id != self.organization.pk:
            raise NotFound("Order not found.")
        return Response(selectors.dispatch_preview(order))

    @extend_schema(request=s.DispatchInput, responses={200: s.OrderWithOffersOutput, **TRANSITION_ERRORS})
    def dispatch_order(self, request, pk=None):
        body = s.DispatchInput(data=request.data or {})
        body.is_valid(raise_exception=True)
        order = services.order_dispatch(
            order_id=pk,
            organization=self.organization,
            actor=self.actor,
            installer_id=body.validated_data.get("installer_id"),
        )
        offers = getattr(order, "offer_list", None)
        if offers is None:
            offers = selectors.order_offers(order.pk)
        return self.answer(order, offers=[offer_to_dict(o) for o in offers])

    @extend_schema(request=s.BookingInput, responses={200: s.OrderOutput, **ERRORS})
    def book(self, request, pk=None):
        body = s.BookingInput(data=request.data)
        body.is_valid(raise_exception=True)
        order = services.order_book(
            order_id=pk,
            organization=self.organization,
            actor=self.actor,
            technician_id=self.viewer.technician_id,
            **body.validated_data,
        )
        return self.answer(order)

    @extend_schema(request=None, responses={200: s.OrderOutput, **ERRORS})
    def unbook(self, request, pk=None):
        order = services.order_unbook(
            order_id=pk, organization=self.organization, actor=self.actor, technician_id=self.viewer.technician_id
        )
        return self.answer(order)

    @extend_schema(request=None, responses={200: s.OrderOutput, **ERRORS}, parameters=[START_WARNING])
    def start(self, request, pk=None):
        order = services.order_start(
            order_id=pk, organization=self.organization, actor=self.actor, technician_id=self.viewer.technician_id
        )
        response = self.answer(order)
        booking = getattr(order, services.STARTED_BEFORE_BOOKING)
        if booking is not None:
            booked = day_text(
                booking.start_at, zone_of(order.organization), now=timezone.now(), with_time=not booking.all_day
            )
            response[WARNING_HEADER] = f"This order is booked for {booked} and was started before that day."
        return response

    @extend_schema(request=s.CompleteInput, responses={200: s.OrderOutput, **ERRORS})
    def complete(self, request, pk=None):
        body = s.CompleteInput(data=request.data or {})
        body.is_valid(raise_exception=True)
        order = services.order_complete(
            order_id=pk,
            organization=self.organization,
            actor=self.actor,
            comment=body.validated_data.get("comment", ""),
            file_ids=body.validated_data.get("file_ids") or [],
            technician_id=self.viewer.technician_id,
        )
        return self.answer(order)

    @extend_schema(request=s.AssigneeInput, responses={200: s.OrderOutput, **ERRORS})
    def assign(self, request, pk=None):
        """Set the job's assignee (`{"userId": "<id>"}`) or clear it (`{"userId": null}`): the
        order's assigned installer's admin and operator tokens only (403 for other roles, 404 for
        any other organization, the router included). The user must be a partner admin,
        dispatcher or technician of the installer (else 400)."""
        order = order_selectors.order_get(self.viewer, pk, with_relations=False)
        if order is None or order.installer_id != self.organization.pk:
            raise NotFound("Order not found.")  # the router's too: only its installer assigns
        body = s.AssigneeInput(data=request.data)
        body.is_valid(raise_exception=True)
        user_id = body.validated_data["user_id"]
        assignee = None
        if user_id is not None:
            assignee = get_user_model().objects.filter(pk=user_id).first()
            if assignee is None:
                raise assignment.not_a_member()
        order = services.order_assign(
            order_id=pk, organization=self.organization, actor=self.actor, role=self.membership.role, assignee=assignee
        )
        return self.answer(order)


class OfferViewSet(ApiViewSet):
    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, many=True, description="sent, accepted, declined, ..."),
            OpenApiParameter("orderId", OpenApiTypes.UUID),
            *PAGE_PARAMETERS,
            DIRECTION_PARAMETER,
        ],
        responses={200: s.OfferListOutput, **ERRORS},
    )
    def list(self, request):
        query = s.OfferListQuery(
            data={
                **({"status": request.query_params.getlist("status")} if "status" in request.query_params else {}),
                **({"orderId": request.query_params["orderId"]} if "orderId" in request.query_params else {}),
            }
        )
        if not query.is_valid():
            raise ValidationError(query.errors)
        qs = selectors.offers_visible_to(self.organization)
        if query.validated_data.get("status"):
            qs = qs.filter(status__in=query.validated_data["status"])
        if query.validated_data.get("order_id"):
            qs = qs.filter(order_id=query.validated_data["order_id"])
        page = Page(request, time_field="sent_at")
        if page.use_cursor:
            raise ValidationError({"cursor": ["Offers are paged with page and pageSize."]})
        rows, extra = page.apply(qs)
        return Response({"values": [offer_to_dict(o, with_order=True) for o in rows], **extra})

    def answer_response(self, offer) -> Response:
        viewer = order_selectors.Viewer.for_membership(self.membership)
        order = order_selectors.order_get(viewer, offer.order_id)
        data = offer_to_dict(offer)
        data["order"] = order_to_dict(order, viewer) if order is not None else None
        return Response(data)

    @extend_schema(request=None, responses={200: s.OfferAnswerOutput, **ERRORS})
    def accept(self, request, pk=None):
        offer = services.offer_accept(offer_id=pk, installer=self.organization, actor=self.actor)
        # The accepting installer is now the order's installer: answer from the locked order.
        viewer = order_selectors.Viewer.for_membership(self.request.membership)
        data = offer_to_dict(offer)
        data["order"] = order_to_dict(offer.order, viewer)
        return Response(data)

    @extend_schema(request=s.DeclineInput, responses={200: s.OfferAnswerOutput, **ERRORS})
    def decline(self, request, pk=None):
        body = s.DeclineInput(data=request.data or {})
        body.is_valid(raise_exception=True)
        offer = services.offer_decline(
            offer_id=pk, installer=self.organization, actor=self.actor, reason=body.validated_data.get("reason", "")
        )
        return self.answer_response(offer)


class InstallerPartnerViewSet(ApiViewSet):
    @extend_schema(
        parameters=[*PAGE_PARAMETERS, WINDOW_PARAMETER], responses={200: s.InstallerPartnerListOutput, **ERRORS}
    )
    def list(self, request):
        page = Page(request)
        days = window_param(request)
        windows = sorted({days, SCORE_WINDOW_DAYS})
        qs = selectors.installer_partners(self.organization)
        start = page.page * page.page_size
        rows = list(qs[start : start + page.page_size])
        count = len(rows) if page.page == 0 and len(rows) < page.page_size else qs.order_by().count()
        cards = scorecards_for(rows, windows=windows)  # one query for the page
        values = [{**partnership_to_dict(p), "scorecard": scorecard_to_dict(cards[p.pk], days)} for p in rows]
        return Response({"values": values, "count": count})


class DispatchPreviewViewSet(ApiViewSet):
    """The dispatch preview without an order (the admin's coverage checker for integrators)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("workflowId", OpenApiTypes.UUID, description="default: the default workflow"),
            OpenApiParameter("postalCode", OpenApiTypes.STR, required=True),
            OpenApiParameter(
                "countryCode", OpenApiTypes.STR, description="default: the country most coverage rules name"
            ),
            OpenApiParameter("lat", OpenApiTypes.FLOAT),
            OpenApiParameter("lng", OpenApiTypes.FLOAT),
        ],
        responses={200: s.SubjectPreviewOutput, **ERRORS},
    )
    def preview(self, request):
        query = s.SubjectPreviewQuery(data=request.query_params.dict())
        if not query.is_valid():
            raise ValidationError(query.errors)
        data = query.validated_data
        workflows = order_selectors.workflows_for(self.organization).prefetch_related(None)
        if data.get("workflow_id"):
            workflow = workflows.filter(pk=data["workflow_id"]).first()
        else:
            workflow = workflows.filter(is_default=True).first()
        if workflow is None:
            raise NotFound("Workflow not found.")
        country = data.get("country_code") or next(iter(selectors.coverage_countries([self.organization.pk])), "")
        if not country:
            raise ValidationError({"countryCode": ["Required: no coverage rule names a country to default to."]})
        subject = selectors.DispatchSubject(
            organization=self.organization,
            workflow=workflow,
            country_code=country,
            postal_code=data["postal_code"],
            latitude=data.get("lat"),
            longitude=data.get("lng"),
        )
        return Response(selectors.subject_preview(subject))
