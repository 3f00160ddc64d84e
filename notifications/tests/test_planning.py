"""Every trigger kind fires once at its time (the worker driven by moving the clock, never by
sleeping), and not when its condition no longer holds; a moved booking re-plans its reminder."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from dispatch import services as dispatch_services
from notifications import services
from notifications.models import Channel, Message, MessageStatus, Timing
from notifications.tests.conftest import ACTOR, assign, book
from orders import hooks
from orders.models import OrderEvent, WorkflowStep
from orders.services import order_cancel

pytestmark = pytest.mark.django_db


def test_on_change_email_is_planned_with_the_change_and_sent_once_by_the_worker(rule, make_order, run_due_tasks):
    rule("order.created")
    order = make_order()
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.PLANNED and message.recipient == "ola@example.com"
    assert mail.outbox == []  # never in the request
    run_due_tasks()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.subject == f"Order {order.display_id}"
    assert order.client_url in email.body
    assert "/notifications/opt-out/" in email.body and "List-Unsubscribe" in email.extra_headers
    run_due_tasks()
    assert len(mail.outbox) == 1


def test_the_same_events_planned_twice_and_the_task_run_twice_send_once(rule, make_order, run_due_tasks):
    rule("order.created")
    order = make_order()
    events = list(OrderEvent.objects.filter(order=order))
    for event in events:
        event.order = order
    hooks.events_notify(events)  # the same event again: the occurrence exists
    assert Message.objects.filter(order=order).count() == 1
    message = Message.objects.get(order=order)
    assert services.message_send(message_id=message.pk) == MessageStatus.SENT
    assert services.message_send(message_id=message.pk) == "not sent"
    run_due_tasks()
    assert len(mail.outbox) == 1


def test_after_n_hours_fires_at_that_time_and_not_before(rule, make_order, clock, run_due_tasks):
    rule("order.created", timing=Timing.AFTER, offset=2, unit="hours")
    order = make_order()
    clock.advance(hours=1, minutes=59)
    run_due_tasks()
    assert mail.outbox == []
    clock.advance(minutes=2)
    run_due_tasks()
    assert len(mail.outbox) == 1
    assert Message.objects.get(order=order).status == MessageStatus.SENT


def test_a_delayed_message_is_skipped_when_the_order_is_cancelled(rule, make_order, clock, run_due_tasks):
    rule("order.created", timing=Timing.AFTER, offset=1, unit="days")
    order = make_order()
    order_cancel(order_id=order.pk, organization=order.organization, actor=ACTOR, reason="other")
    clock.advance(days=1, minutes=1)
    run_due_tasks()
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.SKIPPED and "cancelled" in message.error
    assert mail.outbox == []


def test_a_step_rule_fires_for_its_step_only_and_is_skipped_when_the_step_moved_on(
    rule, make_order, workflow, clock, run_due_tasks, installer_org
):
    created_step = WorkflowStep.objects.filter(workflow=workflow, status=0).first()
    dispatching_step = WorkflowStep.objects.filter(workflow=workflow, status=1).first()
    rule("workflow.step.activated", step=created_step, timing=Timing.AFTER, offset=1, unit="hours")
    rule(
        "workflow.step.activated",
        step=dispatching_step,
        channel=Channel.CUSTOMER_SMS,
        templates={"en": {"subject": "", "body": "Step {{step.title}}"}},
    )
    order = make_order()
    first = Message.objects.get(order=order)
    assert first.condition == {"stepKey": created_step.key, "stepState": "activated"}
    assign(order, installer_org)  # the order leaves `created`: its step is no longer active
    clock.advance(hours=2)
    run_due_tasks()
    first.refresh_from_db()
    assert first.status == MessageStatus.SKIPPED and "step" in first.error
    sms = Message.objects.get(order=order, channel=Channel.CUSTOMER_SMS)
    assert sms.status == MessageStatus.SENT and sms.body == f"Step {dispatching_step.title}"


def test_a_reminder_fires_the_day_before_and_a_moved_booking_replans_it(
    rule, make_order, clock, run_due_tasks, installer_org
):
    rule(
        "booking.created",
        timing=Timing.BEFORE_BOOKING,
        offset=1,
        unit="days",
        templates={"en": {"subject": "Tomorrow", "body": "{{booking.start}} in {{booking.zone}}"}},
    )
    order = assign(make_order(), installer_org)
    start = (timezone.now() + datetime.timedelta(days=3)).replace(microsecond=0)
    book(order, start)
    first = Message.objects.get(order=order)
    assert first.due_at == start - datetime.timedelta(days=1)
    moved = start + datetime.timedelta(days=2)
    book(order, moved)  # booking.updated: the old reminder is skipped, a new one planned
    first.refresh_from_db()
    assert first.status == MessageStatus.SKIPPED
    second = Message.objects.get(order=order, status=MessageStatus.PLANNED)
    assert second.due_at == moved - datetime.timedelta(days=1)
    clock.advance(days=2, hours=1)  # the old reminder's time: nothing goes out
    run_due_tasks()
    assert mail.outbox == []
    clock.advance(days=2)
    run_due_tasks()
    second.refresh_from_db()
    assert second.status == MessageStatus.SENT and len(mail.outbox) == 1
    local = moved.astimezone(datetime.UTC).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Oslo"))
    assert f"{local:%Y-%m-%d %H:%M} {local.tzname()} in Europe/Oslo" in mail.outbox[0].body


def test_a_reminder_whose_booking_was_removed_is_not_sent(rule, make_order, clock, run_due_tasks, installer_org):
    rule("booking.created", timing=Timing.BEFORE_BOOKING, offset=2, unit="hours")
    order = assign(make_order(), installer_org)
    book(order, timezone.now() + datetime.timedelta(days=1))
    dispatch_services.order_unbook(order_id=order.pk, organization=order.organization, actor=ACTOR)
    clock.advance(days=1)
    run_due_tasks()
    assert Message.objects.get(order=order).status == MessageStatus.SKIPPED
    assert mail.outbox == []


def test_booking_created_on_change_attaches_the_ics(rule, make_order, run_due_tasks, installer_org):
    rule("booking.created", attach_ics=True)
    order = assign(make_order(), installer_org)
    book(order, timezone.now() + datetime.timedelta(days=2))
    run_due_tasks()
    (email,) = mail.outbox
    name, content, mimetype = email.attachments[0]
    content = content.decode() if isinstance(content, bytes) else content
    assert name == "booking.ics" and mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in content and order.display_id in content


def test_order_completed_fires_once(rule, make_order, run_due_tasks, installer_org):
    rule("order.completed")
    order = assign(make_order(), installer_org)
    book(order, timezone.now() + datetime.timedelta(hours=1))
    dispatch_services.order_start(order_id=order.pk, organization=order.organization, actor=ACTOR)
    dispatch_services.order_complete(order_id=order.pk, organization=order.organization, actor=ACTOR)
    run_due_tasks()
    assert Message.objects.get(order=order).status == MessageStatus.SENT
    assert len(mail.outbox) == 1


def test_partner_email_on_a_new_offer_goes_to_the_offered_installer(rule, make_order, run_due_tasks, installer_org):
    rule(
        "offer.sent",
        channel=Channel.PARTNER_EMAIL,
        templates={"en": {"subject": "New job {{order.displayId}}", "body": "Answer by {{offer.expiresAt}}"}},
    )
    order = make_order()
    dispatch_services.order_dispatch(order_id=order.pk, organization=order.organization, actor=ACTOR)
    run_due_tasks()
    (email,) = mail.outbox
    assert email.to == ["jobs@fixit.example"] and email.subject == f"New job {order.display_id}"
    assert "/notifications/opt-out/" not in email.body  # partner mail has no customer opt-out


def test_offer_about_to_expire_is_skipped_once_the_offer_is_answered(
    rule, make_order, clock, run_due_tasks, installer_org
):
    rule("offer.sent", channel=Channel.PARTNER_EMAIL, timing=Timing.AFTER, offset=12, unit="hours")
    order = assign(make_order(), installer_org)
    clock.advance(hours=13)
    run_due_tasks()
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.SKIPPED and "offer" in message.error


def test_a_customers_request_reaches_the_installer_and_the_organization_each_time(
    rule, make_order, run_due_tasks, installer_org
):
    """`customer.reschedule_requested` (asked on the order page) fires the partner's and the
    organization's rules once per request."""
    from portal import services as portal_services

    order = assign(make_order(), installer_org)
    order.organization.email = "service@alpha.example"
    order.organization.save(update_fields=["email"])
    book(order, timezone.now() + datetime.timedelta(days=2))
    templates = {"en": {"subject": "Reschedule {{order.displayId}}", "body": "The customer asked."}}
    rule("customer.reschedule_requested", channel=Channel.PARTNER_EMAIL, templates=templates)
    rule("customer.reschedule_requested", channel=Channel.ROUTER_EMAIL, templates=templates)
    run_due_tasks()
    mail.outbox.clear()
    for text in ("Can you come on Friday?", "Or Monday?"):
        portal_services.customer_request(order_id=order.pk, kind="reschedule", message=text)
    run_due_tasks()
    recipients = sorted(tuple(email.to) for email in mail.outbox)
    assert recipients == [("jobs@fixit.example",)] * 2 + [("service@alpha.example",)] * 2
    assert Message.objects.filter(order=order, status=MessageStatus.SENT).count() == 4
