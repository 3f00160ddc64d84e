"""The order timeline as sentences: every event type the project writes has its sentence, an
unknown type reads as a generic sentence, step activations fold into the change that caused
them, times are in the organization's zone."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from backoffice import timeline
from orders.models import OrderEvent

OSLO = ZoneInfo("Europe/Oslo")
AT = datetime.datetime(2026, 12, 10, 13, 2, tzinfo=datetime.UTC)  # 14:02 in Oslo


def event(type: str, data: dict | None = None, *, actor_type="user", label="kari", seq=1, **fields) -> OrderEvent:
    return OrderEvent(
        type=type,
        data=data or {},
        actor_type=actor_type,
        actor_label=label,
        sequence=seq,
        created_at=fields.pop("created_at", AT),
        **fields,
    )


INSTALLER = {"id": "b7c3", "name": "Oslo Elektro AS"}
BOOKING = {"startAt": "2026-12-10T07:00:00+00:00", "endAt": "2026-12-10T11:00:00+00:00", "allDay": False}


@pytest.mark.parametrize(
    ("type", "data", "label", "expected"),
    [
        ("order.created", {"source": "webform"}, "EV form", "Order created from the webform by EV form"),
        ("order.created", {"source": "api"}, "erp", "Order created through the API by erp"),
        ("order.updated", {"fields": ["email", "phoneNumber"]}, "kari", "Email, phonenumber updated by kari"),
        ("order.updated", {"fields": ["files"], "fileIds": ["1", "2"]}, "kari", "2 files added by kari"),
        ("order.updated", {"fields": ["clientUrl"]}, "kari", "The customer's order-page link was replaced by kari"),
        (
            "order.cancelled",
            {"reason": "no_capacity", "comment": "Try in spring"},
            "kari",
            "Cancelled by kari — no capacity: “Try in spring”",
        ),
        ("order.deleted", {"test": True}, "kari", "Order deleted by kari"),
        ("order.tag_added", {"tag": {"id": "1", "name": "VIP"}}, "erp", "Tag “VIP” added by erp"),
        ("order.tag_removed", {"tag": {"id": "1", "name": "VIP"}}, "erp", "Tag “VIP” removed by erp"),
        (
            "workflow.step.activated",
            {"step": {"key": "photos", "title": "Upload site photos"}},
            "",
            "Step “Upload site photos” is now current",
        ),
        (
            "workflow.step.completed",
            {"step": {"key": "photos", "title": "Upload site photos"}},
            "oslo",
            "Step “Upload site photos” completed by oslo",
        ),
        (
            "order.dispatched",
            {"strategy": "priority", "offersAtOnce": 1},
            "kari",
            "Dispatched (priority, 1 offer at once) by kari",
        ),
        (
            "order.dispatched",
            {"strategy": "preassigned", "installer": {"id": "x"}},
            "erp",
            "Dispatched to the pre-assigned installer by erp",
        ),
        (
            "offer.sent",
            {"installer": INSTALLER, "rank": 1, "expiresAt": "2026-12-11T13:00:00+00:00"},
            "kari",
            "Offer sent to Oslo Elektro AS, answer by Fri 11 Dec 2026 14:00",
        ),
        (
            "offer.declined",
            {"installer": INSTALLER, "reason": "fully booked"},
            "oslo",
            "Oslo Elektro AS declined the offer: “fully booked”",
        ),
        ("offer.expired", {"installer": INSTALLER}, "", "The offer to Oslo Elektro AS expired unanswered"),
        (
            "offer.withdrawn",
            {"count": 2, "reason": "accepted by another installer"},
            "",
            "2 open offers withdrawn (accepted by another installer)",
        ),
        ("order.assigned", {"installer": INSTALLER}, "oslo-token", "Oslo Elektro AS accepted the offer"),
        (
            "order.declined",
            {"reason": "Every offered installer declined or let the offer expire."},
            "",
            "Every offered installer declined or let the offer expire",
        ),
        (
            "order.assignee_changed",
            {"assignee": {"id": "1", "name": "Per Tekniker"}, "previous": None},
            "oslo-admin",
            "Assigned to technician Per Tekniker by oslo-admin",
        ),
        ("order.assignee_changed", {"assignee": None}, "oslo-admin", "Technician unassigned by oslo-admin"),
        ("booking.created", BOOKING, "oslo", "Booked Thu 10 Dec 2026 08:00–12:00 by oslo"),
        ("booking.updated", {**BOOKING, "previous": {}}, "oslo", "Rebooked to Thu 10 Dec 2026 08:00–12:00 by oslo"),
        (
            "booking.created",
            {**BOOKING, "allDay": True},
            "oslo",
            "Booked Thu 10 Dec 2026 (all day) by oslo",
        ),
        ("booking.cancelled", BOOKING, "oslo", "Booking of Thu 10 Dec 2026 08:00–12:00 removed by oslo"),
        (
            "booking.cancelled",
            {"reason": "order cancelled"},
            "kari",
            "Booking removed by kari (order cancelled)",
        ),
        ("order.started", {}, "oslo", "Work started by oslo"),
        (
            "order.started",
            {"startedBeforeBooking": True, "bookedStartAt": "2026-12-12T07:00:00+00:00"},
            "oslo",
            "Work started by oslo, before the booked day (Sat 12 Dec 2026)",
        ),
        (
            "order.completed",
            {"comment": "Charger installed.", "fileIds": ["f1"]},
            "oslo",
            "Completed by oslo with 1 file: “Charger installed.”",
        ),
        (
            "customer.reschedule_requested",
            {"message": "Can you come next week?"},
            "",
            "The customer asked to reschedule: “Can you come next week?”",
        ),
        ("customer.cancel_requested", {"message": ""}, "", "The customer asked to cancel"),
        ("customer.note_added", {"note": "Gate code 1234"}, "", "The customer added a note: “Gate code 1234”"),
    ],
)
def test_each_event_type_reads_as_its_sentence(type, data, label, expected):
    assert timeline.sentence(event(type, data, label=label), OSLO) == expected


def test_an_unknown_type_reads_as_a_generic_sentence():
    assert timeline.sentence(event("invoice.credit_note_sent", {"x": 1}, label="erp"), OSLO) == (
        "Invoice credit note sent by erp"
    )
    assert timeline.sentence(event("quote.accepted", {}, actor_type="system", label=""), OSLO) == (
        "Quote accepted by the system"
    )


def test_odd_data_never_raises_and_falls_back():
    assert timeline.sentence(event("offer.withdrawn", {"count": "many"}), OSLO).startswith("many open offers")
    assert timeline.sentence(event("booking.created", {"startAt": "not a time"}, label="x"), OSLO) == "Booked by x"
    assert timeline.sentence(event("order.assigned", None), OSLO) == "The installer accepted the offer"
    odd = event("order.updated", {"fields": None})
    assert timeline.sentence(odd, OSLO) == "Order updated by kari"
    broken = event("order.cancelled")
    broken.data = ["not", "a", "dict"]
    assert timeline.sentence(broken, OSLO) == "Order cancelled by kari"


def _types_written_by_the_project() -> set[str]:
    """Every event-type-shaped string literal in the apps' code (tests and migrations aside):
    what services pass to the timeline, and the triggers and webhooks that name them. File
    names (`booking.ics`, `offer.pdf`) are not events."""
    base = Path(settings.BASE_DIR)
    pattern = re.compile(r"""["']((?:order|offer|booking|workflow|customer|quote)\.[a-z_]+(?:\.[a-z_]+)?)["']""")
    found: set[str] = set()
    for app in (
        "orders",
        "dispatch",
        "partners",
        "portal",
        "notifications",
        "webforms",
        "webhooks",
        "pricing",
        "invoicing",
    ):
        for path in (base / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            found.update(pattern.findall(path.read_text()))
    return {name for name in found if name.rsplit(".", 1)[-1] not in ("ics", "pdf", "html", "txt")}


def test_every_event_type_the_project_writes_has_a_sentence():
    written = _types_written_by_the_project()
    assert {
        "order.created",
        "offer.sent",
        "booking.created",
        "customer.note_added",
        "quote.sent",
        "order.invoiced",
    } <= written  # the scan works
    assert written - set(timeline.SENTENCES) == set()


def test_step_activations_fold_into_the_change_that_caused_them():
    events = [
        event("order.created", {"source": "api"}, seq=1, to_status=0),
        event("workflow.step.activated", {"step": {"key": "new", "title": "Review"}}, seq=2),
        event("order.dispatched", {"strategy": "priority"}, seq=3, from_status=0, to_status=1),
        event("workflow.step.activated", {"step": {"key": "find", "title": "Find an installer"}}, seq=4),
        event("offer.sent", {"installer": INSTALLER}, seq=5),
    ]
    rows = timeline.timeline_rows(reversed(events), OSLO)
    assert [r.event.sequence for r in rows] == [5, 3, 1]  # newest first, no activation row
    assert [text for _, text in rows[1].folded] == ["Step “Find an installer” is now current"]
    assert [text for _, text in rows[2].folded] == ["Step “Review” is now current"]
    assert rows[1].status == "created → dispatching" and rows[0].status == ""
    assert rows[0].time == "14:02" and rows[0].day == "Thu 10 Dec 2026" and "Europe/Oslo" in rows[0].when
    assert '"find"' in rows[1].folded_raw[0]["raw"] and '"type": "order.dispatched"' in rows[1].raw


def test_an_activation_without_an_event_before_it_stands_alone():
    rows = timeline.timeline_rows([event("workflow.step.activated", {"step": {"title": "Review"}}, seq=7)], OSLO)
    assert len(rows) == 1 and rows[0].text == "Step “Review” is now current"


def test_times_are_in_the_zone_given():
    late = event("order.started", {}, created_at=datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC))
    [row] = timeline.timeline_rows([late], OSLO)
    assert (row.day, row.time) == ("Fri 1 Jan 2027", "00:30")
    [row] = timeline.timeline_rows([late], ZoneInfo("UTC"))
    assert (row.day, row.time) == ("Thu 31 Dec 2026", "23:30")


def test_priced_work_reads_as_sentences_with_the_payers_amount():
    quote = {
        "id": "q1",
        "status": "sent",
        "payer": "customer",
        "currency": "NOK",
        "net": 1000000,
        "vat": 250000,
        "gross": 1250000,
    }
    assert timeline.sentence(event("quote.sent", {"quote": quote}, label="kari"), OSLO) == (
        "Quote sent to the customer by kari — 12 500.00 NOK"
    )
    accepted = {"quote": {**quote, "status": "accepted"}, "decidedVia": "customer"}
    assert timeline.sentence(event("quote.accepted", accepted, label="x"), OSLO) == (
        "Quote accepted by the customer — 12 500.00 NOK"
    )
    on_behalf = {"quote": quote, "decidedVia": "operator_on_behalf"}
    assert timeline.sentence(event("quote.rejected", on_behalf, label="kari"), OSLO) == (
        "Quote rejected by kari on the customer's word — 12 500.00 NOK"
    )
    withdrawn = {"quote": quote, "reason": "another quote was accepted"}
    assert timeline.sentence(event("quote.withdrawn", withdrawn, label="system"), OSLO) == (
        "Quote withdrawn by system (another quote was accepted) — 12 500.00 NOK"
    )
    invoiced = {"number": 7, "currency": "NOK", "gross": 99950, "net": 79960, "vat": 19990}
    assert timeline.sentence(event("order.invoiced", invoiced, label="kari"), OSLO) == (
        "Invoiced as no. 7 by kari — 999.50 NOK"
    )
    credited = {"number": 8, "invoiceNumber": 7, "currency": "NOK", "gross": -99950}
    assert timeline.sentence(event("order.credited", credited, label="kari"), OSLO) == (
        "Credit note no. 8 for invoice no. 7 by kari — -999.50 NOK"
    )
    extra = {"lineId": "l1", "description": "Extra cable", "approval": "pending_approval"}
    assert timeline.sentence(event("order.line_added", extra, label="Oslo Elektro AS"), OSLO) == (
        "Line added: “Extra cable” (an extra, waiting for approval) by Oslo Elektro AS"
    )
    assert timeline.sentence(event("order.lines_recorded", {"lines": 3}), OSLO).startswith("3 delivered lines recorded")
    # Odd data never raises: no amount, no number.
    assert timeline.sentence(event("order.invoiced", {"gross": "lots"}, label="kari"), OSLO) == ("Invoiced by kari")
