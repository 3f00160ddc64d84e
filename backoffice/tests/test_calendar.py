"""The back office's calendar (/admin/calendar/): bookings per partner and technician by day,
week and month in the organization's zone (across a DST change in Europe/Oslo), filters,
the orders waiting for a date, tenancy, bad input and constant query counts."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Role
from backoffice.tests.conftest import staff_client
from dispatch.models import Booking, Offer, OfferStatus, Partnership
from orders import services as order_services
from orders.models import Order, OrderStatus, Workflow
from orders.tests.factories import OrganizationFactory, create_order

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
URL = "/admin/calendar/"
User = get_user_model()


@pytest.fixture
def org(org_a):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    return org_a


@pytest.fixture
def oslo_el(org):
    installer = OrganizationFactory(name="Oslo Elektro AS", slug="oslo-el", is_installer=True)
    Partnership.objects.create(router=org, installer=installer, priority=1)
    return installer


@pytest.fixture
def fjord(org):
    installer = OrganizationFactory(name="Fjord Installasjon AS", slug="fjord-inst", is_installer=True)
    Partnership.objects.create(router=org, installer=installer, priority=2)
    return installer


def technician(installer, name: str):
    user = User.objects.create_user(
        username=name.lower().replace(" ", "-"), first_name=name.split()[0], last_name=name.split()[1]
    )
    Membership.objects.create(user=user, organization=installer, role=Role.TECHNICIAN)
    return user


def book(org, installer, start: datetime.datetime, *, hours: float = 2, assignee=None, all_day=False, **order_data):
    """An order of `org` booked with `installer` from `start` (hand-built rows)."""
    order = create_order(org, **order_data)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SCHEDULED, installer=installer, assignee=assignee)
    Booking.objects.create(
        order=order,
        installer=installer,
        start_at=start,
        end_at=start + datetime.timedelta(hours=24 if all_day else hours),
        all_day=all_day,
    )
    order.refresh_from_db()
    return order


def waiting_order(org, installer, *, accepted_at=None, **order_data):
    """An order the installer accepted, not booked (dispatching with an installer)."""
    order = create_order(org, **order_data)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DISPATCHING, installer=installer)
    if accepted_at is not None:
        Offer.objects.create(
            order=order,
            installer=installer,
            status=OfferStatus.ACCEPTED,
            sent_at=accepted_at - datetime.timedelta(hours=1),
            responded_at=accepted_at,
        )
    return order


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=OSLO)


def cell(html: str, display_id: str) -> str:
    """The data-date of the grid cell that holds the order's booking link."""
    links = re.findall(r'<(?:td|li)[^>]*data-date="([\d-]+)"[^>]*>((?:(?!</td>|<li class=).)*)', html, re.S)
    found = [date for date, body in links if f'data-order="{display_id}"' in body]
    assert len(found) == 1, (display_id, found)
    return found[0]


def lane_of(html: str, display_id: str) -> tuple[str, str]:
    rows = re.findall(r'<tr class="lane"\s+data-partner="([^"]*)"\s+data-technician="([^"]*)">(.*?)</tr>', html, re.S)
    found = [(p, t) for p, t, body in rows if f'data-order="{display_id}"' in body]
    assert len(found) == 1, (display_id, found)
    return found[0]


# --- day, week and month across the DST change (Europe/Oslo: 2026-03-29 02:00 CET -> 03:00 CEST)


def test_week_places_bookings_on_their_local_day_across_dst(org, oslo_el, fjord):
    # 00:30 on Sunday 29 March in Oslo is 23:30 UTC on Saturday 28: the local day counts.
    sunday_early = book(org, oslo_el, oslo(2026, 3, 29, 0, 30))
    # After the switch: 08:00 CEST = 06:00 UTC on Monday 30 (next week).
    monday = book(org, fjord, oslo(2026, 3, 30, 8, 0))
    # 23:30 on Saturday 28 (CET) is 22:30 UTC the same day.
    saturday_late = book(org, fjord, oslo(2026, 3, 28, 23, 30))
    staff = staff_client(org)

    html = staff.get(URL, {"view": "week", "date": "2026-03-26"}).content.decode()
    assert "Times in Europe/Oslo (CEST/CET)" in html
    assert cell(html, sunday_early.display_id) == "2026-03-29"
    assert cell(html, saturday_late.display_id) == "2026-03-28"
    assert monday.display_id not in html  # next week (23 March - 29 March)
    assert "00:30–03:30" in html  # local time: 00:30 CET + 2 hours is 03:30 CEST
    assert "23:30–Sun 01:30" in html
    assert lane_of(html, sunday_early.display_id) == ("Oslo Elektro AS", "")

    html = staff.get(URL, {"view": "week", "date": "2026-03-30"}).content.decode()
    assert cell(html, monday.display_id) == "2026-03-30"
    assert "08:00–10:00" in html
    assert sunday_early.display_id not in html


