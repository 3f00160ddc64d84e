"""Jobs list and job page: scoping, search and filters, constant queries, and every action's
happy path and refusal as a form error (never a 500)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from dispatch.models import Booking
from orders.models import ActorType, File, Order, OrderEvent, OrderStatus, WorkflowStep
from partners.tests.conftest import OSLO, assigned, booked, member, offered, signed_in, started

pytestmark = pytest.mark.django_db


def _png(name: str = "done.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _tomorrow_at(hour: int) -> datetime.datetime:
    day = timezone.now().astimezone(OSLO).date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=OSLO)


# --------------------------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------------------------


def test_the_list_shows_only_the_companys_jobs(partner, router, company, rival):
    own = assigned(router, company, contact_person_name="Per Eget")
    other = assigned(router, rival, contact_person_name="Kari Annen")
    offer_only, _ = offered(router, company)
    body = partner.get("/partner/jobs/").content.decode()
    assert own.display_id in body and "Per Eget" in body
    assert other.display_id not in body and "Kari Annen" not in body
    assert offer_only.display_id not in body


def test_search_by_display_id_customer_city_and_street(partner, router, company):
    first = assigned(router, company, contact_person_name="Ingrid Berg", address="Storgata 1", city="Oslo")
    second = assigned(router, company, contact_person_name="Lars Dal", address="Fjordveien 9", city="Drammen")

    def found(q: str) -> set[str]:
        body = partner.get("/partner/jobs/", {"q": q}).content.decode()
        return {o.display_id for o in (first, second) if f">{o.display_id}<" in body}

    assert found(first.display_id.lower()) == {first.display_id}
    assert found("ingrid") == {first.display_id}
    assert found("drammen") == {second.display_id}
    assert found("fjordveien") == {second.display_id}
    assert found("nobody-here") == set()


def test_status_tabs_and_booking_dates_filter_the_list(partner, router, company):
    waiting = assigned(router, company)
    soon = booked(router, company, start=_tomorrow_at(9))
    later = booked(router, company, start=_tomorrow_at(9) + datetime.timedelta(days=10))

    def listed(**params) -> set[str]:
        body = partner.get("/partner/jobs/", params).content.decode()
        return {o.display_id for o in (waiting, soon, later) if f">{o.display_id}<" in body}

    assert listed(status=OrderStatus.DISPATCHING) == {waiting.display_id}
    assert listed(status=OrderStatus.SCHEDULED) == {soon.display_id, later.display_id}
    tomorrow = _tomorrow_at(0).date().isoformat()
    assert listed(booked_from=tomorrow, booked_to=tomorrow) == {soon.display_id}
    assert listed(booked_from=(_tomorrow_at(0).date() + datetime.timedelta(days=2)).isoformat()) == {later.display_id}


def test_bad_filters_are_form_errors(partner, router, company):
    assigned(router, company)
    response = partner.get("/partner/jobs/", {"status": "99", "booked_from": "2030-13-45"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="error-summary"' in body and "Select a valid choice" in body and "Enter a valid date" in body
    response = partner.get("/partner/jobs/", {"booked_from": "2030-05-02", "booked_to": "2030-05-01"})
    assert response.status_code == 400 and "before the start date" in response.content.decode()
    assert partner.get("/partner/jobs/", {"page": "x"}).status_code == 200


@pytest.mark.parametrize("count", [1, 50])
def test_the_list_costs_the_same_queries_for_1_and_50_jobs(
    partner, router, company, count, django_assert_max_num_queries
):
    for i in range(count):
        booked(router, company, start=_tomorrow_at(6) + datetime.timedelta(hours=3 * i))
    # Session, user, memberships, the technician filter's members, count, the page with
    # bookings joined, its tags, files and open offers, and the messages: the same 12 for 1
    # job and for 50.
    with django_assert_max_num_queries(12):
        response = partner.get("/partner/jobs/", {"status": OrderStatus.SCHEDULED, "q": "oslo"})
    assert response.status_code == 200
    assert response.content.decode().count("Booked:") == min(count, 25)


# --------------------------------------------------------------------------------------------
# The job page
# --------------------------------------------------------------------------------------------


def test_the_job_page_shows_customer_map_link_steps_and_timeline(partner, router, company):
    order = assigned(router, company, contact_person_name="Ola Kunde", latitude=59.91, longitude=10.75)
    body = partner.get(f"/partner/jobs/{order.pk}/").content.decode()
    assert "Ola Kunde" in body and "+4722123456" in body and "Karl Johans gate 1" in body
    assert 'href="geo:59.91,10.75?q=59.91,10.75(Karl%20Johans%20gate%201)"' in body
    assert "https://www.openstreetmap.org/search?query=Karl%20Johans%20gate%201%2C%200154%20Oslo%2C%20NO" in body
    assert 'id="timeline"' in body and "The system sent the order to installers." in body
    assert "accepted the offer; the job is yours." in body


def test_the_checklist_ticks_the_steps_the_job_has_passed(partner, router, company):
    """An accepted job (dispatching with its installer) is past the created step, at the
    dispatching one, before the rest: only the first is ticked."""
    import re

    order = assigned(router, company)
    body = partner.get(f"/partner/jobs/{order.pk}/").content.decode()
    checklist = body[body.index('id="steps"') : body.index("</ul>", body.index('id="steps"'))]
    items = re.findall(r"<li.*?</li>", checklist, flags=re.S)
    ticked = ["☑" in item or "checked" in item for item in items]
    assert ticked[0] is True and not any(ticked[1:]), items


def test_another_companys_job_and_unknown_ids_are_404(partner, router, company, rival):
    other = assigned(router, rival)
    offer_only, _ = offered(router, company)
    for url in (
        f"/partner/jobs/{other.pk}/",
        f"/partner/jobs/{offer_only.pk}/",
        "/partner/jobs/not-a-uuid/",
        f"/partner/jobs/{router.pk}/",
    ):
        assert partner.get(url).status_code == 404, url
    for action in ("book", "unbook", "start", "complete", "steps"):
        assert partner.post(f"/partner/jobs/{other.pk}/{action}/", {}).status_code == 404, action
    assert Order.objects.get(pk=other.pk).status == OrderStatus.DISPATCHING


def test_booking_reads_the_times_in_the_partners_zone(partner, partner_user, router, company):
    order = assigned(router, company)
    day = _tomorrow_at(0).date()
    response = partner.post(
        f"/partner/jobs/{order.pk}/book/", {"date": day.isoformat(), "start": "10:00", "end": "12:30"}
    )
    assert response.status_code == 302
    booking = Booking.objects.get(order=order)
    assert booking.start_at == datetime.datetime.combine(day, datetime.time(10), tzinfo=OSLO)
    assert booking.end_at == datetime.datetime.combine(day, datetime.time(12, 30), tzinfo=OSLO)
    event = OrderEvent.objects.get(order=order, type="booking.created")
    assert event.actor_type == ActorType.USER and event.actor_id == str(partner_user.pk)
    page = partner.get(f"/partner/jobs/{order.pk}/").content.decode()
    assert f"{day.isoformat()} 10:00" in page and "Job booked." in page

    # Reschedule.
    response = partner.post(
        f"/partner/jobs/{order.pk}/book/", {"date": day.isoformat(), "start": "14:00", "end": "15:00"}
    )
    assert response.status_code == 302
    assert OrderEvent.objects.filter(order=order, type="booking.updated").count() == 1


def test_an_overlapping_booking_is_a_form_error(partner, router, company):
    booked(router, company, start=_tomorrow_at(9))
    order = assigned(router, company)
    day = _tomorrow_at(0).date().isoformat()
    response = partner.post(f"/partner/jobs/{order.pk}/book/", {"date": day, "start": "10:00", "end": "11:00"})
    assert response.status_code == 409
    assert "You already have a booking at that time." in response.content.decode()
    assert not Booking.objects.filter(order=order).exists()


def test_bad_booking_input_is_a_form_error(partner, router, company):
    order = assigned(router, company)
    response = partner.post(f"/partner/jobs/{order.pk}/book/", {"date": "2030-02-30", "start": "25:00", "end": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid date." in body and "Enter a valid time." in body
    response = partner.post(f"/partner/jobs/{order.pk}/book/", {"date": "2030-06-01", "start": "12:00", "end": "11:00"})
    assert response.status_code == 400 and "The end must be after the start." in response.content.decode()
    assert not Booking.objects.filter(order=order).exists()


def test_wrong_status_is_a_form_error(partner, router, company):
    order = assigned(router, company)
    response = partner.post(f"/partner/jobs/{order.pk}/start/")
    assert response.status_code == 409 and "does not allow this now" in response.content.decode()
    response = partner.post(f"/partner/jobs/{order.pk}/complete/", {"comment": "done"})
    assert response.status_code == 409
    response = partner.post(f"/partner/jobs/{order.pk}/unbook/")
    assert response.status_code == 409
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DISPATCHING


def test_unbook_returns_the_job_to_booking(partner, router, company):
    order = booked(router, company)
    assert partner.post(f"/partner/jobs/{order.pk}/unbook/").status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPATCHING and order.installer_id == company.pk
    assert not Booking.objects.filter(order=order).exists()


def test_starting_before_the_booked_day_warns(partner, router, company):
    order = booked(router, company, start=_tomorrow_at(9) + datetime.timedelta(days=2))
    response = partner.post(f"/partner/jobs/{order.pk}/start/", follow=True)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS
    body = response.content.decode()
    assert "Work started." in body and "You started before the booked day" in body


def test_starting_on_the_booked_day_does_not_warn(partner, router, company):
    order = booked(router, company)
    body = partner.post(f"/partner/jobs/{order.pk}/start/", follow=True).content.decode()
    assert "Work started." in body and "before the booked day" not in body


def test_complete_with_a_comment_and_photos(partner, router, company):
    order = started(router, company)
    response = partner.post(
        f"/partner/jobs/{order.pk}/complete/",
        {"comment": "Installed and tested.", "photos": [_png("a.png"), _png("b.png")]},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    files = list(File.objects.filter(order=order).order_by("name"))
    assert [(f.name, f.content_type, f.organization_id) for f in files] == [
        ("a.png", "image/png", company.pk),
        ("b.png", "image/png", company.pk),
    ]
    event = OrderEvent.objects.get(order=order, type="order.completed")
    assert event.data["comment"] == "Installed and tested." and len(event.data["fileIds"]) == 2
    page = partner.get(f"/partner/jobs/{order.pk}/").content.decode()
    assert "completed the job: Installed and tested." in page
    download = partner.get(f"/partner/jobs/{order.pk}/files/{files[0].pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


def test_a_bad_file_is_a_form_error_and_nothing_changes(partner, router, company):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = started(router, company)
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 this is an executable", content_type="image/png")
    response = partner.post(f"/partner/jobs/{order.pk}/complete/", {"comment": "x", "photos": [_png(), fake]})
    assert response.status_code == 415
    assert "This type of file is not accepted." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS
    assert not File.objects.exists()  # the good photo uploaded before it is removed again


def test_a_too_large_file_is_a_form_error(partner, router, company, settings):
    settings.FILE_MAX_SIZE = 20
    order = started(router, company)
    response = partner.post(f"/partner/jobs/{order.pk}/complete/", {"photos": [_png()]})
    assert response.status_code == 413 and "The file is too large." in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_PROGRESS


def test_a_contractor_step_is_completed_from_the_checklist(partner, router, company):
    workflow = router.workflows.get(is_default=True)
    WorkflowStep.objects.filter(workflow=workflow, status=OrderStatus.IN_PROGRESS).delete()
    WorkflowStep.objects.create(
        workflow=workflow,
        status=OrderStatus.IN_PROGRESS,
        position=0,
        key="site-photos",
        title="Site photos",
        actor="installer",
        required=True,
    )
    WorkflowStep.objects.create(
        workflow=workflow,
        status=OrderStatus.IN_PROGRESS,
        position=1,
        key="office-check",
        title="Office check",
        actor="operator",
        required=False,
    )
    workflow.version += 1
    workflow.save()
    order = started(router, company)
    page = partner.get(f"/partner/jobs/{order.pk}/").content.decode()
    assert 'name="step" value="site-photos"' in page and 'value="office-check"' not in page
    assert "Mark as completed" not in page  # a required step is open: complete is not offered
    response = partner.post(f"/partner/jobs/{order.pk}/complete/", {"comment": ""})
    assert response.status_code == 409 and "required step" in response.content.decode()
    assert partner.post(f"/partner/jobs/{order.pk}/steps/", {"step": "office-check"}).status_code == 400
    assert partner.post(f"/partner/jobs/{order.pk}/steps/", {"step": "site-photos"}).status_code == 302
    order.refresh_from_db()
    assert order.completed_steps == ["site-photos"]
    assert partner.post(f"/partner/jobs/{order.pk}/steps/", {"step": "site-photos"}).status_code == 409
    assert "Mark as completed" in partner.get(f"/partner/jobs/{order.pk}/").content.decode()


def test_a_viewer_reads_the_job_but_cannot_change_it(router, company):
    viewer = signed_in(member(company, "fixit-viewer", Role.VIEWER))
    order = booked(router, company)
    page = viewer.get(f"/partner/jobs/{order.pk}/").content.decode()
    assert "Ola Nordmann" in page and "Start the work" not in page
    response = viewer.post(f"/partner/jobs/{order.pk}/start/")
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SCHEDULED


def test_another_companys_file_is_a_404(partner, router, company, rival):
    own = started(router, company)
    other = started(router, rival)
    from orders.actors import Actor
    from orders.files import file_upload

    theirs = file_upload(organization=rival, content=_png(), actor=Actor.system("t"), name="x.png")
    File.objects.filter(pk=theirs.pk).update(order=other)
    assert partner.get(f"/partner/jobs/{own.pk}/files/{theirs.pk}/").status_code == 404
    assert partner.get(f"/partner/jobs/{other.pk}/files/{theirs.pk}/").status_code == 404
    assert partner.get(f"/partner/jobs/{own.pk}/files/nope/").status_code == 404
