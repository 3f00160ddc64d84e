"""Notification test helpers: the dispatch tests' clock and worker (`clock`, `run_due_tasks`),
an Oslo router with an installer partner, and `rule(...)` to make a notification."""

from __future__ import annotations

import datetime

import pytest

from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import clock, make_partner, run_due_tasks  # noqa: F401 - fixtures
from notifications import services
from notifications.models import Channel, Timing
from orders.actors import Actor
from orders.models import Workflow
from orders.tests.factories import create_order

ACTOR = Actor.system("test")
UTC = datetime.UTC


@pytest.fixture
def oslo(org_a, installer_org):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    installer_org.email = "jobs@fixit.example"
    installer_org.phone_number = "+4722000000"
    installer_org.save(update_fields=["email", "phone_number"])
    make_partner(org_a, installer_org)
    return org_a


@pytest.fixture
def workflow(oslo):
    return Workflow.objects.get(organization=oslo, is_default=True)


@pytest.fixture
def rule(oslo, workflow):
    def make(
        trigger="order.created",
        *,
        channel=Channel.CUSTOMER_EMAIL,
        timing=Timing.ON_CHANGE,
        offset=0,
        unit="hours",
        templates=None,
        step=None,
        **more,
    ):
        return services.notification_create(
            organization=oslo,
            workflow=workflow,
            name=f"{trigger} {channel} {timing}",
            trigger_event=trigger,
            step=step,
            timing=timing,
            offset_value=offset,
            offset_unit=unit,
            channel=channel,
            templates=templates
            or {
                "en": {"subject": "Order {{order.displayId}}", "body": "Hello {{customer.name}}: {{trackingUrl}}"},
                "nb": {"subject": "Bestilling {{order.displayId}}", "body": "Hei {{customer.name}}: {{trackingUrl}}"},
            },
            **more,
        )

    return make


def assign(order, installer):
    dispatch_services.order_dispatch(order_id=order.pk, organization=order.organization, actor=ACTOR)
    offer = Offer.objects.get(order=order, status="sent")
    dispatch_services.offer_accept(offer_id=offer.pk, installer=installer, actor=ACTOR)
    return order


def book(order, start, hours=2):
    return dispatch_services.order_book(
        order_id=order.pk,
        organization=order.organization,
        actor=ACTOR,
        start_at=start,
        end_at=start + datetime.timedelta(hours=hours),
    )


@pytest.fixture
def make_order(oslo):
    def make(**data):
        return create_order(oslo, **data)

    return make


@pytest.fixture(autouse=True)
def _console_sms(settings):
    settings.SMS_BACKEND = "notifications.sms.ConsoleSmsBackend"
