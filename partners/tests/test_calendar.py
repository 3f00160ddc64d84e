"""The calendar page (week and month, per technician, in the partner's zone, a technician's own
only, constant queries) and the private iCalendar feed (parsed back with icalendar: events,
UTC start, no customer PII, stable UID; rotation; unknown secret 404; tenancy)."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.utils import timezone

from accounts.models import Membership, Role
from dispatch import services as dispatch_services
from orders.actors import Actor
from partners import services as partner_services
from partners.tests.conftest import OSLO, assigned, booked, member, signed_in

pytestmark = pytest.mark.django_db


def _at(days: int, hour: int) -> datetime.datetime:
    day = timezone.now().astimezone(OSLO).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=OSLO)


def _assign(order, installer, user):
    dispatch_services.order_assign(
        order_id=order.pk, organization=installer, actor=Actor.system("t"), role=Role.ADMIN, assignee=user
    )


@pytest.fixture
def tech(company):
    user = member(company, "fixit-tech", Role.TECHNICIAN)
    user.first_name = "Tina"
    user.save()
    return user


def _monday_of(value: datetime.datetime) -> str:
    day = value.date()
    return (day - datetime.timedelta(days=day.weekday())).isoformat()


def test_the_week_shows_bookings_per_technician_in_the_zone(partner, router, company, tech):
    start = _at(1, 9)
    job = booked(router, company, start=start, contact_person_name="Kari Kunde", city="Drammen")
    _assign(job, company, tech)
    other = booked(router, company, start=start + datetime.timedelta(hours=3), city="Asker")
    body = partner.get("/partner/calendar/", {"date": start.date().isoformat()}).content.decode()
    assert "Europe/Oslo" in body
    assert "09:00–11:00" in body  # Oslo wall-clock time, whatever the server's zone
    assert job.display_id in body and other.display_id in body
    assert f'href="/partner/jobs/{job.pk}/"' in body
    assert "Tina" in body and "who-0" in body and "who-none" in body
    assert "Kari Kunde" not in body


def test_prev_next_and_month_view(partner, router, company):
    next_month = _at(40, 10)
    job = booked(router, company, start=next_month)
    week = partner.get("/partner/calendar/").content.decode()
    assert job.display_id not in week
    month = partner.get("/partner/calendar/", {"view": "month", "date": next_month.date().isoformat()})
    body = month.content.decode()
    assert month.status_code == 200 and job.display_id in body
    first = next_month.date().replace(day=1)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    assert f"date={previous.isoformat()}" in body
    assert "?view=week" in body


def test_week_and_month_links_open_the_month_the_week_is_in(partner):
    """A week from Monday 29 September to Sunday 5 October 2031 is October's (its Thursday's):
    Month opens October, not the Monday's September; Week from a month opens its first week."""
    week = partner.get("/partner/calendar/", {"date": "2031-09-29"}).content.decode()
    assert "?view=month&amp;date=2031-10-02" in week
    month = partner.get("/partner/calendar/", {"view": "month", "date": "2031-03-15"}).content.decode()
    assert "?view=week&amp;date=2031-03-01" in month


def test_a_bad_date_is_a_400_with_todays_week(partner):
    response = partner.get("/partner/calendar/", {"date": "2030-02-31"})
    assert response.status_code == 400 and 'id="error-summary"' in response.content.decode()
    assert partner.get("/partner/calendar/", {"date": "99999-01-01"}).status_code == 400


def test_a_technician_sees_only_its_own_bookings(router, company, tech):
    mine = booked(router, company, start=_at(1, 8))
    _assign(mine, company, tech)
    theirs = booked(router, company, start=_at(1, 12))
    body = signed_in(tech).get("/partner/calendar/", {"date": _at(1, 8).date().isoformat()}).content.decode()
    assert mine.display_id in body and theirs.display_id not in body


def test_other_companies_bookings_are_absent(partner, router, company, rival):
    theirs = booked(router, rival, start=_at(1, 8))
    assert (
        theirs.display_id
        not in partner.get("/partner/calendar/", {"date": _at(1, 8).date().isoformat()}).content.decode()
    )