def test_day_view_shows_only_that_local_day(org, oslo_el):
    sunday_early = book(org, oslo_el, oslo(2026, 3, 29, 0, 30))
    saturday = book(org, oslo_el, oslo(2026, 3, 28, 12, 0))
    staff = staff_client(org)

    html = staff.get(URL, {"view": "day", "date": "2026-03-29"}).content.decode()
    assert cell(html, sunday_early.display_id) == "2026-03-29"
    assert saturday.display_id not in html
    assert "Sunday 29 March 2026" in html
    assert 'href="?view=day&amp;date=2026-03-28' in html  # previous day
    assert 'href="?view=day&amp;date=2026-03-30' in html  # next day

    html = staff.get(URL, {"view": "day", "date": "2026-03-28"}).content.decode()
    assert cell(html, saturday.display_id) == "2026-03-28"
    assert sunday_early.display_id not in html


def test_month_view_grid_and_entries(org, oslo_el):
    first = book(org, oslo_el, oslo(2026, 3, 1, 9, 0))
    last = book(org, oslo_el, oslo(2026, 3, 31, 23, 30))  # 21:30 UTC
    april = book(org, oslo_el, oslo(2026, 4, 1, 1, 45))  # 23:45 UTC on 31 March
    staff = staff_client(org)

    html = staff.get(URL, {"view": "month", "date": "2026-03-15"}).content.decode()
    assert "March 2026" in html
    # Whole weeks: from Monday 23 February to Sunday 5 April.
    days = re.findall(r'<li class="[^"]*"\s+data-date="([\d-]+)"', html)
    assert days[0] == "2026-02-23" and days[-1] == "2026-04-05" and len(days) == 42
    assert cell(html, first.display_id) == "2026-03-01"
    assert cell(html, last.display_id) == "2026-03-31"
    assert cell(html, april.display_id) == "2026-04-01"  # in the grid's next-month days
    assert "Oslo Elektro AS" in html  # the month's entries name the partner


def test_prev_next_today_links_keep_filters(org, oslo_el):
    workflow = Workflow.objects.create(organization=org, custom_id="hp", name="Heat pump")
    staff = staff_client(org)
    html = staff.get(URL, {"view": "week", "date": "2026-03-26", "workflow": str(workflow.pk)}).content.decode()
    assert f'href="?view=week&amp;date=2026-03-16&amp;workflow={workflow.pk}"' in html
    assert f'href="?view=week&amp;date=2026-03-30&amp;workflow={workflow.pk}"' in html
    today = timezone.now().astimezone(OSLO).date().isoformat()
    assert f'href="?view=week&amp;date={today}&amp;workflow={workflow.pk}" id="today"' in html
    # Day, week and month open on the date asked for: its month, not the month of the week's Monday.
    html = staff.get(URL, {"view": "week", "date": "2026-04-02"}).content.decode()
    assert 'href="?view=month&amp;date=2026-04-02"' in html
    assert 'href="?view=day&amp;date=2026-04-02"' in html
    assert 'name="date" id="id_date" value="2026-04-02"' in html


def test_without_date_shows_this_week_and_links_each_booking_to_its_order(org, oslo_el):
    soon = book(org, oslo_el, timezone.now().astimezone(OSLO).replace(hour=10, minute=0, second=0, microsecond=0))
    response = staff_client(org).get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/admin/orders/order/{soon.pk}/change/"' in html
    assert 'id="view-week"\n             aria-current="page"' in html or 'id="view-week" aria-current="page"' in html


# --- technicians, filters, the waiting list


