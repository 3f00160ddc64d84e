"""The state machine: the table over all 49 pairs, the transition service, and cancel."""

from __future__ import annotations

import pytest
from django.db import transaction

from orders import services, transitions
from orders.actors import Actor
from orders.exceptions import InvalidTransition, OrderValidationError, StepRequired
from orders.models import Order, OrderEvent, OrderStatus, WorkflowStep
from orders.tests.factories import create_order
from orders.tests.helpers import move_to

C, D, SC, IP, CO, DE, CA = range(7)

# EXPECTED[from][to]: 1 = allowed. Written out by hand from API.md "Lifecycle" so that a change
# to the table has to change this matrix too.
EXPECTED = {
    #     C  D  SC IP CO DE CA
    C: [0, 1, 0, 0, 0, 0, 1],
    D: [0, 1, 1, 0, 0, 1, 1],
    SC: [0, 1, 1, 1, 0, 0, 1],
    IP: [0, 0, 0, 0, 1, 0, 1],
    CO: [0, 0, 0, 0, 0, 0, 0],
    DE: [0, 1, 0, 0, 0, 0, 1],
    CA: [0, 0, 0, 0, 0, 0, 0],
}

PAIRS = [(a, b) for a in range(7) for b in range(7)]


def test_matrix_covers_every_status():
    assert set(EXPECTED) == {s.value for s in OrderStatus}
    assert set(transitions.ALLOWED) == {s.value for s in OrderStatus}


@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_transition_table(from_status, to_status):
    assert transitions.can_transition(from_status, to_status) is bool(EXPECTED[from_status][to_status])


def test_unknown_status_cannot_move():
    assert transitions.can_transition(7, 0) is False
    assert transitions.can_transition(0, 7) is False


def test_cancellable_and_terminal():
    assert {C, D, SC, IP, DE} == transitions.CANCELLABLE
    assert {CO, CA} == transitions.TERMINAL


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_transition_service_over_every_pair(org_a, from_status, to_status):
    """The service follows the table: an allowed move saves the status and writes one event;
    a forbidden one raises InvalidTransition (409) and changes nothing."""
    order = move_to(create_order(org_a), from_status)
    events_before = OrderEvent.objects.filter(order=order).count()
    allowed = bool(EXPECTED[from_status][to_status])
    try:
        with transaction.atomic():
            locked = services.lock_order(order.pk, organization=org_a)
            pending = services.PendingEvents(locked)
            services.transition(
                locked, to_status, actor=Actor.system("t"), event_type="test.move", pending=pending, enforce_steps=False
            )
            services.finish_change(locked, pending)
    except InvalidTransition as exc:
        assert not allowed
        from installer.api.exceptions import status_of

        assert status_of(exc) == 409
        order.refresh_from_db()
        assert order.status == from_status
        assert OrderEvent.objects.filter(order=order).count() == events_before
        return
    assert allowed
    order.refresh_from_db()
    assert order.status == to_status
    moves = OrderEvent.objects.filter(order=order, type="test.move")
    assert [(e.from_status, e.to_status) for e in moves] == [(from_status, to_status)]


@pytest.mark.django_db
def test_required_step_blocks_leaving_but_not_cancel(org_a):
    order = create_order(org_a)
    WorkflowStep.objects.filter(workflow=order.workflow, key="received").update(required=True)
    actor = Actor.system("t")
    with pytest.raises(StepRequired) as info, transaction.atomic():
        locked = services.lock_order(order.pk)
        services.transition(locked, D, actor=actor, event_type="x", pending=services.PendingEvents(locked))
    assert info.value.extra == {"stepKey": "received"}
    services.order_cancel(order_id=order.pk, organization=org_a, actor=actor)
    assert Order.objects.get(pk=order.pk).status == CA