@pytest.mark.parametrize("count", [1, 50])
def test_the_calendar_costs_the_same_queries_for_1_and_50_bookings(
    partner, router, company, tech, count, django_assert_num_queries
):
    today = timezone.now().astimezone(OSLO).date()
    first = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)  # next month
    base = datetime.datetime.combine(first, datetime.time(0), tzinfo=OSLO)
    for i in range(count):
        job = booked(router, company, start=base + datetime.timedelta(hours=2 * i))
        if i % 2:
            _assign(job, company, tech)
    # Session, user, memberships, bookings with orders and assignees (one query), members
    # (legend), feed existence, and the first visit's session save (3): the same for 1 and 50.
    with django_assert_num_queries(9):
        response = partner.get("/partner/calendar/", {"view": "month", "date": base.date().isoformat()})
    assert response.content.decode().count('class="entry ') == count


# --------------------------------------------------------------------------------------------
# The iCalendar feed
# --------------------------------------------------------------------------------------------


def _feed_url(client) -> str:
    response = client.post("/partner/calendar/rotate/")
    assert response.status_code == 302
    page = client.get("/partner/calendar/").content.decode()
    start = page.index("/partner/calendar/", page.index('id="feed-link"'))
    return page[start : page.index('"', start)]


def _events(body: bytes) -> list:
    return icalendar.Calendar.from_ical(body).walk("VEVENT")


def test_the_feed_parses_with_events_in_utc_and_no_customer_pii(partner, client, router, company):
    job = booked(
        router,
        company,
        start=_at(2, 9),
        contact_person_name="Kari Kunde",
        phone_number="+4799999999",
        email="kari@example.com",
        address="Hemmeligveien 7",
        city="Drammen",
    )
    url = _feed_url(partner)
    response = client.get(url)  # no sign-in
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == _at(2, 9)
    assert event.decoded("dtstart").utcoffset() == datetime.timedelta(0)
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content
    assert job.display_id in str(event["summary"]) and "Drammen" in str(event["summary"])
    text = response.content.decode()
    for secret in ("Kari", "99999999", "kari@example.com", "Hemmeligveien"):
        assert secret not in text
    uid = str(event["uid"])
    # Moving the booking keeps the event's UID (calendar apps update it in place).
    dispatch_services.order_book(
        order_id=job.pk, organization=company, actor=Actor.system("t"), start_at=_at(3, 9), end_at=_at(3, 10)
    )
    moved = _events(client.get(url).content)[0]
    assert str(moved["uid"]) == uid and moved.decoded("dtstart") == _at(3, 9)


def test_rotation_stops_the_old_link_and_unknown_secrets_are_404(partner, client, router, company):
    booked(router, company, start=_at(1, 9))
    old = _feed_url(partner)
    new = _feed_url(partner)
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get("/partner/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/partner/calendar/" + "x" * 300 + ".ics").status_code == 404


def test_the_link_is_shown_once(partner):
    partner.post("/partner/calendar/rotate/")
    assert 'id="feed-link"' in partner.get("/partner/calendar/").content.decode()
    assert 'id="feed-link"' not in partner.get("/partner/calendar/").content.decode()


def test_a_technicians_feed_has_only_its_jobs_and_the_companys_only(client, router, company, rival, tech):
    mine = booked(router, company, start=_at(1, 8))
    _assign(mine, company, tech)
    theirs = booked(router, company, start=_at(1, 12))
    rivals = booked(router, rival, start=_at(1, 14))
    unbooked = assigned(router, company)
    _assign(unbooked, company, tech)
    membership = Membership.objects.get(user=tech, organization=company)
    secret = partner_services.calendar_feed_rotate(membership=membership)
    text = client.get(f"/partner/calendar/{secret}.ics").content.decode()
    assert mine.display_id in text
    assert theirs.display_id not in text and rivals.display_id not in text and unbooked.display_id not in text


def test_the_feed_follows_the_membership(client, router, company, tech):
    membership = Membership.objects.get(user=tech, organization=company)
    secret = partner_services.calendar_feed_rotate(membership=membership)
    assert client.get(f"/partner/calendar/{secret}.ics").status_code == 200
    membership.delete()
    assert client.get(f"/partner/calendar/{secret}.ics").status_code == 404


def test_the_calendar_page_is_in_norwegian(partner):
    body = partner.get("/partner/calendar/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Kalender" in body and "Uke" in body and "Abonner i kalenderappen din" in body
