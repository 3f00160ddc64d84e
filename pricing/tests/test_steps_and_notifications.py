"""A step that requires an accepted quote holds the order back (409) until one is accepted; a
sent quote fires the workflow's `quote.sent` rules (once per quote) and the customer is emailed
the link to their order page."""

from __future__ import annotations

import pytest
from django.core import mail

from dispatch.tests.conftest import make_partner, run_due_tasks  # noqa: F401 - fixture
from notifications import services as notification_services
from notifications.models import Channel, Message, Timing
from orders.models import Order, OrderStatus, WorkflowStep
from pricing import services
from pricing.tests.conftest import make_quote, router_author


def require_quote(order, status) -> WorkflowStep:
    step = WorkflowStep.objects.filter(workflow=order.workflow_id, status=status).first()
    assert step is not None
    step.requires_accepted_quote = True
    step.save()
    return step


def test_dispatch_waits_for_an_accepted_quote(operator_a, order, installer_org):
    make_partner(order.organization, installer_org)
    step = require_quote(order, OrderStatus.CREATED)
    response = operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    assert response.status_code == 409, response.json()
    answer = response.json()
    assert "needs an accepted quote" in answer["message"] and answer["stepKey"] == step.key
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED
    # A sent quote is not enough; an accepted one is.
    quote = make_quote(order, send=True)
    assert operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json").status_code == 409
    services.quote_act(quote_id=quote.pk, action="accept", author=router_author(order.organization))
    response = operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["statusName"] == "dispatching"


def test_completing_the_step_needs_an_accepted_quote(operator_a, order):
    step = require_quote(order, OrderStatus.CREATED)
    url = f"/api/v1/order/{order.pk}/steps/{step.key}/complete"
    response = operator_a.post(url)
    assert response.status_code == 409 and response.json()["stepKey"] == step.key
    assert step.key not in Order.objects.get(pk=order.pk).completed_steps
    quote = make_quote(order, send=True)
    services.quote_act(quote_id=quote.pk, action="accept", author=router_author(order.organization))
    assert operator_a.post(url).status_code == 200


def test_cancel_is_never_held_back(operator_a, order):
    require_quote(order, OrderStatus.CREATED)
    response = operator_a.post(f"/api/v1/order/{order.pk}/cancel", {"reason": "other"}, format="json")
    assert response.status_code == 200


@pytest.mark.django_db
def test_quote_sent_emails_the_customer_once_per_quote(order, run_due_tasks):  # noqa: F811
    notification_services.notification_create(
        organization=order.organization,
        workflow=order.workflow,
        name="Quote sent",
        trigger_event="quote.sent",
        step=None,
        timing=Timing.ON_CHANGE,
        offset_value=0,
        offset_unit="hours",
        channel=Channel.CUSTOMER_EMAIL,
        templates={"en": {"subject": "Your quote {{order.displayId}}", "body": "See it here: {{trackingUrl}}"}},
    )
    make_quote(order)  # a draft notifies nobody
    assert not Message.objects.filter(order=order).exists()
    make_quote(order, send=True)
    assert Message.objects.filter(order=order).count() == 1
    run_due_tasks()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"Your quote {order.display_id}"
    assert order.client_url in mail.outbox[0].body
    make_quote(order, send=True)  # a second quote: a second message
    assert Message.objects.filter(order=order).count() == 2