def test_technician_rows(org, oslo_el, fjord):
    kari = technician(oslo_el, "Kari Nordmann")
    ola = technician(oslo_el, "Ola Hansen")
    with_kari = book(org, oslo_el, oslo(2026, 3, 24, 8, 0), assignee=kari)
    with_ola = book(org, oslo_el, oslo(2026, 3, 24, 12, 0), assignee=ola)
    nobody = book(org, oslo_el, oslo(2026, 3, 25, 8, 0))
    staff = staff_client(org)
    html = staff.get(URL, {"view": "week", "date": "2026-03-24"}).content.decode()
    assert lane_of(html, with_kari.display_id) == ("Oslo Elektro AS", "Kari Nordmann")
    assert lane_of(html, with_ola.display_id) == ("Oslo Elektro AS", "Ola Hansen")
    assert lane_of(html, nobody.display_id) == ("Oslo Elektro AS", "")
    # Fjord has no booking: still one (empty) row, so every partner is on the calendar.
    assert '<tr class="lane"\n                      data-partner="Fjord Installasjon AS"' in html
    order = [m.group(1) for m in re.finditer(r'data-partner="Oslo Elektro AS"\s+data-technician="([^"]*)"', html)]
    assert order == ["", "Kari Nordmann", "Ola Hansen"]


def test_filters_by_workflow_and_tag(org, oslo_el):
    heat_pump = Workflow.objects.create(organization=org, custom_id="hp", name="Heat pump")
    vip = order_services.order_tags_create(organization=org, names=["VIP"])[0]
    default = book(org, oslo_el, oslo(2026, 3, 24, 8, 0))
    pump = book(org, oslo_el, oslo(2026, 3, 24, 12, 0), workflow_id=str(heat_pump.pk))
    tagged = book(org, oslo_el, oslo(2026, 3, 25, 12, 0), order_tag_ids=[str(vip.pk)])
    waiting_pump = waiting_order(org, oslo_el, workflow_id=str(heat_pump.pk))
    waiting_tagged = waiting_order(org, oslo_el, order_tag_ids=[str(vip.pk)])
    staff = staff_client(org)
    week = {"view": "week", "date": "2026-03-24"}

    html = staff.get(URL, week).content.decode()
    for order in (default, pump, tagged, waiting_pump, waiting_tagged):
        assert f'data-order="{order.display_id}"' in html

    html = staff.get(URL, {**week, "workflow": str(heat_pump.pk)}).content.decode()
    shown = set(re.findall(r'data-order="([^"]+)"', html))
    assert shown == {pump.display_id, waiting_pump.display_id}

    html = staff.get(URL, {**week, "tag": str(vip.pk)}).content.decode()
    shown = set(re.findall(r'data-order="([^"]+)"', html))
    assert shown == {tagged.display_id, waiting_tagged.display_id}

    html = staff.get(URL, {**week, "tag": str(vip.pk), "workflow": str(heat_pump.pk)}).content.decode()
    assert re.findall(r'data-order="([^"]+)"', html) == []


def test_waiting_for_a_date_lists_accepted_unbooked_orders_longest_first(org, oslo_el, fjord):
    now = timezone.now()
    recent = waiting_order(org, oslo_el, accepted_at=now - datetime.timedelta(hours=3))
    old = waiting_order(org, fjord, accepted_at=now - datetime.timedelta(days=5))
    booked = book(org, oslo_el, oslo(2030, 1, 7, 8, 0))
    create_order(org)  # created: no installer yet
    unassigned = create_order(org)
    Order.objects.filter(pk=unassigned.pk).update(status=OrderStatus.DISPATCHING)  # offers out, nobody accepted
    html = staff_client(org).get(URL).content.decode()
    aside = html[html.index('id="waiting"') :]
    rows = re.findall(r'class="waiting-order" data-order="([^"]+)"', aside)
    assert rows == [old.display_id, recent.display_id]
    assert "Waiting for a date (2)" in aside
    assert "5\xa0days" in aside and "3\xa0hours" in aside
    assert booked.display_id not in aside
    assert f'href="/admin/orders/order/{old.pk}/change/"' in aside


# --- tenancy and bad input


