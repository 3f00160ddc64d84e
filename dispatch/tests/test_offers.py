"""Sequential offers: a decline and an expiry each send the next offer; when every candidate is
used up the order is declined, and dispatching again works. Expiry runs in the real worker."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from dispatch import services
from dispatch.models import Offer
from dispatch.tasks import expire_offer
from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from installer.tasks import run_after_for
from orders.models import OrderEvent, OrderStatus
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def trio(org_a):
    org_a.routing_strategy = "priority"
    org_a.offer_deadline_hours = 24
    org_a.save()
    out = {}
    for name, priority in (("Xray", 10), ("Yankee", 20), ("Zulu", 30)):
        installer = make_installer(name)
        make_partner(org_a, installer, priority=priority)
        out[name] = api_client_for(installer, f"{name.lower()}-app")
    return out


def offers_of(order_id):
    return list(
        Offer.objects.filter(order_id=order_id).order_by("sent_at", "rank").values_list("installer__name", "status")
    )


def status_of(order_id):
    from orders.models import Order

    return Order.objects.get(pk=order_id).status


def test_decline_then_expiry_then_exhausted_then_dispatch_again(operator_a, trio, clock, run_due_tasks):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    body = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()
    first = body["offers"][0]
    assert first["installer"]["name"] == "Xray"
    # The expiry task is queued for the offer's deadline (rounded up to the second).
    task = DBTaskResult.objects.get()
    assert task.task_path == "dispatch.tasks.expire_offer"
    assert task.args_kwargs == {"args": [first["id"]], "kwargs": {}}
    assert task.run_after == run_after_for(Offer.objects.get(pk=first["id"]).expires_at)
    shown = datetime.datetime.fromisoformat(first["expiresAt"])
    assert shown <= task.run_after <= shown + datetime.timedelta(seconds=1)

    # 1. Xray declines: Yankee gets the next offer.
    response = trio["Xray"].post(f"/api/v1/offers/{first['id']}/decline", {"reason": "fully booked"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined" and response.json()["declineReason"] == "fully booked"
    assert response.json()["order"] is None  # a declined offer no longer shows the order
    assert offers_of(order_id) == [("Xray", "declined"), ("Yankee", "sent")]
    assert trio["Xray"].get(f"/api/v1/order/{order_id}").status_code == 404

    # Nothing is due yet: the worker runs nothing.
    assert run_due_tasks() == 0
    assert offers_of(order_id) == [("Xray", "declined"), ("Yankee", "sent")]

    # 2. A day later Yankee has not answered: its offer expires (Xray's task runs too, harmlessly).
    clock.advance(hours=24, minutes=1)
    assert run_due_tasks() == 2
    assert offers_of(order_id) == [("Xray", "declined"), ("Yankee", "expired"), ("Zulu", "sent")]
    assert status_of(order_id) == OrderStatus.DISPATCHING

    # 3. Zulu lets it expire too: nobody is left, the order is declined.
    clock.advance(hours=24, minutes=1)
    assert run_due_tasks() == 1
    assert offers_of(order_id) == [("Xray", "declined"), ("Yankee", "expired"), ("Zulu", "expired")]
    order = operator_a.get(f"/api/v1/order/{order_id}").json()
    assert order["statusName"] == "declined" and "dispatch" in order["allowedActions"]
    events = operator_a.get(f"/api/v1/order/{order_id}/events").json()["values"]
    tail = [(e["type"], e["actor"]["label"]) for e in events if e["type"] != "workflow.step.activated"][-5:]
    assert tail == [
        ("offer.sent", "dispatch fall-back"),
        ("offer.expired", "offer expiry"),
        ("offer.sent", "offer expiry"),
        ("offer.expired", "offer expiry"),
        ("order.declined", "offer expiry"),
    ]
    declined = [e for e in events if e["type"] == "order.declined"]
    assert len(declined) == 1 and declined[0]["fromStatus"] == 1 and declined[0]["toStatus"] == 5
    assert declined[0]["actor"]["type"] == "system"

    # A late or repeated expiry changes nothing.
    count = OrderEvent.objects.filter(order_id=order_id).count()
    for offer_id in Offer.objects.filter(order_id=order_id).values_list("pk", flat=True):
        expire_offer.call(str(offer_id))
    call_command("expire_offers", stdout=io.StringIO())
    assert OrderEvent.objects.filter(order_id=order_id).count() == count

    # 4. Dispatching again starts a new round with everyone.
    response = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["statusName"] == "dispatching"
    assert [(o["installer"]["name"], o["status"]) for o in response.json()["offers"]][-1] == ("Xray", "sent")


def test_expired_offer_in_the_sweep_falls_back(operator_a, trio, clock):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    DBTaskResult.objects.all().delete()  # the task was lost: the sweep catches it
    clock.advance(hours=25)
    call_command("expire_offers", stdout=io.StringIO())
    assert offers_of(order_id) == [("Xray", "expired"), ("Yankee", "sent")]


def test_the_expiry_task_is_queued_for_the_deadline_rounded_up_to_the_second(operator_a, trio):
    # RQ truncates a deferred job's time to the second: queued for the deadline itself, the task
    # could start before it and leave the offer open until the sweep.
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    offer = Offer.objects.get(order_id=order_id)
    (task,) = DBTaskResult.objects.filter(task_path="dispatch.tasks.expire_offer")
    assert offer.expires_at.microsecond  # a deadline with a fraction of a second
    assert task.run_after == offer.expires_at.replace(microsecond=0) + datetime.timedelta(seconds=1)
    whole = offer.expires_at.replace(microsecond=0)
    assert run_after_for(whole) == whole


def test_an_expiry_task_that_starts_before_the_deadline_queues_itself_again(operator_a, trio):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    offer = Offer.objects.get(order_id=order_id)
    DBTaskResult.objects.all().delete()
    assert expire_offer.call(str(offer.pk)) == "sent"  # early: left open...
    (task,) = DBTaskResult.objects.filter(task_path="dispatch.tasks.expire_offer", status="READY")
    assert task.args_kwargs["args"] == [str(offer.pk)]  # ...and queued again for its deadline
    assert task.run_after == run_after_for(offer.expires_at)


def test_an_expiry_task_after_the_deadline_queues_nothing_more(operator_a, trio, clock):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    offer = Offer.objects.get(order_id=order_id)
    DBTaskResult.objects.all().delete()
    clock.advance(hours=25)
    assert expire_offer.call(str(offer.pk)) == "expired"
    # the one task queued is the next offer's, none for the expired one
    assert [t.args_kwargs["args"] for t in DBTaskResult.objects.filter(task_path="dispatch.tasks.expire_offer")] == [
        [str(Offer.objects.get(order_id=order_id, status="sent").pk)]
    ]


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_an_answer_past_the_deadline_expires_the_offer(operator_a, trio, clock, run_due_tasks, action):
    """The worker has not run: the offer is still `sent` in its row, but past its deadline it
    is expired for every action, in that transaction, as the worker would have done it."""
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    offer_id = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"][0]["id"]
    clock.advance(hours=24, minutes=1)
    assert offers_of(order_id) == [("Xray", "sent")]

    response = trio["Xray"].post(f"/api/v1/offers/{offer_id}/{action}", {"reason": "too late"}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["statusCode"] == 409 and body["offerStatus"] == "expired"
    assert body["message"] == "The offer has expired."
    # Expired and fallen back to the next candidate, committed with the refusal.
    assert offers_of(order_id) == [("Xray", "expired"), ("Yankee", "sent")]
    assert Offer.objects.get(pk=offer_id).decline_reason == ""
    assert status_of(order_id) == OrderStatus.DISPATCHING
    events = operator_a.get(f"/api/v1/order/{order_id}/events").json()["values"]
    tail = [(e["type"], e["actor"]["label"], e["data"].get("installer", {}).get("name")) for e in events][-2:]
    assert tail == [("offer.expired", "offer expiry", "Xray"), ("offer.sent", "offer expiry", "Yankee")]
    assert not [e for e in events if e["type"] in ("offer.declined", "order.assigned")]

    # The expiry task runs late and changes nothing; a second answer is refused the same way.
    count = OrderEvent.objects.filter(order_id=order_id).count()
    run_due_tasks()
    again = trio["Xray"].post(f"/api/v1/offers/{offer_id}/{action}", {}, format="json")
    assert again.status_code == 409 and again.json()["offerStatus"] == "expired"
    assert OrderEvent.objects.filter(order_id=order_id).count() == count
    assert offers_of(order_id) == [("Xray", "expired"), ("Yankee", "sent")]


def test_a_decline_expires_the_other_offers_past_their_deadline(operator_a, org_a, trio, clock):
    """Two offers at once: one is declined after the other's deadline passed. The other counts
    as expired, not open, so the next candidate gets an offer."""
    org_a.offers_at_once = 2
    org_a.save()
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    offers = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"]
    Offer.objects.filter(pk=offers[0]["id"]).update(expires_at=clock.now() + datetime.timedelta(hours=48))
    clock.advance(hours=25)  # Yankee's deadline passed; Xray's did not
    response = trio["Xray"].post(f"/api/v1/offers/{offers[0]['id']}/decline", {}, format="json")
    assert response.status_code == 200, response.content
    assert offers_of(order_id) == [("Xray", "declined"), ("Yankee", "expired"), ("Zulu", "sent")]
    types = [e.type for e in OrderEvent.objects.filter(order_id=order_id).order_by("sequence")]
    assert types[-3:] == ["offer.declined", "offer.expired", "offer.sent"]


def test_broadcast_decline_keeps_n_offers_open(operator_a, org_a, trio):
    org_a.offers_at_once = 2
    org_a.save()
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    offers = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"]
    assert [(o["installer"]["name"], o["status"]) for o in offers] == [("Xray", "sent"), ("Yankee", "sent")]
    trio["Yankee"].post(f"/api/v1/offers/{offers[1]['id']}/decline", {}, format="json")
    assert sorted(offers_of(order_id)) == [("Xray", "sent"), ("Yankee", "declined"), ("Zulu", "sent")]
    # Xray and Zulu decline: nobody left, declined.
    for name in ("Xray", "Zulu"):
        offer = Offer.objects.get(order_id=order_id, installer__name=name)
        trio[name].post(f"/api/v1/offers/{offer.pk}/decline", {}, format="json")
    assert status_of(order_id) == OrderStatus.DECLINED


def test_without_fallback_a_decline_declines_the_order(operator_a, org_a, trio):
    org_a.fallback_enabled = False
    org_a.save()
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    offer = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"][0]
    trio["Xray"].post(f"/api/v1/offers/{offer['id']}/decline", {}, format="json")
    assert offers_of(order_id) == [("Xray", "declined")]
    assert status_of(order_id) == OrderStatus.DECLINED


def test_auto_dispatch_on_create(operator_a, org_a, trio):
    org_a.auto_dispatch = True
    org_a.save()
    body = operator_a.post("/api/v1/order", order_payload(), format="json").json()
    assert body["statusName"] == "created"  # the answer is the committed create
    assert status_of(body["id"]) == OrderStatus.DISPATCHING
    assert offers_of(body["id"]) == [("Xray", "sent")]
    event = OrderEvent.objects.get(order_id=body["id"], type="order.dispatched")
    assert (event.actor_type, event.actor_label) == ("system", "auto-dispatch")


def test_auto_dispatch_failure_does_not_break_the_create(operator_a, org_a, trio, monkeypatch):
    org_a.auto_dispatch = True
    org_a.save()

    def boom(**kwargs):
        raise RuntimeError("routing exploded")

    monkeypatch.setattr(services, "order_dispatch", boom)
    response = operator_a.post("/api/v1/order", order_payload(), format="json")
    assert response.status_code == 201
    assert status_of(response.json()["id"]) == OrderStatus.CREATED


def test_auto_dispatch_without_cover_leaves_order_created(operator_a, org_a, trio):
    org_a.auto_dispatch = True
    org_a.save()
    response = operator_a.post("/api/v1/order", order_payload(postalCode="9990"), format="json")
    assert response.status_code == 201
    assert status_of(response.json()["id"]) == OrderStatus.CREATED
    assert offers_of(response.json()["id"]) == []


OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Friday 16:00 + 24 h, weekend skipped -> Monday 16:00
        (datetime.datetime(2030, 5, 3, 16, 0, tzinfo=OSLO), 24, datetime.datetime(2030, 5, 6, 16, 0, tzinfo=OSLO)),
        # Saturday noon + 2 h -> Monday 02:00
        (datetime.datetime(2030, 5, 4, 12, 0, tzinfo=OSLO), 2, datetime.datetime(2030, 5, 6, 2, 0, tzinfo=OSLO)),
        # Monday 09:00 + 48 h stays within the week -> Wednesday 09:00
        (datetime.datetime(2030, 5, 6, 9, 0, tzinfo=OSLO), 48, datetime.datetime(2030, 5, 8, 9, 0, tzinfo=OSLO)),
        # Thursday 12:00 + 72 h -> 36 h until Saturday, 36 h more from Monday -> Tuesday 12:00
        (datetime.datetime(2030, 5, 2, 12, 0, tzinfo=OSLO), 72, datetime.datetime(2030, 5, 7, 12, 0, tzinfo=OSLO)),
    ],
)
def test_deadline_skips_weekends(start, hours, expected):
    got = services.offer_deadline(start, hours, skip_weekends=True, time_zone="Europe/Oslo")
    assert got == expected
    assert services.offer_deadline(start, hours) == start + datetime.timedelta(hours=hours)
    assert services.offer_deadline(start, 0, skip_weekends=True) is None


@pytest.mark.parametrize("action", ["cancel", "redispatch"])
def test_a_cancel_or_redispatch_past_the_deadline_expires_the_offer(operator_a, trio, clock, action):
    """The worker has not run: an open offer past its deadline is expired, not withdrawn, by a
    cancel or a re-dispatch too (`offer.expired` on the timeline, no `offer.withdrawn` for it)."""
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    clock.advance(hours=24, minutes=1)
    assert offers_of(order_id) == [("Xray", "sent")]

    if action == "cancel":
        response = operator_a.post(f"/api/v1/order/{order_id}/cancel", {}, format="json")
    else:
        response = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    assert response.status_code == 200, response.content
    assert offers_of(order_id)[0] == ("Xray", "expired")
    events = [e["type"] for e in operator_a.get(f"/api/v1/order/{order_id}/events").json()["values"]]
    assert "offer.expired" in events
    assert "offer.withdrawn" not in events
