"""Technicians in the pages: a technician reads and works only the jobs assigned to it (another
technician's job is a 404, by URL guessing too), sees no offers, and cannot assign; admins and
dispatchers assign through the API's service and filter the list by technician."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from dispatch import services as dispatch_services
from dispatch.models import Offer, OfferStatus
from orders.actors import Actor
from orders.models import Order, OrderEvent, OrderStatus
from partners.tests.conftest import OSLO, assigned, booked, member, offered, signed_in

pytestmark = pytest.mark.django_db


def assign_to(order, installer, user):
    dispatch_services.order_assign(
        order_id=order.pk, organization=installer, actor=Actor.system("test"), role=Role.ADMIN, assignee=user
    )
    order.refresh_from_db()
    return order


@pytest.fixture
def tech(company):
    return member(company, "fixit-tech", Role.TECHNICIAN)


@pytest.fixture
def other_tech(company):
    return member(company, "fixit-tech2", Role.TECHNICIAN)


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buffer, format="PNG")
    return SimpleUploadedFile("site.png", buffer.getvalue(), content_type="image/png")


def test_a_technician_lists_only_its_own_jobs(router, company, tech, other_tech):
    mine = assign_to(assigned(router, company, contact_person_name="Mine Kunde"), company, tech)
    theirs = assign_to(assigned(router, company, contact_person_name="Deres Kunde"), company, other_tech)
    nobody = assigned(router, company, contact_person_name="Ingen Kunde")
    body = signed_in(tech).get("/partner/jobs/").content.decode()
    assert mine.display_id in body and "Mine Kunde" in body
    assert theirs.display_id not in body and nobody.display_id not in body
    assert 'name="technician"' not in body  # "mine" is implicit


def test_another_technicians_job_is_a_404_on_every_job_url(router, company, tech, other_tech):
    theirs = booked(router, company)
    assign_to(theirs, company, other_tech)
    client = signed_in(tech)
    assert client.get(f"/partner/jobs/{theirs.pk}/").status_code == 404
    for action in ("book", "unbook", "start", "complete", "steps", "assign"):
        response = client.post(f"/partner/jobs/{theirs.pk}/{action}/", {"date": "2030-01-01", "start": "09:00"})
        assert response.status_code == 404, action
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.SCHEDULED


def test_a_technician_sees_no_offers_and_cannot_answer_them(router, company, tech):
    order, offer = offered(router, company, name="Secret offer")
    client = signed_in(tech)
    page = client.get("/partner/offers/")
    assert page.status_code == 403 and "Secret offer" not in page.content.decode()
    assert client.get("/partner/")["Location"] == "/partner/jobs/"
    for verb in ("accept", "decline"):
        response = client.post(f"/partner/offers/{offer.pk}/{verb}/", {"reason": "no"})
        assert response.status_code == 403 and "Secret offer" not in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert 'href="/partner/offers/"' not in client.get("/partner/jobs/").content.decode()


def test_a_technician_books_starts_and_completes_its_job_as_itself(router, company, tech):
    job = assign_to(assigned(router, company), company, tech)
    client = signed_in(tech)
    day = timezone.now().astimezone(OSLO).date()
    response = client.post(f"/partner/jobs/{job.pk}/book/", {"date": day.isoformat(), "start": "08:00", "end": "09:00"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == OrderStatus.SCHEDULED
    assert job.booking.start_at == datetime.datetime.combine(day, datetime.time(8), tzinfo=OSLO)
    assert client.post(f"/partner/jobs/{job.pk}/unbook/").status_code == 302
    client.post(f"/partner/jobs/{job.pk}/book/", {"date": day.isoformat(), "start": "08:00", "end": "09:00"})
    assert client.post(f"/partner/jobs/{job.pk}/start/").status_code == 302
    response = client.post(f"/partner/jobs/{job.pk}/complete/", {"comment": "Done", "photos": [_png()]})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == OrderStatus.COMPLETED and job.files.count() == 1
    actors = set(OrderEvent.objects.filter(order=job, type="order.completed").values_list("actor_id", flat=True))
    assert actors == {str(tech.pk)}


def test_a_technician_cannot_work_a_job_unassigned_from_it_meanwhile(router, company, tech, other_tech):
    job = assign_to(booked(router, company), company, tech)
    client = signed_in(tech)
    assert "Start the work" in client.get(f"/partner/jobs/{job.pk}/").content.decode()
    assign_to(job, company, other_tech)
    assert client.post(f"/partner/jobs/{job.pk}/start/").status_code == 404
    job.refresh_from_db()
    assert job.status == OrderStatus.SCHEDULED


def test_a_technician_does_not_see_the_assign_form(router, company, tech):
    job = assign_to(assigned(router, company), company, tech)
    body = signed_in(tech).get(f"/partner/jobs/{job.pk}/").content.decode()
    assert 'action="/partner/jobs/' + str(job.pk) + '/assign/"' not in body
    assert "fixit-tech" in body  # its own name as the assignee


# --------------------------------------------------------------------------------------------
# Assigning
# --------------------------------------------------------------------------------------------


def test_the_admin_assigns_and_unassigns_a_technician(partner, router, company, tech):
    job = assigned(router, company)
    page = partner.get(f"/partner/jobs/{job.pk}/").content.decode()
    assert f'value="{tech.pk}"' in page and "Nobody is assigned yet." in page
    response = partner.post(f"/partner/jobs/{job.pk}/assign/", {"assignee": str(tech.pk)})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.assignee_id == tech.pk
    event = OrderEvent.objects.filter(order=job, type="order.assignee_changed").latest("created_at")
    assert event.data["assignee"]["id"] == str(tech.pk)
    assert partner.post(f"/partner/jobs/{job.pk}/assign/", {"assignee": ""}).status_code == 302
    job.refresh_from_db()
    assert job.assignee_id is None


def test_assigning_someone_outside_the_company_is_a_form_error(partner, router, company, rival):
    outsider = member(rival, "rival-tech", Role.TECHNICIAN)
    viewer = member(company, "fixit-viewer", Role.VIEWER)
    job = assigned(router, company)
    for user in (outsider, viewer):
        response = partner.post(f"/partner/jobs/{job.pk}/assign/", {"assignee": str(user.pk)})
        assert response.status_code == 400 and 'id="assign-errors"' in response.content.decode()
    assert partner.post(f"/partner/jobs/{job.pk}/assign/", {"assignee": "x'"}).status_code == 400
    job.refresh_from_db()
    assert job.assignee_id is None


def test_assigning_a_completed_job_is_a_409_form_error(partner, router, company, tech):
    job = booked(router, company)
    dispatch_services.order_start(order_id=job.pk, organization=company, actor=Actor.system("t"))
    dispatch_services.order_complete(order_id=job.pk, organization=company, actor=Actor.system("t"))
    response = partner.post(f"/partner/jobs/{job.pk}/assign/", {"assignee": str(tech.pk)})
    assert response.status_code in (403, 409)
    assert Order.objects.get(pk=job.pk).assignee_id is None


def test_a_viewer_may_not_assign(router, company, tech):
    viewer = member(company, "fixit-viewer", Role.VIEWER)
    job = assigned(router, company)
    response = signed_in(viewer).post(f"/partner/jobs/{job.pk}/assign/", {"assignee": str(tech.pk)})
    assert response.status_code == 403
    assert Order.objects.get(pk=job.pk).assignee_id is None


def test_another_companys_job_cannot_be_assigned(partner, router, company, rival, tech):
    theirs = assigned(router, rival)
    assert partner.post(f"/partner/jobs/{theirs.pk}/assign/", {"assignee": str(tech.pk)}).status_code == 404


def test_the_list_filters_by_technician_and_shows_the_assignee(partner, router, company, tech, other_tech):
    tech.first_name, tech.last_name = "Tina", "Tekniker"
    tech.save()
    mine = assign_to(assigned(router, company), company, tech)
    theirs = assign_to(assigned(router, company), company, other_tech)
    nobody = assigned(router, company)

    def listed(**query) -> set[str]:
        body = partner.get("/partner/jobs/", query).content.decode()
        return {o.display_id for o in (mine, theirs, nobody) if f">{o.display_id}<" in body}

    assert listed() == {mine.display_id, theirs.display_id, nobody.display_id}
    assert listed(technician=str(tech.pk)) == {mine.display_id}
    assert listed(technician="none") == {nobody.display_id}
    assert "Tina Tekniker" in partner.get("/partner/jobs/").content.decode()
    assert partner.get("/partner/jobs/", {"technician": "999999"}).status_code == 400


@pytest.mark.parametrize("rows", [1, 50])
def test_a_technicians_list_takes_a_constant_number_of_queries(
    router, company, tech, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        assign_to(assigned(router, company), company, tech)
    client = signed_in(tech)
    with django_assert_max_num_queries(14):
        response = client.get("/partner/jobs/")
    assert response.status_code == 200


def test_an_offer_won_is_not_a_technicians_until_assigned(router, company, tech):
    order, offer = offered(router, company)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=company, actor=Actor.system("t"))
    assert Offer.objects.get(pk=offer.pk).status == OfferStatus.ACCEPTED
    assert signed_in(tech).get(f"/partner/jobs/{order.pk}/").status_code == 404