def test_another_organizations_bookings_never_appear(org, oslo_el, org_b):
    mine = book(org, oslo_el, oslo(2026, 3, 24, 8, 0))
    Partnership.objects.create(router=org_b, installer=oslo_el)  # the same installer works for B
    theirs = book(org_b, oslo_el, oslo(2026, 3, 24, 12, 0))
    theirs_waiting = waiting_order(org_b, oslo_el)
    html = staff_client(org).get(URL, {"date": "2026-03-24"}).content.decode()
    assert mine.display_id in html
    assert theirs.display_id not in html and theirs_waiting.display_id not in html
    assert 'name="organization"' not in html  # one organization: no chooser

    # B's operator asking for A's calendar: 404.
    assert staff_client(org_b).get(URL, {"organization": str(org.pk)}).status_code == 404


def test_another_organizations_workflow_or_tag_is_404(org, oslo_el, org_b):
    staff = staff_client(org)
    other_workflow = org_b.workflows.get(is_default=True)
    other_tag = order_services.order_tags_create(organization=org_b, names=["B-tag"])[0]
    assert staff.get(URL, {"workflow": str(other_workflow.pk)}).status_code == 404
    assert staff.get(URL, {"tag": str(other_tag.pk)}).status_code == 404
    assert staff.get(URL, {"workflow": "not-a-uuid"}).status_code == 404
    assert staff.get(URL, {"organization": "nope"}).status_code == 404


def test_member_of_two_organizations_chooses_one(org, oslo_el, org_b):
    staff = staff_client(org)
    Membership.objects.create(user=staff.user, organization=org_b, role=Role.VIEWER)
    mine = book(org, oslo_el, oslo(2026, 3, 24, 8, 0))
    Partnership.objects.create(router=org_b, installer=oslo_el)
    theirs = book(org_b, oslo_el, oslo(2026, 3, 24, 12, 0))
    html = staff.get(URL, {"date": "2026-03-24", "organization": str(org_b.pk)}).content.decode()
    assert theirs.display_id in html and mine.display_id not in html
    assert 'name="organization"' in html
    assert f"organization={org_b.pk}" in html  # the navigation keeps the organization


def test_bad_date_is_400_and_shows_today(org, oslo_el):
    response = staff_client(org).get(URL, {"date": "2026-13-40"})
    assert response.status_code == 400
    assert "That date could not be read" in response.content.decode()
    assert staff_client(org).get(URL, {"date": "9999-12-31"}).status_code == 400


def test_unknown_view_is_a_week(org, oslo_el):
    html = staff_client(org).get(URL, {"view": "year", "date": "2026-03-26"}).content.decode()
    assert "week of 23 Mar – 29 Mar 2026" in html


def test_superuser_opens_any_organization(org, oslo_el, org_b, superuser_client):
    mine = book(org, oslo_el, oslo(2026, 3, 24, 8, 0))
    html = superuser_client.get(URL, {"date": "2026-03-24", "organization": str(org.pk)}).content.decode()
    assert mine.display_id in html


def test_anonymous_goes_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_index_links_to_calendar_and_checker(org):
    html = staff_client(org).get("/admin/").content.decode()
    assert 'href="/admin/calendar/"' in html and 'href="/admin/coverage-check/"' in html


# --- query counts


@pytest.mark.parametrize("view", ["day", "week", "month"])
def test_query_count_is_constant(org, oslo_el, fjord, view):
    kari = technician(oslo_el, "Kari Nordmann")
    vip = order_services.order_tags_create(organization=org, names=["VIP"])[0]
    staff = staff_client(org)
    params = {"view": view, "date": "2026-03-24", "tag": str(vip.pk)}

    def count_for(n: int) -> tuple[int, int]:
        for i in range(n):
            start = oslo(2026, 3, 24, 0, 0) + datetime.timedelta(minutes=20 * Booking.objects.count())
            installer = oslo_el if i % 2 else fjord
            assignee = kari if i % 3 == 0 else None
            book(org, installer, start, hours=0.25, assignee=assignee, order_tag_ids=[str(vip.pk)])
            waiting_order(org, fjord, accepted_at=timezone.now(), order_tag_ids=[str(vip.pk)])
        with CaptureQueriesContext(connection) as ctx:
            response = staff.get(URL, params)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode().count("cal-entry status-")

    one, shown_one = count_for(1)
    many, shown_many = count_for(49)
    assert shown_one == 1 and shown_many == 50
    assert one == many