@pytest.mark.django_db
def test_entering_a_status_activates_its_first_step(org_a):
    order = move_to(create_order(org_a), SC)
    assert order.current_step.key == "appointment"
    types = list(OrderEvent.objects.filter(order=order).values_list("type", flat=True))
    assert types.count("workflow.step.activated") == 3  # created, dispatching, scheduled
    sequences = list(OrderEvent.objects.filter(order=order).values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


# ---- cancel ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(transitions.CANCELLABLE))
def test_cancel_from_each_allowed_status(operator_a, status):
    order = move_to(create_order(operator_a.org), status)
    before = OrderEvent.objects.filter(order=order, type="order.cancelled").count()
    response = operator_a.post(
        f"/api/v1/order/{order.pk}/cancel", {"reason": "no_capacity", "comment": "Sorry"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == CA and body["statusName"] == "cancelled"
    assert body["cancelReason"] == "no_capacity"
    assert "cancel" not in body["allowedActions"]
    cancelled = OrderEvent.objects.filter(order=order, type="order.cancelled")
    assert before == 0 and cancelled.count() == 1
    event = cancelled.get()
    assert (event.from_status, event.to_status) == (status, CA)
    assert event.data == {"reason": "no_capacity", "comment": "Sorry"}
    assert event.actor_type == "api_token" and event.actor_label == "erp-a"
    order.refresh_from_db()
    assert order.cancel_comment == "Sorry"


@pytest.mark.django_db
def test_cancel_without_body_defaults_reason_other(operator_a):
    order = create_order(operator_a.org)
    response = operator_a.post(f"/api/v1/order/{order.pk}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["cancelReason"] == "other"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [CO, CA])
def test_cancel_terminal_is_409_and_changes_nothing(operator_a, status):
    order = move_to(create_order(operator_a.org), status)
    snapshot = Order.objects.filter(pk=order.pk).values().get()
    events = list(OrderEvent.objects.filter(order=order).values_list("id", flat=True))
    response = operator_a.post(f"/api/v1/order/{order.pk}/cancel", {"reason": "other"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "Conflict" and body["statusCode"] == 409
    assert body["message"]
    assert Order.objects.filter(pk=order.pk).values().get() == snapshot
    assert list(OrderEvent.objects.filter(order=order).values_list("id", flat=True)) == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code", "comment"),
    [
        ({"reason": "Customer is not responding"}, "customer_not_responding", "Customer is not responding"),
        ({"reason": "The customer rejected the offer."}, "customer_rejected_offer", "The customer rejected the offer."),
        ({"reason": "No capacity", "comment": "Summer"}, "no_capacity", "No capacity\nSummer"),
        ({"reason": "  Moved abroad  "}, "other", "Moved abroad"),
        ({"reason": "customer_not_responding", "comment": "Tried 3 times"}, "customer_not_responding", "Tried 3 times"),
    ],
)
def test_cancel_reason_as_a_sentence(operator_a, body, code, comment):
    order = create_order(operator_a.org)
    response = operator_a.post(f"/api/v1/order/{order.pk}/cancel", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["cancelReason"] == code
    order.refresh_from_db()
    assert (order.status, order.cancel_reason, order.cancel_comment) == (CA, code, comment)
    event = OrderEvent.objects.get(order=order, type="order.cancelled")
    assert event.data == {"reason": code, "comment": comment}


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", ["other"], {"code": "other"}, "x" * 501])
def test_cancel_bad_reason_is_400(operator_a, reason):
    order = create_order(operator_a.org)
    response = operator_a.post(f"/api/v1/order/{order.pk}/cancel", {"reason": reason}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["details"]
    order.refresh_from_db()
    assert order.status == C and order.cancel_reason is None
    assert not OrderEvent.objects.filter(order=order, type="order.cancelled").exists()


@pytest.mark.django_db
def test_cancel_service_refuses_a_blank_reason(operator_a):
    order = create_order(operator_a.org)
    with pytest.raises(OrderValidationError):
        services.order_cancel(order_id=order.pk, organization=operator_a.org, actor=Actor.system(), reason=" ")
    order.refresh_from_db()
    assert order.status == C


@pytest.mark.django_db
def test_the_cancel_hook_runs_inside_the_transaction(operator_a, monkeypatch):
    calls = []

    def hook(*, order, actor, pending):
        calls.append((order.status, actor.label))
        pending.add("hook.ran", actor, from_status=order.status, to_status=order.status)

    from orders import hooks

    monkeypatch.setattr(hooks.order_cancelling, "function", hook)
    order = create_order(operator_a.org)
    assert operator_a.post(f"/api/v1/order/{order.pk}/cancel").status_code == 200
    assert calls == [(CA, "erp-a")]
    assert OrderEvent.objects.filter(order=order, type="hook.ran").count() == 1
